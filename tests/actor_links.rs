//! Links: exits propagate both ways; trapping turns them into `on_exit` calls.

use distribute::prelude::*;
use distribute_tests::{within, Counter, CounterClient, Gate};

/// Records the exit signals it receives; traps exits when asked to.
#[actor]
struct Trapper {
    trap: bool,
    exits: Vec<ExitSignal>,
}

impl Trapper {
    fn new(trap: bool) -> Self {
        Trapper {
            trap,
            exits: Vec::new(),
        }
    }
}

#[actor]
impl Trapper {
    #[on_start]
    fn init(&mut self, ctx: &mut Context<Self>) {
        ctx.trap_exit(self.trap);
    }

    #[on_exit]
    fn exited(&mut self, signal: ExitSignal) {
        self.exits.push(signal);
    }

    #[message]
    fn exits(&self) -> Vec<ExitSignal> {
        self.exits.clone()
    }

    #[message]
    fn fail(&mut self, ctx: &mut Context<Self>, why: String) {
        ctx.stop(ExitReason::Error(why));
    }
}

#[tokio::test]
async fn an_abnormal_exit_stops_the_linked_actor() {
    let node = Node::new();
    let a = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let b = node.spawn(Counter::new(Gate::new())).await.unwrap();
    a.link(&b);
    let _ = b.boom("b fails".into()).await;
    let expected = ExitReason::Linked {
        from: b.id(),
        reason: Box::new(ExitReason::Panicked("b fails".into())),
    };
    assert_eq!(within("a to stop", a.wait_for_stop()).await, expected);
}

#[tokio::test]
async fn exits_propagate_in_both_directions() {
    let node = Node::new();
    let a = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let b = node.spawn(Counter::new(Gate::new())).await.unwrap();
    b.link(&a);
    let _ = a.boom("a fails".into()).await;
    let reason = within("b to stop", b.wait_for_stop()).await;
    assert!(matches!(reason, ExitReason::Linked { from, .. } if from == a.id()));
}

#[tokio::test]
async fn exits_propagate_along_a_chain_of_links() {
    let node = Node::new();
    let chain = [
        node.spawn(Counter::new(Gate::new())).await.unwrap(),
        node.spawn(Counter::new(Gate::new())).await.unwrap(),
        node.spawn(Counter::new(Gate::new())).await.unwrap(),
    ];
    chain[0].link(&chain[1]);
    chain[1].link(&chain[2]);
    let _ = chain[0].boom("first".into()).await;
    let last = within("the chain to stop", chain[2].wait_for_stop()).await;
    assert!(matches!(last, ExitReason::Linked { from, .. } if from == chain[1].id()));
}

#[tokio::test]
async fn a_normal_exit_does_not_stop_the_linked_actor() {
    let node = Node::new();
    let a = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let b = node.spawn(Counter::new(Gate::new())).await.unwrap();
    a.link(&b);
    assert_eq!(b.stop(ExitReason::Normal).await, ExitReason::Normal);
    a.add(1).await.unwrap();
    assert_eq!(
        a.get().await.unwrap(),
        1,
        "a still serves after b stopped normally"
    );
}

#[tokio::test]
async fn a_trapping_actor_receives_the_exit_as_a_signal_and_keeps_running() {
    let node = Node::new();
    let trapper = node.spawn(Trapper::new(true)).await.unwrap();
    let a = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let b = node.spawn(Counter::new(Gate::new())).await.unwrap();
    trapper.link(&a);
    trapper.link(&b);
    let _ = a.boom("a fails".into()).await;
    b.stop(ExitReason::Normal).await;
    let exits = within("exits", async {
        loop {
            let exits = trapper.exits().await.unwrap();
            if exits.len() == 2 {
                break exits;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(exits.contains(&ExitSignal {
        from: a.id(),
        reason: ExitReason::Panicked("a fails".into())
    }));
    assert!(exits.contains(&ExitSignal {
        from: b.id(),
        reason: ExitReason::Normal
    }));
    assert!(trapper.is_alive());
}

#[tokio::test]
async fn an_unlinked_actor_is_not_affected() {
    let node = Node::new();
    let trapper = node.spawn(Trapper::new(false)).await.unwrap();
    let a = node.spawn(Counter::new(Gate::new())).await.unwrap();
    trapper.link(&a);
    trapper.unlink(&a);
    // Both sides have handled the unlink once they answer a call.
    trapper.exits().await.unwrap();
    a.get().await.unwrap();
    let _ = a.boom("after unlink".into()).await;
    a.wait_for_stop().await;
    assert!(trapper.exits().await.unwrap().is_empty());
    assert!(trapper.is_alive());
}

#[tokio::test]
async fn linking_to_a_stopped_actor_delivers_noproc() {
    let node = Node::new();
    let trapper = node.spawn(Trapper::new(true)).await.unwrap();
    let gone = node.spawn(Counter::new(Gate::new())).await.unwrap();
    gone.stop(ExitReason::Normal).await;
    trapper.link(&gone);
    let exits = within("noproc", async {
        loop {
            let exits = trapper.exits().await.unwrap();
            if !exits.is_empty() {
                break exits;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        exits,
        vec![ExitSignal {
            from: gone.id(),
            reason: ExitReason::NoProc
        }]
    );
}

#[tokio::test]
async fn an_error_exit_propagates_and_a_kill_propagates_as_killed() {
    let node = Node::new();
    let failing = node.spawn(Trapper::new(false)).await.unwrap();
    let linked = node.spawn(Counter::new(Gate::new())).await.unwrap();
    failing.link(&linked);
    failing.fail("giving up".into()).await.unwrap();
    let reason = within("linked to stop", linked.wait_for_stop()).await;
    assert_eq!(
        reason,
        ExitReason::Linked {
            from: failing.id(),
            reason: Box::new(ExitReason::Error("giving up".into()))
        }
    );

    let killed = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let linked = node.spawn(Counter::new(Gate::new())).await.unwrap();
    killed.link(&linked);
    killed.kill();
    let reason = within("linked to stop", linked.wait_for_stop()).await;
    assert_eq!(
        reason,
        ExitReason::Linked {
            from: killed.id(),
            reason: Box::new(ExitReason::Killed)
        }
    );
}

/// Spawns a linked child from inside an actor.
#[actor]
#[derive(Default)]
struct Parent {
    child: Option<ActorRef<Counter>>,
}

#[actor]
impl Parent {
    #[on_start]
    async fn init(&mut self, ctx: &mut Context<Self>) -> Result<(), SpawnError> {
        self.child = Some(ctx.spawn_link(Counter::new(Gate::new())).await?);
        Ok(())
    }

    #[message]
    fn child_id(&self) -> Option<ActorId> {
        self.child.as_ref().map(ActorRef::id)
    }
}

#[tokio::test]
async fn spawn_link_links_parent_and_child() {
    let node = Node::new();
    let parent = node.spawn(Parent::default()).await.unwrap();
    let child_id = parent.child_id().await.unwrap().unwrap();
    parent.stop(ExitReason::error("parent gives up")).await;
    within("the child to stop", async {
        while node.actor_count() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(child_id.local() > parent.id().local());
}
