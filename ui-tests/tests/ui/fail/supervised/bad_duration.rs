use distribute::prelude::*;

#[actor]
#[supervised(max_restarts = 3, within = "5 parsecs", shutdown = "1.5s", backoff = "ms")]
struct Worker;

#[actor]
impl Worker {}

#[actor]
#[supervised(max_restarts = 3, within = 5)]
struct Cache;

#[actor]
impl Cache {}

fn main() {}
