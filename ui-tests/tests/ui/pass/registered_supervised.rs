//! `#[registered]` above `#[supervised(...)]` (with `#[actor]` before or after either):
//! `start_registered` takes a factory and returns the supervisor and the actor's ref.
use distribute::prelude::*;
use distribute::registry::RegisterError;
use distribute::supervision::Supervisor;

#[actor]
#[registered("cache")]
#[supervised(restart = transient, max_restarts = 3, within = "5s")]
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
}

#[registered("sessions")]
#[supervised]
#[actor]
#[derive(Default)]
struct Sessions;

#[actor]
impl Sessions {}

#[registered("tokens")]
#[actor]
#[supervised(shutdown = "1s")]
#[derive(Default)]
struct Tokens;

#[actor]
impl Tokens {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let started: Result<(ActorRef<Supervisor>, ActorRef<Cache>), RegisterError> =
        Cache::start_registered(&node, Cache::default).await;
    let (_supervisor, cache) = started?;
    assert_eq!(Cache::lookup(&node)?.id(), cache.id());
    assert_eq!(cache.put().await?, 1);

    let (_, sessions) = Sessions::start_registered(&node, || Sessions).await?;
    assert_eq!(Sessions::REGISTERED_NAME.lookup(&node)?.id(), sessions.id());
    let (_, tokens) = Tokens::start_registered(&node, Tokens::default).await?;
    assert_eq!(Tokens::lookup(&node)?.id(), tokens.id());
    node.shutdown().await;
    Ok(())
}
