use distribute::prelude::*;

#[actor]
#[supervised(pool, restart = , strategy one_for_all)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
