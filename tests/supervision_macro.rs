//! `#[supervised(...)]`: the options it declares, and the supervisors and pools its
//! `start_supervised` starts from them.

use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{Backoff, Intensity, Restart, Strategy, SupervisionOptions};
use distribute_tests::within;

/// A supervised actor that counts its calls since it (re)started, and crashes on request.
#[actor]
#[supervised(
    restart = transient,
    strategy = one_for_all,
    max_restarts = 5,
    within = "10s",
    shutdown = "1s",
    backoff = "20ms"
)]
#[derive(Default)]
struct Cache {
    calls: u64,
}

#[actor]
impl Cache {
    #[message]
    fn call(&mut self) -> u64 {
        self.calls += 1;
        self.calls
    }

    #[message]
    fn crash(&mut self) -> u64 {
        panic!("cache crashed on request")
    }
}

/// A pool of three workers, `#[supervised]` written first.
#[supervised(pool = 3, routing = least_loaded, restart = permanent)]
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

/// A pool sized at start: two workers per CPU, as the seed's pools are.
#[supervised(pool = cpus() * 2)]
#[actor]
#[derive(Default)]
struct PerCpu;

#[actor]
impl PerCpu {
    #[message]
    fn ping(&self) {}
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How many workers `Sized` starts with: set by the test that starts it.
static SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A pool whose size is read at each start.
#[supervised(pool = SIZE.load(std::sync::atomic::Ordering::SeqCst))]
#[actor]
#[derive(Default)]
struct Sized;

#[actor]
impl Sized {
    #[message]
    fn ping(&self) {}
}

/// No options.
#[actor]
#[supervised]
#[derive(Default)]
struct Plain;

#[actor]
impl Plain {
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("plain crashed on request")
    }
}

/// Restarted at most once within a long window; never restarted when temporary.
#[actor(name = "fragile")]
#[supervised(max_restarts = 1, within = "1h")]
#[derive(Default)]
struct Fragile;

#[actor]
impl Fragile {
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("fragile crashed on request")
    }
}

#[actor]
#[supervised(restart = temporary)]
#[derive(Default)]
struct OneShot;

#[actor]
impl OneShot {
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("one-shot crashed on request")
    }
}

fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

#[test]
fn supervision_holds_the_declared_options_and_the_defaults_for_the_others() {
    assert_eq!(
        Cache::SUPERVISION,
        SupervisionOptions {
            restart: Restart::Transient,
            strategy: Strategy::OneForAll,
            intensity: Intensity {
                max_restarts: 5,
                within: Duration::from_secs(10),
            },
            shutdown: Duration::from_secs(1),
            backoff: Some(Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(600),
            }),
            ..SupervisionOptions::DEFAULT
        }
    );
    assert_eq!(
        Worker::SUPERVISION,
        SupervisionOptions {
            restart: Restart::Permanent,
            pool: Some(distribute::supervision::PoolSize::Fixed(3)),
            routing: Routing::LeastLoaded,
            ..SupervisionOptions::DEFAULT
        }
    );
    assert_eq!(Plain::SUPERVISION, SupervisionOptions::DEFAULT);
    assert_eq!(
        Fragile::SUPERVISION.intensity,
        Intensity {
            max_restarts: 1,
            within: Duration::from_secs(3600),
        }
    );
}

#[test]
fn the_specs_follow_the_declared_options() {
    let child = Cache::child_spec("cache", Cache::default);
    assert_eq!(child.id(), "cache");
    assert_eq!(child.restart_type(), Restart::Transient);
    assert_eq!(child.shutdown_timeout(), Duration::from_secs(1));

    let supervisor = Cache::supervisor_spec("cache", Cache::default);
    assert_eq!(supervisor.strategy(), Strategy::OneForAll);
    assert_eq!(supervisor.intensity_limit(), Cache::SUPERVISION.intensity);
    assert_eq!(supervisor.backoff_policy(), Cache::SUPERVISION.backoff);

    let child = OneShot::child_spec("one-shot", OneShot::default);
    assert_eq!(child.restart_type(), Restart::Temporary);
    assert_eq!(child.shutdown_timeout(), SupervisionOptions::DEFAULT.shutdown);
}

