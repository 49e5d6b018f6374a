use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message(tag = 0x8000_0000)]
    fn add(&mut self, by: u64) { self.n += by }

    #[message(tag = 99999999999999999999999)]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
