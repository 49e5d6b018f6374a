//! The generated items are documented and clean under strict lints, public or not.
#![deny(missing_docs, warnings, unreachable_pub, unused, rust_2018_idioms)]
//! A crate with strict lints.

/// Public actors.
pub mod public {
    use distribute::prelude::*;

    /// A public actor with public messages.
    #[actor]
    #[derive(Default)]
    pub struct Public {
        n: u64,
    }

    #[actor]
    impl Public {
        /// Adds.
        #[message]
        pub fn add(&mut self, by: u64) {
            self.n += by;
        }

        /// Reads.
        #[message]
        pub async fn get(&self, ctx: &mut Context<Self>) -> u64 {
            let _ = ctx.id();
            self.n
        }

        /// Starts.
        #[on_start]
        fn init(&mut self) {}
    }
}

mod private {
    use distribute::prelude::*;

    #[actor]
    #[derive(Default)]
    pub(crate) struct Private {
        n: u64,
    }

    #[actor]
    impl Private {
        #[message]
        pub(crate) fn add(&mut self, by: u64) {
            self.n += by;
        }

        #[message]
        fn get(&self) -> u64 {
            self.n
        }
    }

    pub(crate) async fn run(node: &Node) -> Result<u64, Box<dyn std::error::Error>> {
        let private = node.spawn(Private::default()).await?;
        private.add(1).await?;
        Ok(private.get().await?)
    }
}

/// An actor without messages.
mod silent {
    use distribute::prelude::*;

    #[actor]
    pub(crate) struct Silent;

    #[actor]
    impl Silent {}
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use public::PublicClient;
    let node = distribute::Node::new();
    let public = node.spawn(public::Public::default()).await?;
    public.add(2).await?;
    assert_eq!(public.get().await?, 2);
    assert_eq!(private::run(&node).await?, 1);
    let _silent = node.spawn(silent::Silent).await?;
    Ok(())
}
