//! Joining a cluster through seeds over loopback TCP: a seed given by name, a seed that is
//! down when the node starts, a seed that is not `host:port`, a discovery of the user's, and
//! the address a node tells its peers when it listens on every interface or advertises
//! another.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use distribute::membership::{DiscoverFuture, Discovery, StaticSeeds};
use distribute::{Node, StartError};
use distribute_tests::{net_node, poll_until, wait_connected, COOKIE};

async fn seeded(name: &str, seed: &str) -> Node {
    match Node::builder().name(name).cookie(COOKIE).seed(seed).start().await {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

/// Where `node` records that `peer` listens, once `peer` has said (its introduction is the
/// first frame after the handshake, so it may follow the node-up event).
/// Waits until `node` knows where `peer` listens (from the membership or from a connection:
/// the two need not be connected, so `peer` is found by id, its name coming with a
/// connection only), and checks that it is `expected`.
async fn told(node: &Node, peer: &Node, expected: SocketAddr) {
    let heard = || {
        let peers = node.connected_nodes();
        peers
            .into_iter()
            .find(|info| info.id == peer.id())
            .and_then(|info| info.listen)
    };
    let what = format!("{} to hear where {} listens", node.name(), peer.name());
    poll_until(&what, || heard().is_some()).await;
    assert_eq!(
        heard(),
        Some(expected),
        "where {} records {}",
        node.name(),
        peer.name()
    );
}

fn port(node: &Node) -> u16 {
    node.listen_addr().map_or(0, |addr| addr.port())
}

#[tokio::test]
async fn a_seed_given_by_name_is_resolved_and_joined() {
    let a = net_node("a").await;
    let b = seeded("b", &format!("localhost:{}", port(&a))).await;
    wait_connected(&b, 1).await;
    wait_connected(&a, 1).await;
    assert_eq!(b.connected_nodes()[0].name, "a");
}

#[tokio::test]
async fn a_seed_that_is_down_does_not_fail_the_start_and_is_joined_once_up() {
    let free = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr());
    let free = free.unwrap_or_else(|error| panic!("no free port: {error}"));
    let b = seeded("b", &free.to_string()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(b.connected_nodes().is_empty());
    let a = Node::builder()
        .name("a")
        .cookie(COOKIE)
        .listen(free)
        .start()
        .await;
    let a = a.unwrap_or_else(|error| panic!("the seed did not start on {free}: {error}"));
    wait_connected(&b, 1).await;
    wait_connected(&a, 1).await;
}

#[tokio::test]
async fn a_seed_that_is_not_host_and_port_is_a_typed_error() {
    for (seed, why) in [
        ("localhost", "no port"),
        ("localhost:0", "the port is not a number from 1 to 65535"),
        ("::1:4369", "an IPv6 address must be in brackets"),
    ] {
        let started = Node::builder().cookie(COOKIE).seed(seed).start().await;
        match started {
            Err(StartError::InvalidSeed {
                seed: given,
                why: said,
            }) => {
                assert_eq!((given.as_str(), said), (seed, why));
            }
            other => panic!("{seed}: {:?}", other.map(|node| node.name().to_owned())),
        }
    }
}

/// A discovery of the user's: the address of a node that starts later, read at each ask.
struct Later(std::sync::Arc<std::sync::Mutex<Vec<SocketAddr>>>);

impl Discovery for Later {
    fn discover(&self) -> DiscoverFuture<'_> {
        let found = self.0.lock().map(|found| found.clone()).unwrap_or_default();
        Box::pin(async move { Ok(found) })
    }
}

#[tokio::test]
async fn a_discovery_of_the_users_is_asked_again_until_it_finds_a_node() {
    let board = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let b = Node::builder()
        .name("b")
        .cookie(COOKIE)
        .discovery(Later(board.clone()))
        .start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = net_node("a").await;
    if let (Ok(mut found), Some(addr)) = (board.lock(), a.listen_addr()) {
        found.push(addr);
    }
    wait_connected(&b, 1).await;
}

/// Node a listens on every interface (0.0.0.0): b reaches it through a seed on 127.0.0.1;
/// c, which knows only b, hears of a at an address that reaches it (the IP b saw, not
/// 0.0.0.0), and the three count each other in.
#[tokio::test]
async fn a_node_on_every_interface_is_introduced_where_it_can_be_reached() {
    let everywhere = SocketAddr::from(([0, 0, 0, 0], 0));
    let a = Node::builder()
        .name("a")
        .cookie(COOKIE)
        .listen(everywhere)
        .start()
        .await;
    let a = a.unwrap_or_else(|error| panic!("{error}"));
    let b = seeded("b", &format!("127.0.0.1:{}", port(&a))).await;
    wait_connected(&b, 1).await;
    let c = seeded("c", &format!("127.0.0.1:{}", port(&b))).await;
    wait_connected(&c, 2).await;
    wait_connected(&a, 2).await;
    told(&c, &a, SocketAddr::from(([127, 0, 0, 1], port(&a)))).await;
}

/// Node a listens on every interface and advertises 127.0.0.2 (port 0: the bound one):
/// that is where its peers record it, and where c, introduced by b, reaches it.
#[tokio::test]
async fn an_advertised_address_is_what_peers_are_told() {
    let a = Node::builder()
        .name("a")
        .cookie(COOKIE)
        .listen(SocketAddr::from(([0, 0, 0, 0], 0)))
        .advertise(SocketAddr::from(([127, 0, 0, 2], 0)))
        .start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let advertised = SocketAddr::from(([127, 0, 0, 2], port(&a)));
    let b = Node::builder()
        .name("b")
        .cookie(COOKIE)
        .discovery(StaticSeeds::new([SocketAddr::from(([127, 0, 0, 1], port(&a)))]))
        .start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    wait_connected(&b, 1).await;
    let c = seeded("c", &format!("127.0.0.1:{}", port(&b))).await;
    wait_connected(&c, 2).await;
    for node in [&b, &c] {
        told(node, &a, advertised).await;
    }
}

#[tokio::test]
async fn insecure_local_mode_refuses_to_advertise_a_non_loopback_address() {
    let started = Node::builder()
        .insecure_local()
        .advertise(SocketAddr::from(([192, 0, 2, 1], 0)))
        .start()
        .await;
    assert!(
        matches!(started, Err(StartError::InsecureNotLoopback(_))),
        "{:?}",
        started.err()
    );
}
