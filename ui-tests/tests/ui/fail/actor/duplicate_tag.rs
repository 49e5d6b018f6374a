use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message(tag = 1)]
    fn add(&mut self, by: u64) { self.n += by }

    #[message(tag = 1)]
    fn sub(&mut self, by: u64) { self.n -= by }
}

fn main() {}
