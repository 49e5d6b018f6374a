use distribute::prelude::*;

#[actor]
#[supervised(routing = least_loaded)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
