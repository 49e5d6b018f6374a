use distribute::prelude::*;

// No `#[actor]`: each of the two macros checks it, and the compiler reports the check once.
#[registered("workers")]
#[supervised(pool = 2)]
struct Worker;

fn main() {}