#[tokio::test]
async fn start_supervised_gives_a_ref_that_survives_a_crash() {
    quiet_panics();
    let node = Node::new();
    let (supervisor, cache) = Cache::start_supervised(&node, Cache::default).await.unwrap();
    assert_eq!(cache.call().await.unwrap(), 1);
    assert_eq!(cache.call().await.unwrap(), 2);

    assert_eq!(
        cache.crash().await,
        Err(CallError::ActorFailed { actor: cache.id() })
    );
    assert_eq!(
        within("the restarted cache", cache.call()).await.unwrap(),
        1,
        "the same ref reaches a fresh instance"
    );
    assert!(cache.is_alive());
    let child = supervisor.child::<Cache>("Cache").await.unwrap();
    assert_eq!(
        child.id(),
        cache.id(),
        "the supervisor still holds the same actor"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn start_supervised_applies_the_declared_intensity() {
    quiet_panics();
    let node = Node::new();
    let (supervisor, fragile) = Fragile::start_supervised(&node, Fragile::default).await.unwrap();
    assert!(fragile.crash().await.is_err());
    assert!(
        fragile.crash().await.is_err(),
        "restarted once, within `max_restarts = 1`"
    );
    assert_eq!(
        within("the supervisor to give up", supervisor.wait_for_stop()).await,
        ExitReason::MaxRestartsExceeded {
            child: "fragile".to_string(),
            reason: Box::new(ExitReason::Panicked("fragile crashed on request".to_string())),
            max_restarts: 1,
            within: Duration::from_secs(3600),
        }
    );
    node.shutdown().await;
}

/// The default intensity, as documented on `#[supervised]`: three restarts within five
/// seconds; the fourth failure makes the supervisor give up, stopping with the reason.
#[tokio::test]
async fn the_default_intensity_is_three_restarts_in_five_seconds() {
    quiet_panics();
    let node = Node::new();
    let (supervisor, plain) = Plain::start_supervised(&node, Plain::default).await.unwrap();
    for restart in 1..=3 {
        assert!(plain.crash().await.is_err());
        assert!(supervisor.is_alive(), "restart {restart} of 3 is allowed");
    }
    assert!(plain.crash().await.is_err());
    let stopped = within("the supervisor to give up", supervisor.wait_for_stop()).await;
    assert!(
        matches!(
            stopped,
            ExitReason::MaxRestartsExceeded { max_restarts: 3, within, .. } if within == Duration::from_secs(5)
        ),
        "{stopped:?}"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn start_supervised_applies_the_declared_restart_type() {
    quiet_panics();
    let node = Node::new();
    let (_supervisor, one_shot) = OneShot::start_supervised(&node, OneShot::default).await.unwrap();
    assert!(one_shot.crash().await.is_err());
    assert!(
        matches!(
            within("the temporary actor to stop", one_shot.wait_for_stop()).await,
            ExitReason::Panicked(_)
        ),
        "a temporary actor is not restarted"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_pool_type_starts_a_pool_of_the_declared_size_and_routing() {
    let node = Node::new();
    let pool: Pool<Worker> = Worker::start_supervised(&node, Worker::default).await.unwrap();
    assert_eq!(pool.size(), 3);
    assert_eq!(pool.routing(), Routing::LeastLoaded);

    let mut workers: Vec<ActorId> = pool.worker_refs().iter().map(ActorRef::id).collect();
    workers.sort();
    workers.dedup();
    assert_eq!(workers.len(), 3, "three distinct workers");
    let answered = pool.whoami().await.unwrap();
    assert!(workers.contains(&answered), "a call goes to one of the workers");
    node.shutdown().await;
}

#[tokio::test]
async fn a_pool_size_may_be_computed_when_the_pool_starts() {
    let node = Node::new();
    let pool: Pool<PerCpu> = PerCpu::start_supervised(&node, PerCpu::default)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(pool.size(), cpus() * 2);
    assert_eq!(pool.ping().await, Ok(()));
    pool.stop().await;

    // Evaluated at each start, not once.
    for size in [1, 4] {
        SIZE.store(size, std::sync::atomic::Ordering::SeqCst);
        let pool: Pool<Sized> = Sized::start_supervised(&node, Sized::default)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(pool.size(), size);
        pool.stop().await;
    }
    // A computed size of zero fails the start with a typed error.
    SIZE.store(0, std::sync::atomic::Ordering::SeqCst);
    let empty = Sized::start_supervised(&node, Sized::default).await;
    assert_eq!(empty.map(|pool| pool.size()), Err(SpawnError::InvalidPoolSize));
}
