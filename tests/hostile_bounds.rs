//! Peers that hold the cookie and try to make a node keep more than its bounds: a peer that
//! floods calls and never reads their replies, floods of links, monitors and introductions
//! naming made-up nodes, and thousands of idle sockets that never finish a handshake.
//!
//! Several tests of this file measure the process's memory or descriptors, of which the
//! victim node is a part, so every test of the file runs alone ([`SERIAL`]): even a caught
//! panic elsewhere in the process can cost tens of megabytes (its backtrace loads the debug
//! information when `RUST_BACKTRACE` is set).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::transport::FrameKind;
use distribute::{ConnectError, NodeDownReason, NodeEvent};
use distribute_tests::fake_peer::FakePeer;
use distribute_tests::wire::{encode_control, Control, Known, Leaf, WireId, WireReason};
use distribute_tests::{
    addr, net_node, poll_until, rss, wait_event, within, witness, Counter, CounterClient, Gate, COOKIE,
};
use tokio::net::{TcpListener, TcpStream};

/// One test at a time: some measure the whole process.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1024 * 1024;

async fn send_control(peer: &mut FakePeer, control: &Control) {
    peer.send_frame(FrameKind::Signal, &encode_control(control)).await;
}

/// Reads (and drops) what the node sent until it is quiet for a moment, so that a flood's
/// answers do not pile up in the node's send queue.
async fn drain(peer: &mut FakePeer) {
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(20), peer.next_frame()).await {}
}

/// Floods the victim with asks to `target` with a wrong fingerprint (each answered with a
/// rejection), up to 200 MB, as the node `flooder`, and never reads. Returns how many it
/// sent, whether a write blocked for a second (the victim stopped reading), the process's
/// peak memory (at least `baseline`) and the flooder, still connected.
async fn flood_asks(victim: &Node, target: ActorId, baseline: u64) -> (u64, bool, u64, FakePeer) {
    let mut flooder = FakePeer::connect(addr(victim), "flooder", COOKIE)
        .await
        .expect("flooder handshake");
    let started = Instant::now();
    let mut peak = baseline;
    let mut sent: u64 = 0;
    while sent < 6_000_000 && started.elapsed() < Duration::from_secs(8) {
        let ask = flooder.send_message(target, 0xbad_f00d, 1, sent + 1, b"");
        if tokio::time::timeout(Duration::from_secs(1), ask).await.is_err() {
            return (sent, true, peak.max(rss()), flooder);
        }
        sent += 1;
        if sent.is_multiple_of(4096) {
            peak = peak.max(rss());
        }
    }
    (sent, false, peak.max(rss()), flooder)
}

