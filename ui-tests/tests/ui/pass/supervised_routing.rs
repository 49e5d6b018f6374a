//! `pool = N` with each routing; `start_supervised` returns a `Pool` with that routing.
use distribute::prelude::*;

macro_rules! pooled {
    ($name:ident, $($options:tt)*) => {
        #[actor]
        #[supervised($($options)*)]
        struct $name;

        #[actor]
        impl $name {
            #[message]
            fn ping(&self) -> u8 {
                1
            }
        }
    };
}

pooled!(RoundRobin, pool = 2, routing = round_robin);
pooled!(Random, pool = 2, routing = random);
pooled!(LeastLoaded, pool = 2, routing = least_loaded);
pooled!(KeyHash, pool = 2, routing = key_hash);
pooled!(Default, pool = 1);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let pool = RoundRobin::start_supervised(&node, || RoundRobin).await?;
    assert_eq!((pool.size(), pool.routing()), (2, Routing::RoundRobin));
    assert_eq!(pool.ping().await?, 1);
    let pool = Random::start_supervised(&node, || Random).await?;
    assert_eq!((pool.size(), pool.routing()), (2, Routing::Random));
    assert_eq!(pool.ping().await?, 1);
    let pool = LeastLoaded::start_supervised(&node, || LeastLoaded).await?;
    assert_eq!((pool.size(), pool.routing()), (2, Routing::LeastLoaded));
    assert_eq!(pool.ping().await?, 1);
    let pool = KeyHash::start_supervised(&node, || KeyHash).await?;
    assert_eq!((pool.size(), pool.routing()), (2, Routing::KeyHash));
    assert_eq!(pool.for_key("user-7").ok_or("no worker")?.ping().await?, 1);
    let pool = Default::start_supervised(&node, || Default).await?;
    assert_eq!((pool.size(), pool.routing()), (1, Routing::RoundRobin));
    node.shutdown().await;
    Ok(())
}
