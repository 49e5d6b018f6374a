//! Local benchmarks: one node, actors on this process's tokio runtime, compared with raw tokio
//! channels and tasks. Each figure and its baseline are measured in alternating rounds (see
//! [`crate::interleave`]); the asks both from the runtime's main thread and from a task.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use tokio::sync::{mpsc, oneshot};

use crate::interleave::{batched_rounds, interleave, on_worker, paired_rounds, Names, Rounds};
use crate::{percentile, raw_tcp, report, BoxError, Sink, SinkClient};

/// Hidden command-line argument that turns the bench binary into the idle-memory probe (see
/// [`idle_memory_child`]): `--idle-memory <actors|active-actors|tasks> <count>`.
pub(crate) const IDLE_MEMORY_ARG: &str = "--idle-memory";

/// Senders of the multi-sender throughput figures.
const SENDERS: u64 = 4;

/// Batches of each side per round of the multi-sender throughput figure (see
/// [`batched_rounds`]).
const TPUT_BATCHES: usize = 4;

/// How much the local suites measure; the counts are per round.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    /// Alternating rounds of each figure and its baseline.
    pub(crate) rounds: usize,
    pub(crate) messages: u64,
    /// Measured asks (after a tenth as many unmeasured ones).
    pub(crate) samples: usize,
    /// Actors of the spawn figures.
    pub(crate) actors: usize,
    /// Actors of the idle-memory figures, and their rounds (a child process each).
    pub(crate) memory_actors: usize,
    pub(crate) memory_rounds: usize,
    /// Actors of the "a million idle actors fit" check; zero skips it.
    pub(crate) many_actors: usize,
}

/// The local suite: with `figures`, every local figure against its raw baseline; without,
/// the raw baselines alone (the `raw` suite).
pub(crate) async fn local(plan: Plan, figures: bool) -> Result<(), BoxError> {
    let node = Node::new();
    let measured = measure(&node, plan, figures).await;
    node.shutdown().await;
    measured
}

async fn measure(node: &Node, plan: Plan, figures: bool) -> Result<(), BoxError> {
    let sink = node.spawn(Sink::default()).await?;
    for senders in [1, SENDERS] {
        // One sender's rounds were steady over runs; four senders' moved with the machine's
        // phases (their ratio 0.76 to 1.13 over five quick runs): those go in batches.
        let batches = if senders == 1 { 1 } else { TPUT_BATCHES };
        let batch = plan.messages / batches as u64;
        let rounds = batched_rounds(
            plan.rounds,
            batches,
            async || Ok(raw_tput(batch, senders).await),
            async || figure(figures, tell_tput(&sink, batch, senders)).await,
        )
        .await?;
        let names = if senders == 1 {
            Names::new(
                "raw.mpsc.tput",
                "local.tell_tput",
                "ratio.local.tell_tput_vs_raw_mpsc",
            )
        } else {
            Names::new(
                "raw.mpsc.tput_4senders",
                "local.tell_tput_4senders",
                "ratio.local.tell_tput_4senders_vs_raw_mpsc_4senders",
            )
        };
        names.unit("msgs/s").report(&rounds, figures);
    }
    asks(&sink, plan, figures).await?;
    spawns(node, plan, figures).await?;
    memory(plan, figures).await
}

/// Runs `measure` when the figures are wanted; otherwise returns an empty round at once.
async fn figure<T: Default>(
    figures: bool,
    measure: impl Future<Output = Result<T, BoxError>>,
) -> Result<T, BoxError> {
    if figures {
        measure.await
    } else {
        Ok(T::default())
    }
}

/// Messages per second through one channel fed by `senders` tasks.
async fn raw_tput(messages: u64, senders: u64) -> f64 {
    let (tx, mut rx) = mpsc::channel::<u64>(1024);
    let consumer = tokio::spawn(async move {
        let mut sum = 0u64;
        while let Some(v) = rx.recv().await {
            sum = sum.wrapping_add(v);
        }
        sum
    });
    let start = Instant::now();
    let per_sender = messages / senders;
    let producers: Vec<_> = (0..senders)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..per_sender {
                    if tx.send(i).await.is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    drop(tx);
    for producer in producers {
        let _ = producer.await;
    }
    let _ = consumer.await;
    (per_sender * senders) as f64 / start.elapsed().as_secs_f64()
}

/// Tells per second to `sink` from `senders` tasks, until an ask behind them is answered.
/// The senders are tasks on the runtime's workers, as the raw baseline's are: a sender on
/// the bench's main thread would measure that thread's wake-ups, not the mailbox.
async fn tell_tput(sink: &ActorRef<Sink>, messages: u64, senders: u64) -> Result<f64, BoxError> {
    let per_sender = messages / senders;
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let sink = sink.clone();
            tokio::spawn(async move {
                for i in 0..per_sender {
                    sink.push(i).await?;
                }
                sink.get().await?;
                Ok::<_, distribute::CallError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok((per_sender * senders) as f64 / start.elapsed().as_secs_f64())
}

/// A task answering requests that carry a oneshot sender: the raw form of an actor's ask.
fn raw_responder() -> mpsc::Sender<oneshot::Sender<u64>> {
    let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u64>>(1024);
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(1);
        }
    });
    tx
}

