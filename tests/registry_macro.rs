//! `#[registered("name")]`: the typed name, `start_registered` in its three forms (alone,
//! supervised, pool), and the typed lookups, on two nodes over loopback TCP.

use std::collections::BTreeSet;
use std::time::Duration;

use distribute::prelude::*;
use distribute::registry::{Name, RegisterError, Registered};
use distribute::supervision::Supervisor;
use distribute::RegistryError;
use distribute_tests::{net_node, poll_until, wait_connected, within, DEADLINE};

/// A plain registered service.
#[actor]
#[registered("billing")]
#[derive(Default)]
struct Billing {
    invoices: u64,
}

#[actor]
impl Billing {
    #[message]
    fn invoice(&mut self) -> u64 {
        self.invoices += 1;
        self.invoices
    }
}

/// Registered once the test has started waiting for it; `#[registered]` written first.
#[registered("late")]
#[actor]
#[derive(Default)]
struct Late;

#[actor]
impl Late {
    #[message]
    fn ping(&self) -> u8 {
        7
    }
}

/// Never started.
#[actor]
#[registered("nobody")]
struct Nobody;

#[actor]
impl Nobody {}

/// A supervised registered service; its state starts over at each restart.
#[actor]
#[registered("cache")]
#[supervised(max_restarts = 5, within = "10s")]
#[derive(Default)]
struct Cache {
    entries: u64,
}

#[actor]
impl Cache {
    #[message]
    fn put(&mut self) -> u64 {
        self.entries += 1;
        self.entries
    }

    #[message]
    fn len(&self) -> u64 {
        self.entries
    }
}

/// A registered pool of three workers.
#[registered("workers")]
#[supervised(pool = 3)]
#[actor]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {
    #[message]
    fn whoami(&self, ctx: &mut Context<Self>) -> ActorId {
        ctx.id()
    }
}

/// Two connected nodes.
async fn pair() -> (Node, Node) {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(a.listen_addr().expect("a listens"))
        .await
        .expect("b connects to a");
    wait_connected(&a, 1).await;
    wait_connected(&b, 1).await;
    (a, b)
}

async fn shutdown(nodes: &[&Node]) {
    for node in nodes {
        node.shutdown().await;
    }
}

fn ids<A: Actor>(refs: &[ActorRef<A>]) -> BTreeSet<ActorId> {
    refs.iter().map(ActorRef::id).collect()
}

