use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[cfg(debug_assertions)]
    #[message]
    fn dump(&self) -> u64 { self.n }
}

fn main() {}
