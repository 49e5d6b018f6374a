use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    const STEP: u64 = 1;

    #[message(tag = 2)]
    const LIMIT: u64 = 10;

    #[on_start]
    const READY: bool = true;

    #[message]
    fn add(&mut self, by: u64) { self.n += by * Self::STEP }
}

fn main() {}
