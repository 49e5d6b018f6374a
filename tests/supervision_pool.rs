//! Worker pools: routing, broadcast, resize, and surviving crashes.

use std::collections::HashSet;

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use distribute::{Pool, PoolSpec, Routing};
use distribute_tests::{within, Gate};

#[actor]
struct Worker {
    gate: Gate,
    handled: u64,
}

#[actor]
impl Worker {
    #[message]
    fn whoami(&mut self, ctx: &mut Context<Self>) -> ActorId {
        self.handled += 1;
        ctx.id()
    }

    #[message]
    fn handled(&self) -> u64 {
        self.handled
    }

    #[message]
    fn bump(&mut self) {
        self.handled += 1;
    }

    #[message]
    async fn hold(&mut self) {
        self.gate.wait().await;
    }

    #[message]
    fn crash(&mut self) -> u64 {
        panic!("worker crashed")
    }
}

fn spec(size: usize, routing: Routing, gate: &Gate) -> PoolSpec<Worker> {
    let gate = gate.clone();
    PoolSpec::new(size, move || Worker {
        gate: gate.clone(),
        handled: 0,
    })
    .routing(routing)
}

async fn ids(pool: &Pool<Worker>, calls: usize) -> Vec<ActorId> {
    let mut seen = Vec::new();
    for _ in 0..calls {
        seen.push(pool.whoami().await.unwrap());
    }
    seen
}

#[tokio::test]
async fn a_pool_of_three_survives_a_worker_crash_and_keeps_serving() {
    let node = Node::new();
    let pool = spec(3, Routing::RoundRobin, &Gate::new())
        .start(&node)
        .await
        .unwrap();
    let before = pool.worker_refs();
    assert_eq!(before.len(), 3);
    assert_eq!(
        before[1].crash().await,
        Err(CallError::ActorFailed {
            actor: before[1].id()
        })
    );
    assert_eq!(
        before[1].handled().await.unwrap(),
        0,
        "the crashed worker is back"
    );
    assert_eq!(pool.size(), 3);
    assert_eq!(pool.worker_refs(), before, "same refs after the restart");
    let seen: HashSet<ActorId> = ids(&pool, 9).await.into_iter().collect();
    assert_eq!(seen.len(), 3, "all three workers serve");
    assert_eq!(pool.supervisor().count_children().await.unwrap().active, 3);
}

#[tokio::test]
async fn round_robin_takes_each_worker_in_turn() {
    let node = Node::new();
    let pool = spec(3, Routing::RoundRobin, &Gate::new())
        .start(&node)
        .await
        .unwrap();
    let seen = ids(&pool, 6).await;
    let workers: Vec<ActorId> = pool.worker_refs().iter().map(ActorRef::id).collect();
    assert_eq!(seen, [workers.clone(), workers].concat());
}

#[tokio::test]
async fn least_loaded_routing_avoids_a_busy_worker() {
    let node = Node::new();
    let gate = Gate::new();
    let pool = spec(3, Routing::LeastLoaded, &gate).start(&node).await.unwrap();
    let busy = pool.worker_refs()[0].clone();
    busy.hold().await.unwrap();
    busy.bump().await.unwrap();
    busy.bump().await.unwrap();
    within("the busy worker to take `hold`", async {
        while busy.mailbox_len() != 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let seen = ids(&pool, 30).await;
    assert!(!seen.contains(&busy.id()), "no call went to the busy worker");
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        2,
        "the idle workers share the load"
    );
    gate.open();
    assert_eq!(busy.handled().await.unwrap(), 2);
}

#[tokio::test]
async fn key_hash_sends_a_key_to_the_same_worker() {
    let node = Node::new();
    let pool = spec(4, Routing::KeyHash, &Gate::new())
        .start(&node)
        .await
        .unwrap();
    let mut owners = HashSet::new();
    for user in 0..32u32 {
        let first = pool.for_key(&user).unwrap().whoami().await.unwrap();
        for _ in 0..5 {
            assert_eq!(pool.for_key(&user).unwrap().whoami().await.unwrap(), first);
        }
        owners.insert(first);
    }
    assert!(owners.len() > 1, "keys spread over the workers");
}

#[tokio::test]
async fn random_routing_reaches_every_worker() {
    let node = Node::new();
    let pool = spec(3, Routing::Random, &Gate::new()).start(&node).await.unwrap();
    let seen: HashSet<ActorId> = ids(&pool, 300).await.into_iter().collect();
    assert_eq!(seen.len(), 3);
}

#[tokio::test]
async fn broadcast_reaches_every_worker() {
    let node = Node::new();
    let pool = spec(3, Routing::RoundRobin, &Gate::new())
        .start(&node)
        .await
        .unwrap();
    assert_eq!(pool.broadcast(|| WorkerMsg::Bump {}).await, 3);
    for worker in pool.worker_refs() {
        assert_eq!(worker.handled().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_pool_grows_and_shrinks() {
    let node = Node::new();
    let pool = spec(2, Routing::RoundRobin, &Gate::new())
        .start(&node)
        .await
        .unwrap();
    pool.resize(5).await.unwrap();
    assert_eq!(pool.size(), 5);
    assert_eq!(ids(&pool, 10).await.into_iter().collect::<HashSet<_>>().len(), 5);
    let removed = pool.worker_refs()[2..].to_vec();
    pool.resize(2).await.unwrap();
    assert_eq!(pool.size(), 2);
    assert_eq!(pool.supervisor().count_children().await.unwrap().specs, 2);
    for worker in removed {
        assert_eq!(worker.exit_reason(), Some(ExitReason::Shutdown));
    }
    assert_eq!(ids(&pool, 4).await.into_iter().collect::<HashSet<_>>().len(), 2);
    assert!(pool.resize(0).await.is_err());
    assert_eq!(node.actor_count(), 3, "the supervisor and two workers");
}

#[tokio::test]
async fn a_pool_of_zero_is_refused() {
    let node = Node::new();
    let err = spec(0, Routing::RoundRobin, &Gate::new())
        .start(&node)
        .await
        .unwrap_err();
    assert_eq!(err, SpawnError::InvalidPoolSize);
}

#[tokio::test]
async fn a_pool_can_be_a_child_of_a_tree() {
    let node = Node::new();
    let pool_spec = spec(2, Routing::RoundRobin, &Gate::new());
    let gate = Gate::new();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("solo", move || Worker {
            gate: gate.clone(),
            handled: 0,
        }))
        .child(pool_spec.clone().into_child("pool"))
        .start(&node)
        .await
        .unwrap();
    let pool_supervisor = root.child("pool").await.unwrap();
    let pool = Pool::attach(pool_supervisor, pool_spec).await.unwrap();
    assert_eq!(pool.size(), 2);
    assert_eq!(ids(&pool, 4).await.into_iter().collect::<HashSet<_>>().len(), 2);
    assert_eq!(node.actor_count(), 5);
}
