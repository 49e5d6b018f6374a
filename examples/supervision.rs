//! Supervision patterns: each kills a worker and shows it coming back.
//!
//! 1. A single supervised actor, started in one call.
//! 2. A pool of workers behind one handle.
//! 3. A nested tree: a root supervisor over a worker and a sub-tree.
//! 4. A named supervised actor: registered in the cluster-wide registry once its supervisor
//!    has confirmed it, and found by name before and after a crash.
//! 5. Watching supervision: restart counts, incarnations and last exit reasons, a nested
//!    supervisor's failure reaching its parent, and a pool's running workers.
//!
//! Run with `cargo run --example supervision`. `registry_patterns` shows the same names
//! used across nodes.

use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{Backoff, ChildSpec, Strategy, Supervisor, SupervisorSpec};
use distribute::{PoolSpec, Routing};

/// A worker that counts the jobs it did since it (re)started.
#[actor]
#[supervised(max_restarts = 5, within = "10s", pool = 3, routing = round_robin)]
#[derive(Default)]
struct Worker {
    jobs: u64,
}

#[actor]
impl Worker {
    /// Does a job; returns how many this incarnation has done.
    #[message]
    fn work(&mut self) -> u64 {
        self.jobs += 1;
        self.jobs
    }

    /// Which actor answered.
    #[message]
    fn whoami(&self, ctx: &mut Context<Self>) -> ActorId {
        ctx.id()
    }

    /// Crashes the worker.
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("worker asked to crash")
    }
}

/// A service with one supervised instance (no pool), registered cluster-wide as
/// `cache.primary`. `#[registered]` goes above `#[supervised]`, which it reads.
#[actor]
#[registered("cache.primary")]
#[supervised(restart = permanent, max_restarts = 3, within = "5s", shutdown = "1s")]
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
    fn crash(&mut self) -> u64 {
        panic!("cache corrupted")
    }
}