/// The time of one raw ask through `tx`, from the calling task.
async fn raw_ask(tx: &mpsc::Sender<oneshot::Sender<u64>>) -> Result<Duration, BoxError> {
    let start = Instant::now();
    let (reply, answer) = oneshot::channel();
    tx.send(reply).await.map_err(|_| "the raw responder is gone")?;
    answer.await?;
    Ok(start.elapsed())
}

/// Times `samples` sequential raw asks, after a tenth as many unmeasured ones.
async fn raw_asks(tx: mpsc::Sender<oneshot::Sender<u64>>, samples: usize) -> Result<Vec<Duration>, BoxError> {
    let mut measured = Vec::with_capacity(samples);
    for round in 0..samples + samples / 10 {
        let elapsed = raw_ask(&tx).await?;
        if round >= samples / 10 {
            measured.push(elapsed);
        }
    }
    Ok(measured)
}

/// The time of one ask to `sink`, from the calling task.
async fn local_ask(sink: &ActorRef<Sink>) -> Result<Duration, BoxError> {
    let start = Instant::now();
    sink.get().await?;
    Ok(start.elapsed())
}

/// Times `samples` sequential asks to `sink`, after a tenth as many unmeasured ones.
async fn local_asks(sink: ActorRef<Sink>, samples: usize) -> Result<Vec<Duration>, BoxError> {
    let mut measured = Vec::with_capacity(samples);
    for round in 0..samples + samples / 10 {
        let elapsed = local_ask(&sink).await?;
        if round >= samples / 10 {
            measured.push(elapsed);
        }
    }
    Ok(measured)
}

/// `local.ask` against `raw.oneshot_ask` from the main thread, each ask paired with a raw
/// one right beside it (see [`paired_rounds`]); then both from a task, in alternating rounds.
async fn asks(sink: &ActorRef<Sink>, plan: Plan, figures: bool) -> Result<(), BoxError> {
    let tx = raw_responder();
    let n = plan.samples;
    let paired = paired_rounds(
        plan.rounds,
        n / 10,
        &vec![0; n],
        async || raw_ask(&tx).await,
        async |_| {
            if figures {
                local_ask(sink).await
            } else {
                Ok(Duration::ZERO)
            }
        },
    )
    .await?;
    let mut rounds = Rounds {
        baseline: Vec::with_capacity(plan.rounds),
        figure: Vec::with_capacity(plan.rounds),
    };
    for round in paired {
        rounds.baseline.extend(round.baseline);
        rounds.figure.extend(round.figure);
    }
    Names::new(
        "raw.oneshot_ask",
        "local.ask",
        "ratio.local.ask_p50_vs_raw_oneshot",
    )
    .report_latencies(rounds, figures);
    let rounds = interleave(
        plan.rounds,
        async || on_worker(raw_asks(tx.clone(), n)).await,
        async || figure(figures, on_worker(local_asks(sink.clone(), n))).await,
    )
    .await?;
    Names::new(
        "raw.oneshot_ask_from_task",
        "local.ask_from_task",
        "ratio.local.ask_from_task_vs_raw",
    )
    .report_latencies(rounds, figures);
    Ok(())
}

/// Microseconds per `tokio::spawn` of a task waiting on its own channel: the raw actor. The
/// tasks are told to finish (their channels closed) and joined after the timing, as the
/// actors of [`local_spawns`] are stopped: tasks left ending on the workers would slow
/// whatever is measured next.
async fn raw_spawns(tasks: usize) -> Result<f64, BoxError> {
    let mut handles = Vec::with_capacity(tasks);
    let start = Instant::now();
    let mut senders = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let (tx, mut rx) = mpsc::channel::<u64>(1024);
        handles.push(tokio::spawn(async move { while rx.recv().await.is_some() {} }));
        senders.push(tx);
    }
    let spawn = start.elapsed().as_secs_f64() * 1e6 / tasks as f64;
    drop(senders);
    for handle in handles {
        handle.await?;
    }
    Ok(spawn)
}

/// Microseconds per such task spawned, told to finish (its channel closed) and joined.
async fn raw_spawn_joins(tasks: usize) -> Result<f64, BoxError> {
    let start = Instant::now();
    for _ in 0..tasks {
        let (tx, mut rx) = mpsc::channel::<u64>(1024);
        let task = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        drop(tx);
        task.await?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / tasks as f64)
}

