//! Traces: the caller's span is the parent of the handler's `handle` span, locally (tell and
//! ask) and across two nodes over real TCP, where the W3C trace context in a TracedMessage
//! frame links the two through `tracing-opentelemetry`; an untraced call carries no context.
//!
//! One subscriber serves every test of this binary (a global default, since actors run on
//! the runtime's worker threads): a layer that records each span's name, fields and parent,
//! and the OpenTelemetry layer with an in-memory exporter. Each test finds its own spans by
//! the ids of its actors and spans.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use distribute::prelude::*;
use distribute::trace::TraceContext;
use distribute::transport::FrameKind;
use distribute::{Message as _, NodeDownReason};
use distribute_tests::fake_peer::{message_body, FakePeer};
use distribute_tests::{
    addr, counter_tag, net_node, shutdown, until, wait_event, within, Counter, CounterClient, CounterMsg,
    Gate, COOKIE,
};
use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Instrument as _, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A span as the recording layer saw it created.
#[derive(Debug, Clone)]
struct Recorded {
    name: &'static str,
    parent: Option<Id>,
    fields: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl Recorder {
    fn spans(&self) -> Vec<Recorded> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The `handle` spans of the actor `actor` for the message `message`.
    fn handled(&self, actor: ActorId, message: &str) -> Vec<Recorded> {
        let actor = actor.to_string();
        self.spans()
            .into_iter()
            .filter(|s| {
                s.name == "handle"
                    && s.fields.get("actor") == Some(&actor)
                    && s.fields.get("message").map(String::as_str) == Some(message)
            })
            .collect()
    }
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = ctx.span(id).and_then(|span| span.parent()).map(|p| p.id());
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let recorded = Recorded {
            name: attrs.metadata().name(),
            parent,
            fields,
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(recorded);
    }
}

struct Tracing {
    recorder: Recorder,
    exporter: InMemorySpanExporter,
}

/// Installs the process's subscriber once; every test of this binary shares it.
fn tracing() -> &'static Tracing {
    static TRACING: OnceLock<Tracing> = OnceLock::new();
    TRACING.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let recorder = Recorder::default();
        let subscriber = tracing_subscriber::registry()
            .with(recorder.clone())
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("trace_context")));
        tracing::subscriber::set_global_default(subscriber).unwrap_or_else(|e| panic!("subscriber: {e}"));
        Tracing { recorder, exporter }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_tell_and_ask_are_handled_in_spans_whose_parent_is_the_callers_span() {
    let recorder = &tracing().recorder;
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.expect("spawn");

    let tell_span = tracing::info_span!("tell_caller");
    let tell_id = tell_span.id().expect("the subscriber records the caller's span");
    counter.add(1).instrument(tell_span).await.expect("tell");
    let ask_span = tracing::info_span!("ask_caller");
    let ask_id = ask_span.id().expect("the subscriber records the caller's span");
    assert_eq!(counter.get().instrument(ask_span).await, Ok(1));
    // Handled in order: once this call returns, the tell's handler span exists.
    assert_eq!(counter.get().await, Ok(1));

    let told = recorder.handled(counter.id(), "add");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].parent, Some(tell_id));
    assert_eq!(
        told[0].fields.get("actor_type").map(String::as_str),
        Some("Counter")
    );
    let asked = recorder.handled(counter.id(), "get");
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[0].parent, Some(ask_id));
    // A call from outside any span is handled in a root span.
    assert_eq!(asked[1].parent, None);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_span_records_whether_the_handler_panicked() {
    let exporter = &tracing().exporter;
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.expect("spawn");
    assert_eq!(counter.get().await, Ok(0));
    assert!(counter.boom("on purpose".into()).await.is_err());
    let actor = counter.id().to_string();
    let outcome = |message: &str| {
        exported_handle_spans(exporter, &actor, message)
            .first()
            .and_then(|span| attribute(span, "outcome"))
    };
    until("both handler spans to end", || {
        outcome("get").is_some() && outcome("boom").is_some()
    })
    .await;
    assert_eq!(outcome("get").as_deref(), Some("ok"));
    assert_eq!(outcome("boom").as_deref(), Some("panicked"));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_call_in_a_span_is_handled_under_the_same_trace_on_the_other_node() {
    let exporter = &tracing().exporter;
    let (a, b) = (net_node("trace-a").await, net_node("trace-b").await);
    within("connect", a.connect(addr(&b))).await.expect("connect");
    let counter = b.spawn(Counter::new(Gate::new())).await.expect("spawn");
    b.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = a.lookup_on(b.id(), "counter").await.expect("lookup");

    let caller = tracing::info_span!("remote_caller");
    let caller_context = caller.context().span().span_context().clone();
    assert!(
        caller_context.is_valid(),
        "the OpenTelemetry layer gives the caller a context"
    );
    assert_eq!(within("traced ask", remote.get().instrument(caller)).await, Ok(0));

    let actor = counter.id().to_string();
    until("the handler's span on b", || {
        !exported_handle_spans(exporter, &actor, "get").is_empty()
    })
    .await;
    let handled = exported_handle_spans(exporter, &actor, "get");
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].span_context.trace_id(), caller_context.trace_id());
    assert_eq!(handled[0].parent_span_id, caller_context.span_id());
    assert_eq!(attribute(&handled[0], "outcome").as_deref(), Some("ok"));
    shutdown(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_call_outside_any_span_carries_no_trace_context() {
    let exporter = &tracing().exporter;
    let (a, b) = (net_node("plain-a").await, net_node("plain-b").await);
    within("connect", a.connect(addr(&b))).await.expect("connect");
    let counter = b.spawn(Counter::new(Gate::new())).await.expect("spawn");
    b.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = a.lookup_on(b.id(), "counter").await.expect("lookup");

    remote.add(2).await.expect("untraced tell");
    assert_eq!(within("untraced ask", remote.get()).await, Ok(2));

    let actor = counter.id().to_string();
    until("the handlers' spans on b", || {
        !exported_handle_spans(exporter, &actor, "add").is_empty()
            && !exported_handle_spans(exporter, &actor, "get").is_empty()
    })
    .await;
    for message in ["add", "get"] {
        let handled = exported_handle_spans(exporter, &actor, message);
        assert_eq!(handled.len(), 1);
        assert_eq!(
            handled[0].parent_span_id,
            SpanId::INVALID,
            "{message} has a parent"
        );
    }
    shutdown(&[&a, &b]).await;
}

/// The example of the W3C recommendation: a `traceparent` a peer may send.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_message_from_a_peer_is_handled_under_its_trace_and_a_bad_prefix_disconnects() {
    let exporter = &tracing().exporter;
    let node = net_node("traced-target").await;
    let mut events = node.events();
    let counter = node.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let get = message_body(counter.id(), CounterMsg::FINGERPRINT, counter_tag("get"), 7, &[]);
    let context: TraceContext = TRACEPARENT.parse().expect("the spec's example");
    let mut traced = Vec::new();
    context.encode(&mut traced);
    traced.extend_from_slice(&get);

    let mut peer = FakePeer::connect(addr(&node), "tracer", COOKIE)
        .await
        .expect("handshake");
    peer.send_frame(FrameKind::TracedMessage, &traced).await;
    assert_eq!(peer.reply(7).await.0, 0, "the traced call is answered");
    let actor = counter.id().to_string();
    until("the handler's span", || {
        !exported_handle_spans(exporter, &actor, "get").is_empty()
    })
    .await;
    let handled = exported_handle_spans(exporter, &actor, "get");
    assert_eq!(
        handled[0].span_context.trace_id(),
        TraceId::from_bytes(context.trace_id())
    );
    assert_eq!(handled[0].parent_span_id, SpanId::from_bytes(context.parent_id()));
    assert_eq!(
        attribute(&handled[0], "remote_parent").as_deref(),
        Some(TRACEPARENT)
    );

    // Version 1 is unknown: the frame is malformed and the peer is disconnected.
    traced[0] = 1;
    peer.send_frame(FrameKind::TracedMessage, &traced).await;
    let event = wait_event(
        &mut events,
        "the peer's NodeDown",
        |e| matches!(e, NodeEvent::NodeDown { name, .. } if name == "tracer"),
    )
    .await;
    assert!(
        matches!(&event, NodeEvent::NodeDown { reason: NodeDownReason::ProtocolViolation(why), .. } if why.contains("version")),
        "{event:?}"
    );
    // The node keeps serving.
    assert_eq!(counter.get().await, Ok(0));
    node.shutdown().await;
}

/// The exported `handle` spans of the actor `actor` (its id as text) for `message`.
fn exported_handle_spans(exporter: &InMemorySpanExporter, actor: &str, message: &str) -> Vec<SpanData> {
    let spans = exporter.get_finished_spans().unwrap_or_default();
    spans
        .into_iter()
        .filter(|span| {
            span.name == "handle"
                && attribute(span, "actor").as_deref() == Some(actor)
                && attribute(span, "message").as_deref() == Some(message)
        })
        .collect()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}