/// A victim whose counter is called by a witness node all through a flood: every call
/// succeeds, and the flooder ends throttled (its writes block) or disconnected as
/// `Overloaded`, with the process's memory under its baseline plus 64 MiB throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_its_replies_costs_a_bounded_amount_and_others_keep_calling() {
    let _serial = SERIAL.lock().await;
    let victim = Node::builder()
        .name("victim")
        .cookie(COOKIE)
        .heartbeat(Duration::from_millis(250), Duration::from_secs(2))
        .start()
        .await
        .expect("victim starts");
    let (witness, counter, remote) = witness(&victim, "counter").await;
    let mut events = victim.events();
    let baseline = rss();

    let calls = tokio::spawn(async move {
        let mut failures = Vec::new();
        for _ in 0..300 {
            if let Err(error) = remote.get().await {
                failures.push(error);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        failures
    });

    let (sent, throttled, mut peak, _flooder) = flood_asks(&victim, counter.id(), baseline).await;
    peak = peak.max(rss());
    let overloaded = if throttled {
        // Stopped reading from the flooder; after the heartbeat timeout without room it
        // is dropped.
        let down = wait_event(
            &mut events,
            "the flooder's NodeDown",
            |event| matches!(event, NodeEvent::NodeDown { name, .. } if name == "flooder"),
        )
        .await;
        peak = peak.max(rss());
        matches!(
            down,
            NodeEvent::NodeDown {
                reason: NodeDownReason::Overloaded { .. },
                ..
            }
        )
    } else {
        false
    };
    println!(
        "sent {sent} asks; throttled {throttled}, overloaded {overloaded}; RSS baseline {} MiB, peak {} MiB",
        baseline / MIB,
        peak / MIB
    );
    assert!(
        throttled,
        "the victim kept reading from a peer that does not read"
    );
    assert!(overloaded, "the flooder was not dropped as Overloaded");
    assert!(
        peak < baseline + 64 * MIB,
        "RSS went from {} MiB to {} MiB",
        baseline / MIB,
        peak / MIB
    );
    let failures = within("the witness's calls", calls).await.expect("caller task");
    assert!(failures.is_empty(), "the witness's calls failed: {failures:?}");
    assert!(counter.is_alive());
    victim.shutdown().await;
    witness.shutdown().await;
}

/// Accepts connections on `listeners` and keeps them open without a word, counting them.
fn count_dials(listeners: Vec<TcpListener>) -> Arc<AtomicUsize> {
    let dials = Arc::new(AtomicUsize::new(0));
    for listener in listeners {
        let dials = Arc::clone(&dials);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                dials.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
    }
    dials
}

/// Sends `n` frames made by `frame`, reading the node's answers every few thousand.
async fn flood(peer: &mut FakePeer, n: u64, mut frame: impl FnMut(u64) -> Control) {
    for i in 0..n {
        send_control(peer, &frame(i)).await;
        if i % 5_000 == 4_999 {
            drain(peer).await;
        }
    }
    drain(peer).await;
}

/// One attack by the peer `name` (node id `me`): links and monitors from its own actors
/// (capped per peer) and from actors of made-up nodes (ignored), 24 000 introductions of
/// made-up nodes at the `targets` (and at the victim itself); then it disconnects. Returns
/// the process's memory at the height of the attack.
async fn attack(
    victim: &Node,
    name: &str,
    me: u64,
    watched: &ActorRef<Counter>,
    targets: &[SocketAddr],
) -> u64 {
    let mut events = victim.events();
    // A fresh actor to link to: the peer's links stop it (NodeDown) when the peer goes.
    let linked = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let mut attacker = FakePeer::connect_as(addr(victim), name, me, COOKIE)
        .await
        .expect("handshake");
    let (to_link, to_watch) = (WireId::of(linked.id()), WireId::of(watched.id()));
    let mut rng = fastrand::Rng::with_seed(me);
    flood(&mut attacker, 200_000, |i| {
        // Even: a made-up node's actor (ignored); odd: one of the peer's own (capped).
        let node = if i % 2 == 0 { rng.u64(..) } else { me };
        Control::Link {
            from: WireId { node, local: i },
            to: to_link,
        }
    })
    .await;
    flood(&mut attacker, 300_000, |i| {
        let target = if i % 2 == 0 {
            WireId {
                node: rng.u64(..),
                local: i,
            }
        } else {
            to_watch
        };
        Control::Monitor {
            monitor: rng.u64(..),
            target,
        }
    })
    .await;
    let victim_addr = addr(victim);
    // 24 000 made-up nodes, in frames under the 64 KiB a control frame may hold.
    for _ in 0..24 {
        let known = (0..1_000)
            .map(|i| Known {
                id: rng.u64(..),
                name: format!("made-up-{i}"),
                addr: if i % 100 == 0 {
                    victim_addr
                } else {
                    targets[i % targets.len()]
                },
            })
            .collect();
        send_control(&mut attacker, &Control::Introduce { listen: None, known }).await;
    }
    // An unlink for a made-up node's actor, for good measure: ignored.
    send_control(
        &mut attacker,
        &Control::Unlink {
            from: WireId { node: 7, local: 7 },
            to: to_link,
        },
    )
    .await;
    drain(&mut attacker).await;
    let during = rss();
    drop(attacker);
    wait_event(
        &mut events,
        "the attacker's NodeDown",
        |e| matches!(e, NodeEvent::NodeDown { name: down, .. } if down == name),
    )
    .await;
    during
}

/// The same attack three times: the first one dials at most the bounded number of introduced
/// addresses, and once the third peer is gone the process's memory is back within 5 MiB of
/// what it was after the second. The first two bring the allocator to what it keeps of such a
/// flood's high-water mark (it settles there: measured over seven attacks, the growth was 3.4,
/// 0.8, 0.8, 0.0 and 0.3 MiB after the first); what a peer left behind would come on top with
/// every attack (before the caps and clean-ups, 200 000 links left 118 MB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_links_monitors_and_introductions_leave_nothing_once_the_peer_is_gone() {
    let _serial = SERIAL.lock().await;
    let victim = net_node("victim").await;
    let watched = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let mut listeners = Vec::new();
    for _ in 0..32 {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
    }
    let targets: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().expect("addr")).collect();
    let dials = count_dials(listeners);
    let me = 0x5eed_0000_0000_0100 ^ u64::from(std::process::id());
    let before = rss();

    let first = attack(&victim, "attacker-1", me, &watched, &targets).await;
    poll_until("the victim to dial introduced nodes", || {
        dials.load(Ordering::SeqCst) > 0
    })
    .await;
    // Give the victim the time to dial more than it may, if it would.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dialled = dials.load(Ordering::SeqCst);
    assert!(
        dialled <= 16,
        "the victim dialled {dialled} introduced addresses at once"
    );
    attack(&victim, "attacker-2", me ^ 1, &watched, &targets).await;
    let baseline = rss();

    let second = attack(&victim, "attacker-3", me ^ 2, &watched, &targets).await;
    let mut after = rss();
    let settle = Instant::now();
    while after > baseline + 5 * MIB && settle.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = rss();
    }
    println!(
        "dialled {dialled} addresses for 24000 introduced nodes; RSS in KiB: before {}, first attack {}, \
         after the second {}, third attack {}, after it {}",
        before / 1024,
        first / 1024,
        baseline / 1024,
        second / 1024,
        after / 1024
    );
    assert!(
        after <= baseline + 5 * MIB,
        "RSS {} KiB after the peer left, baseline {} KiB",
        after / 1024,
        baseline / 1024
    );
    // The victim still works, and is connected to no one: nothing for the made-up nodes.
    assert!(watched.is_alive());
    assert_eq!(watched.get().await, Ok(0));
    assert!(victim.connected_nodes().is_empty());
    victim.shutdown().await;
}