async fn crash_and_wait<F, Fut>(what: &str, crash: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<u64, CallError>>,
{
    match crash().await {
        Err(err) => println!("   killed {what}: the caller saw `{err}`"),
        Ok(_) => println!("   {what} did not crash?"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::panic::set_hook(Box::new(|_| {}));
    let node = Node::new();

    println!("1. A single supervised actor, in one call");
    let (supervisor, cache) = Cache::start_supervised(&node, Cache::default).await?;
    println!("   supervisor {} runs cache {}", supervisor.id(), cache.id());
    cache.put().await?;
    println!("   cache holds {} entries", cache.put().await?);
    crash_and_wait("the cache", || cache.crash()).await;
    println!(
        "   same ref {} answers again, fresh state: {} entry",
        cache.id(),
        cache.put().await?
    );

    println!("\n2. A pool of 3 workers ({:?} routing)", Routing::RoundRobin);
    let pool = Worker::start_supervised(&node, Worker::default).await?;
    for _ in 0..3 {
        println!("   job handled by {}", pool.whoami().await?);
    }
    // `try_work` is `work` without waiting for room: a full mailbox fails it at once.
    match pool.try_work().await {
        Ok(jobs) => println!("   try_work, sent at once: {jobs} job"),
        Err(err) => println!("   try_work refused: {err}"),
    }
    let victim = pool.worker_refs()[1].clone();
    crash_and_wait("worker 2", || victim.crash()).await;
    println!(
        "   pool still has {} workers; worker 2 answers: {}",
        pool.size(),
        victim.work().await?
    );

    println!("\n3. A nested tree: root (one-for-one) -> [cache, db+api (one-for-all)]");
    nested_tree(&node).await?;

    println!("\n4. A named supervised actor, in the cluster-wide registry");
    // One call: start under a supervisor, then, once the supervisor has confirmed the child,
    // register it as `cache.primary`. Every node connected to this one would find it too.
    let (named_supervisor, named) = Cache::start_registered(&node, Cache::default).await?;
    println!(
        "   {} runs under supervisor {} as `{}`",
        named.id(),
        named_supervisor.id(),
        Cache::REGISTERED_NAME
    );
    let found = Cache::lookup(&node)?;
    println!(
        "   `cache.primary` is {}; put -> {}",
        found.id(),
        found.put().await?
    );
    crash_and_wait("cache.primary", || found.crash()).await;
    let again = Cache::lookup(&node)?;
    println!(
        "   after the restart the name still resolves to {}; put -> {}",
        again.id(),
        again.put().await?
    );

    println!("\n5. Watching supervision");
    observe(&node).await?;

    node.shutdown().await;
    println!("\nNode shut down: {} actors left.", node.actor_count());
    Ok(())
}

/// Section 3: a root over a cache and a one-for-all sub-tree; a crash in the sub-tree.
async fn nested_tree(node: &Node) -> Result<(), Box<dyn std::error::Error>> {
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .name("root")
        .child(Cache::child_spec("cache", Cache::default))
        .child(
            SupervisorSpec::new(Strategy::OneForAll)
                .name("backend")
                .child(ChildSpec::worker("db", Worker::default))
                .child(ChildSpec::worker("api", Worker::default))
                .into_child("backend"),
        )
        .start(node)
        .await?;
    let backend = root.child::<Supervisor>("backend").await?;
    let db = backend.child::<Worker>("db").await?;
    let api = backend.child::<Worker>("api").await?;
    api.work().await?;
    api.work().await?;
    println!("   api did {} jobs", api.work().await?);
    crash_and_wait("db", || db.crash()).await;
    // One-for-all stops api before it restarts db, so once the new db answers, what is sent
    // to api waits for (and is answered by) the new api.
    println!("   db is back: {} job", db.work().await?);
    println!(
        "   one-for-all restarted api too: its count starts over at {}",
        api.with_timeout(Duration::from_secs(1)).work().await?
    );
    for child in root.which_children().await? {
        println!(
            "   root child {:<8} {:?} {:?}",
            child.id,
            child.state,
            child.actor.map(|a| a.to_string())
        );
    }
    // Asking for a child that is not there is a typed error, not a `None`.
    if let Err(err) = root.child::<Worker>("cache").await {
        println!("   root.child::<Worker>(\"cache\"): {err}");
    }
    Ok(())
}

/// Section 5: what `which_children` and a pool tell about restarts as they happen.
async fn observe(node: &Node) -> Result<(), Box<dyn std::error::Error>> {
    let inner = SupervisorSpec::new(Strategy::OneForOne)
        .name("inner")
        .intensity(1, Duration::from_secs(60))
        .child(ChildSpec::worker("leaf", Worker::default));
    let outer = SupervisorSpec::new(Strategy::OneForOne)
        .name("outer")
        .child(ChildSpec::worker("solo", Worker::default))
        .child(inner.into_child("inner"))
        .start(node)
        .await?;
    let solo = outer.child::<Worker>("solo").await?;
    crash_and_wait("solo", || solo.crash()).await;
    solo.work().await?;
    // Two crashes of the leaf exceed the inner intensity: inner gives up and outer restarts
    // it; the subtree restarts behind the same refs, so the old leaf ref keeps working.
    let leaf = outer
        .child::<Supervisor>("inner")
        .await?
        .child::<Worker>("leaf")
        .await?;
    crash_and_wait("leaf", || leaf.crash()).await;
    leaf.work().await?;
    crash_and_wait("leaf again", || leaf.crash()).await;
    while !outer
        .which_children()
        .await?
        .iter()
        .any(|child| child.id == "inner" && child.restarts > 0)
    {
        tokio::task::yield_now().await;
    }
    println!(
        "   inner was restarted; the leaf's old ref reaches its new incarnation: job {}",
        leaf.work().await?
    );
    for child in outer.which_children().await? {
        let last = child
            .last_exit
            .map_or_else(|| "-".to_string(), |reason| reason.to_string());
        println!(
            "   outer child {:<6} {:?}, incarnation {}, {} restarts, last exit: {last}",
            child.id, child.state, child.incarnation, child.restarts
        );
    }

    // A backoff keeps a crashed worker out for a while: the pool counts it out, then in.
    let pool = PoolSpec::new(3, Worker::default)
        .supervisor(|spec| spec.backoff(Backoff::new(Duration::from_millis(200), Duration::from_secs(1))))
        .start(node)
        .await?;
    let victim = pool.worker_refs()[0].clone();
    crash_and_wait("a pool worker", || victim.crash()).await;
    while pool.running_workers() == pool.size() {
        tokio::task::yield_now().await;
    }
    println!(
        "   during the backoff: {} of {} workers running",
        pool.running_workers(),
        pool.size()
    );
    victim.work().await?;
    println!(
        "   after the restart:  {} of {} workers running",
        pool.running_workers(),
        pool.size()
    );
    pool.stop().await;
    outer.stop(ExitReason::Shutdown).await;
    Ok(())
}
