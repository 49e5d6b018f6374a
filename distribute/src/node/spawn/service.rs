//! The I/O of remote spawn: the types a node allows, the requests it waits on, the frames it
//! sends and answers. What to take on is decided in `admission.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::admission::{Admission, Limits, Refusal};
use super::{
    RemoteSpawn, RemoteSpawnError, SpawnArgs, SpawnOn, DEFAULT_MAX_REMOTE_SPAWNED,
    MAX_SPAWN_REQUESTS_PER_PEER,
};
use crate::actor::{
    deadline, Actor, ActorId, ActorRef, BoxFuture, ExitReason, Message, NodeId, Signal, SpawnError, WeakNode,
};
use crate::codec::{Bincode, Codec, CodecError};
use crate::lock::lock;
use crate::net::wire::WireReason;
use crate::net::FrameHandler;
use crate::node::Node;
use crate::registry::{validate_name, RetryPolicy};
use crate::transport::{FrameKind, DEFAULT_MAX_FRAME};

/// What goes in a [`FrameKind::Spawn`] frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SpawnWire {
    /// Start an actor of `actor_type`, whose messages have `fingerprint`, from `args`
    /// (encoded with the type's codec); register it as `register` if given.
    Request {
        request: u64,
        actor_type: String,
        fingerprint: u64,
        args: Vec<u8>,
        register: Option<String>,
    },
    /// The answer to the request: the new actor's number on the answering node, or why not.
    Reply {
        request: u64,
        outcome: Result<u64, Refusal>,
    },
}

impl SpawnWire {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        Bincode::<DEFAULT_MAX_FRAME>.encode(self, out)
    }

    pub(crate) fn decode(body: &[u8]) -> Result<SpawnWire, CodecError> {
        Bincode::<DEFAULT_MAX_FRAME>.decode(body)
    }
}

type StartFn =
    dyn Fn(Node, Vec<u8>, Option<String>) -> BoxFuture<'static, Result<u64, Refusal>> + Send + Sync;

/// Where the answer to one of this node's requests goes: the new actor's number, or why not.
type Answer = oneshot::Sender<Result<u64, Refusal>>;

/// A type this node allows peers to start.
#[derive(Clone)]
struct Spawnable {
    fingerprint: u64,
    start: Arc<StartFn>,
}

/// A node's remote spawns: the types it allows, what peers have it start, and the answers
/// it waits for.
pub(crate) struct SpawnService {
    types: Mutex<HashMap<&'static str, Spawnable>>,
    admission: Mutex<Admission>,
    limits: Mutex<Limits>,
    /// This node's requests waiting for their answer, by target and request number.
    pending: Mutex<HashMap<(NodeId, u64), Answer>>,
    next_request: AtomicU64,
}

impl Default for SpawnService {
    fn default() -> Self {
        SpawnService {
            types: Mutex::default(),
            admission: Mutex::default(),
            limits: Mutex::new(Limits {
                in_flight_per_peer: MAX_SPAWN_REQUESTS_PER_PEER,
                running: DEFAULT_MAX_REMOTE_SPAWNED,
            }),
            pending: Mutex::default(),
            next_request: AtomicU64::new(1),
        }
    }
}

impl SpawnService {
    pub(crate) fn allow<A: RemoteSpawn<Args: SpawnArgs>>(&self) {
        let start: Arc<StartFn> =
            Arc::new(|node, args, register| Box::pin(start_here::<A>(node, args, register)));
        let spawnable = Spawnable {
            fingerprint: <A::Msg as Message>::FINGERPRINT,
            start,
        };
        lock(&self.types).insert(A::NAME, spawnable);
    }

    /// Sets the bound on actors that peers started here and that still run.
    pub(crate) fn set_max_running(&self, running: usize) {
        lock(&self.limits).running = running;
    }

    fn expect_reply(&self, target: NodeId) -> (u64, oneshot::Receiver<Result<u64, Refusal>>) {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert((target, request), tx);
        (request, rx)
    }

    fn forget(&self, target: NodeId, request: u64) {
        lock(&self.pending).remove(&(target, request));
    }

    /// `peer` went down: its answers will not come.
    fn peer_down(&self, peer: NodeId) {
        lock(&self.pending).retain(|(target, _), _| *target != peer);
    }

    fn on_reply(&self, peer: NodeId, request: u64, outcome: Result<u64, Refusal>) {
        // Only the node asked answers; a reply to nothing (late, or made up) is dropped.
        if let Some(tx) = lock(&self.pending).remove(&(peer, request)) {
            let _ = tx.send(outcome);
        }
    }

