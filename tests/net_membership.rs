//! The cluster's membership (SWIM through foca, over UDP beside the connections) on real
//! loopback sockets: nodes that join through seeds count each other in, a node whose
//! runtime dies is declared down by the others and its connection cut, garbage datagrams
//! are refused and counted, and membership can be switched off.

use std::net::UdpSocket;
use std::time::Duration;

use distribute::{Node, NodeEvent};
use distribute_tests::{converged, crash, on_own_runtime, poll_until, COOKIE};

async fn seeded(name: &str, seed: Option<&Node>) -> Node {
    let mut builder = Node::builder().name(name).cookie(COOKIE);
    if let Some(addr) = seed.and_then(Node::listen_addr) {
        builder = builder.seed(addr.to_string());
    }
    match builder.start().await {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

#[tokio::test]
async fn nodes_joined_through_seeds_count_each_other_in() {
    let a = seeded("a", None).await;
    let b = seeded("b", Some(&a)).await;
    let c = seeded("c", Some(&b)).await;
    converged(&[&a, &b, &c]).await;
    let ids: Vec<_> = a.cluster_members().iter().map(|member| member.id).collect();
    assert!(ids.contains(&b.id()) && ids.contains(&c.id()), "{ids:?}");
    let b_seen_by_a = a.cluster_members().into_iter().find(|member| member.id == b.id());
    assert_eq!(
        b_seen_by_a.map(|member| member.addr),
        b.listen_addr(),
        "gossip goes to the node's port"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_is_declared_down_by_the_cluster() {
    let a = seeded("a", None).await;
    let b = seeded("b", Some(&a)).await;
    let seed = a.listen_addr().unwrap_or_else(|| panic!("a listens"));
    let builder = Node::builder()
        .name("doomed")
        .cookie(COOKIE)
        .seed(seed.to_string());
    let (runtime, victim) = on_own_runtime(builder).await;
    converged(&[&a, &b, &victim]).await;
    let victim_id = victim.id();
    let mut events = a.events();
    crash(runtime).await;
    // The suspicion time for a small cluster is a few seconds; a probe misses the dead node
    // within a few one-second periods.
    let declared = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = events.recv().await {
            if matches!(event, NodeEvent::MemberDown { node, .. } if node == victim_id) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(declared, Ok(true), "a never declared the dead node down");
    poll_until("b to count it out too", || {
        b.cluster_members().iter().all(|member| member.id != victim_id)
    })
    .await;
    assert_eq!(a.cluster_members().len(), 1);
}

#[tokio::test]
async fn garbage_datagrams_are_refused_counted_and_change_nothing() {
    let a = seeded("a", None).await;
    let b = seeded("b", Some(&a)).await;
    converged(&[&a, &b]).await;
    let target = a.listen_addr().unwrap_or_else(|| panic!("a listens"));
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|error| panic!("{error}"));
    let oversize = vec![0xAB; 4000];
    let packets: [&[u8]; 4] = [b"", b"hello", &[0u8; 64], &oversize];
    for packet in packets {
        let _ = attacker.send_to(packet, target);
    }
    poll_until("a to refuse the packets", || a.membership_packets_refused() >= 3).await;
    assert_eq!(a.cluster_members().len(), 1, "nothing learnt from them");
    // a still answers b's probes: past two probe periods, each still counts the other in.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(a.cluster_members().first().map(|member| member.id), Some(b.id()));
    assert_eq!(b.cluster_members().first().map(|member| member.id), Some(a.id()));
}

#[tokio::test]
async fn membership_can_be_switched_off() {
    let a = Node::builder()
        .name("a")
        .cookie(COOKIE)
        .membership(false)
        .start()
        .await;
    let a = a.unwrap_or_else(|error| panic!("{error}"));
    let b = seeded("b", Some(&a)).await;
    distribute_tests::wait_connected(&b, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(a.cluster_members().is_empty());
    assert!(
        b.cluster_members().is_empty(),
        "a answers no gossip, so b counts no one in"
    );
}
