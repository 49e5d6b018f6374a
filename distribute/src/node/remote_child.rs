//! Children on other nodes: a supervisor's child that runs where a [`Placement`] puts it,
//! and moves when its node dies.
//!
//! A remote child is a local actor of the supervisor's, a [`RemoteChild`], that stands for
//! the actor it started on another node with [`Node::spawn_on`]: it monitors it, and stops
//! with the actor's exit reason when the actor stops or its node goes down
//! ([`ExitReason::NodeDown`]). To the supervisor it is a child like any other, restarted by
//! its strategy within its intensity; each start places the actor again, so a child whose
//! node died starts on another node up, and its global name, registered from its new node,
//! follows it. Stopping the child (a shutdown, `terminate_child`) stops the remote actor.
//!
//! The ref of a remote child changes with each restart (it is another actor, on another
//! node): find it again by its global name, or ask the stand-in ([`RemoteChild::current`]).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::spawn::{RemoteSpawn, SpawnArgs, SpawnOn, DEFAULT_SPAWN_TIMEOUT};
use crate::actor::{
    Actor, ActorRef, BoxError, Context, Down, ExitReason, Message, MonitorRef, NodeId, ReplyTo,
};
use crate::codec::{Bincode, Codec, CodecError};
use crate::lock::lock;
use crate::node::Node;
use crate::supervision::{ChildSpec, SupervisorError};

/// What a [`Placement::custom`] function is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementInput {
    /// The nodes up, this one included, sorted by id.
    pub candidates: Vec<NodeId>,
    /// The node of the supervisor.
    pub this_node: NodeId,
    /// Where the child ran last, if it ran before.
    pub previous: Option<NodeId>,
}

/// Where a remote child starts, decided at each start among the nodes up.
#[derive(Clone)]
pub enum Placement {
    /// On this node whenever it is up (first start, and after it is back); while it is down,
    /// on another node up, chosen as [`Placement::AnyNode`] does.
    Home(NodeId),
    /// On any node up, this one included: the node it ran on last while that is up, else
    /// the next one by id after it (the first one by id on the first start).
    AnyNode,
    /// Where the function says; `None` starts nothing (the start fails and counts against
    /// the supervisor's intensity).
    Custom(Arc<PlacementFn>),
}

/// A user's placement: the node to start on, given what is up.
pub type PlacementFn = dyn Fn(&PlacementInput) -> Option<NodeId> + Send + Sync;

impl Placement {
    /// A placement by `choose`.
    pub fn custom(choose: impl Fn(&PlacementInput) -> Option<NodeId> + Send + Sync + 'static) -> Self {
        Placement::Custom(Arc::new(choose))
    }

    /// The node to start on, given what is up.
    pub fn choose(&self, input: &PlacementInput) -> Option<NodeId> {
        match self {
            Placement::Home(home) if input.candidates.contains(home) => Some(*home),
            Placement::Home(_) | Placement::AnyNode => any_node(input),
            Placement::Custom(choose) => choose(input),
        }
    }
}

/// The previous node while it is up, else the first candidate after it by id, wrapping.
fn any_node(input: &PlacementInput) -> Option<NodeId> {
    let candidates = &input.candidates;
    match input.previous {
        Some(previous) if candidates.contains(&previous) => Some(previous),
        Some(previous) => candidates
            .iter()
            .find(|node| **node > previous)
            .or_else(|| candidates.first())
            .copied(),
        None => candidates.first().copied(),
    }
}

impl fmt::Debug for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::Home(node) => f.debug_tuple("Home").field(node).finish(),
            Placement::AnyNode => f.write_str("AnyNode"),
            Placement::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// A child to start on another node; made by [`ChildSpec::remote`], turned into a
/// [`ChildSpec`] by [`RemoteChildSpec::into_child`].
pub struct RemoteChildSpec<A: RemoteSpawn> {
    id: String,
    plan: Plan<A>,
}

/// How a remote child starts, shared by its incarnations.
struct Plan<A: RemoteSpawn> {
    args: Arc<dyn Fn() -> A::Args + Send + Sync>,
    placement: Placement,
    register: Option<String>,
    timeout: Duration,
}

impl<A: RemoteSpawn> Clone for Plan<A> {
    fn clone(&self) -> Self {
        Plan {
            args: Arc::clone(&self.args),
            placement: self.placement.clone(),
            register: self.register.clone(),
            timeout: self.timeout,
        }
    }
}

