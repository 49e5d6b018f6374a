use distribute::prelude::*;

#[actor]
#[supervised(pool = 2, size = 3, mailbox = 8)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
