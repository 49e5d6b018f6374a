use distribute::prelude::*;

// `remote_spawn` sends the struct itself to the other node, which it cannot without serde.
#[actor(remote_spawn)]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