impl ChildSpec {
    /// A child that runs on another node: an `A` started there from the arguments `args`
    /// makes (called again at each restart), placed by [`Placement::AnyNode`] unless told
    /// otherwise. The node it lands on must allow `A`
    /// ([`Node::allow_remote_spawn`]). See [`RemoteChildSpec`].
    pub fn remote<A: RemoteSpawn<Args: SpawnArgs>>(
        id: impl Into<String>,
        args: impl Fn() -> A::Args + Send + Sync + 'static,
    ) -> RemoteChildSpec<A> {
        RemoteChildSpec {
            id: id.into(),
            plan: Plan {
                args: Arc::new(args),
                placement: Placement::AnyNode,
                register: None,
                timeout: DEFAULT_SPAWN_TIMEOUT,
            },
        }
    }
}

impl<A: RemoteSpawn<Args: SpawnArgs>> RemoteChildSpec<A> {
    /// Where the child starts, at each start.
    pub fn placement(mut self, placement: Placement) -> Self {
        self.plan.placement = placement;
        self
    }

    /// Registers the child under `name` in the cluster-wide registry at each start, from
    /// the node it starts on: the name follows the child from node to node.
    pub fn register_global(mut self, name: impl Into<String>) -> Self {
        self.plan.register = Some(name.into());
        self
    }

    /// How long one start may wait for the remote node's answer (default
    /// [`DEFAULT_SPAWN_TIMEOUT`](crate::DEFAULT_SPAWN_TIMEOUT)).
    pub fn spawn_timeout(mut self, timeout: Duration) -> Self {
        self.plan.timeout = timeout;
        self
    }

    /// The child spec, permanent with the default shutdown, for a supervisor; adjust it with
    /// [`ChildSpec`]'s methods.
    pub fn into_child(self) -> ChildSpec {
        let plan = Arc::new(self.plan);
        let previous = Arc::new(Mutex::new(None));
        ChildSpec::worker(self.id, move || RemoteChild {
            plan: Arc::clone(&plan),
            previous: Arc::clone(&previous),
            running: None,
        })
    }
}

impl<A: RemoteSpawn<Args: SpawnArgs>> From<RemoteChildSpec<A>> for ChildSpec {
    fn from(spec: RemoteChildSpec<A>) -> Self {
        spec.into_child()
    }
}

/// The stand-in of a remote child in its supervisor's tree: a local actor that starts the
/// child's actor on a node the placement picks, watches it, and stops as it stops. Get it
/// with `supervisor.child::<RemoteChild<A>>(id)`, then the actor with
/// [`current`](ActorRef::current).
pub struct RemoteChild<A: RemoteSpawn> {
    plan: Arc<Plan<A>>,
    /// The node of the last incarnation, for the next placement.
    previous: Arc<Mutex<Option<NodeId>>>,
    running: Option<(ActorRef<A>, MonitorRef)>,
}

impl<A: RemoteSpawn> RemoteChild<A> {
    fn placement_input(&self, node: &Node) -> PlacementInput {
        let mut candidates: Vec<NodeId> = node.connected_nodes().iter().map(|peer| peer.id).collect();
        candidates.push(node.id());
        candidates.sort();
        candidates.dedup();
        PlacementInput {
            candidates,
            this_node: node.id(),
            previous: *lock(&self.previous),
        }
    }
}

/// Why a remote child found no node to start on.
#[derive(Debug, thiserror::Error)]
#[error("the placement chose no node among {candidates:?}")]
struct NoPlacement {
    candidates: Vec<NodeId>,
}

impl<A: RemoteSpawn<Args: SpawnArgs>> Actor for RemoteChild<A> {
    type Msg = RemoteChildMsg<A>;
    type Codec = Bincode;
    const NAME: &'static str = "remote child";

