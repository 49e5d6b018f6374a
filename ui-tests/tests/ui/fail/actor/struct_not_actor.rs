use distribute::prelude::*;

struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
