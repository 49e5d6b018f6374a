use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message(tga = 1)]
    fn add(&mut self, by: u64) { self.n += by }

    #[message(tag = "2")]
    fn sub(&mut self, by: u64) { self.n -= by }

    #[message(tag = 3, tag = 4)]
    fn get(&self) -> u64 { self.n }

    #[message = 5]
    fn reset(&mut self) { self.n = 0 }
}

fn main() {}
