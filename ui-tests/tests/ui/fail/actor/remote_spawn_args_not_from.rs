use distribute::prelude::*;

// The actor is made from its arguments on the other node: it must be `From<u64>`.
#[actor(remote_spawn = u64)]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
