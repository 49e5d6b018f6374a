use distribute::prelude::*;

// `#[registered]` reads `#[supervised]`'s options but leaves their errors to `#[supervised]`,
// which reports each once.
#[actor]
#[registered("workers")]
#[supervised(pool = 0, routing = fastest)]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
