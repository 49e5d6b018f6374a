use distribute::prelude::*;

#[actor]
#[supervised(max_restarts = 3)]
struct Worker;

#[actor]
impl Worker {}

#[actor]
#[supervised(within = "5s")]
struct Cache;

#[actor]
impl Cache {}

fn main() {}
