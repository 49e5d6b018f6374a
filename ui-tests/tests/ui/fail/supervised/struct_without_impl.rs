use distribute::prelude::*;

#[actor]
#[supervised]
struct Worker;

fn main() {}
