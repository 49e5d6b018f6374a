//! Peers that hold the cookie and queue signals on an actor busy in a long handler: an
//! actor's signal queue takes only a bounded share of signals from peers
//! (`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`); past it the peer's reader waits for room, so a
//! flooding peer stalls only its own connection (and is dropped as `SignalsOverloaded` if the
//! actor takes nothing within the heartbeat timeout), while an honest peer's signals past the
//! bound wait and none is lost.
//!
//! The flood measures the process's memory, of which the victim node is a part, so the tests
//! of this file run one at a time ([`SERIAL`]).

use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::transport::FrameKind;
use distribute::{NodeDownReason, NodeEvent, MAX_PEER_SIGNAL_BYTES_PER_ACTOR};
use distribute_tests::fake_peer::FakePeer;
use distribute_tests::wire::{encode_control, Control, WireId, DOWN, WHEREIS_REPLY};
use distribute_tests::{
    addr, net_node, poll_until, rss, wait_event, within, witness, Counter, CounterClient, Gate, COOKIE,
};

/// One test at a time: the flood measures the whole process.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1024 * 1024;

/// Sends a control frame; `false` if the write did not finish within a second (the node
/// stopped reading from the peer and the socket's buffers are full).
async fn send_control(peer: &mut FakePeer, control: &Control) -> bool {
    let body = encode_control(control);
    tokio::time::timeout(Duration::from_secs(1), peer.send_frame(FrameKind::Signal, &body))
        .await
        .is_ok()
}

/// An actor of `victim` held in a handler until `gate` opens.
async fn busy_actor(victim: &Node, gate: &Gate) -> ActorRef<Counter> {
    let busy = victim.spawn(Counter::new(gate.clone())).await.expect("spawn");
    busy.hold().await.expect("hold");
    poll_until("the busy actor to take `hold`", || busy.mailbox_len() == 0).await;
    busy
}

/// Floods `target` with link/unlink and monitor/demonitor pairs from the peer's own actors
/// (each pair leaves no state, so the per-peer caps never apply) for up to 8 s or two
/// million pairs. Returns how many frames it sent, whether a write blocked (the victim
/// stopped reading) and the process's peak memory (at least `baseline`).
async fn flood_pairs(flooder: &mut FakePeer, me: u64, target: ActorId, baseline: u64) -> (u64, bool, u64) {
    let to = WireId::of(target);
    let started = Instant::now();
    let mut peak = baseline;
    let mut sent: u64 = 0;
    while sent < 4_000_000 && started.elapsed() < Duration::from_secs(8) {
        let i = sent / 4;
        let from = WireId {
            node: me,
            local: i + 1,
        };
        let pair = [
            Control::Link { from, to },
            Control::Unlink { from, to },
            Control::Monitor {
                monitor: i + 1,
                target: to,
            },
            Control::Demonitor {
                monitor: i + 1,
                target: to,
            },
        ];
        for control in &pair {
            if !send_control(flooder, control).await {
                return (sent, true, peak.max(rss()));
            }
            sent += 1;
        }
        if sent.is_multiple_of(16_384) {
            peak = peak.max(rss());
        }
    }
    (sent, false, peak.max(rss()))
}

