use distribute::prelude::*;

#[actor(mailbox = "64", name = 3, codec = "bincode")]
struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
