use distribute::prelude::*;

#[actor]
#[supervised(max_restarts = 99999999999, within = "5s", pool = 100000)]
struct Worker;

#[actor]
impl Worker {}

#[actor]
#[supervised(within = "99999999999999999h", max_restarts = 3, shutdown = "99999999999999999999999s")]
struct Cache;

#[actor]
impl Cache {}

fn main() {}
