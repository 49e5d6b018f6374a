use distribute::prelude::*;

#[actor]
#[derive(Default)]
struct Counter { n: u64 }

trait Get { fn get(&self) -> u64; }

#[actor]
impl Get for Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
