use distribute::prelude::*;

#[actor]
#[supervised(pool = 3)]
#[registered("workers")]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {}

#[supervised]
#[actor]
#[registered("cache")]
#[derive(Default)]
struct Cache;

#[actor]
impl Cache {}

// `#[registered]` is still expanded, as for a supervised pool and a supervised actor: the code
// that uses it reports nothing more.
async fn start(node: &Node) -> Result<(), Box<dyn std::error::Error>> {
    let _pool: Pool<Worker> = Worker::start_registered(node, Worker::default).await?;
    let (_supervisor, _cache) = Cache::start_registered(node, Cache::default).await?;
    Ok(())
}

fn main() {
    let _ = start;
}
