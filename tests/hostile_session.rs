//! Authenticated sessions against an attacker on the path (issue 14, finding 1).
//!
//! The attacker holds no cookie. It connects to two real nodes `v` and `w` and passes each
//! one's handshake messages to the other, so that both accept its sockets as authenticated.
//! Before sessions, every frame it then added was trusted (a `Kill` stopped `v`'s actor).
//! Now every byte after the handshake is sealed with keys only the two nodes can derive: the
//! relay can still pass their records along, a pipe between two real nodes, but whatever it
//! adds, replays or reflects closes the connection with a typed reason, and nothing of it is
//! delivered. A peer that does hold the cookie is held to the session too.

use distribute::codec::{Bincode, Codec, DEFAULT_LIMIT};
use distribute::prelude::*;
use distribute::transport::{encode_frame, FrameKind};
use distribute::{Message, NodeDownReason};
use distribute_tests::fake_peer::{kill_signal, message_body, write_frame, FakePeer, Inject, Relay};
use distribute_tests::{
    addr, counter_tag, mesh_node, net_node, poll_until, wait_event, within, Counter, CounterClient,
    CounterMsg, Gate, COOKIE,
};

/// The body of a tell `add(by)` to `counter`.
fn add_message(counter: &ActorRef<Counter>, by: u64) -> Vec<u8> {
    let mut args = Vec::new();
    Bincode::<DEFAULT_LIMIT>
        .encode(&(by,), &mut args)
        .expect("encode");
    message_body(
        counter.id(),
        CounterMsg::FINGERPRINT,
        counter_tag("add"),
        0,
        &args,
    )
}

/// A node `v` with a counter, and a node `w`, not connected to each other.
/// The nodes a relay sits between run no membership ([`mesh_node`]): a relay carries only
/// their TCP connection, and a membership would reach them directly over UDP and keep each
/// counted in while the relay's connections come and go (a closed connection is then no
/// node down).
async fn victims() -> (Node, Node, ActorRef<Counter>) {
    let v = mesh_node("v").await;
    let w = mesh_node("w").await;
    let counter = v.spawn(Counter::new(Gate::new())).await.expect("spawn");
    v.register_local("counter", &counter).expect("register");
    (v, w, counter)
}

/// Waits until `node` sees `peer` up.
async fn wait_up(events: &mut distribute::NodeEvents, peer: &str) {
    wait_event(
        events,
        &format!("{peer} up"),
        |e| matches!(e, NodeEvent::NodeUp { name, .. } if name == peer),
    )
    .await;
}

/// Waits for `peer`'s NodeDown and returns the protocol violation's text; fails the test on
/// any other reason.
async fn violation(events: &mut distribute::NodeEvents, peer: &str) -> String {
    let event = wait_event(
        events,
        &format!("{peer} down"),
        |e| matches!(e, NodeEvent::NodeDown { name, .. } if name == peer),
    )
    .await;
    match event {
        NodeEvent::NodeDown {
            reason: NodeDownReason::ProtocolViolation(why),
            ..
        } => why,
        other => panic!("expected a protocol violation, got {other:?}"),
    }
}

