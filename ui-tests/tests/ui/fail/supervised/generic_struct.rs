use distribute::prelude::*;

#[actor]
#[supervised(pool = 2)]
struct Worker<T> { job: T }

fn main() {}
