//! A public actor in a module: the generated enum and client trait are `pub` (the most visible
//! message method is `pub`) and usable from another module.
mod counter {
    use distribute::prelude::*;

    /// A counter.
    #[actor]
    #[derive(Default)]
    pub struct Counter {
        n: u64,
    }

    #[actor]
    impl Counter {
        /// Adds `by`.
        #[message]
        pub fn add(&mut self, by: u64) {
            self.n += by;
        }

        /// The value.
        #[message]
        pub(crate) fn get(&self) -> u64 {
            self.n
        }

        #[message]
        fn reset(&mut self) {
            self.n = 0;
        }
    }
}

mod user {
    use distribute::prelude::*;

    use crate::counter::{Counter, CounterClient, CounterMsg};

    pub async fn run(node: &Node) -> Result<u64, Box<dyn std::error::Error>> {
        let counter = node.spawn(Counter::default()).await?;
        counter.add(2).await?;
        counter.tell(CounterMsg::Add { by: 3 }).await?;
        counter.reset().await?;
        counter.add(4).await?;
        Ok(counter.get().await?)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = distribute::Node::new();
    assert_eq!(user::run(&node).await?, 4);
    Ok(())
}