/// `v`'s counter is alive and holds `n`, and `v` delivered no message from the network
/// beyond the `delivered` it had.
async fn untouched(v: &Node, counter: &ActorRef<Counter>, n: u64, delivered: u64) {
    assert!(counter.is_alive(), "the counter was stopped");
    assert_eq!(counter.get().await, Ok(n));
    assert_eq!(v.net_stats().expect("stats").messages_in(), delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_handshake_succeeds_but_frames_the_relay_adds_are_refused() {
    let v = mesh_node("v").await;
    let counter = v.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let mut v_events = v.events();
    // A claim of the name "svc" for v's counter, shaped as the registry's Claim message.
    let mut claim = Vec::new();
    Bincode::<DEFAULT_LIMIT>
        .encode(
            &(
                0u32,
                1u64,
                "svc",
                (counter.id(), CounterMsg::FINGERPRINT, "Counter"),
            ),
            &mut claim,
        )
        .expect("encode");
    let injections = [
        ("w-kill", FrameKind::Signal, kill_signal(counter.id())),
        ("w-tell", FrameKind::Message, add_message(&counter, 1000)),
        ("w-registry", FrameKind::Registry, claim),
    ];
    for (name, kind, body) in injections {
        let w = mesh_node(name).await;
        let mut w_events = w.events();
        let relay = Relay::start(addr(&v), addr(&w)).await;
        // Both nodes accepted the relay's sockets: the handshake alone cannot tell.
        wait_up(&mut v_events, name).await;
        wait_up(&mut w_events, "v").await;
        relay.inject(Inject::Unsealed(kind, body));
        let why = violation(&mut v_events, name).await;
        assert!(why.contains(&format!("unsealed {kind:?} frame")), "{why}");
        untouched(&v, &counter, 0, 0).await;
        assert!(v.registered_names("").is_empty(), "{:?}", v.registered_names(""));
        drop(relay);
        w.shutdown().await;
    }
    v.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_is_only_a_pipe_and_a_record_it_replays_is_refused() {
    let (v, w, counter) = victims().await;
    let (mut v_events, mut w_events) = (v.events(), w.events());
    let relay = Relay::start(addr(&v), addr(&w)).await;
    wait_up(&mut v_events, "w").await;
    wait_up(&mut w_events, "v").await;

    // The two real nodes talk through the relay as through any cable.
    let remote = within(
        "a lookup through the relay",
        w.lookup_on::<Counter>(v.id(), "counter"),
    )
    .await
    .expect("lookup");
    remote.add(5).await.expect("tell");
    assert_eq!(remote.get().await, Ok(5));
    let delivered = v.net_stats().expect("stats").messages_in();
    assert_eq!(delivered, 2);

    // W's last record (the `get`, or a heartbeat) sent again: refused, not delivered twice.
    relay.inject(Inject::ReplayFromW);
    let why = violation(&mut v_events, "w").await;
    assert!(why.contains("failed authentication"), "{why}");
    untouched(&v, &counter, 5, delivered).await;
    drop(relay);
    w.shutdown().await;
    v.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflected_and_forged_records_are_refused() {
    let (v, w, counter) = victims().await;
    let mut v_events = v.events();
    let mut w_events = w.events();

    // V's own first record (its introduction), sent back to it.
    let reflecting = Relay::start(addr(&v), addr(&w)).await;
    wait_up(&mut v_events, "w").await;
    wait_up(&mut w_events, "v").await;
    // A lookup through the relay: v has sent records (its introduction, the answer).
    within(
        "a lookup through the relay",
        w.lookup_on::<Counter>(v.id(), "counter"),
    )
    .await
    .expect("lookup");
    reflecting.inject(Inject::ReflectToV);
    let why = violation(&mut v_events, "w").await;
    assert!(why.contains("failed authentication"), "{why}");
    drop(reflecting);
    // The relay's end closed: W sees v go down (and may reconnect on its own, for real).
    wait_event(
        &mut w_events,
        "v down",
        |e| matches!(e, NodeEvent::NodeDown { name, .. } if name == "v"),
    )
    .await;

    // A record in the right format around a real Kill, with a tag the relay made up.
    let w2 = mesh_node("w2").await;
    let mut w2_events = w2.events();
    let forging = Relay::start(addr(&v), addr(&w2)).await;
    wait_up(&mut v_events, "w2").await;
    wait_up(&mut w2_events, "v").await;
    let mut frames = Vec::new();
    encode_frame(
        FrameKind::Signal,
        &kill_signal(counter.id()),
        usize::MAX,
        &mut frames,
    )
    .expect("frame");
    forging.inject(Inject::Forged(frames));
    let why = violation(&mut v_events, "w2").await;
    assert!(why.contains("failed authentication"), "{why}");
    untouched(&v, &counter, 0, 0).await;
    drop(forging);
    w2.shutdown().await;
    w.shutdown().await;
    v.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_holder_that_sends_an_unsealed_frame_is_dropped() {
    let v = net_node("v").await;
    let mut events = v.events();
    let first = v.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let second = v.spawn(Counter::new(Gate::new())).await.expect("spawn");

    // Sealed, the very same Kill works: the frame is right, only the session refuses it.
    let mut peer = FakePeer::connect(addr(&v), "holder", COOKIE)
        .await
        .expect("handshake");
    peer.send_frame(FrameKind::Signal, &kill_signal(first.id())).await;
    within("the sealed Kill", first.wait_for_stop()).await;

    write_frame(&mut peer.stream, FrameKind::Signal, &kill_signal(second.id())).await;
    let why = violation(&mut events, "holder").await;
    assert!(why.contains("unsealed Signal frame"), "{why}");
    assert!(second.is_alive());
    assert_eq!(second.get().await, Ok(0));

    // A tell sealed by a peer, then an unsealed one: the first is delivered, not the second.
    let mut peer = FakePeer::connect(addr(&v), "holder2", COOKIE)
        .await
        .expect("handshake");
    peer.send_frame(FrameKind::Message, &add_message(&second, 3))
        .await;
    let stats = v.net_stats().expect("stats");
    poll_until("the sealed tell", || stats.messages_in() >= 1).await;
    write_frame(&mut peer.stream, FrameKind::Message, &add_message(&second, 1000)).await;
    let why = violation(&mut events, "holder2").await;
    assert!(why.contains("unsealed Message frame"), "{why}");
    assert_eq!(second.get().await, Ok(3));
    assert_eq!(stats.messages_in(), 1);
    v.shutdown().await;
}
