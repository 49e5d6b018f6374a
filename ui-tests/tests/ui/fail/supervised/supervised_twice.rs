use distribute::prelude::*;

#[actor]
#[supervised(pool = 2)]
#[supervised(restart = transient)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
