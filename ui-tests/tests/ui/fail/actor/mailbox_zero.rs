use distribute::prelude::*;

#[actor(mailbox = 0)]
struct Counter { n: u64 }

#[actor(name = "")]
struct Unnamed;

fn main() {}
