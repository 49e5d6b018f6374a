//! Faults on the deterministic simulator, a thousand seeds each: every node claiming the same
//! names at once, the sequencer crashing in the middle of a registration, links, monitors
//! and pending calls across a crash, and a supervised service found by name while its node
//! flaps. Each seed is judged by the history checker; a failing seed prints its trace and the
//! command that replays it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use distribute::prelude::*;
use distribute::testing::{Report, SimError, Sweep, SweepFailed, TestCluster};
use distribute::BoxError;
use distribute_tests::{counter_on, Counter, CounterClient};
use tokio::task::spawn_local;

const REPLAY: &str = "cargo test -p distribute-tests --test sim_faults --";

/// How long `check` gives the cluster to agree after the last fault.
const SETTLE: Duration = Duration::from_secs(8);

/// A millisecond duration drawn from `range`.
fn millis(rng: &mut fastrand::Rng, range: std::ops::Range<u64>) -> Duration {
    Duration::from_millis(rng.u64(range))
}

/// Every node claims the same one to three names at once, each for its own actor, with
/// jitter on one link: each name is granted to exactly one claimant, every other claimant
/// is told who holds it, and the replicas agree.
fn every_node_claims(seed: u64) -> Result<Report, SimError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let nodes = rng.usize(3..=5);
    let names = rng.usize(1..=3);
    TestCluster::builder()
        .nodes(nodes)
        .seed(seed)
        .run(move |cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let (a, b) = (rng.usize(0..nodes), rng.usize(0..nodes));
            if a != b {
                let jitter = millis(&mut rng, 2..30);
                cluster.set_latency(a, b, Duration::from_millis(1), jitter).await;
            }
            let mut actors = Vec::new();
            for index in 0..nodes {
                actors.push(counter_on(&cluster, index).await?);
            }
            let mut claims = Vec::new();
            for name in 0..names {
                for (index, actor) in actors.iter().cloned().enumerate() {
                    let (node, delay, sleeper) =
                        (cluster.node(index), millis(&mut rng, 0..10), cluster.clone());
                    claims.push(spawn_local(async move {
                        sleeper.sleep(delay).await;
                        let outcome = node.register_global(&format!("svc-{name}"), &actor).await;
                        (name, index, outcome)
                    }));
                }
            }
            let mut granted = vec![Vec::new(); names];
            for claim in claims {
                let (name, index, outcome) = claim.await?;
                match outcome {
                    Ok(()) => granted[name].push(index),
                    Err(error) if error.contains("is already registered to") => {}
                    Err(error) => return Err(format!("node {index}'s claim of svc-{name}: {error}").into()),
                }
            }
            for (name, winners) in granted.iter().enumerate() {
                if winners.len() != 1 {
                    return Err(format!("svc-{name} was granted to nodes {winners:?}").into());
                }
            }
            cluster.check(SETTLE).await?;
            Ok(())
        })
}

#[test]
fn every_node_claiming_the_same_names_over_a_thousand_seeds() -> Result<(), SweepFailed> {
    Sweep::new(
        "every_node_claims",
        format!("{REPLAY} every_node_claiming_the_same_names_over_a_thousand_seeds"),
    )
    .run(every_node_claims)?;
    Ok(())
}

/// Where the sequencer's crash fell in a registration.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// The sequencer had not committed the claim.
    BeforeCommit = 0,
    /// The sequencer had committed the claim; the claimant had not heard back.
    CommittedUnheard = 1,
    /// The claimant had its acknowledgement.
    Acknowledged = 2,
}

/// How often each [`Cut`] happened over a sweep.
static CUTS: [AtomicUsize; 3] = [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];

/// The index of the node with the lowest id: the registry's sequencer.
fn sequencer_of(cluster: &TestCluster) -> Result<usize, BoxError> {
    (0..cluster.len())
        .filter_map(|index| cluster.node(index).id().map(|id| (id, index)))
        .min()
        .map(|(_, index)| index)
        .ok_or_else(|| "no node runs".into())
}

