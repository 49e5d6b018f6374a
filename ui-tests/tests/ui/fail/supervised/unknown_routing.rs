use distribute::prelude::*;

#[actor]
#[supervised(pool = 4, routing = fastest)]
struct Worker;

#[actor]
impl Worker {}

#[actor]
#[supervised(pool = 4, routing = "least_loaded")]
struct Cache;

#[actor]
impl Cache {}

fn main() {}
