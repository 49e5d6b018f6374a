use distribute::prelude::*;

#[actor]
#[supervised(pool = 2, restart = transient, pool = 3)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