#[test]
fn the_name_is_typed_and_the_same_in_the_trait_and_on_the_type() {
    const BILLING: Name<Billing> = Billing::REGISTERED_NAME;
    assert_eq!(BILLING.as_str(), "billing");
    assert_eq!(<Billing as Registered>::REGISTERED_AS.as_str(), "billing");
    assert_eq!(Late::REGISTERED_NAME.to_string(), "late");
    assert_eq!(Cache::REGISTERED_NAME.as_str(), "cache");
    assert_eq!(<Worker as Registered>::REGISTERED_AS.as_str(), "workers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_actor_starts_under_its_name_and_is_found_from_every_node() {
    let (a, b) = pair().await;
    let billing: ActorRef<Billing> = Billing::start_registered(&a, Billing::default())
        .await
        .expect("start_registered");

    let here = Billing::lookup(&a).expect("lookup on a");
    assert_eq!(here.id(), billing.id());
    // `start_registered` returns once every node has the name.
    let there = Billing::REGISTERED_NAME.lookup(&b).expect("lookup on b");
    assert_eq!(there.id(), billing.id());
    assert_eq!(Billing::lookup(&b).expect("lookup on b").id(), billing.id());
    assert_eq!(
        there.invoice().await,
        Ok(1),
        "a call from b reaches the actor on a"
    );
    assert_eq!(here.invoice().await, Ok(2));
    assert_eq!(b.registered_names(""), ["billing"]);

    // Waiting for a name already there returns it at once.
    let waited = Billing::lookup_with_timeout(&b, DEADLINE)
        .await
        .expect("lookup_with_timeout");
    assert_eq!(waited.id(), billing.id());
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_with_timeout_waits_for_the_name_or_times_out() {
    let (a, b) = pair().await;
    assert!(matches!(
        Late::lookup(&b),
        Err(RegistryError::NotFound { name }) if name == "late"
    ));
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { Late::lookup_with_timeout(&b, DEADLINE).await })
    };
    let late = Late::start_registered(&a, Late).await.expect("start_registered");
    let found = within("the waiting lookup", waiting)
        .await
        .expect("lookup task")
        .expect("found once registered");
    assert_eq!(found.id(), late.id());
    assert_eq!(found.ping().await, Ok(7));

    assert_eq!(
        Nobody::lookup_with_timeout(&b, Duration::from_millis(50))
            .await
            .map(|found| found.id()),
        Err(RegistryError::LookupTimeout {
            name: "nobody".into(),
            timeout: Duration::from_millis(50)
        })
    );
    assert_eq!(
        Nobody::lookup_with_timeout(&b, Duration::ZERO)
            .await
            .map(|found| found.id()),
        Err(RegistryError::InvalidTimeout)
    );
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_of_the_same_service_fails_and_stops_its_actor() {
    let (a, b) = pair().await;
    let first = Billing::start_registered(&a, Billing::default())
        .await
        .expect("first start");

    for node in [&a, &b] {
        let before = node.actor_count();
        let second = Billing::start_registered(node, Billing::default()).await;
        assert_eq!(
            second.map(|actor| actor.id()),
            Err(RegisterError::Registry(RegistryError::AlreadyRegistered {
                name: "billing".into(),
                owner: first.id(),
            }))
        );
        // The second actor was stopped, not left running without its name.
        poll_until("the second actor to stop", || node.actor_count() == before).await;
    }
    assert_eq!(Billing::lookup(&b).expect("lookup").id(), first.id());
    assert!(first.is_alive());
    assert_eq!(first.invoice().await, Ok(1), "the first one is untouched");
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervised_registered_actor_keeps_its_name_across_restarts() {
    let (a, b) = pair().await;
    let (supervisor, cache): (ActorRef<Supervisor>, ActorRef<Cache>) =
        Cache::start_registered(&a, Cache::default)
            .await
            .expect("start_registered");
    assert_eq!(Cache::lookup(&a).expect("lookup").id(), cache.id());
    assert_eq!(cache.put().await, Ok(1));
    assert_eq!(cache.put().await, Ok(2));

    cache.kill();
    // Restarted with fresh state, behind the same ref.
    within("the restart", async {
        while cache.len().await != Ok(0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(cache.is_alive());
    assert_eq!(supervisor.count_children().await.expect("children").active, 1);

    // The name survived the restart, on both nodes, and still leads to the same ref.
    for node in [&a, &b] {
        let found = Cache::lookup(node).expect("lookup after the restart");
        assert_eq!(found.id(), cache.id());
    }
    let from_b = Cache::REGISTERED_NAME.lookup(&b).expect("lookup on b");
    assert_eq!(from_b.put().await, Ok(1), "a call through the name works");
    assert_eq!(cache.len().await, Ok(1));
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervised_start_under_a_taken_name_stops_the_supervisor() {
    let (a, b) = pair().await;
    let squatter = a.spawn(Cache::default()).await.expect("spawn");
    Cache::REGISTERED_NAME
        .register(&a, &squatter)
        .await
        .expect("register by hand");

    let before = a.actor_count();
    let started = Cache::start_registered(&a, Cache::default).await;
    assert_eq!(
        started.map(|(supervisor, cache)| (supervisor.id(), cache.id())),
        Err(RegisterError::Registry(RegistryError::AlreadyRegistered {
            name: "cache".into(),
            owner: squatter.id(),
        }))
    );
    poll_until("the supervisor and its child to stop", || {
        a.actor_count() == before
    })
    .await;
    assert_eq!(Cache::lookup(&b).expect("lookup").id(), squatter.id());
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_pool_registers_each_worker_and_its_group() {
    let (a, b) = pair().await;
    let pool: Pool<Worker> = Worker::start_registered(&a, Worker::default)
        .await
        .expect("start_registered");
    assert_eq!(pool.size(), 3);
    let workers = ids(&pool.worker_refs());
    assert_eq!(workers.len(), 3);

    let names = ["workers_1", "workers_2", "workers_3"];
    assert_eq!(a.registered_names("workers_"), names);
    assert_eq!(b.registered_names("workers_"), names);
    let named: BTreeSet<ActorId> = names
        .iter()
        .map(|name| b.lookup::<Worker>(name).expect("a worker's name").id())
        .collect();
    assert_eq!(named, workers, "each name is one worker of the pool");

    assert_eq!(a.members::<Worker>("workers").len(), 3);
    assert_eq!(ids(&a.members::<Worker>("workers")), workers);
    poll_until("the group to reach b", || {
        b.members::<Worker>("workers").len() == 3
    })
    .await;
    assert_eq!(ids(&b.members::<Worker>("workers")), workers);

    // The group's members answer, from the other node too.
    for member in b.members::<Worker>("workers") {
        assert_eq!(member.whoami().await, Ok(member.id()));
    }
    // The pool's name itself is a group, not a registered name.
    assert!(matches!(Worker::lookup(&a), Err(RegistryError::NotFound { .. })));
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizing_a_registered_pool_registers_new_workers_and_releases_removed_ones() {
    let (a, b) = pair().await;
    let pool: Pool<Worker> = Worker::start_registered(&a, Worker::default)
        .await
        .expect("start_registered");
    pool.resize(5).await.expect("grow");
    // Registered and in the group before `resize` returns, on every node.
    let names = ["workers_1", "workers_2", "workers_3", "workers_4", "workers_5"];
    assert_eq!(a.registered_names("workers_"), names);
    assert_eq!(b.registered_names("workers_"), names);
    assert_eq!(ids(&a.members::<Worker>("workers")), ids(&pool.worker_refs()));
    let fifth = b.lookup::<Worker>("workers_5").expect("the new worker's name");
    assert_eq!(fifth.whoami().await, Ok(pool.worker_refs()[4].id()));

    pool.resize(2).await.expect("shrink");
    poll_until("the removed workers' names and memberships to go", || {
        [&a, &b].iter().all(|node| {
            node.registered_names("workers_") == ["workers_1", "workers_2"]
                && node.members::<Worker>("workers").len() == 2
        })
    })
    .await;
    assert_eq!(ids(&b.members::<Worker>("workers")), ids(&pool.worker_refs()));
    // Growing again takes the freed names.
    pool.resize(3).await.expect("grow again");
    assert_eq!(
        b.registered_names("workers_"),
        ["workers_1", "workers_2", "workers_3"]
    );
    shutdown(&[&b, &a]).await;
}
