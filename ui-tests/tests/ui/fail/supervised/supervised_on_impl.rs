use distribute::prelude::*;

#[actor]
struct Worker;

#[supervised]
#[actor]
impl Worker {}

fn main() {}