    /// A peer's request: refused at once, or started on a task of its own that answers.
    fn on_request(self: &Arc<Self>, node: &Node, peer: NodeId, request: u64, start: Start) {
        let spawnable = match self.spawnable(&start.actor_type, start.fingerprint) {
            Ok(spawnable) => spawnable,
            Err(refusal) => {
                answer(node, peer, request, Err(refusal));
                return;
            }
        };
        if node.is_shutting_down() {
            answer(node, peer, request, Err(Refusal::ShuttingDown));
            return;
        }
        let limits = *lock(&self.limits);
        let alive = |local| {
            node.local_cell_numbered(local)
                .is_some_and(|cell| cell.core().is_alive())
        };
        if let Err(refusal) = lock(&self.admission).admit(peer, limits, alive) {
            crate::trace::trace_event!(debug, %peer, actor_type = %start.actor_type, ?refusal, "remote spawn refused");
            answer(node, peer, request, Err(refusal));
            return;
        }
        let service = Arc::clone(self);
        let node = node.clone();
        let mut request_done = Box::pin(async move {
            let outcome = (spawnable.start)(node.clone(), start.args, start.register).await;
            let started = outcome.as_ref().ok().copied();
            lock(&service.admission).finish(peer, started);
            if !answer(&node, peer, request, outcome) {
                // Nobody will ever hold a ref to it: an actor started for a node that is gone
                // would only take room (and perhaps a name) until this node stops.
                if let Some(cell) = started.and_then(|local| node.local_cell_numbered(local)) {
                    let _ = cell.core().signal(Signal::Stop(ExitReason::Shutdown));
                }
            }
        });
        // An actor without a start hook or a name to register starts at once: answered here,
        // in the reader, without the wake-up of a task. Anything that waits goes on a task of
        // its own (the future registers its real waker when that task polls it).
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if request_done.as_mut().poll(&mut cx).is_pending() {
            tokio::spawn(request_done);
        }
    }

    fn spawnable(&self, actor_type: &str, fingerprint: u64) -> Result<Spawnable, Refusal> {
        match lock(&self.types).get(actor_type) {
            None => Err(Refusal::UnknownType),
            Some(spawnable) if spawnable.fingerprint != fingerprint => Err(Refusal::ProtocolMismatch {
                found: spawnable.fingerprint,
            }),
            Some(spawnable) => Ok(spawnable.clone()),
        }
    }
}

/// A request's parts past its number.
struct Start {
    actor_type: String,
    fingerprint: u64,
    args: Vec<u8>,
    register: Option<String>,
}

/// Sends the answer to `peer`'s request; returns false if the peer has gone meanwhile.
fn answer(node: &Node, peer: NodeId, request: u64, outcome: Result<u64, Refusal>) -> bool {
    let Some(slot) = node.net().and_then(|net| net.connected_slot(peer)) else {
        crate::trace::trace_event!(debug, %peer, request, "remote spawn answered to a node that is gone");
        return false;
    };
    let reply = SpawnWire::Reply { request, outcome };
    slot.send_frame(FrameKind::Spawn, |buf| reply.encode(buf));
    true
}

/// On the target: decodes the arguments, starts the actor, registers its name.
async fn start_here<A: RemoteSpawn<Args: SpawnArgs>>(
    node: Node,
    args: Vec<u8>,
    register: Option<String>,
) -> Result<u64, Refusal> {
    let args: A::Args = A::Codec::default()
        .decode(&args)
        .map_err(|error| Refusal::BadArgs(error.to_string()))?;
    if let Some(name) = &register {
        validate_name(name).map_err(|error| Refusal::Register(error.to_string()))?;
    }
    match spawn_here::<A>(&node, A::from_args(args), register).await {
        Ok(actor) => Ok(actor.id().local()),
        Err(RemoteSpawnError::StartFailed { reason, .. }) => {
            Err(Refusal::StartFailed(WireReason::from(&reason)))
        }
        Err(RemoteSpawnError::Register { why, .. }) => Err(Refusal::Register(why)),
        Err(RemoteSpawnError::ShuttingDown { .. }) => Err(Refusal::ShuttingDown),
        Err(other) => Err(Refusal::StartFailed(WireReason::from(&ExitReason::StartFailed(
            other.to_string(),
        )))),
    }
}

/// Starts `actor` on this node and registers it as `register`, if given.
pub(super) async fn spawn_here<A: Actor>(
    node: &Node,
    actor: A,
    register: Option<String>,
) -> Result<ActorRef<A>, RemoteSpawnError> {
    let actor_ref = node.spawn(actor).await.map_err(|error| match error {
        SpawnError::StartFailed { reason, .. } => RemoteSpawnError::StartFailed {
            node: node.id(),
            reason,
        },
        SpawnError::NodeShuttingDown => RemoteSpawnError::ShuttingDown { node: node.id() },
        other => RemoteSpawnError::Local(other),
    })?;
    if let Some(name) = register {
        if let Err(error) = node
            .register_with_retry(&name, &actor_ref, RetryPolicy::default())
            .await
        {
            actor_ref.stop(ExitReason::Shutdown).await;
            return Err(RemoteSpawnError::Register {
                name,
                why: error.to_string(),
            });
        }
    }
    Ok(actor_ref)
}

