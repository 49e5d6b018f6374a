use std::time::Duration;

use distribute::testing::TestCluster;
use distribute_tests::{Counter, Gate};

fn scenario(seed: u64, tick: u64) -> Result<distribute::testing::Report, distribute::testing::SimError> {
    TestCluster::builder().nodes(3).seed(seed).tick(Duration::from_millis(tick)).run(|cluster| async move {
        cluster.wait_connected(Duration::from_secs(5)).await?;
        let counter = cluster.node(0).run(|node| async move { node.spawn(Counter::new(Gate::new())).await }).await??;
        cluster.node(0).register_global("counter", &counter).await?;
        cluster.partition(&[0], &[1, 2]);
        cluster.sleep(Duration::from_secs(2)).await;
        let other = cluster.node(1).run(|node| async move { node.spawn(Counter::new(Gate::new())).await }).await??;
        let _ = cluster.node(1).register_global("counter", &other).await;
        cluster.heal();
        cluster.check(Duration::from_secs(5)).await?;
        Ok(())
    })
}

#[test]
fn smoke() {
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_test_writer().try_init();
    if let Ok(seed) = std::env::var("SEED") {
        let r = scenario(seed.parse().unwrap(), 1);
        match r { Ok(r) => for l in r.history.trace() { println!("{l}") }, Err(e) => { for l in e.history.trace() { println!("{l}"); } panic!("{e}"); } }
        return;
    }
    for tick in [1, 10] {
        let started = std::time::Instant::now();
        let mut bad = 0;
        let mut failed = std::collections::BTreeMap::<String, Vec<u64>>::new();
        for seed in 0..100 {
            match scenario(seed, tick) {
                Ok(_) => {}
                Err(e) => { bad += 1; failed.entry(e.message.clone()).or_default().push(seed) }
            }
        }
        println!("tick {tick}: 100 runs in {:?}, {bad} failed", started.elapsed());
        for (m, s) in failed { println!("  {m}: {s:?}"); }
    }
}
