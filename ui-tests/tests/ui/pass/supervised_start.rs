//! `start_supervised` starts a supervised actor (and gives back a ref that survives a crash)
//! or, with `pool = N`, a pool; the client methods work on both.
use distribute::prelude::*;

#[actor]
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
    fn crash(&mut self) {
        panic!("cache corrupted")
    }
}

#[supervised(pool = 3, routing = round_robin)]
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::panic::set_hook(Box::new(|_| {}));
    let node = Node::new();

    let (supervisor, cache): (ActorRef<distribute::supervision::Supervisor>, ActorRef<Cache>) =
        Cache::start_supervised(&node, Cache::default).await?;
    assert_eq!(cache.put().await?, 1);
    cache.crash().await?; // a tell: the panic happens after it returns
    assert_eq!(
        cache.put().await?,
        1,
        "restarted with fresh state, behind the same ref"
    );
    assert_eq!(supervisor.count_children().await?.active, 1);

    let pool: Pool<Worker> = Worker::start_supervised(&node, || Worker).await?;
    assert_eq!(pool.size(), 3);
    assert_eq!(pool.routing(), Routing::RoundRobin);
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(pool.whoami().await?);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "round-robin visits every worker");

    node.shutdown().await;
    Ok(())
}
