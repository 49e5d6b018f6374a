//! A peer that holds the cookie but not the registry's rules, driven by hand over loopback
//! TCP: forged and invalid entries, releases of other nodes' names, a silent sequencer, a
//! flood of names that must go with the peer, and a registry larger than a frame.

use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::registry::wire::{actor_id, GlobalEntry, RegistryMsg};
use distribute::transport::FrameKind;
use distribute::RegistryError;
use distribute_tests::fake_peer::FakePeer;
use distribute_tests::{addr, net_node, poll_until, shutdown, wait_connected, within, Counter, Gate, COOKIE};

/// The id a fake peer announces when the victim must stay the sequencer (the highest).
const HIGH_ID: u64 = u64::MAX - 7;

fn entry(node: u64, local: u64) -> GlobalEntry {
    GlobalEntry {
        owner: actor_id(node, local),
        fingerprint: 1,
        type_name: "Forged".into(),
    }
}

async fn send(peer: &mut FakePeer, msg: &RegistryMsg) {
    let mut body = Vec::new();
    msg.encode(&mut body).expect("encode");
    peer.send_frame(FrameKind::Registry, &body).await;
}

fn snapshot(entries: Vec<(String, GlobalEntry)>) -> RegistryMsg {
    RegistryMsg::Snapshot {
        entries,
        groups: Vec::new(),
    }
}

