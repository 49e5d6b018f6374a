use distribute::prelude::*;

#[actor]
#[registered("jobs")]
struct Jobs<T> { job: T }

fn main() {}