/// A node claims `svc` through a sequencer that crashes a random time later, on a slow link,
/// so the crash falls before the commit, after the commit but before the claimant hears
/// back, or after the acknowledgement; half the time a third node claims the name too. A
/// lone claim is granted whatever the cut; of two, exactly one is granted and the other told
/// who holds the name; a granted claim holds everywhere; a name acknowledged earlier
/// survives; the restarted sequencer joins the same view.
fn sequencer_crash(seed: u64) -> Result<Report, SimError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let nodes = if rng.bool() { 3 } else { 4 };
    TestCluster::builder()
        .nodes(nodes)
        .seed(seed)
        .run(move |cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let sequencer = sequencer_of(&cluster)?;
            let claimant = (sequencer + 1 + rng.usize(0..nodes - 1)) % nodes;
            let kept = counter_on(&cluster, claimant).await?;
            cluster.node(claimant).register_global("kept", &kept).await?;
            let one_way = millis(&mut rng, 5..40);
            cluster.set_latency(claimant, sequencer, one_way, one_way).await;
            let actor = counter_on(&cluster, claimant).await?;
            let node = cluster.node(claimant);
            let claim = spawn_local(async move { node.register_global("svc", &actor).await });
            // A registration takes four one-way trips on the slow link (claim, commit, its
            // acknowledgement, the answer): the crash falls anywhere in them, or just after.
            let window = u64::try_from(one_way.as_micros() * 5).unwrap_or(u64::MAX);
            // Half the time, a third node claims `svc` too, at a random moment of the window.
            let rival = match rng.bool() {
                true => Some((0..nodes).find(|&index| index != sequencer && index != claimant)),
                false => None,
            }
            .flatten();
            let rival_claim = match rival {
                Some(index) => {
                    let (actor, node) = (counter_on(&cluster, index).await?, cluster.node(index));
                    let (sleeper, delay) = (cluster.clone(), Duration::from_micros(rng.u64(0..window)));
                    Some(spawn_local(async move {
                        sleeper.sleep(delay).await;
                        node.register_global("svc", &actor).await
                    }))
                }
                None => None,
            };
            cluster.sleep(Duration::from_micros(rng.u64(0..window))).await;
            let heard = claim.is_finished();
            let committed = cluster
                .node(sequencer)
                .global_names()
                .is_some_and(|names| names.iter().any(|(name, _)| name == "svc"));
            cluster.crash(sequencer).await;
            let outcome = claim.await?;
            let cut = match (heard, committed) {
                (true, _) => Cut::Acknowledged,
                (false, true) => Cut::CommittedUnheard,
                (false, false) => Cut::BeforeCommit,
            };
            CUTS[cut as usize].fetch_add(1, Ordering::Relaxed);
            cluster.note(format!("crash cut {cut:?}; the claim ended {outcome:?}"));
            match rival_claim {
                // The claimant lives and no one else claims `svc`: whatever the crash cut, the
                // claim is granted (through the next sequencer if need be).
                None => outcome.map_err(|error| format!("the claim of svc was refused: {error}"))?,
                // Exactly one of two live claimants is granted the name; the other is told.
                Some(rival_claim) => {
                    let rivalled = rival_claim.await?;
                    cluster.note(format!("the rival's claim ended {rivalled:?}"));
                    let taken = |outcome: &Result<(), String>| {
                        outcome
                            .as_ref()
                            .is_err_and(|error| error.contains("is already registered to"))
                    };
                    let one_granted =
                        (outcome.is_ok() && taken(&rivalled)) || (rivalled.is_ok() && taken(&outcome));
                    if !one_granted {
                        return Err(format!("two claims of svc ended {outcome:?} and {rivalled:?}").into());
                    }
                }
            }
            cluster.sleep(millis(&mut rng, 0..2_000)).await;
            cluster.restart(sequencer).await;
            cluster.check(SETTLE).await?;
            Ok(())
        })
}

#[test]
fn the_sequencer_crashing_mid_registration_over_a_thousand_seeds() -> Result<(), SweepFailed> {
    let swept = Sweep::new(
        "sequencer_crash",
        format!("{REPLAY} the_sequencer_crashing_mid_registration_over_a_thousand_seeds"),
    )
    .run(sequencer_crash)?;
    let cuts: Vec<usize> = CUTS.iter().map(|cut| cut.load(Ordering::Relaxed)).collect();
    println!("sequencer_crash: before commit, committed unheard, acknowledged: {cuts:?}");
    if swept.seeds >= 100 {
        assert!(
            cuts.iter().all(|&count| count > 0),
            "every cut is covered: {cuts:?}"
        );
    }
    Ok(())
}

/// What a survivor saw of the crash in [`links_monitors_and_calls`].
async fn wait_down(
    cluster: &TestCluster,
    at: usize,
    actor: ActorRef<Counter>,
) -> Result<ExitReason, BoxError> {
    let target = cluster.node(at).adopt(&actor).await?;
    let down = cluster
        .node(at)
        .run(move |_| async move { target.monitor().await })
        .await?;
    Ok(down.reason)
}

