//! Local benchmarks: one node, actors on this process's tokio runtime, compared with raw tokio
//! channels and tasks measured in the same run.

use std::error::Error;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use tokio::sync::{mpsc, oneshot};

use crate::{percentile, raw_tcp, report, Sink, SinkClient};

type BoxError = Box<dyn Error>;

/// Hidden command-line argument that turns the bench binary into the idle-memory probe (see
/// [`idle_memory_child`]): `--idle-memory <actors|active-actors|tasks> <count>`.
pub(crate) const IDLE_MEMORY_ARG: &str = "--idle-memory";

/// Senders of the multi-sender throughput figures.
const SENDERS: u64 = 4;

/// The raw tokio figures the local ones are compared with.
pub(crate) struct RawLocal {
    pub(crate) tput: f64,
    pub(crate) tput_4senders: f64,
    pub(crate) ask_p50: f64,
    pub(crate) spawn_per_task: f64,
    pub(crate) spawn_join_per_task: f64,
    pub(crate) idle_task_bytes: f64,
}

/// How much the local suites measure.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) messages: u64,
    pub(crate) samples: usize,
    /// Actors of the spawn figures and of the idle-memory figure.
    pub(crate) actors: usize,
    /// Actors of the "a million idle actors fit" check; zero skips it.
    pub(crate) many_actors: usize,
}

/// The raw tokio baselines: an mpsc channel with one and with four senders, a oneshot ask,
/// task spawns, and the memory of an idle task waiting on its channel.
pub(crate) async fn raw(plan: Plan) -> Result<RawLocal, BoxError> {
    let tput = raw_tput(plan.messages, 1).await;
    report("raw.mpsc.tput", tput, "msgs/s");
    let tput_4senders = raw_tput(plan.messages, SENDERS).await;
    report("raw.mpsc.tput_4senders", tput_4senders, "msgs/s");

    let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u64>>(1024);
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(1);
        }
    });
    let mut samples = Vec::with_capacity(plan.samples);
    for _ in 0..plan.samples {
        let start = Instant::now();
        let (reply, answer) = oneshot::channel();
        if tx.send(reply).await.is_err() {
            break;
        }
        let _ = answer.await;
        samples.push(start.elapsed());
    }
    let ask_p50 = percentile(&mut samples, 0.5);
    report("raw.oneshot_ask.p50", ask_p50, "us");
    report("raw.oneshot_ask.p99", percentile(&mut samples, 0.99), "us");

    // A task per "actor": a channel and a task waiting on it, as an actor is.
    let start = Instant::now();
    let mut senders = Vec::with_capacity(plan.actors);
    for _ in 0..plan.actors {
        let (tx, mut rx) = mpsc::channel::<u64>(1024);
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        senders.push(tx);
    }
    let spawn_per_task = start.elapsed().as_secs_f64() * 1e6 / plan.actors as f64;
    report("raw.spawn_per_task", spawn_per_task, "us");
    drop(senders);

    // The whole life of such a task: spawned, told to finish (its channel closed), joined.
    let start = Instant::now();
    for _ in 0..plan.actors {
        let (tx, mut rx) = mpsc::channel::<u64>(1024);
        let task = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        drop(tx);
        task.await?;
    }
    let spawn_join_per_task = start.elapsed().as_secs_f64() * 1e6 / plan.actors as f64;
    report("raw.spawn_join_per_task", spawn_join_per_task, "us");

    let idle_task_bytes = idle_memory("tasks", plan.actors).await?;
    report("raw.idle_task_bytes", idle_task_bytes, "bytes");
    Ok(RawLocal {
        tput,
        tput_4senders,
        ask_p50,
        spawn_per_task,
        spawn_join_per_task,
        idle_task_bytes,
    })
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

/// The local figures, and their ratios to `raw` when it was measured.
pub(crate) async fn local(plan: Plan, raw: Option<&RawLocal>) -> Result<(), BoxError> {
    let node = Node::new();
    let measured = measure(&node, plan, raw).await;
    node.shutdown().await;
    measured
}

