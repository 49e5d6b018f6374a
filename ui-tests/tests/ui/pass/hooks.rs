//! The four hooks, sync and async, with and without the context; the start hook returning
//! `()` or `Result<(), E>`.
use std::sync::{Arc, Mutex};

use distribute::prelude::*;

type Log = Arc<Mutex<Vec<String>>>;

/// Sync hooks taking the context.
#[actor]
struct Sync {
    log: Log,
    watched: ActorRef<Async>,
}

#[actor]
impl Sync {
    #[on_start]
    fn init(&mut self, ctx: &mut Context<Self>) {
        ctx.trap_exit(true);
        self.log.lock().unwrap().push("sync started".to_string());
    }

    #[on_exit]
    fn exited(&mut self, _ctx: &mut Context<Self>, signal: ExitSignal) {
        self.log
            .lock()
            .unwrap()
            .push(format!("sync exit {}", signal.reason));
    }

    #[on_down]
    fn down(&mut self, ctx: &mut Context<Self>, down: Down) {
        let _ = ctx.id();
        self.log
            .lock()
            .unwrap()
            .push(format!("sync down {}", down.reason));
    }

    #[on_stop]
    fn stopped(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.log.lock().unwrap().push(format!("sync stopped {reason}"));
    }

    /// An ask, so that the monitor is in place when the caller goes on (a tell could still be
    /// queued when the stop signal, which goes first, arrives).
    #[message]
    fn watch(&mut self, ctx: &mut Context<Self>) -> bool {
        ctx.monitor(&self.watched);
        true
    }
}

/// Async hooks without the context; the start hook returns a `Result`.
#[actor]
struct Async {
    log: Log,
    fail: bool,
}

#[actor]
impl Async {
    #[on_start]
    async fn init(&mut self) -> Result<(), String> {
        tokio::task::yield_now().await;
        if self.fail {
            return Err("refused to start".to_string());
        }
        self.log.lock().unwrap().push("async started".to_string());
        Ok(())
    }

    #[on_stop]
    async fn stopped(&mut self, reason: &ExitReason) {
        self.log.lock().unwrap().push(format!("async stopped {reason}"));
    }

    #[on_exit]
    async fn exited(&mut self, signal: ExitSignal) {
        self.log
            .lock()
            .unwrap()
            .push(format!("async exit {}", signal.reason));
    }

    #[on_down]
    async fn down(&mut self, down: Down) {
        self.log
            .lock()
            .unwrap()
            .push(format!("async down {}", down.reason));
    }

    #[message]
    fn fail(&mut self, ctx: &mut Context<Self>) {
        ctx.stop(ExitReason::error("asked to"));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let log = Log::default();
    let node = Node::new();
    let watched = node
        .spawn(Async {
            log: log.clone(),
            fail: false,
        })
        .await?;
    let linked = node
        .spawn(Async {
            log: log.clone(),
            fail: false,
        })
        .await?;
    let sync = node
        .spawn(Sync {
            log: log.clone(),
            watched: watched.clone(),
        })
        .await?;
    sync.watch().await?;
    sync.link(&linked);

    watched.fail().await?;
    watched.wait_for_stop().await;
    linked.fail().await?;
    linked.wait_for_stop().await;
    sync.stop(ExitReason::Normal).await;

    let refused = node
        .spawn(Async {
            log: log.clone(),
            fail: true,
        })
        .await;
    assert!(matches!(refused, Err(SpawnError::StartFailed { .. })));

    let log = log.lock().unwrap().clone();
    for line in [
        "sync started",
        "async started",
        "async stopped error: asked to",
        "sync down error: asked to",
        "sync exit error: asked to",
        "sync stopped normal",
    ] {
        assert!(log.iter().any(|l| l == line), "{line:?} missing from {log:?}");
    }
    Ok(())
}
