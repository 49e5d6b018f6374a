//! The cost of tracing on the local tell throughput: the same figure with no subscriber, with
//! a `tracing-subscriber` fmt layer writing to a sink at `info`, and with an OpenTelemetry
//! layer recording every handler's span (`debug`). A subscriber, once installed, stays for
//! the life of the process (tracing remembers that one was ever set), so each figure runs in
//! a fresh child process; the three alternate, round after round, and the medians are
//! reported with their ratios to the figure without a subscriber (the median of the per-round
//! ratios, see [`crate::interleave`]).

use std::time::{Duration, Instant};

use distribute::prelude::*;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::interleave::{interleave, median, report_ratio};
use crate::{raw_tcp, report, BoxError, Sink, SinkClient};

/// Hidden command-line argument of the child: `--tell-tput <none|fmt|otel> <messages>`.
pub(crate) const TELL_TPUT_ARG: &str = "--tell-tput";

const SUBSCRIBERS: [(&str, &str); 3] = [
    ("none", "local.tell_tput.no_subscriber"),
    ("fmt", "local.tell_tput.subscriber"),
    ("otel", "local.tell_tput.subscriber_otel"),
];

/// One tell throughput in a fresh child process with the subscriber named `subscriber`.
async fn tell_tput(subscriber: &str, messages: u64) -> Result<f64, BoxError> {
    let args = [TELL_TPUT_ARG, subscriber, &messages.to_string()];
    announced(raw_tcp::spawn_self_with_args(&args)?).await
}

/// The figure that `child` prints, once it has exited.
async fn announced(mut child: raw_tcp::ChildProcess) -> Result<f64, BoxError> {
    let tput = child.read_announcement(Duration::from_secs(300)).await?;
    child.finish(raw_tcp::EXIT_GRACE).await?;
    Ok(tput)
}

/// `bench/lean`'s binary: the same figure from a build of `distribute` without its tracing
/// feature. Built on its own (in the workspace, cargo would unify the features back on).
const LEAN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/lean/target/release/distribute-bench-lean"
);

/// The same program built with its feature `tracing` (distribute's tracing compiled in).
const LEAN_TRACED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/lean/target-traced/release/distribute-bench-lean"
);

/// The tell throughput of the lean build `program`, if it is built.
async fn tell_tput_lean(program: &str, messages: u64) -> Result<Option<f64>, BoxError> {
    let lean = std::path::Path::new(program);
    if !lean.exists() {
        return Ok(None);
    }
    let child = raw_tcp::spawn_program(lean, &[&messages.to_string()], &[])?;
    Ok(Some(announced(child).await?))
}

/// One round of the lean builds: without tracing, then with it, each if built.
async fn tell_tput_leans(messages: u64) -> Result<(Option<f64>, Option<f64>), BoxError> {
    let without = tell_tput_lean(LEAN, messages).await?;
    Ok((without, tell_tput_lean(LEAN_TRACED, messages).await?))
}

/// Measures the figure without a subscriber and, in the same rounds, the two with one and
/// the one of a build without tracing; reports their medians and ratios.
pub(crate) async fn tell_tput_subscribers(rounds: usize, messages: u64) -> Result<(), BoxError> {
    let [(none, _), (fmt, _), (otel, _)] = SUBSCRIBERS;
    let measured = interleave(
        rounds,
        async || tell_tput(none, messages).await,
        async || {
            let leans = tell_tput_leans(messages).await?;
            Ok((
                tell_tput(fmt, messages).await?,
                tell_tput(otel, messages).await?,
                leans,
            ))
        },
    )
    .await?;
    let mut figures = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (fmt, otel, (lean, lean_traced)) in measured.figure {
        figures.0.push(fmt);
        figures.1.push(otel);
        figures.2.extend(lean);
        figures.3.extend(lean_traced);
    }
    let without = measured.baseline;
    report(SUBSCRIBERS[0].1, median(&without), "msgs/s");
    for (name, figure) in [(SUBSCRIBERS[1].1, figures.0), (SUBSCRIBERS[2].1, figures.1)] {
        report(name, median(&figure), "msgs/s");
        report_ratio(&format!("ratio.{name}_vs_no_subscriber"), &figure, &without);
    }
    report_leans(&without, &figures.2, &figures.3);
    Ok(())
}

/// Reports the lean builds' figures: the price of tracing compiled in with nothing listening
/// is the lean program with the feature against the same program without it (they differ in
/// that feature only); this binary's figure against the lean one is reported too, though it
/// also measures the layout of a larger program.
fn report_leans(without: &[f64], lean: &[f64], lean_traced: &[f64]) {
    if lean.len() == without.len() {
        report("local.tell_tput.without_tracing", median(lean), "msgs/s");
        report_ratio(
            "ratio.local.tell_tput.bench_no_subscriber_vs_without_tracing",
            without,
            lean,
        );
        if lean_traced.len() == lean.len() {
            report("local.tell_tput.lean_traced", median(lean_traced), "msgs/s");
            report_ratio(
                "ratio.local.tell_tput.no_subscriber_vs_without_tracing",
                lean_traced,
                lean,
            );
        } else {
            eprintln!(
                "local.tell_tput.lean_traced: not measured; build it with `cargo build --release \
                 --manifest-path bench/lean/Cargo.toml --features tracing --target-dir \
                 bench/lean/target-traced`"
            );
        }
    } else {
        eprintln!(
            "local.tell_tput.without_tracing: not measured; build it with \
             `cargo build --release --manifest-path bench/lean/Cargo.toml`"
        );
    }
}

/// Entry point of the child: installs the subscriber, measures one tell throughput, prints it.
pub(crate) async fn tell_tput_child(args: &[String]) -> Result<(), BoxError> {
    let (Some(subscriber), Some(messages)) = (args.first(), args.get(1)) else {
        return Err(format!("usage: {TELL_TPUT_ARG} <none|fmt|otel> <messages>").into());
    };
    let messages: u64 = messages.parse()?;
    let _provider = install(subscriber)?;
    let node = Node::new();
    let sink = node.spawn(Sink::default()).await?;
    // Warm up the mailbox's buffer and the actor's task.
    for i in 0..messages / 10 {
        sink.push(i).await?;
    }
    sink.get().await?;
    // From a task on a worker, as `local.tell_tput` measures it.
    let start = Instant::now();
    tokio::spawn(async move {
        for i in 0..messages {
            sink.push(i).await?;
        }
        sink.get().await
    })
    .await??;
    let tput = messages as f64 / start.elapsed().as_secs_f64();
    raw_tcp::announce(tput)?;
    std::process::exit(0)
}

/// Installs the subscriber named `which` as the global default; returns what must live as
/// long as it does.
fn install(which: &str) -> Result<Option<opentelemetry_sdk::trace::SdkTracerProvider>, BoxError> {
    match which {
        "none" => Ok(None),
        "fmt" => {
            let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::sink);
            let subscriber = tracing_subscriber::registry()
                .with(fmt)
                .with(tracing_subscriber::filter::LevelFilter::INFO);
            tracing::subscriber::set_global_default(subscriber)?;
            Ok(None)
        }
        "otel" => {
            use opentelemetry::trace::TracerProvider as _;
            // Spans are recorded and dropped at their end: the cost measured is the bridge's.
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
            let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
            let subscriber = tracing_subscriber::registry()
                .with(layer)
                .with(tracing_subscriber::filter::LevelFilter::DEBUG);
            tracing::subscriber::set_global_default(subscriber)?;
            Ok(Some(provider))
        }
        other => Err(format!("unknown subscriber `{other}`").into()),
    }
}
