//! `#[registered]` above `#[supervised(pool = N)]`: `start_registered` returns the pool, its
//! workers registered as `name_1` to `name_N` and members of the group `name`.
use distribute::prelude::*;
use distribute::registry::RegisterError;

#[actor]
#[registered("workers")]
#[supervised(pool = 3, routing = round_robin)]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {
    #[message]
    fn work(&self, job: u64) -> u64 {
        job * 2
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let pool: Result<Pool<Worker>, RegisterError> = Worker::start_registered(&node, Worker::default).await;
    let pool = pool?;
    assert_eq!(pool.work(21).await?, 42);
    assert_eq!(
        node.registered_names("workers_"),
        ["workers_1", "workers_2", "workers_3"]
    );
    assert_eq!(node.members::<Worker>("workers").len(), 3);
    node.shutdown().await;
    Ok(())
}
