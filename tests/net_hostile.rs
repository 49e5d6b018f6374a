//! Bad input from the network: wrong cookies, other versions, garbage, truncated and
//! oversize frames, undecodable messages, unknown tags and fingerprints, and a slow consumer.
//! Each is refused with a typed reason while the node keeps serving its other peers.

use std::time::Duration;

use distribute::codec::{Bincode, Codec};
use distribute::prelude::*;
use distribute::transport::handshake::{HandshakeError, PROTOCOL_VERSION};
use distribute::transport::FrameKind;
use distribute::{ConnectError, Message, NodeDownReason};
use distribute_tests::fake_peer::{write_frame, FakePeer};
use distribute_tests::{
    addr, counter_tag, net_node, poll_until, wait_event, within, witness, Counter, CounterClient, CounterMsg,
    Gate, COOKIE,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the node closes the connection; fails the test if it stays open.
async fn expect_closed(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    within("the node to close the connection", async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// Waits for the node to drop the peer named `peer` for breaking the protocol.
async fn expect_protocol_violation(events: &mut distribute::NodeEvents, peer: &str) {
    let event = wait_event(
        events,
        "the peer's NodeDown",
        |e| matches!(e, NodeEvent::NodeDown { name, .. } if name == peer),
    )
    .await;
    assert!(
        matches!(
            event,
            NodeEvent::NodeDown {
                reason: NodeDownReason::ProtocolViolation(_),
                ..
            }
        ),
        "{event:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_cookie_fails_on_both_sides_and_delivers_nothing() {
    let a = net_node("a").await;
    let mut events = a.events();
    let intruder = Node::builder()
        .name("intruder")
        .cookie("not-the-cookie")
        .start()
        .await
        .expect("start");
    let refused = intruder.connect(addr(&a)).await;
    assert!(
        matches!(
            refused,
            Err(ConnectError::Handshake {
                error: HandshakeError::AuthFailed,
                ..
            })
        ),
        "{refused:?}"
    );
    let event = wait_event(&mut events, "the rejection", |e| {
        matches!(e, NodeEvent::ConnectionRejected { .. })
    })
    .await;
    assert!(
        matches!(
            event,
            NodeEvent::ConnectionRejected {
                error: ConnectError::Handshake {
                    error: HandshakeError::AuthFailed,
                    ..
                }
            }
        ),
        "{event:?}"
    );
    assert!(a.connected_nodes().is_empty());
    assert!(intruder.connected_nodes().is_empty());
    // A fake peer with the wrong cookie cannot send anything either.
    let fake = FakePeer::connect(addr(&a), "fake", "wrong").await;
    assert_eq!(fake.err(), Some(HandshakeError::AuthFailed));
    assert_eq!(a.net_stats().expect("stats").messages_in(), 0);
    intruder.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_a_cookie_refuses_to_start_unless_insecure_local() {
    let missing = Node::builder().start().await;
    if std::env::var_os(distribute::net::COOKIE_ENV).is_none() {
        assert!(
            matches!(missing, Err(distribute::StartError::MissingCookie)),
            "{missing:?}"
        );
    }
    let insecure = Node::builder()
        .insecure_local()
        .start()
        .await
        .expect("insecure local node");
    let refused = Node::builder()
        .insecure_local()
        .listen("0.0.0.0:0".parse().expect("addr"))
        .start()
        .await;
    if std::env::var_os(distribute::net::COOKIE_ENV).is_none() {
        assert!(
            matches!(refused, Err(distribute::StartError::InsecureNotLoopback(_))),
            "{refused:?}"
        );
    }
    let bad_name = Node::builder().name("no spaces").cookie("c").start().await;
    assert!(
        matches!(bad_name, Err(distribute::StartError::InvalidName(_))),
        "{bad_name:?}"
    );
    insecure.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_protocol_version_is_refused_as_such() {
    let a = net_node("a").await;
    let mut events = a.events();
    let mut stream = TcpStream::connect(addr(&a)).await.expect("connect");
    // A Hello of a future version 9, laid out as this version's.
    let mut hello = vec![0x01];
    hello.extend_from_slice(b"DSTR");
    hello.extend_from_slice(&9u16.to_be_bytes());
    hello.extend_from_slice(&(6u16).to_be_bytes());
    hello.extend_from_slice(b"future");
    hello.extend_from_slice(&7u64.to_be_bytes());
    hello.extend_from_slice(&0u64.to_be_bytes());
    hello.extend_from_slice(&[3; 32]);
    write_frame(&mut stream, FrameKind::Handshake, &hello).await;
    expect_closed(&mut stream).await;
    let event = wait_event(&mut events, "the rejection", |e| {
        matches!(e, NodeEvent::ConnectionRejected { .. })
    })
    .await;
    assert!(
        matches!(
            event,
            NodeEvent::ConnectionRejected {
                error: ConnectError::Handshake {
                    error: HandshakeError::VersionMismatch { ours, theirs: 9 },
                    ..
                }
            } if ours == PROTOCOL_VERSION
        ),
        "{event:?}"
    );
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_truncated_and_oversize_frames_are_rejected_while_the_node_serves_others() {
    let a = net_node("a").await;
    let (b, counter, remote) = witness(&a, "counter").await;
    let mut events = a.events();

    // Raw garbage.
    let mut garbage = TcpStream::connect(addr(&a)).await.expect("connect");
    garbage.write_all(&[0xAB; 512]).await.expect("write");
    expect_closed(&mut garbage).await;
    // A frame header that promises more than ever arrives, then the end of the stream.
    let mut truncated = TcpStream::connect(addr(&a)).await.expect("connect");
    truncated
        .write_all(&[0, 0, 0, 40, FrameKind::Handshake.as_u8(), 1, 2])
        .await
        .expect("write");
    truncated.shutdown().await.expect("shutdown");
    expect_closed(&mut truncated).await;
    // A length of almost 4 GiB: refused from the header alone.
    let mut oversize = TcpStream::connect(addr(&a)).await.expect("connect");
    oversize
        .write_all(&[0xFF, 0xFF, 0xFF, 0xF0, 2])
        .await
        .expect("write");
    expect_closed(&mut oversize).await;

    for what in ["garbage", "truncated", "oversize"] {
        let event = wait_event(&mut events, what, |e| {
            matches!(e, NodeEvent::ConnectionRejected { .. })
        })
        .await;
        assert!(
            matches!(
                event,
                NodeEvent::ConnectionRejected {
                    error: ConnectError::Framing { .. }
                        | ConnectError::Handshake { .. }
                        | ConnectError::Io { .. }
                }
            ),
            "{event:?}"
        );
    }
    assert!(a.net_stats().expect("stats").connections_rejected() >= 3);

    // An authenticated peer that then breaks the framing is disconnected with the reason.
    let mut rogue = FakePeer::connect(addr(&a), "rogue", COOKIE)
        .await
        .expect("handshake");
    rogue
        .stream
        .write_all(&[0x7F, 0xFF, 0xFF, 0xFF, 2])
        .await
        .expect("write");
    expect_protocol_violation(&mut events, "rogue").await;
    expect_closed(&mut rogue.stream).await;

    // The witness was served throughout and nothing it sent was lost.
    for _ in 0..100 {
        remote.add(1).await.expect("tell");
    }
    assert_eq!(remote.get().await, Ok(100));
    assert_eq!(counter.get().await, Ok(100));
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_messages_are_dropped_and_counted_and_the_next_valid_one_is_processed() {
    let a = net_node("a").await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let mut peer = FakePeer::connect(addr(&a), "sloppy", COOKIE)
        .await
        .expect("handshake");
    let fingerprint = CounterMsg::FINGERPRINT;
    let add = counter_tag("add");
    // 0xFF announces a u64 in eight bytes; two are not enough.
    for _ in 0..1000 {
        peer.send_message(counter.id(), fingerprint, add, 0, &[0xFF, 1, 2])
            .await;
    }
    let mut valid = Vec::new();
    Bincode::<{ distribute::codec::DEFAULT_LIMIT }>
        .encode(&(5u64,), &mut valid)
        .expect("encode");
    peer.send_message(counter.id(), fingerprint, add, 0, &valid).await;
    // An ask whose arguments do not decode is answered with the reason at once.
    peer.send_message(counter.id(), fingerprint, counter_tag("get"), 77, &[0xEE])
        .await;
    let (status, detail) = peer.reply(77).await;
    assert_eq!(status, 4, "BadRequest: {}", String::from_utf8_lossy(&detail));

    let stats = a.net_stats().expect("stats");
    poll_until("the valid message", || stats.messages_in() >= 1).await;
    assert_eq!(counter.get().await, Ok(5));
    assert_eq!(stats.undecodable(), 1001);
    // The same connection is still open and served.
    peer.send_message(counter.id(), fingerprint, counter_tag("get"), 78, &[])
        .await;
    let (status, value) = peer.reply(78).await;
    assert_eq!(status, 0);
    assert_eq!(
        Bincode::<{ distribute::codec::DEFAULT_LIMIT }>.decode::<u64>(&value),
        Ok(5)
    );
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tags_fingerprints_and_actors_get_typed_errors_back() {
    let a = net_node("a").await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let mut peer = FakePeer::connect(addr(&a), "confused", COOKIE)
        .await
        .expect("handshake");
    let fingerprint = CounterMsg::FINGERPRINT;

    peer.send_message(counter.id(), fingerprint ^ 1, counter_tag("get"), 1, &[0])
        .await;
    let (status, detail) = peer.reply(1).await;
    assert_eq!(status, 3, "Mismatch");
    assert!(String::from_utf8_lossy(&detail).contains("fingerprint"));

    peer.send_message(counter.id(), fingerprint, 0x0bad_0bad, 2, &[0])
        .await;
    let (status, detail) = peer.reply(2).await;
    assert_eq!(status, 3, "Mismatch");
    assert!(String::from_utf8_lossy(&detail).contains("no message with tag"));

    let gone = ActorId::clone(&counter.id());
    counter.stop(ExitReason::Normal).await;
    peer.send_message(gone, fingerprint, counter_tag("get"), 3, &[0])
        .await;
    assert_eq!(peer.reply(3).await.0, 1, "Stopped");
    let stats = a.net_stats().expect("stats");
    assert_eq!(stats.mismatched(), 2);
    assert_eq!(stats.dead_letters(), 1);
    a.shutdown().await;
}

/// Takes blobs; blocks behind a gate first.
#[actor(mailbox = 4)]
struct Slow {
    gate: Gate,
    bytes: usize,
}

#[actor]
impl Slow {
    #[message]
    async fn wait(&mut self) {
        self.gate.wait().await;
    }

    #[message]
    fn blob(&mut self, bytes: Vec<u8>) {
        self.bytes += bytes.len();
    }

    #[message]
    fn total(&self) -> usize {
        self.bytes
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_keeps_the_senders_memory_bounded() {
    const QUEUE: usize = 64 * 1024;
    const BLOB: usize = 8 * 1024;
    const BLOBS: usize = 4_000; // 32 MB: far more than the queue, the mailbox and the sockets hold
    let a = Node::builder()
        .name("a")
        .cookie(COOKIE)
        .send_queue_bytes(QUEUE)
        .start()
        .await
        .expect("start");
    let b = net_node("b").await;
    a.connect(addr(&b)).await.expect("connect");
    let gate = Gate::new();
    let slow = b
        .spawn(Slow {
            gate: gate.clone(),
            bytes: 0,
        })
        .await
        .expect("spawn");
    b.register_local("slow", &slow).expect("register");
    let remote: ActorRef<Slow> = a.lookup_on(b.id(), "slow").await.expect("lookup");
    remote.wait().await.expect("tell");

    let sender = {
        let remote = remote.clone();
        tokio::spawn(async move {
            for _ in 0..BLOBS {
                remote.blob(vec![1; BLOB]).await?;
            }
            Ok::<(), CallError>(())
        })
    };
    let queued = || a.connected_nodes().first().map_or(0, |peer| peer.queued_bytes);
    // The queue fills up and the sender waits there: memory stays at the bound.
    poll_until("the send queue to fill", || queued() >= QUEUE).await;
    let mut high = 0;
    for _ in 0..200 {
        high = high.max(queued());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(!sender.is_finished(), "the sender must be held back");
    assert!(
        high < QUEUE + 2 * BLOB,
        "queue grew to {high} bytes (bound {QUEUE})"
    );

    gate.open();
    within("the sender to finish", sender)
        .await
        .expect("join")
        .expect("every tell succeeds");
    assert_eq!(remote.total().await, Ok(BLOB * BLOBS));
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_declared_down_after_the_heartbeat_timeout() {
    let a = Node::builder()
        .name("a")
        .cookie(COOKIE)
        .heartbeat(Duration::from_millis(50), Duration::from_millis(300))
        .start()
        .await
        .expect("start");
    let mut events = a.events();
    // The fake peer completes the handshake, then neither writes nor reads anything.
    let silent = FakePeer::connect(addr(&a), "silent", COOKIE)
        .await
        .expect("handshake");
    let started = std::time::Instant::now();
    let event = wait_event(&mut events, "NodeDown", |e| {
        matches!(e, NodeEvent::NodeDown { .. })
    })
    .await;
    assert!(
        matches!(
            event,
            NodeEvent::NodeDown { reason: NodeDownReason::HeartbeatTimeout(timeout), .. }
                if timeout == Duration::from_millis(300)
        ),
        "{event:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
    drop(silent);
    a.shutdown().await;
}

/// Up to `max` random bytes: the garbage of the fuzz-style test below.
fn garbage(rng: &mut fastrand::Rng, max: usize) -> Vec<u8> {
    let len = rng.usize(..=max);
    (0..len).map(|_| rng.u8(..)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_frames_from_an_authenticated_peer_never_hurt_the_node() {
    let a = net_node("a").await;
    let (b, counter, remote) = witness(&a, "counter").await;
    let mut events = a.events();
    let mut peer = FakePeer::connect(addr(&a), "fuzzer", COOKIE)
        .await
        .expect("handshake");
    // Seeded, so that a failure reproduces.
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let tags: Vec<u32> = CounterMsg::TAGS.iter().map(|(tag, _)| *tag).collect();
    let harmless = ["add", "get"].map(counter_tag);
    for round in 0..2000u64 {
        let mut tag = tags[rng.usize(..tags.len())];
        if !harmless.contains(&tag) {
            tag = rng.u32(..); // an unknown tag, never one that blocks or panics the actor
        }
        let fingerprint = if rng.u64(..).is_multiple_of(4) {
            rng.u64(..)
        } else {
            CounterMsg::FINGERPRINT
        };
        let call = if rng.bool() { 0 } else { round + 1 };
        let body = garbage(&mut rng, 64);
        peer.send_message(counter.id(), fingerprint, tag, call, &body)
            .await;
        if rng.u64(..).is_multiple_of(8) {
            // A reply to a call nobody made: ignored.
            let mut reply = (rng.u64(..) | 1 << 63).to_be_bytes().to_vec();
            reply.push(rng.u8(..7));
            reply.extend(garbage(&mut rng, 16));
            peer.send_frame(FrameKind::Reply, &reply).await;
        }
    }
    // A valid call behind them all: once it is answered, every frame before it was handled.
    let last = u64::MAX - 1;
    peer.send_message(
        counter.id(),
        CounterMsg::FINGERPRINT,
        counter_tag("get"),
        last,
        &[],
    )
    .await;
    let (status, _) = peer.reply(last).await;
    assert_eq!(status, 0);
    // The counter may have been told some `add`s; whatever it holds, it still answers.
    let before = within("the counter", counter.get()).await.expect("get");
    remote.add(1).await.expect("tell");
    assert_eq!(remote.get().await, Ok(before + 1));

    // A control frame that does not decode ends the fuzzer's connection, and only it.
    peer.send_frame(FrameKind::Signal, &[0xFF; 9]).await;
    expect_protocol_violation(&mut events, "fuzzer").await;
    assert_eq!(remote.get().await, Ok(before + 1));
    let stats = a.net_stats().expect("stats");
    assert!(stats.undecodable() + stats.mismatched() > 0);
    b.shutdown().await;
    a.shutdown().await;
}
