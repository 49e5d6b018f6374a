//! kameo 0.22.2, used as its documentation shows: `#[derive(Actor)]`, one `Message` impl
//! per message type, `ask(..).await` and `tell(..).await`. Spawned with a bounded mailbox of
//! 1024 slots (`spawn_with_mailbox`, as distribute's measured actor has); kameo's default
//! `spawn` would give 64.

use std::time::{Duration, Instant};

use kameo::actor::{ActorRef, Spawn};
use kameo::message::{Context, Message};
use kameo::{mailbox, Actor};

use crate::{p50, BoxError, MAILBOX};

/// The measured actor: sums what it is told, answers the sum when asked.
#[derive(Actor, Default)]
pub(crate) struct Sink {
    sum: u64,
}

/// Tell: add this to the sum.
pub(crate) struct Push(pub(crate) u64);

/// Ask: the sum.
pub(crate) struct Get;

impl Message<Push> for Sink {
    type Reply = ();

    async fn handle(&mut self, Push(v): Push, _ctx: &mut Context<Self, Self::Reply>) {
        self.sum = self.sum.wrapping_add(v);
    }
}

impl Message<Get> for Sink {
    type Reply = u64;

    async fn handle(&mut self, _msg: Get, _ctx: &mut Context<Self, Self::Reply>) -> u64 {
        self.sum
    }
}

/// Spawns one [`Sink`] with a 1024-slot mailbox.
pub(crate) fn spawn() -> ActorRef<Sink> {
    Sink::spawn_with_mailbox(Sink::default(), mailbox::bounded(MAILBOX))
}

/// One ask, answered.
pub(crate) async fn ask(actor: &ActorRef<Sink>) -> Result<u64, BoxError> {
    actor.ask(Get).await.map_err(|e| e.to_string().into())
}

/// Stops `actor` and waits until it has.
async fn stop(actor: &ActorRef<Sink>) {
    actor.kill();
    actor.wait_for_shutdown().await;
}

/// p50 of `samples` asks after `warmup` unmeasured ones, in microseconds.
pub(crate) async fn ask_p50(warmup: usize, samples: usize) -> Result<f64, BoxError> {
    let actor = spawn();
    let mut measured = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let start = Instant::now();
        ask(&actor).await?;
        if i >= warmup {
            measured.push(start.elapsed());
        }
    }
    stop(&actor).await;
    Ok(p50(&mut measured))
}

/// Tells per second from one sender, until an ask sent behind them is answered.
pub(crate) async fn tell_tput(messages: u64) -> Result<f64, BoxError> {
    let actor = spawn();
    let start = Instant::now();
    for i in 0..messages {
        actor.tell(Push(i)).await.map_err(|e| e.to_string())?;
    }
    ask(&actor).await?;
    let tput = messages as f64 / start.elapsed().as_secs_f64();
    stop(&actor).await;
    Ok(tput)
}

/// Microseconds per spawned actor.
pub(crate) async fn spawn_per_actor(count: usize) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut actors = Vec::with_capacity(count);
    for _ in 0..count {
        actors.push(spawn());
    }
    let per_actor = start.elapsed().as_secs_f64() * 1e6 / count as f64;
    for actor in &actors {
        actor.kill();
    }
    for actor in &actors {
        actor.wait_for_shutdown().await;
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(per_actor)
}