async fn measure(node: &Node, plan: Plan, raw: Option<&RawLocal>) -> Result<(), BoxError> {
    let sink = node.spawn(Sink::default()).await?;
    let start = Instant::now();
    for i in 0..plan.messages {
        sink.push(i).await?;
    }
    sink.get().await?;
    let tput = plan.messages as f64 / start.elapsed().as_secs_f64();
    report("local.tell_tput", tput, "msgs/s");

    let sink = node.spawn(Sink::default()).await?;
    let per_sender = plan.messages / SENDERS;
    let start = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let sink = sink.clone();
            tokio::spawn(async move {
                for i in 0..per_sender {
                    sink.push(i).await?;
                }
                Ok::<_, distribute::CallError>(())
            })
        })
        .collect();
    for sender in senders {
        sender.await??;
    }
    sink.get().await?;
    let tput_4senders = (per_sender * SENDERS) as f64 / start.elapsed().as_secs_f64();
    report("local.tell_tput_4senders", tput_4senders, "msgs/s");

    let mut samples = Vec::with_capacity(plan.samples);
    for _ in 0..plan.samples {
        let start = Instant::now();
        sink.get().await?;
        samples.push(start.elapsed());
    }
    let ask_p50 = percentile(&mut samples, 0.5);
    report("local.ask.p50", ask_p50, "us");
    report("local.ask.p99", percentile(&mut samples, 0.99), "us");

    let start = Instant::now();
    let mut refs = Vec::with_capacity(plan.actors);
    for _ in 0..plan.actors {
        refs.push(node.spawn(Sink::default()).await?);
    }
    let spawn = start.elapsed().as_secs_f64() * 1e6 / plan.actors as f64;
    report("local.spawn_per_actor", spawn, "us");
    for actor in &refs {
        actor.kill();
    }
    for actor in &refs {
        actor.wait_for_stop().await;
    }
    drop(refs);

    // The whole life of an actor: spawned, then stopped (`stop` returns once it has exited).
    let start = Instant::now();
    for _ in 0..plan.actors {
        let actor = node.spawn(Sink::default()).await?;
        actor.stop(ExitReason::Normal).await;
    }
    let spawn_stop = start.elapsed().as_secs_f64() * 1e6 / plan.actors as f64;
    report("local.spawn_stop_per_actor", spawn_stop, "us");

    let idle_bytes = idle_memory("actors", plan.actors).await?;
    report("local.idle_actor_bytes", idle_bytes, "bytes");
    let active_bytes = idle_memory("active-actors", plan.actors).await?;
    report("local.idle_active_actor_bytes", active_bytes, "bytes");
    if plan.many_actors > 0 {
        for (probe, name) in [
            ("actors", "local.idle_1m_actors_rss"),
            ("active-actors", "local.idle_1m_active_actors_rss"),
        ] {
            let bytes = idle_memory(probe, plan.many_actors).await?;
            report(name, bytes * plan.many_actors as f64 / (1024.0 * 1024.0), "MiB");
        }
    }

    if let Some(raw) = raw {
        report("ratio.local.tell_tput_vs_raw_mpsc", tput / raw.tput, "x");
        report(
            "ratio.local.tell_tput_4senders_vs_raw_mpsc_4senders",
            tput_4senders / raw.tput_4senders,
            "x",
        );
        report("ratio.local.ask_p50_vs_raw_oneshot", ask_p50 / raw.ask_p50, "x");
        report("ratio.local.spawn_vs_raw_spawn", spawn / raw.spawn_per_task, "x");
        report(
            "ratio.local.spawn_stop_vs_raw_spawn_join",
            spawn_stop / raw.spawn_join_per_task,
            "x",
        );
        report(
            "ratio.local.idle_actor_bytes_vs_raw_idle_task",
            idle_bytes / raw.idle_task_bytes,
            "x",
        );
        report(
            "ratio.local.idle_active_actor_bytes_vs_raw_idle_task",
            active_bytes / raw.idle_task_bytes,
            "x",
        );
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
