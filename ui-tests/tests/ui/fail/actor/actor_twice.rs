use distribute::prelude::*;

#[actor]
#[actor(mailbox = 8)]
struct Counter { n: u64 }

#[actor]
#[actor]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
