//! Timers: messages an actor sends itself later, regular ticks, and an exit timer.
//!
//! 1. `send_after`: a reminder arrives once, after its delay; one cancelled in time never
//!    arrives, and `cancel` says which was which.
//! 2. `send_interval`: a heartbeat every 100 ms until it is cancelled.
//! 3. `stop_after`: an idle timeout that every request pushes back; left alone, the session
//!    stops with the timeout's reason.
//! 4. Under a supervisor: a crash ends the timers of the failed incarnation; the restarted
//!    session starts with none and sets its own.
//!
//! Run with `cargo run --example timers`. It takes about two seconds.

use std::time::Duration;

use distribute::prelude::*;

/// How long a session may stay without requests.
const IDLE_TIMEOUT: Duration = Duration::from_millis(500);

/// A user session: reminders, a heartbeat, and an idle timeout.
#[actor]
#[supervised(max_restarts = 3, within = "5s")]
#[derive(Default)]
struct Session {
    /// Reminders received, in order.
    received: Vec<String>,
    /// Reminders set, to cancel them by number.
    reminders: Vec<TimerHandle>,
    beats: u64,
    heartbeat: Option<TimerHandle>,
    /// The idle timeout of this incarnation; re-armed by every request.
    idle: Option<TimerHandle>,
}

#[actor]
impl Session {
    /// Every incarnation arms its own idle timeout: timers do not survive a restart.
    #[on_start]
    fn begin(&mut self, ctx: &mut Context<Self>) {
        self.touch(ctx);
    }

    /// Pushes the idle timeout back: cancels the pending one and sets a new one.
    fn touch(&mut self, ctx: &mut Context<Self>) {
        if let Some(idle) = self.idle.take() {
            idle.cancel();
        }
        let reason = ExitReason::error("idle timeout");
        self.idle = Some(ctx.stop_after(IDLE_TIMEOUT, reason));
    }

    /// Sets a reminder `text` in `after_ms`; returns its number.
    #[message]
    fn remind(&mut self, ctx: &mut Context<Self>, after_ms: u64, text: String) -> usize {
        self.touch(ctx);
        let delay = Duration::from_millis(after_ms);
        self.reminders
            .push(ctx.send_after(delay, SessionMsg::Reminder { text }));
        self.reminders.len() - 1
    }

    /// Cancels reminder `number`; whether it was still pending.
    #[message]
    fn forget(&mut self, ctx: &mut Context<Self>, number: usize) -> bool {
        self.touch(ctx);
        self.reminders.get(number).is_some_and(|r| r.cancel())
    }

    /// What a reminder timer delivers.
    #[message]
    fn reminder(&mut self, text: String) {
        println!("   (session) reminder: {text}");
        self.received.push(text);
    }

    /// Starts a heartbeat every `every_ms`.
    #[message]
    fn start_heartbeat(&mut self, ctx: &mut Context<Self>, every_ms: u64) {
        self.touch(ctx);
        let every = Duration::from_millis(every_ms);
        self.heartbeat = Some(ctx.send_interval(every, || SessionMsg::Beat {}));
    }

    /// What the heartbeat timer delivers. Not a request: it does not push the timeout back.
    #[message]
    fn beat(&mut self) {
        self.beats += 1;
        println!("   (session) beat {}", self.beats);
    }

    /// Stops the heartbeat; returns how many beats there were.
    #[message]
    fn stop_heartbeat(&mut self, ctx: &mut Context<Self>) -> u64 {
        self.touch(ctx);
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.cancel();
        }
        self.beats
    }

    /// The reminders received by this incarnation.
    #[message]
    fn received(&mut self, ctx: &mut Context<Self>) -> Vec<String> {
        self.touch(ctx);
        self.received.clone()
    }

    /// Crashes the session.
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("session corrupted")
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();

    println!("1. send_after: reminders");
    let session = node.spawn(Session::default()).await?;
    let tea = session.remind(100, "tea is ready".into()).await?;
    let call = session.remind(150, "call back".into()).await?;
    println!("   set reminder {tea} (100 ms) and reminder {call} (150 ms)");
    println!(
        "   cancel reminder {call}: was pending = {}",
        session.forget(call).await?
    );
    tokio::time::sleep(ms(200)).await;
    println!(
        "   cancel reminder {tea}: was pending = {}",
        session.forget(tea).await?
    );
    println!("   received: {:?}", session.received().await?);

    println!("\n2. send_interval: a heartbeat every 100 ms");
    session.start_heartbeat(100).await?;
    tokio::time::sleep(ms(350)).await;
    let beats = session.stop_heartbeat().await?;
    tokio::time::sleep(ms(250)).await;
    println!(
        "   stopped after {beats} beats; {} beats 250 ms later",
        session.stop_heartbeat().await?
    );

    println!("\n3. stop_after: an idle timeout of {IDLE_TIMEOUT:?}, pushed back by each request");
    let started = tokio::time::Instant::now();
    let reason = session.wait_for_stop().await;
    println!(
        "   {} ms without a request: the session stopped with `{reason}`",
        started.elapsed().as_millis()
    );

    println!("\n4. Under a supervisor: a crash takes the failed incarnation's timers with it");
    let (supervisor, session) = Session::start_supervised(&node, Session::default).await?;
    session.remind(200, "from the first incarnation".into()).await?;
    std::panic::set_hook(Box::new(|_| {}));
    match session.crash().await {
        Err(err) => println!("   crashed it: the caller saw `{err}`"),
        Ok(_) => println!("   the session did not crash?"),
    }
    let _ = std::panic::take_hook();
    session
        .remind(100, "from the restarted incarnation".into())
        .await?;
    tokio::time::sleep(ms(250)).await;
    println!(
        "   the restarted session received {:?}; the first incarnation's reminder was cancelled",
        session.received().await?
    );
    supervisor.stop(ExitReason::Shutdown).await;
    Ok(())
}
