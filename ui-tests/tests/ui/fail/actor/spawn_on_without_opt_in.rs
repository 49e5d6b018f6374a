use distribute::prelude::*;

#[actor]
#[derive(serde::Serialize, serde::Deserialize)]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

async fn start(node: &Node, peer: NodeId) {
    // `Counter` did not opt in with `#[actor(remote_spawn)]`.
    let _ = node.spawn_on::<Counter>(peer, Counter { n: 0 }).await;
}

fn main() {
    let _ = start;
}
