//! `#[supervised(...)]` with every option, with some, and with none; before or after
//! `#[actor]`. `SUPERVISION` holds the declared values and the defaults for the others, and
//! the trait's specs follow it.
use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{Backoff, Intensity, Restart, Strategy, SupervisionOptions};

/// Every option, `#[actor]` first.
#[actor]
#[supervised(
    restart = transient,
    strategy = one_for_all,
    max_restarts = 5,
    within = "10s",
    shutdown = "1s",
    backoff = "100ms",
    pool = 3,
    routing = least_loaded
)]
#[derive(Default)]
struct Worker;

#[actor]
impl Worker {}

/// Some options, `#[supervised]` first, the other units of a duration.
#[supervised(restart = temporary, strategy = rest_for_one, max_restarts = 0, within = "2m", shutdown = "0ms")]
#[actor]
#[derive(Default)]
struct Cache;

#[actor]
impl Cache {}

/// No options.
#[actor]
#[supervised]
#[derive(Default)]
struct Plain;

#[actor]
impl Plain {}

/// Empty parentheses, the macro by its full path, options in any order.
#[distribute::supervised()]
#[distribute::actor]
#[derive(Default)]
struct Empty;

#[actor]
impl Empty {}

#[supervised(within = "1h", backoff = "1s", max_restarts = 4_000_000_000, restart = permanent)]
#[actor]
#[derive(Default)]
struct Hourly;

#[actor]
impl Hourly {}

fn main() {
    assert_eq!(
        Worker::SUPERVISION,
        SupervisionOptions {
            restart: Restart::Transient,
            strategy: Strategy::OneForAll,
            intensity: Intensity {
                max_restarts: 5,
                within: Duration::from_secs(10),
            },
            shutdown: Duration::from_secs(1),
            backoff: Some(Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(3),
            }),
            pool: Some(distribute::supervision::PoolSize::Fixed(3)),
            routing: Routing::LeastLoaded,
        }
    );

    let cache = Cache::SUPERVISION;
    assert_eq!(cache.restart, Restart::Temporary);
    assert_eq!(cache.strategy, Strategy::RestForOne);
    assert_eq!(cache.intensity.max_restarts, 0);
    assert_eq!(cache.intensity.within, Duration::from_secs(120));
    assert_eq!(cache.shutdown, Duration::ZERO);
    assert_eq!(cache.backoff, SupervisionOptions::DEFAULT.backoff);
    assert_eq!(cache.pool, None);

    assert_eq!(Plain::SUPERVISION, SupervisionOptions::DEFAULT);
    assert_eq!(Empty::SUPERVISION, SupervisionOptions::DEFAULT);

    let hourly = Hourly::SUPERVISION;
    assert_eq!(hourly.restart, Restart::Permanent);
    assert_eq!(hourly.intensity.within, Duration::from_secs(3600));
    assert_eq!(hourly.intensity.max_restarts, 4_000_000_000);
    assert_eq!(
        hourly.backoff.map(|backoff| backoff.initial),
        Some(Duration::from_secs(1))
    );

    let child = Worker::child_spec("w", Worker::default);
    assert_eq!(child.id(), "w");
    assert_eq!(child.restart_type(), Restart::Transient);
    assert_eq!(child.shutdown_timeout(), Duration::from_secs(1));
    let child = Cache::child_spec("c", Cache::default);
    assert_eq!(child.restart_type(), Restart::Temporary);
    assert_eq!(child.shutdown_timeout(), Duration::ZERO);
    let child = Plain::child_spec("p", Plain::default);
    assert_eq!(child.restart_type(), SupervisionOptions::DEFAULT.restart);
    assert_eq!(child.shutdown_timeout(), SupervisionOptions::DEFAULT.shutdown);

    let tree = Cache::supervisor_spec("c", Cache::default);
    assert_eq!(tree.strategy(), Strategy::RestForOne);
    assert_eq!(tree.intensity_limit().within, Duration::from_secs(120));
    assert_eq!(tree.children().len(), 1);
    let tree = Worker::supervisor_spec("w", Worker::default);
    assert_eq!(
        tree.backoff_policy().map(|backoff| backoff.initial),
        Some(Duration::from_millis(100))
    );
}