/// A peer floods a busy actor with signal pairs while a witness node calls another actor:
/// the flooder's writes block and it is dropped as `SignalsOverloaded` after the heartbeat
/// timeout, the process's memory stays within its baseline plus 16 MiB, every call of the
/// witness succeeds, and once the busy actor's handler ends it takes what was queued and
/// keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_flooding_a_busy_actor_with_signals_stalls_only_itself() {
    let _serial = SERIAL.lock().await;
    let victim = Node::builder()
        .name("victim")
        .cookie(COOKIE)
        .heartbeat(Duration::from_millis(250), Duration::from_secs(2))
        .start()
        .await
        .expect("victim starts");
    let gate = Gate::new();
    let busy = busy_actor(&victim, &gate).await;
    let (witness, other, remote) = witness(&victim, "other").await;
    let mut events = victim.events();
    let baseline = rss();

    let calls = tokio::spawn(async move {
        let mut failures = Vec::new();
        for by in 1..=300 {
            if let Err(error) = remote.add(1).await {
                failures.push(format!("add: {error}"));
            }
            match remote.get().await {
                Ok(n) if n == by => {}
                other => failures.push(format!("get answered {other:?}, not {by}")),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        failures
    });

    let me = 0xf100_d000_0000_0001 ^ fastrand::u64(..) << 8;
    let mut flooder = FakePeer::connect_as(addr(&victim), "flooder", me, COOKIE)
        .await
        .expect("flooder handshake");
    let (sent, throttled, mut peak) = flood_pairs(&mut flooder, me, busy.id(), baseline).await;
    let down = if throttled {
        wait_event(
            &mut events,
            "the flooder's NodeDown",
            |event| matches!(event, NodeEvent::NodeDown { name, .. } if name == "flooder"),
        )
        .await
    } else {
        panic!("the victim kept reading a flood of {sent} signals for an actor that takes none")
    };
    peak = peak.max(rss());
    println!(
        "sent {sent} signal frames before the victim stopped reading; RSS baseline {} MiB, peak {} MiB; {down:?}",
        baseline / MIB,
        peak / MIB
    );
    assert!(
        matches!(
            down,
            NodeEvent::NodeDown {
                reason: NodeDownReason::SignalsOverloaded { actor, limit },
                ..
            } if actor == busy.id() && limit == MAX_PEER_SIGNAL_BYTES_PER_ACTOR
        ),
        "the flooder was not dropped as SignalsOverloaded: {down:?}"
    );
    assert!(
        peak < baseline + 16 * MIB,
        "RSS went from {} MiB to {} MiB",
        baseline / MIB,
        peak / MIB
    );
    let failures = within("the witness's calls", calls).await.expect("caller task");
    assert!(failures.is_empty(), "the witness's calls failed: {failures:?}");

    // The handler ends: the actor takes what was queued and answers again.
    gate.open();
    assert_eq!(within("the busy actor's answer", busy.get()).await, Ok(0));
    assert!(busy.is_alive());
    assert_eq!(within("the other actor's answer", other.get()).await, Ok(300));
    victim.shutdown().await;
    witness.shutdown().await;
}

/// Reads the node's frames for `quiet` and returns the first bytes of the control frames.
async fn control_frames_for(peer: &mut FakePeer, quiet: Duration) -> Vec<u8> {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(quiet, async {
        while let Some((kind, body)) = peer.next_frame().await {
            if kind == FrameKind::Signal {
                seen.extend(body.first().copied());
            }
        }
    })
    .await;
    seen
}

/// Reads the node's frames until `count` control frames of variant `variant` came; fails
/// after the deadline.
async fn wait_control(peer: &mut FakePeer, variant: u8, count: usize) {
    within("control frames from the victim", async {
        let mut seen = 0;
        while seen < count {
            match peer.next_frame().await {
                Some((FrameKind::Signal, body)) if body.first() == Some(&variant) => seen += 1,
                Some(_) => {}
                None => panic!("the victim closed the connection after {seen} of {count} frames"),
            }
        }
    })
    .await;
}

/// A peer sets more monitors on a busy actor than its queue takes from peers: the node stops
/// reading from the peer (a lookup sent after them is not answered) until the actor takes
/// signals, then reads on; every monitor was set, since each gets its DOWN when the actor
/// stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_past_the_bound_wait_for_room_and_none_is_lost() {
    let _serial = SERIAL.lock().await;
    let victim = net_node("victim").await;
    let gate = Gate::new();
    let busy = busy_actor(&victim, &gate).await;
    let me = 0x0d0e_0000_0000_0001 ^ fastrand::u64(..) << 8;
    let mut peer = FakePeer::connect_as(addr(&victim), "watcher", me, COOKIE)
        .await
        .expect("handshake");
    // Three times what the queue takes from peers; a link or monitor counts 80 bytes.
    let monitors = 3 * MAX_PEER_SIGNAL_BYTES_PER_ACTOR as u64 / 80;
    let target = WireId::of(busy.id());
    for monitor in 1..=monitors {
        assert!(send_control(&mut peer, &Control::Monitor { monitor, target }).await);
    }
    let lookup = Control::Whereis {
        request: 1,
        name: "none".into(),
    };
    assert!(send_control(&mut peer, &lookup).await);
    let early = control_frames_for(&mut peer, Duration::from_millis(300)).await;
    assert!(
        !early.contains(&WHEREIS_REPLY),
        "the victim read past signals its busy actor had no room for"
    );
    gate.open();
    wait_control(&mut peer, WHEREIS_REPLY, 1).await;
    assert_eq!(within("the busy actor's answer", busy.get()).await, Ok(0));
    let _ = within("the busy actor's stop", busy.stop(ExitReason::Shutdown)).await;
    wait_control(&mut peer, DOWN, usize::try_from(monitors).expect("usize")).await;
    victim.shutdown().await;
}
