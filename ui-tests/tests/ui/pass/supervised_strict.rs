//! The items `#[supervised]` generates are documented and clean under strict lints, for a
//! public and a private actor, and they do not depend on what the user imported (here
//! `Result`, `Option` and `Duration` mean something else).
#![deny(missing_docs, warnings, unreachable_pub, unused, rust_2018_idioms)]
//! A crate with strict lints.

/// Not the standard types.
pub mod shadow {
    /// Not `core::result::Result`.
    pub struct Result;
    /// Not `core::option::Option`.
    pub struct Option;
    /// Not `core::time::Duration`.
    pub struct Duration;
}

/// A public supervised actor.
pub mod public {
    #[allow(unused_imports)]
    use crate::shadow::{Duration, Option, Result};
    use distribute::{actor, supervised};

    /// A public pooled actor.
    #[actor]
    #[supervised(pool = 2, routing = key_hash, shutdown = "2s", backoff = "10ms")]
    #[derive(Default)]
    pub struct Public;

    #[actor]
    impl Public {
        /// Answers.
        #[message]
        pub fn ping(&self) -> u8 {
            1
        }
    }
}

mod private {
    #[allow(unused_imports)]
    use crate::shadow::{Duration, Option, Result};
    use distribute::{actor, supervised};

    /// Never started with `start_supervised`: the generated function is not reported unused.
    #[supervised(restart = transient, max_restarts = 1, within = "1s")]
    #[actor]
    pub(crate) struct Private;

    #[actor]
    impl Private {}
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    use distribute::supervision::Supervised;
    use public::PublicClient;
    let node = distribute::Node::new();
    let pool = public::Public::start_supervised(&node, public::Public::default).await?;
    assert_eq!(pool.ping().await?, 1);
    assert_eq!(
        <private::Private as Supervised>::SUPERVISION
            .intensity
            .max_restarts,
        1
    );
    Ok(())
}