/// What node `at` saw of `actor` stopping (`seen`) when node `victim`, home of `lost`,
/// crashed: nothing if `at` is the victim; `NodeDown` for `lost`; for the actor linked to
/// it, a stop by its link.
fn expect_down(
    at: usize,
    actor: ActorId,
    seen: Result<ExitReason, BoxError>,
    victim: usize,
    lost: ActorId,
) -> Result<(), BoxError> {
    let expected = if at == victim {
        None
    } else if actor == lost {
        Some(ExitReason::NodeDown)
    } else {
        Some(ExitReason::Linked {
            from: lost,
            reason: Box::new(ExitReason::NodeDown),
        })
    };
    match (expected, seen) {
        (None, Err(_)) => Ok(()),
        (Some(expected), Ok(reason)) if reason == expected => Ok(()),
        (expected, seen) => Err(format!("node {at} saw {actor} stop with {seen:?}, not {expected:?}").into()),
    }
}

/// Actor X on node A and actor W on node B are linked; each node monitors the other's actor;
/// each node has calls pending on a blocked actor of the other; a third node monitors both.
/// One of A and B crashes at a random time: on the survivors, the monitors of the victim's
/// actors fire with `NodeDown`, the survivor's linked actor stops with it, and the pending
/// calls fail: with `ConnectionLost` when the broken connection is noticed (they were in
/// flight on it), or `NodeDown` if the membership declared the victim dead first.
fn links_monitors_and_calls(seed: u64) -> Result<Report, SimError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    TestCluster::builder()
        .nodes(3)
        .seed(seed)
        .run(move |cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let a = rng.usize(0..3);
            let b = (a + 1 + rng.usize(0..2)) % 3;
            let third = 3 - a - b;
            let (x, w) = (counter_on(&cluster, a).await?, counter_on(&cluster, b).await?);
            let x_seen_from_b = cluster.node(b).adopt(&x).await?;
            let linker = w.clone();
            cluster
                .node(b)
                .run(move |_| async move { linker.link(&x_seen_from_b) })
                .await?;
            let mut watches = Vec::new();
            for (at, actor) in [(b, &x), (a, &w), (third, &x), (third, &w), (a, &x), (b, &w)] {
                let (cluster, actor) = (cluster.clone(), actor.clone());
                watches.push((
                    at,
                    actor.id(),
                    spawn_local(async move { wait_down(&cluster, at, actor).await }),
                ));
            }
            let mut calls = Vec::new();
            for (caller, callee) in [(b, a), (a, b)] {
                let blocked = counter_on(&cluster, callee).await?;
                for _ in 0..rng.usize(1..4) {
                    let target = cluster.node(caller).adopt(&blocked).await?;
                    let node = cluster.node(caller);
                    calls.push((
                        caller,
                        spawn_local(async move {
                            node.call(target.id(), Duration::from_secs(30), move |_| async move {
                                target.with_timeout(Duration::from_secs(30)).hold_then_get().await
                            })
                            .await
                        }),
                    ));
                }
            }
            cluster.sleep(millis(&mut rng, 0..300)).await;
            let (victim, survivor) = if rng.bool() { (a, b) } else { (b, a) };
            let (lost, linked) = if victim == a { (&x, &w) } else { (&w, &x) };
            cluster.crash(victim).await;
            for (at, actor, watch) in watches {
                expect_down(at, actor, watch.await?, victim, lost.id())?;
            }
            for (caller, call) in calls {
                let ended = call.await?;
                let down = ended
                    .as_ref()
                    .is_err_and(|error| error.contains("is down") || error.contains("was lost"));
                if caller == survivor && !down {
                    return Err(format!(
                        "a call from node {caller} ended with {ended:?}, not NodeDown or ConnectionLost"
                    )
                    .into());
                }
            }
            cluster.note(format!("{} stopped with its link to {}", linked.id(), lost.id()));
            cluster.check(SETTLE).await?;
            Ok(())
        })
}

#[test]
fn links_monitors_and_pending_calls_across_a_crash_over_a_thousand_seeds() -> Result<(), SweepFailed> {
    Sweep::new(
        "links_monitors_and_calls",
        format!("{REPLAY} links_monitors_and_pending_calls_across_a_crash_over_a_thousand_seeds"),
    )
    .run(links_monitors_and_calls)?;
    Ok(())
}

