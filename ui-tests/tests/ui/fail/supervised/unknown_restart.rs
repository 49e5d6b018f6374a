use distribute::prelude::*;

#[actor]
#[supervised(restart = always)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
