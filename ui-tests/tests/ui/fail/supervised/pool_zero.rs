use distribute::prelude::*;

#[actor]
#[supervised(pool = 0)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
