//! ractor 0.16.5, used as its documentation and examples show: an `Actor` with a message
//! enum, `RpcReplyPort` for the reply, `call!` to ask, `send_message` to tell. Its mailbox
//! is unbounded (ractor has no bounded one); `Actor::spawn` returns once `pre_start` ran.

use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::{p50, BoxError};

/// The measured actor: sums what it is told, answers the sum when asked.
pub(crate) struct Sink;

/// The messages of [`Sink`].
pub(crate) enum SinkMsg {
    Push(u64),
    Get(RpcReplyPort<u64>),
}

impl Actor for Sink {
    type Msg = SinkMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _args: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        sum: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SinkMsg::Push(v) => *sum = sum.wrapping_add(v),
            SinkMsg::Get(reply) => {
                // The caller may have stopped waiting: nothing to do then.
                let _ = reply.send(*sum);
            }
        }
        Ok(())
    }
}

/// Spawns one [`Sink`].
pub(crate) async fn spawn() -> Result<(ActorRef<SinkMsg>, tokio::task::JoinHandle<()>), BoxError> {
    let (actor, handle) = Actor::spawn(None, Sink, ()).await?;
    Ok((actor, handle))
}

/// One ask, answered.
pub(crate) async fn ask(actor: &ActorRef<SinkMsg>) -> Result<u64, BoxError> {
    Ok(ractor::call!(actor, SinkMsg::Get)?)
}

/// p50 of `samples` asks after `warmup` unmeasured ones, in microseconds.
pub(crate) async fn ask_p50(warmup: usize, samples: usize) -> Result<f64, BoxError> {
    let (actor, handle) = spawn().await?;
    let mut measured = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let start = Instant::now();
        ask(&actor).await?;
        if i >= warmup {
            measured.push(start.elapsed());
        }
    }
    actor.stop(None);
    handle.await?;
    Ok(p50(&mut measured))
}

/// Tells per second from one sender, until an ask sent behind them is answered.
pub(crate) async fn tell_tput(messages: u64) -> Result<f64, BoxError> {
    let (actor, handle) = spawn().await?;
    let start = Instant::now();
    for i in 0..messages {
        actor.send_message(SinkMsg::Push(i)).map_err(|e| e.to_string())?;
    }
    ask(&actor).await?;
    let tput = messages as f64 / start.elapsed().as_secs_f64();
    actor.stop(None);
    handle.await?;
    Ok(tput)
}

/// Microseconds per spawned actor (spawned one after the other, each `spawn` awaited).
pub(crate) async fn spawn_per_actor(count: usize) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut actors = Vec::with_capacity(count);
    for _ in 0..count {
        actors.push(spawn().await?);
    }
    let per_actor = start.elapsed().as_secs_f64() * 1e6 / count as f64;
    for (actor, _) in &actors {
        actor.stop(None);
    }
    for (_, handle) in actors {
        handle.await?;
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(per_actor)
}
