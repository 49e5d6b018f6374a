use distribute::prelude::*;
use distribute::supervision::{PoolSize, Supervised};

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

// Two workers per CPU, computed when the pool starts.
#[supervised(pool = cpus() * 2, routing = least_loaded)]
#[actor]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {}

fn main() {
    match Worker::SUPERVISION.pool {
        Some(size @ PoolSize::Computed(_)) => assert_eq!(size.get(), cpus() * 2),
        other => panic!("expected a computed size, got {other:?}"),
    }
}