/// The soft limit on this process's open files.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// 3 000 sockets that never speak: the victim keeps at most its cap of pending handshakes
/// (dropping the oldest), and a real peer then connects in under 100 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_thousands_of_idle_sockets_open_a_real_peer_connects_at_once() {
    const IDLE: usize = 3_000;
    const CAP: usize = 256;
    let _serial = SERIAL.lock().await;
    let needed = (IDLE + CAP + 256) as u64;
    match open_files_limit() {
        Some(limit) if limit >= needed => {}
        limit => {
            println!(
                "SKIPPED: this test holds {IDLE} sockets and the victim's {CAP} in one process, \
                 {needed} descriptors, and the soft limit is {limit:?}; raise it with `ulimit -n`"
            );
            return;
        }
    }
    let victim = Node::builder()
        .name("victim")
        .cookie(COOKIE)
        .max_pending_handshakes(CAP)
        .start()
        .await
        .expect("victim starts");
    let stats = victim.net_stats().expect("networked");
    let before = open_files();
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(addr(&victim)).await.expect("connect"));
    }
    poll_until("the victim to drop the oldest idle sockets", || {
        stats.connections_rejected() >= (IDLE - CAP) as u64
    })
    .await;
    let held = open_files().saturating_sub(before);
    assert!(
        held <= IDLE + CAP + 16,
        "{held} descriptors for {IDLE} idle sockets: the victim holds more than {CAP} handshakes"
    );

    let real = net_node("real").await;
    let started = Instant::now();
    real.connect(addr(&victim)).await.expect("the real peer connects");
    let took = started.elapsed();
    println!(
        "{held} descriptors for {IDLE} idle sockets and the victim's; the real peer connected in {took:?}"
    );
    assert!(took < Duration::from_millis(100), "the real peer needed {took:?}");
    drop(idle);
    real.shutdown().await;
    victim.shutdown().await;
}

