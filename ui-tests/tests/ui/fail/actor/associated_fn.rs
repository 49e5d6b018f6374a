use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn create(n: u64) -> u64 { n }
}

fn main() {}