/// Microseconds per `node.spawn`, each actor kept until the timing ends (then killed).
async fn local_spawns(node: &Node, actors: usize) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut refs = Vec::with_capacity(actors);
    for _ in 0..actors {
        refs.push(node.spawn(Sink::default()).await?);
    }
    let spawn = start.elapsed().as_secs_f64() * 1e6 / actors as f64;
    for actor in &refs {
        actor.kill();
    }
    for actor in &refs {
        actor.wait_for_stop().await;
    }
    Ok(spawn)
}

/// Microseconds per actor spawned, then stopped (`stop` returns once it has exited).
async fn local_spawn_stops(node: Node, actors: usize) -> Result<f64, BoxError> {
    let start = Instant::now();
    for _ in 0..actors {
        let actor = node.spawn(Sink::default()).await?;
        actor.stop(ExitReason::Normal).await;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / actors as f64)
}

/// Batches of each side per round of the spawn figure (see [`batched_rounds`]).
const SPAWN_BATCHES: usize = 10;

/// The spawn figures against raw task spawns: `local.spawn_per_actor` in rounds of
/// [`SPAWN_BATCHES`] batches alternating with batches of raw spawns, each batch from a task
/// on a worker thread, as a supervisor spawns its children. From the main thread, every raw
/// spawn went through the runtime's injection queue and woke a parked worker, which took
/// anywhere from 0.7 to 1.6 µs between runs and made the ratio measure the wake-ups.
async fn spawns(node: &Node, plan: Plan, figures: bool) -> Result<(), BoxError> {
    let n = plan.actors;
    let batch = (n / SPAWN_BATCHES).max(1);
    let rounds = batched_rounds(
        plan.rounds,
        SPAWN_BATCHES,
        async || on_worker(raw_spawns(batch)).await,
        async || {
            let node = node.clone();
            figure(
                figures,
                on_worker(async move { local_spawns(&node, batch).await }),
            )
            .await
        },
    )
    .await?;
    Names::new(
        "raw.spawn_per_task",
        "local.spawn_per_actor",
        "ratio.local.spawn_vs_raw_spawn",
    )
    .unit("us")
    .report(&rounds, figures);
    let rounds = interleave(
        plan.rounds,
        // Both from a task on a worker: from the main thread, each join or stop would
        // measure that thread's wake-up.
        async || tokio::spawn(raw_spawn_joins(n)).await?,
        async || {
            let node = node.clone();
            figure(
                figures,
                async move { tokio::spawn(local_spawn_stops(node, n)).await? },
            )
            .await
        },
    )
    .await?;
    Names::new(
        "raw.spawn_join_per_task",
        "local.spawn_stop_per_actor",
        "ratio.local.spawn_stop_vs_raw_spawn_join",
    )
    .unit("us")
    .report(&rounds, figures);
    Ok(())
}

/// The idle-memory figures (a fresh child process each), dormant and active actors against
/// raw tasks in the same rounds; then, in a full run, the million-actor check.
async fn memory(plan: Plan, figures: bool) -> Result<(), BoxError> {
    let n = plan.memory_actors;
    let rounds = interleave(
        plan.memory_rounds,
        async || idle_memory("tasks", n).await,
        async || {
            let dormant = figure(figures, idle_memory("actors", n)).await?;
            Ok((dormant, figure(figures, idle_memory("active-actors", n)).await?))
        },
    )
    .await?;
    let (dormant, active): (Vec<f64>, Vec<f64>) = rounds.figure.iter().copied().unzip();
    let (raw, unit) = (&rounds.baseline, "bytes");
    Names::new(
        "raw.idle_task_bytes",
        "local.idle_actor_bytes",
        "ratio.local.idle_actor_bytes_vs_raw_idle_task",
    )
    .unit(unit)
    .report_values(raw, &dormant, figures);
    Names::new(
        "",
        "local.idle_active_actor_bytes",
        "ratio.local.idle_active_actor_bytes_vs_raw_idle_task",
    )
    .unit(unit)
    .report_values(raw, &active, figures);
    if figures && plan.many_actors > 0 {
        for (probe, name) in [
            ("actors", "local.idle_1m_actors_rss"),
            ("active-actors", "local.idle_1m_active_actors_rss"),
        ] {
            let bytes = idle_memory(probe, plan.many_actors).await?;
            report(name, bytes * plan.many_actors as f64 / (1024.0 * 1024.0), "MiB");
        }
    }
    Ok(())
}

