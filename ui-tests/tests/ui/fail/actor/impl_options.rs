use distribute::prelude::*;

#[actor]
struct Counter { n: u64 }

#[actor(mailbox = 64)]
impl Counter {
    #[message]
    fn get(&self) -> u64 { self.n }
}

fn main() {}
