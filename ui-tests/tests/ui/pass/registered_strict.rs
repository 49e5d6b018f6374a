//! The items `#[registered]` generates are documented and clean under strict lints, for a
//! public and a private actor, and they do not depend on what the user imported (here
//! `Result`, `Option`, `Duration` and `Node` mean something else).
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
    /// Not `distribute::Node`.
    pub struct Node;
}

/// Public registered actors.
pub mod public {
    #[allow(unused_imports)]
    use crate::shadow::{Duration, Node, Option, Result};
    use distribute::{actor, registered, supervised};

    /// A public pooled actor.
    #[actor]
    #[distribute::registered("public.pool")]
    #[supervised(pool = 2)]
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

    /// A public actor on its own.
    #[registered("alone")]
    #[actor]
    #[derive(Default)]
    pub struct Alone;

    #[actor]
    impl Alone {
        /// Answers.
        #[message]
        pub fn ping(&self) -> u8 {
            2
        }
    }
}

mod private {
    #[allow(unused_imports)]
    use crate::shadow::{Duration, Node, Option, Result};
    use distribute::{actor, registered, supervised};

    /// Never started nor looked up: the generated items are not reported unused.
    #[registered("private")]
    #[supervised(restart = transient)]
    #[actor]
    pub(crate) struct Private;

    #[actor]
    impl Private {}

    /// Private, unsupervised, unused.
    #[actor]
    #[registered("hidden")]
    struct Hidden;

    #[actor]
    impl Hidden {}
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    use distribute::registry::Registered;
    use public::PublicClient;
    let node = distribute::Node::new();
    let pool = public::Public::start_registered(&node, public::Public::default).await?;
    assert_eq!(pool.ping().await?, 1);
    let alone = public::Alone::start_registered(&node, public::Alone).await?;
    let found = public::Alone::lookup_with_timeout(&node, std::time::Duration::from_secs(1)).await?;
    assert_eq!(found.id(), alone.id());
    assert_eq!(<private::Private as Registered>::REGISTERED_AS.as_str(), "private");
    Ok(())
}
