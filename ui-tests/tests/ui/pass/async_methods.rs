//! `async fn` messages, tells and asks, awaiting inside the handler.
use std::time::Duration;

use distribute::prelude::*;

#[actor]
#[derive(Default)]
struct Slow {
    n: u64,
}

#[actor]
impl Slow {
    #[message]
    async fn slow_add(&mut self, by: u64) {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.n += by;
    }

    #[message]
    async fn slow_get(&self) -> u64 {
        tokio::task::yield_now().await;
        self.n
    }

    #[message]
    fn get(&self) -> u64 {
        self.n
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let slow = node.spawn(Slow::default()).await?;
    slow.slow_add(2).await?;
    slow.slow_add(3).await?;
    assert_eq!(slow.slow_get().await?, 5);
    assert_eq!(slow.get().await?, 5);
    Ok(())
}
