use distribute::prelude::*;

// A computed pool size is a `usize`: this one is a `u32`.
#[supervised(pool = workers())]
#[actor]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {}

fn workers() -> u32 {
    4
}

fn main() {}
