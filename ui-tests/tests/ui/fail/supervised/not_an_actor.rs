use distribute::prelude::*;

#[supervised(restart = transient)]
struct Worker;

fn main() {}
