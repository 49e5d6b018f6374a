use distribute::prelude::*;

#[actor]
#[supervised(pool = "3", max_restarts = 2.5, within = "5s", restart = "transient", strategy = 1, shutdown = one_second)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