/// Measures restarts from the inside: the crashing handler stamps the time of the panic and
/// the next incarnation's start hook measures how long it took to serve again.
#[actor]
struct Phoenix {
    clock: Arc<Mutex<(Option<Instant>, Vec<Duration>)>>,
}

#[actor]
impl Phoenix {
    #[on_start]
    fn reborn(&mut self) {
        let mut clock = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(crashed) = clock.0.take() {
            clock.1.push(crashed.elapsed());
        }
    }

    #[message]
    fn crash(&mut self) -> u64 {
        self.clock.lock().unwrap_or_else(PoisonError::into_inner).0 = Some(Instant::now());
        panic!("benchmark crash")
    }

    #[message]
    fn ping(&self) {}
}

/// `local.restart`: from a panic in a supervised actor to the restarted actor serving again.
pub(crate) async fn restart(samples: usize) -> Result<(), BoxError> {
    let node = Node::new();
    let measured = async {
        let clock = Arc::new(Mutex::new((None, Vec::new())));
        let factory_clock = Arc::clone(&clock);
        let supervisor = SupervisorSpec::new(Strategy::OneForOne)
            .intensity(u32::MAX, Duration::from_secs(1))
            .child(ChildSpec::worker("phoenix", move || Phoenix {
                clock: Arc::clone(&factory_clock),
            }))
            .start(&node)
            .await?;
        let phoenix = supervisor.child::<Phoenix>("phoenix").await?;
        for _ in 0..samples {
            let _ = phoenix.crash().await;
            phoenix.ping().await?;
        }
        let mut samples = std::mem::take(&mut clock.lock().unwrap_or_else(PoisonError::into_inner).1);
        report("local.restart.p50", percentile(&mut samples, 0.5), "us");
        report("local.restart.p99", percentile(&mut samples, 0.99), "us");
        Ok(())
    }
    .await;
    node.shutdown().await;
    measured
}

/// Resident memory per idle actor (`what` = `actors`) or per idle raw task with its channel
/// (`tasks`), measured in a fresh child process so that nothing freed by earlier figures is
/// reused and hides the cost.
async fn idle_memory(what: &str, count: usize) -> Result<f64, BoxError> {
    let mut child = raw_tcp::spawn_self_with_args(&[IDLE_MEMORY_ARG, what, &count.to_string()])?;
    let bytes: f64 = child.read_announcement(Duration::from_secs(300)).await?;
    child.finish(raw_tcp::EXIT_GRACE).await?;
    Ok(bytes)
}

/// Entry point of the idle-memory child: spawns `count` idle actors (or raw tasks, each with
/// a channel), keeps their refs, and prints the growth of resident memory per actor.
pub(crate) async fn idle_memory_child(args: &[String]) -> Result<(), BoxError> {
    let (Some(what), Some(count)) = (args.first(), args.get(1)) else {
        return Err(format!("usage: {IDLE_MEMORY_ARG} <actors|active-actors|tasks> <count>").into());
    };
    let count: usize = count.parse()?;
    let node = Node::new();
    // Warm up the allocator, the runtime's queues and the node's table.
    let mut warm = Vec::new();
    for _ in 0..1000 {
        warm.push(node.spawn(Sink::default()).await?);
    }
    let before = resident_bytes()?;
    let per_item = match what.as_str() {
        // Spawned and never sent anything; or each sent one message, so that its task runs
        // and waits for the next.
        "actors" | "active-actors" => {
            let mut refs = Vec::with_capacity(count);
            for _ in 0..count {
                refs.push(node.spawn(Sink::default()).await?);
            }
            if what == "active-actors" {
                for actor in &refs {
                    actor.get().await?;
                }
            }
            let grown = resident_bytes()?.saturating_sub(before);
            // The refs' own vector is the caller's memory, not the actors'.
            (grown - count * std::mem::size_of::<ActorRef<Sink>>()) as f64 / count as f64
        }
        "tasks" => {
            let mut senders = Vec::with_capacity(count);
            for _ in 0..count {
                let (tx, mut rx) = mpsc::channel::<u64>(1024);
                tokio::spawn(async move { while rx.recv().await.is_some() {} });
                senders.push(tx);
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let grown = resident_bytes()?.saturating_sub(before);
            (grown - count * std::mem::size_of::<mpsc::Sender<u64>>()) as f64 / count as f64
        }
        other => return Err(format!("unknown idle-memory probe `{other}`").into()),
    };
    raw_tcp::announce(per_item)?;
    // Exit without a shutdown: the measurement is taken, and stopping a million actors one
    // by one would only cost time.
    std::process::exit(0)
}

/// This process's resident set size, from `/proc/self/statm`.
fn resident_bytes() -> Result<usize, BoxError> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .ok_or("malformed /proc/self/statm")?
        .parse()?;
    Ok(pages * 4096)
}