/// On the asking node: sends the request to `target` and waits for the answer.
pub(super) async fn spawn_remote<A: RemoteSpawn<Args: SpawnArgs>>(
    node: &Node,
    target: NodeId,
    args: A::Args,
    options: SpawnOn,
) -> Result<ActorRef<A>, RemoteSpawnError> {
    let bad_args = |error: CodecError| RemoteSpawnError::BadArgs {
        actor_type: A::NAME,
        why: error.to_string(),
    };
    let mut encoded = Vec::new();
    A::Codec::default()
        .encode(&args, &mut encoded)
        .map_err(bad_args)?;
    drop(args);
    let net = node.net().ok_or(RemoteSpawnError::NotNetworked)?;
    let slot = net
        .connected_slot(target)
        .ok_or(RemoteSpawnError::NodeDown { node: target })?;
    let service = node.spawner();
    let (request, rx) = service.expect_reply(target);
    let wire = SpawnWire::Request {
        request,
        actor_type: A::NAME.to_owned(),
        fingerprint: <A::Msg as Message>::FINGERPRINT,
        args: encoded,
        register: options.register.clone(),
    };
    let mut body = Vec::new();
    if let Err(error) = wire.encode(&mut body) {
        service.forget(target, request);
        return Err(bad_args(error));
    }
    let sent = slot
        .send_frame_waiting(FrameKind::Spawn, |buf| {
            buf.extend_from_slice(&body);
            Ok(())
        })
        .await;
    // `None`: the target went down (or was already) before it answered.
    let answer = if sent {
        deadline::within(options.timeout, rx).await.map(Result::ok)
    } else {
        Some(None)
    };
    service.forget(target, request);
    match answer {
        Some(Some(Ok(local))) => Ok(ActorRef::remote(ActorId::new(target, local), slot)),
        Some(Some(Err(refusal))) => Err(refused::<A>(target, refusal, options.register)),
        Some(None) => Err(RemoteSpawnError::NodeDown { node: target }),
        None => Err(RemoteSpawnError::Timeout {
            node: target,
            timeout: options.timeout,
        }),
    }
}

/// The caller's error for the target's refusal.
fn refused<A: Actor>(node: NodeId, refusal: Refusal, name: Option<String>) -> RemoteSpawnError {
    match refusal {
        Refusal::UnknownType => RemoteSpawnError::UnknownType {
            node,
            actor_type: A::NAME,
        },
        Refusal::ProtocolMismatch { found } => RemoteSpawnError::ProtocolMismatch {
            node,
            actor_type: A::NAME,
            expected: <A::Msg as Message>::FINGERPRINT,
            found,
        },
        Refusal::BadArgs(why) => RemoteSpawnError::BadArgs {
            actor_type: A::NAME,
            why,
        },
        Refusal::StartFailed(reason) => RemoteSpawnError::StartFailed {
            node,
            // A reason nested deeper than the wire allows still says that it failed.
            reason: reason
                .into_reason()
                .unwrap_or_else(|| ExitReason::StartFailed("a reason too deeply nested".into())),
        },
        Refusal::Register(why) => RemoteSpawnError::Register {
            name: name.unwrap_or_default(),
            why,
        },
        Refusal::Busy { limit } => RemoteSpawnError::Busy { node, limit },
        Refusal::TooMany { limit } => RemoteSpawnError::TooMany { node, limit },
        Refusal::ShuttingDown => RemoteSpawnError::ShuttingDown { node },
    }
}

/// Hands the Spawn frames, and peers going down, to the node's spawn service.
pub(crate) struct SpawnFrames {
    pub(crate) node: WeakNode,
}

impl FrameHandler for SpawnFrames {
    fn connected(&self, _peer: NodeId) {}

    fn disconnected(&self, peer: NodeId) {
        if let Some(node) = self.node.upgrade() {
            node.spawner().peer_down(peer);
        }
    }

    fn frame(&self, peer: NodeId, body: &[u8]) -> Result<bool, String> {
        let Some(node) = self.node.upgrade() else {
            return Ok(false);
        };
        let wire = SpawnWire::decode(body).map_err(|error| format!("undecodable spawn frame: {error}"))?;
        let service = node.spawner();
        match wire {
            SpawnWire::Request {
                request,
                actor_type,
                fingerprint,
                args,
                register,
            } => {
                let start = Start {
                    actor_type,
                    fingerprint,
                    args,
                    register,
                };
                service.on_request(&node, peer, request, start);
            }
            SpawnWire::Reply { request, outcome } => service.on_reply(peer, request, outcome),
        }
        Ok(false)
    }
}
