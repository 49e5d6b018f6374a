//! Testing your own actors across a partition and a node crash, on a simulated cluster.
//!
//! Run with `cargo run --example simulated_cluster`; its test, the form a test of yours
//! takes, runs with `cargo test -p distribute-examples --example simulated_cluster`.
//!
//! `distribute::testing::TestCluster` (feature `testing`) starts whole nodes in one process
//! over a simulated network and clock: partitions, latency, loss and crashes happen when the
//! scenario says so, seconds of timeouts pass in microseconds, and a seed decides every
//! schedule, so a failure found by one seed replays exactly with the same seed.
//!
//! The scenario: node 0 hosts an inventory registered as `inventory`; node 1 finds it by
//! name and reserves stock. Node 0 is cut off; the others see it go down, the name goes
//! with it, and node 2 starts a standby under the same name. The partition heals with two
//! owners of one name: every node settles on the same one and reports the conflict once.
//! Then the owner's node crashes; a call to it fails with a typed error (`ConnectionLost` if
//! it went out before the broken connection was noticed, `NodeDown` once the cluster's
//! membership declared the node dead); it restarts as a new incarnation. The history checker judges each seed: one owner per name everywhere,
//! one conflict event per node, no acknowledged registration lost, every call ended.

use std::time::Duration;

use distribute::prelude::*;
use distribute::testing::{Report, SimError, Sweep, TestCluster};
use distribute::BoxError;

/// The actor under test: stock that callers reserve.
#[actor]
struct Inventory {
    stock: u64,
}

#[actor]
impl Inventory {
    /// Takes `count` items if there are that many; returns what is left.
    #[message]
    fn reserve(&mut self, count: u64) -> Result<u64, String> {
        if count > self.stock {
            return Err(format!("only {} left", self.stock));
        }
        self.stock -= count;
        Ok(self.stock)
    }
}

/// Starts an inventory of `stock` on node `index` and registers it as `inventory`.
async fn start_inventory(
    cluster: &TestCluster,
    index: usize,
    stock: u64,
) -> Result<ActorRef<Inventory>, BoxError> {
    let inventory = cluster
        .node(index)
        .run(move |node| async move { node.spawn(Inventory { stock }).await })
        .await??;
    cluster
        .node(index)
        .register_global("inventory", &inventory)
        .await?;
    Ok(inventory)
}

/// Node `caller` looks `inventory` up by name and reserves `count` items. The call is
/// recorded, so the checker knows it ended.
async fn reserve(cluster: &TestCluster, caller: usize, count: u64) -> Result<u64, BoxError> {
    let inventory = cluster.node(caller).lookup::<Inventory>("inventory")?;
    let target = inventory.id();
    let left = cluster
        .node(caller)
        .call(target, Duration::from_secs(1), move |_| async move {
            inventory.reserve(count).await
        })
        .await??;
    Ok(left)
}

/// The scenario of the module docs, for one seed.
fn partition_then_crash(seed: u64) -> Result<Report, SimError> {
    TestCluster::builder()
        .nodes(3)
        .seed(seed)
        .run(|cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            start_inventory(&cluster, 0, 10).await?;
            let left = reserve(&cluster, 1, 3).await?;
            ensure(left == 7, format!("10 - 3 left {left}"))?;

            // Node 0 alone: once the membership declares it dead (a probe period or two and
            // the suspicion, under 2 s on the simulator) the others see it down, and its name goes.
            cluster.partition(&[0], &[1, 2]);
            cluster.sleep(Duration::from_secs(6)).await;
            let gone = cluster.node(1).lookup::<Inventory>("inventory").is_err();
            ensure(gone, "the name outlived its node on the other side")?;
            start_inventory(&cluster, 2, 100).await?;

            // The partition heals with two owners of `inventory`: `check` waits until every node
            // agrees, then judges the history (one owner everywhere, one conflict event per
            // node, nothing acknowledged lost, every call ended).
            cluster.heal();
            cluster.check(Duration::from_secs(5)).await?;

            // The winner's node crashes: a call from elsewhere fails with a typed error.
            let owner = cluster.node(1).lookup::<Inventory>("inventory")?.id().node();
            let host = (0..cluster.len())
                .find(|&index| cluster.node(index).id() == Some(owner))
                .ok_or("the owner's node runs")?;
            let caller = (host + 1) % cluster.len();
            let inventory = cluster.node(caller).lookup::<Inventory>("inventory")?;
            cluster.crash(host).await;
            let failed = cluster
                .node(caller)
                .run(move |_| async move { inventory.with_timeout(Duration::from_secs(30)).reserve(1).await })
                .await?;
            let down = matches!(
                failed,
                Err(CallError::NodeDown { .. } | CallError::ConnectionLost { .. })
            );
            ensure(down, format!("a call to a crashed node ended {failed:?}"))?;

            // It comes back as a new incarnation and rejoins; the name went with the old one.
            cluster.restart(host).await;
            cluster.check(Duration::from_secs(5)).await?;
            let gone = cluster.node(caller).lookup::<Inventory>("inventory").is_err();
            ensure(gone, "the name outlived its owner's crash")
        })
}

/// Fails the scenario (and so the seed, with its trace) with `what` unless `holds`: a
/// scenario returns its failures rather than panicking inside the simulation.
fn ensure(holds: bool, what: impl Into<String>) -> Result<(), BoxError> {
    match holds {
        true => Ok(()),
        false => Err(what.into().into()),
    }
}

fn main() {
    // One seed, with the trace of what happened (the same seed prints the same trace).
    match partition_then_crash(1) {
        Ok(report) => {
            for line in report.history.trace() {
                println!("{line}");
            }
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
    // Many seeds, each a different schedule of the same scenario.
    let swept = Sweep::new("partition_then_crash", "cargo run --example simulated_cluster")
        .seeds(0..100)
        .run(partition_then_crash);
    if let Err(failed) = swept {
        eprintln!("{failed}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use distribute::testing::SweepFailed;

    use super::*;

    /// How a test replays one seed of the sweep.
    const REPLAY: &str = "cargo test -p distribute-examples --example simulated_cluster --";

    /// The form a test of your own actors takes: a scenario swept over many seeds. A failing
    /// seed fails the test with its trace and the command that replays it
    /// (`DISTRIBUTE_SEED=<seed>`); `DISTRIBUTE_SEEDS=<n>` runs more.
    #[test]
    fn partition_then_crash_over_many_seeds() -> Result<(), SweepFailed> {
        Sweep::new(
            "partition_then_crash",
            format!("{REPLAY} partition_then_crash_over_many_seeds"),
        )
        .seeds(0..300)
        .run(partition_then_crash)?;
        Ok(())
    }
}
