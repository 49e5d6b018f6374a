use distribute::prelude::*;

#[actor(mailbox = 8, capacity = 16, name = "counter")]
struct Counter { n: u64 }

fn main() {}
