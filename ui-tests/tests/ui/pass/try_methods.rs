//! The `try_` twins of the client methods: a tell's is not async, an ask's is; both on a ref,
//! a `with_timeout` view and a pool, with raw identifiers and many arguments.
use std::time::Duration;

use distribute::prelude::*;
use distribute::PoolSpec;

#[actor]
#[derive(Default)]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[message]
    fn add(&mut self, by: u64) {
        self.n += by;
    }

    #[message]
    fn get(&self) -> u64 {
        self.n
    }

    #[message]
    fn r#type(&self) -> String {
        "counter".to_string()
    }

    #[message]
    #[allow(clippy::too_many_arguments)]
    fn sum(&mut self, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64, g: u64) {
        self.n += a + b + c + d + e + f + g;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let counter = node.spawn(Counter::default()).await?;
    let sent: Result<(), CallError> = counter.try_add(1);
    sent?;
    counter.try_sum(1, 1, 1, 1, 1, 1, 1)?;
    assert_eq!(counter.try_get().await?, 8);
    assert_eq!(counter.try_type().await?, "counter");
    assert_eq!(counter.with_timeout(Duration::from_secs(1)).try_get().await?, 8);

    let pool = PoolSpec::new(2, Counter::default).start(&node).await?;
    pool.try_add(3)?;
    let _: u64 = pool.try_get().await?;
    pool.stop().await;
    Ok(())
}
