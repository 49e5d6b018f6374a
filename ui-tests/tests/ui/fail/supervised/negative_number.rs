use distribute::prelude::*;

#[actor]
#[supervised(pool = -1, max_restarts = -1, within = "5s")]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
