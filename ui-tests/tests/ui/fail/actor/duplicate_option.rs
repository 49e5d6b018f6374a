use distribute::prelude::*;

#[actor(mailbox = 8, name = "a", mailbox = 16)]
struct Counter { n: u64 }

fn main() {}