/// A supervised service, registered by name; `fail` makes its supervisor restart it.
#[actor]
#[registered("svc")]
#[supervised(max_restarts = 5, within = "10s")]
#[derive(Default)]
struct Svc {
    served: u64,
}

#[actor]
impl Svc {
    #[message]
    fn serve(&mut self) -> u64 {
        self.served += 1;
        self.served
    }

    #[message]
    fn fail(&mut self) -> u64 {
        panic!("{}", DELIBERATE)
    }
}

/// What `Svc::fail` panics with.
const DELIBERATE: &str = "svc fails on purpose";

/// Keeps the panic hook quiet about `Svc::fail`'s panics (thousands of them over a sweep, each
/// with a backtrace under `RUST_BACKTRACE=1`), and only about those.
fn quiet_deliberate_panics() {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info.payload().downcast_ref::<String>().map(String::as_str);
            if text != Some(DELIBERATE) {
                default(info);
            }
        }));
    });
}

/// Starts `Svc` under its supervisor on node `host` and registers it, retrying while the
/// name is still held by the actor of a crashed incarnation that the others have not yet
/// seen go down.
async fn start_svc(cluster: &TestCluster, host: usize) -> Result<ActorRef<Svc>, BoxError> {
    let (_, svc) = cluster
        .node(host)
        .run(|node| async move { Svc::start_supervised(&node, Svc::default).await })
        .await??;
    let name = Svc::REGISTERED_NAME.as_str();
    for _ in 0..40 {
        match cluster.node(host).register_global(name, &svc).await {
            Ok(()) => return Ok(svc),
            Err(error) if error.contains("is already registered to") => {
                cluster.sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(format!("{name} still taken after 20 s").into())
}

/// A client node looks `svc` up by name and calls it: `serve`, sometimes `fail` (the
/// supervisor restarts it behind the same ref and name) then `serve`. Returns whether it
/// was served.
async fn use_svc(cluster: &TestCluster, client: usize, fail: bool) -> bool {
    let name = Svc::REGISTERED_NAME.as_str();
    let Ok(svc) = cluster.node(client).lookup::<Svc>(name) else {
        return false;
    };
    let timeout = Duration::from_secs(2);
    if fail {
        let target = svc.clone();
        let _ = cluster
            .node(client)
            .call(svc.id(), timeout, move |_| async move {
                target.with_timeout(timeout).fail().await
            })
            .await;
    }
    cluster
        .node(client)
        .call(svc.id(), timeout, move |_| async move {
            svc.with_timeout(timeout).serve().await
        })
        .await
        .is_ok()
}

/// `Svc` runs supervised and registered on one node that crashes and restarts two to four
/// times, at random moments while another node calls it by name (and makes it fail). Every
/// call ends; once the host is back and the cluster has settled, the client finds the
/// service by name and is served.
fn flapping_service(seed: u64) -> Result<Report, SimError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    TestCluster::builder()
        .nodes(3)
        .seed(seed)
        .run(move |cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let host = rng.usize(0..3);
            let client = (host + 1 + rng.usize(0..2)) % 3;
            start_svc(&cluster, host).await?;
            for _ in 0..rng.usize(2..5) {
                let (caller, fail) = (cluster.clone(), rng.bool());
                let using = spawn_local(async move {
                    for _ in 0..3 {
                        use_svc(&caller, client, fail).await;
                    }
                });
                cluster.sleep(millis(&mut rng, 0..200)).await;
                cluster.crash(host).await;
                using.await?;
                cluster.sleep(millis(&mut rng, 0..3_000)).await;
                cluster.restart(host).await;
                cluster.wait_connected(Duration::from_secs(10)).await?;
                start_svc(&cluster, host).await?;
            }
            // Settled: a restart quicker than the failure detection leaves the last
            // incarnation counted in (and its registration of `svc` in force) until the
            // membership declares it dead or sees the new one at its address.
            cluster.check(SETTLE).await?;
            let served = use_svc(&cluster, client, rng.bool()).await;
            if !served {
                return Err("the client was not served by name after the last restart".into());
            }
            cluster.check(SETTLE).await?;
            Ok(())
        })
}

#[test]
fn a_supervised_service_found_by_name_while_its_node_flaps_over_a_thousand_seeds() -> Result<(), SweepFailed>
{
    quiet_deliberate_panics();
    Sweep::new(
        "flapping_service",
        format!("{REPLAY} a_supervised_service_found_by_name_while_its_node_flaps_over_a_thousand_seeds"),
    )
    .run(flapping_service)?;
    Ok(())
}
