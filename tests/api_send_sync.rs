//! Compile-time checks that the public types can cross threads.

use distribute::codec::{Bincode, CodecError};
use distribute::prelude::*;
use distribute::{Monitor, MonitorRef, NodeStats, ReplyTo, WithTimeout};
use distribute_tests::Counter;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<ActorRef<Counter>>();
    send_sync::<WithTimeout<'static, Counter>>();
    send_sync::<Node>();
    send_sync::<NodeStats>();
    send_sync::<ActorId>();
    send_sync::<ExitReason>();
    send_sync::<ExitSignal>();
    send_sync::<Down>();
    send_sync::<MonitorRef>();
    send_sync::<CallError>();
    send_sync::<SpawnError>();
    send_sync::<CodecError>();
    send_sync::<Bincode>();
    send_sync::<ReplyTo<u64>>();
    send::<Monitor>();
    send::<SpawnOptions>();
    send::<Context<Counter>>();
}

#[test]
fn network_types_are_send_and_sync() {
    send_sync::<distribute::NodeBuilder>();
    send_sync::<distribute::net::TcpTransport>();
    send_sync::<distribute::net::MemoryTransport>();
    send_sync::<distribute::net::TransportError>();
    send_sync::<distribute::net::Reconnect>();
    send_sync::<distribute::supervision::Backoff>();
    send_sync::<distribute::supervision::ChildInfo>();
    send_sync::<distribute::supervision::ChildError>();
    send::<distribute::net::Connection>();
    send::<distribute::NodeEvents>();
}

#[test]
fn errors_are_std_errors() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<CallError>();
    is_error::<SpawnError>();
    is_error::<CodecError>();
    is_error::<distribute::net::TransportError>();
    is_error::<distribute::ConnectError>();
    is_error::<distribute::supervision::ChildError>();
}

#[test]
fn introspection_types_are_send_and_sync() {
    use distribute::introspect::{ClusterSnapshot, IntrospectError, IntrospectOptions, NodeSnapshot};
    send_sync::<NodeSnapshot>();
    send_sync::<ClusterSnapshot>();
    send_sync::<IntrospectOptions>();
    send_sync::<IntrospectError>();
    // The futures of the methods too: a snapshot can be taken from a spawned task.
    fn future_is_send<F: std::future::Future + Send>(_: F) {}
    let node = Node::new();
    future_is_send(node.introspect());
    future_is_send(node.introspect_cluster());
    future_is_send(node.introspect_node(node.id()));
}
