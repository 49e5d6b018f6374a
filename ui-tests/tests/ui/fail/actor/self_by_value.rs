use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn take(self) -> u64 { self.n }
}

fn main() {}