    async fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), BoxError> {
        let input = self.placement_input(ctx.node());
        let target = self.plan.placement.choose(&input).ok_or(NoPlacement {
            candidates: input.candidates,
        })?;
        let mut options = SpawnOn::new().timeout(self.plan.timeout);
        if let Some(name) = &self.plan.register {
            options = options.register_global(name.clone());
        }
        let actor = ctx
            .node()
            .clone()
            .spawn_on_with::<A>(target, (self.plan.args)(), options)
            .await?;
        *lock(&self.previous) = Some(target);
        crate::trace::trace_event!(info, actor = %actor.id(), node = %target, "remote child started");
        let monitor = ctx.monitor(&actor);
        self.running = Some((actor, monitor));
        Ok(())
    }

    async fn handle(&mut self, msg: RemoteChildMsg<A>, _ctx: &mut Context<Self>) {
        match msg {
            RemoteChildMsg::Current { reply } => {
                reply.send(self.running.as_ref().map(|(actor, _)| actor.clone()))
            }
        }
    }

    async fn on_down(&mut self, ctx: &mut Context<Self>, down: Down) {
        if self
            .running
            .as_ref()
            .is_some_and(|(_, monitor)| *monitor == down.monitor)
        {
            self.running = None;
            crate::trace::trace_event!(info, actor = %down.actor, reason = %down.reason, "remote child stopped");
            ctx.stop(down.reason);
        }
    }

    async fn stopped(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        // Stopped by the supervisor while the actor runs: the actor goes too.
        if let Some((actor, _)) = self.running.take() {
            let _ = tokio::time::timeout(self.plan.timeout, actor.stop(reason.clone())).await;
        }
    }
}

/// The requests a [`RemoteChild`] answers. They never leave its node.
pub enum RemoteChildMsg<A: RemoteSpawn> {
    /// The actor running now.
    Current {
        /// `None` between an exit and the next start.
        reply: ReplyTo<Option<ActorRef<A>>>,
    },
}

impl<A: RemoteSpawn> Message for RemoteChildMsg<A> {
    const FINGERPRINT: u64 = distribute_hash::fnv1a64(b"distribute::RemoteChild");
    const TAGS: &'static [(u32, &'static str)] = &[];

    fn tag(&self) -> u32 {
        0
    }

    fn name(&self) -> &'static str {
        "current"
    }

    fn encode_body<C: Codec>(&self, _codec: &C, _out: &mut Vec<u8>) -> Result<(), CodecError> {
        Err(CodecError::Encode(String::from(
            "a remote child's stand-in is asked on its own node only",
        )))
    }

    fn decode_body<C: Codec>(
        _codec: &C,
        tag: u32,
        _body: &[u8],
        _reply: crate::ReplySlot,
    ) -> Result<Self, CodecError> {
        Err(CodecError::UnknownTag { tag })
    }

    fn take_reply<C: Codec>(&mut self) -> Option<crate::ErasedReply> {
        None
    }
}

impl<A: RemoteSpawn<Args: SpawnArgs>> ActorRef<RemoteChild<A>> {
    /// The child's actor running now, on whichever node; `None` between an exit and the
    /// next start.
    pub async fn current(&self) -> Result<Option<ActorRef<A>>, SupervisorError> {
        self.ask(|reply| RemoteChildMsg::Current { reply })
            .await
            .map_err(SupervisorError::Call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u64) -> NodeId {
        NodeId::from_u64(n)
    }

    fn input(candidates: &[u64], previous: Option<u64>) -> PlacementInput {
        PlacementInput {
            candidates: candidates.iter().copied().map(node).collect(),
            this_node: node(1),
            previous: previous.map(node),
        }
    }

    #[test]
    fn home_is_chosen_whenever_it_is_up_and_another_node_while_it_is_down() {
        let home = Placement::Home(node(3));
        assert_eq!(home.choose(&input(&[1, 2, 3], None)), Some(node(3)));
        assert_eq!(home.choose(&input(&[1, 2, 3], Some(2))), Some(node(3)));
        assert_eq!(home.choose(&input(&[1, 2, 4], Some(3))), Some(node(4)));
        assert_eq!(home.choose(&input(&[1, 2], Some(3))), Some(node(1)));
    }

    #[test]
    fn any_node_stays_where_it_ran_while_that_node_is_up_and_moves_on_by_id_when_not() {
        let any = Placement::AnyNode;
        assert_eq!(any.choose(&input(&[1, 2, 3], None)), Some(node(1)));
        assert_eq!(any.choose(&input(&[1, 2, 3], Some(2))), Some(node(2)));
        assert_eq!(any.choose(&input(&[1, 3, 5], Some(4))), Some(node(5)));
        assert_eq!(any.choose(&input(&[1, 3], Some(4))), Some(node(1)));
        assert_eq!(any.choose(&input(&[], Some(4))), None);
    }

    #[test]
    fn a_custom_placement_decides_alone() {
        let last = Placement::custom(|input| input.candidates.last().copied());
        assert_eq!(last.choose(&input(&[1, 2, 9], None)), Some(node(9)));
        let none = Placement::custom(|_| None);
        assert_eq!(none.choose(&input(&[1, 2], None)), None);
    }
}