/// A `test-node` process (`bin/test_node.rs`) run under a soft limit of 1 024 open files, as
/// on a machine with the usual defaults; killed and reaped when dropped.
struct LimitedVictim {
    child: Child,
    addr: SocketAddr,
}

impl LimitedVictim {
    async fn start() -> LimitedVictim {
        let child = Command::new("sh")
            .arg("-c")
            .arg("ulimit -Sn 1024 && exec \"$0\" victim")
            .arg(env!("CARGO_BIN_EXE_test-node"))
            .env("DISTRIBUTE_COOKIE", COOKIE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the victim process");
        let mut victim = LimitedVictim {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let stdout = victim.child.stdout.take().expect("piped stdout");
        // Reading blocks: on a thread of its own, which ends when the process goes.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = within("the victim's ready line", rx)
            .await
            .expect("the reader thread answers")
            .expect("read the victim's stdout");
        victim.addr = match line.trim().strip_prefix("ready ").map(str::parse) {
            Some(Ok(addr)) => addr,
            _ => panic!("expected `ready <addr>` from the victim, got {line:?}"),
        };
        victim
    }
}

impl Drop for LimitedVictim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The issue's own case: a victim process with 1 024 descriptors and 3 000 idle sockets open
/// to it. Without the cap it ran out of descriptors and a real peer needed 2 s; with it, the
/// victim drops the oldest idle sockets and the real peer connects in under 100 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_victim_with_1024_descriptors_and_3000_idle_sockets_lets_a_real_peer_in_at_once() {
    const IDLE: usize = 3_000;
    const CAP: usize = 256;
    let _serial = SERIAL.lock().await;
    let needed = (IDLE + 256) as u64;
    match open_files_limit() {
        Some(limit) if limit >= needed => {}
        limit => {
            println!(
                "SKIPPED: this test holds {IDLE} sockets ({needed} descriptors with its own) and \
                 the soft limit is {limit:?}; raise it with `ulimit -n`"
            );
            return;
        }
    }
    let victim = LimitedVictim::start().await;
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(victim.addr).await.expect("connect"));
    }
    // The victim closes the oldest idle sockets as newer ones arrive: wait until it has
    // taken them all in, that is closed all but its cap.
    let mut open = idle.len();
    poll_until("the victim to drop the oldest idle sockets", || {
        let mut buf = [0u8; 16];
        idle.retain(|socket| !matches!(socket.try_read(&mut buf), Ok(0)));
        open = idle.len();
        open <= CAP
    })
    .await;
    let real = Node::builder()
        .name("real")
        .cookie(COOKIE)
        .heartbeat(Duration::from_millis(100), Duration::from_millis(500))
        .start()
        .await
        .expect("the real peer starts");
    let started = Instant::now();
    real.connect(victim.addr).await.expect("the real peer connects");
    let took = started.elapsed();
    println!("{open} idle sockets left open by the victim; the real peer connected in {took:?}");
    assert!(took < Duration::from_millis(100), "the real peer needed {took:?}");
    drop(idle);
    real.shutdown().await;
}

