use distribute::prelude::*;

#[actor]
#[supervised(max_restarts = 3, within = "0s", backoff = "0ms")]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