/// Reads frames until the node closes the connection.
async fn wait_closed(peer: &mut FakePeer) {
    within("the victim to drop the peer", async {
        while peer.next_frame().await.is_some() {}
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_entries_are_refused_and_the_victims_actor_keeps_running_and_its_name() {
    let victim = net_node("victim").await;
    let counter = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    victim.register_global("svc", &counter).await.expect("register");

    let mut peer = FakePeer::connect_as(addr(&victim), "mallory", HIGH_ID, COOKIE)
        .await
        .expect("handshake");
    wait_connected(&victim, 1).await;
    // Made-up owners on nodes that are not members, one with the lowest id there is.
    let forged = vec![
        ("svc".to_string(), entry(1, 1)),
        ("fresh".to_string(), entry(2, 1)),
        ("hearsay".to_string(), entry(HIGH_ID - 1, 1)),
    ];
    send(&mut peer, &snapshot(forged)).await;
    // A claim of the victim's name for a made-up owner, and a group membership of one.
    let claim = RegistryMsg::Claim {
        request: 1,
        name: "svc".into(),
        entry: entry(1, 0),
    };
    send(&mut peer, &claim).await;
    let join = RegistryMsg::Join {
        group: "workers".into(),
        member: entry(3, 3),
    };
    send(&mut peer, &join).await;
    // The peer's own name is taken: once it is in, everything before it was handled.
    send(
        &mut peer,
        &snapshot(vec![("mine".to_string(), entry(HIGH_ID, 1))]),
    )
    .await;
    poll_until("the peer's own name", || {
        victim.registered_names("") == vec!["mine".to_string(), "svc".to_string()]
    })
    .await;
    assert_eq!(victim.lookup::<Counter>("svc").expect("kept").id(), counter.id());
    assert!(victim.groups().is_empty());
    assert!(counter.is_alive());

    // Invalid names: the frame is a protocol violation, the peer is dropped, nothing taken.
    for bad in [String::new(), "has space".to_string(), "x".repeat(60_000)] {
        let mut peer = FakePeer::connect_as(addr(&victim), "mallory-2", HIGH_ID - 3, COOKIE)
            .await
            .expect("handshake");
        send(&mut peer, &snapshot(vec![(bad.clone(), entry(HIGH_ID - 3, 1))])).await;
        wait_closed(&mut peer).await;
        assert!(!victim.registered_names("").contains(&bad));
    }
    assert_eq!(victim.lookup::<Counter>("svc").expect("kept").id(), counter.id());
    assert!(counter.is_alive());
    drop(peer);
    shutdown(&[&victim]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owners_node_unregisters_a_name() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("svc", &counter).await.expect("register");
    poll_until("b to see the name", || {
        b.registered_names("") == vec!["svc".to_string()]
    })
    .await;
    assert_eq!(
        b.unregister_global("svc", counter.id()).await,
        Err(RegistryError::NotOwner {
            name: "svc".into(),
            owner: counter.id()
        })
    );

    // A peer asking the victim to release a name of another node's actor is refused.
    let mut peer = FakePeer::connect_as(addr(&a), "mallory", HIGH_ID, COOKIE)
        .await
        .expect("handshake");
    let unclaim = RegistryMsg::Unclaim {
        request: 9,
        name: "svc".into(),
        owner: counter.id(),
    };
    send(&mut peer, &unclaim).await;
    let answer = within("the refusal", async {
        loop {
            let (kind, body) = peer.next_frame().await.expect("connection open");
            if kind != FrameKind::Registry {
                continue;
            }
            if let Ok(RegistryMsg::ClaimReply { request: 9, result }) = RegistryMsg::decode(&body) {
                return result;
            }
        }
    })
    .await;
    assert_eq!(answer, Err(Some(counter.id())));
    for node in [&a, &b] {
        assert_eq!(node.lookup::<Counter>("svc").expect("kept").id(), counter.id());
    }
    // The owner's node may.
    a.unregister_global("svc", counter.id())
        .await
        .expect("unregister");
    drop(peer);
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_with_the_lowest_id_does_not_stall_registration() {
    let victim = net_node("victim").await;
    // Node id 1: the lowest, so the sequencer in the victim's view; it never answers.
    let _silent = FakePeer::connect_as(addr(&victim), "silent", 1, COOKIE)
        .await
        .expect("handshake");
    // And one with the highest id, which never acknowledges the victim's changes.
    let _mute = FakePeer::connect_as(addr(&victim), "mute", HIGH_ID, COOKIE)
        .await
        .expect("handshake");
    wait_connected(&victim, 2).await;
    for name in ["first", "second"] {
        let counter = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
        let started = Instant::now();
        victim.register_global(name, &counter).await.expect("register");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{name} took {took:?}");
        assert_eq!(
            victim.lookup::<Counter>(name).expect("registered").id(),
            counter.id()
        );
    }
    shutdown(&[&victim]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peers_names_go_with_it_and_are_capped_per_node() {
    let victim = Node::builder()
        .name("victim")
        .cookie(COOKIE)
        .max_global_names_per_node(1_000)
        .start()
        .await
        .expect("start");
    let mut peer = FakePeer::connect_as(addr(&victim), "mallory", HIGH_ID, COOKIE)
        .await
        .expect("handshake");
    wait_connected(&victim, 1).await;
    let own: Vec<(String, GlobalEntry)> = (0..5_000)
        .map(|i| (format!("peer-{i:05}"), entry(HIGH_ID, i)))
        .collect();
    let strangers: Vec<(String, GlobalEntry)> = (0..5_000)
        .map(|i| (format!("stranger-{i:05}"), entry(1_000 + i, 1)))
        .collect();
    send(&mut peer, &snapshot(strangers.into_iter().chain(own).collect())).await;
    poll_until("the peer's names, up to the cap", || {
        victim.registered_names("peer-").len() == 1_000
    })
    .await;
    assert!(victim.registered_names("stranger-").is_empty());

    // The victim's own actors have a cap too.
    let counter = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    for i in 0..1_000 {
        victim
            .register_global(&format!("own-{i:04}"), &counter)
            .await
            .expect("register");
    }
    assert_eq!(
        victim.register_global("one-too-many", &counter).await,
        Err(RegistryError::TooManyNames {
            node: victim.id(),
            limit: 1_000
        })
    );

    for i in 0..1_000 {
        victim.join(&format!("group-{i:04}"), &counter).expect("join");
    }
    assert_eq!(
        victim.join("one-group-too-many", &counter),
        Err(RegistryError::TooManyNames {
            node: victim.id(),
            limit: 1_000
        })
    );

    drop(peer);
    poll_until("the peer's names to go with it", || {
        victim.registered_names("peer-").is_empty()
    })
    .await;
    assert_eq!(victim.registered_names("").len(), 1_000);
    shutdown(&[&victim]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_joins_a_cluster_whose_registry_is_larger_than_two_frames() {
    const NAMES: usize = 34_000;
    // A send queue of 256 KiB puts the hard ceiling on what is queued for one peer near
    // 4.5 MiB, under the registry's 8 MiB: the snapshot must be paced, not queued at once.
    let big = Node::builder()
        .name("big")
        .cookie(COOKIE)
        .send_queue_bytes(256 << 10)
        .start()
        .await
        .expect("start");
    let counter = big.spawn(Counter::new(Gate::new())).await.expect("spawn");
    // 255-character names: over 8 MiB of registry, twice the 4 MiB frame cap.
    let name = |i: usize| format!("{i:0>255}");
    within("filling the registry", async {
        for i in 0..NAMES {
            big.register_global(&name(i), &counter).await.expect("register");
        }
    })
    .await;
    let bytes: usize = big.registered_names("").iter().map(|name| name.len()).sum();
    assert!(bytes > 8 << 20, "{bytes} bytes of names");

    let joiner = net_node("joiner").await;
    within("connect", joiner.connect(addr(&big)))
        .await
        .expect("connect");
    // `connect` returned: the whole registry arrived.
    assert_eq!(joiner.registered_names("").len(), NAMES);
    for i in [0, NAMES / 2, NAMES - 1] {
        assert_eq!(
            joiner
                .lookup::<Counter>(&name(i))
                .map(|found| found.id())
                .map_err(|error| format!("{error}; connected to {:?}", joiner.connected_nodes()))
                .expect("synced"),
            counter.id()
        );
    }
    shutdown(&[&joiner, &big]).await;
}