/// A peer that announces the id of a connected node, under another name or under its name
/// once the connection is older than a simultaneous connect, is refused with `IdInUse`; the
/// node that has the id keeps its connection and its calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_cannot_take_the_id_of_a_connected_node() {
    let _serial = SERIAL.lock().await;
    let handshake_timeout = Duration::from_millis(300);
    let victim = Node::builder()
        .name("victim")
        .cookie(COOKIE)
        .handshake_timeout(handshake_timeout)
        .start()
        .await
        .expect("victim starts");
    let counter = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    victim.register_local("counter", &counter).expect("register");
    let owner = net_node("owner").await;
    owner.connect(addr(&victim)).await.expect("connect");
    let remote = owner
        .lookup_on::<Counter>(victim.id(), "counter")
        .await
        .expect("lookup");
    let mut events = victim.events();

    let impostor = FakePeer::connect_as(addr(&victim), "impostor", owner.id().as_u64(), COOKIE).await;
    assert!(impostor.is_ok(), "the handshake itself proves only the cookie");
    expect_id_in_use(&mut events, owner.id()).await;
    // Past the window of a simultaneous connect, not even under the owner's name.
    tokio::time::sleep(handshake_timeout * 2).await;
    let twin = FakePeer::connect_as(addr(&victim), "owner", owner.id().as_u64(), COOKIE).await;
    assert!(twin.is_ok());
    expect_id_in_use(&mut events, owner.id()).await;

    let peers = victim.connected_nodes();
    assert_eq!(peers.len(), 1);
    assert_eq!((peers[0].id, peers[0].name.as_str()), (owner.id(), "owner"));
    assert_eq!(remote.get().await, Ok(0));
    owner.shutdown().await;
    victim.shutdown().await;
}

/// Waits for the refusal of a connection that announced `id`.
async fn expect_id_in_use(events: &mut distribute::NodeEvents, id: NodeId) {
    let refused = wait_event(events, "a refusal", |event| {
        matches!(event, NodeEvent::ConnectionRejected { .. })
    })
    .await;
    assert!(
        matches!(
            &refused,
            NodeEvent::ConnectionRejected {
                error: ConnectError::IdInUse { id: taken, .. }
            } if *taken == id
        ),
        "{refused:?}"
    );
}

/// A peer forges the exit of an actor of another node, linked to one of ours: ignored, and
/// our actor keeps running (before, it was stopped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_cannot_forge_the_exit_of_another_nodes_actor() {
    let _serial = SERIAL.lock().await;
    let victim = net_node("victim").await;
    let linked = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let other = net_node("other").await;
    other.connect(addr(&victim)).await.expect("connect");
    let partner = other.spawn(Counter::new(Gate::new())).await.expect("spawn");
    other.register_local("partner", &partner).expect("register");
    let remote_partner = victim
        .lookup_on::<Counter>(other.id(), "partner")
        .await
        .expect("lookup");
    linked.link(&remote_partner);

    let mut attacker = FakePeer::connect(addr(&victim), "attacker", COOKIE)
        .await
        .expect("handshake");
    for from in [partner.id(), linked.id()] {
        send_control(
            &mut attacker,
            &Control::Exit {
                from: WireId::of(from),
                to: WireId::of(linked.id()),
                reason: WireReason {
                    chain: Vec::new(),
                    leaf: Leaf::Killed,
                },
            },
        )
        .await;
    }
    // Frames of one connection are handled in order: once this call is answered, the
    // forged exits were too.
    attacker.send_message(linked.id(), 0xbad, 1, 77, b"").await;
    attacker.reply(77).await;
    assert_eq!(linked.get().await, Ok(0), "the forged exit stopped the actor");
    // The real link still works: the partner's exit reaches our actor.
    let down = linked.monitor();
    partner.kill();
    let reason = within("the linked actor's exit", down).await;
    assert!(matches!(reason.reason, ExitReason::Linked { .. }), "{reason:?}");
    other.shutdown().await;
    victim.shutdown().await;
}
