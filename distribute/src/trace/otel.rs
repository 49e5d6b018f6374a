//! The OpenTelemetry bridge (feature `opentelemetry`): the current span's OpenTelemetry
//! context out to a [`TraceContext`], and a received one in as the remote parent of a
//! handler's span, through `tracing-opentelemetry`.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::TraceContext;

/// The OpenTelemetry context of the current span, if it has a valid one (a
/// `tracing-opentelemetry` layer is installed and the span is recorded).
pub(super) fn current_context() -> Option<TraceContext> {
    let span = tracing::Span::current();
    if span.is_none() {
        return None;
    }
    let context = span.context();
    let otel = context.span();
    let span_context = otel.span_context();
    if !span_context.is_valid() {
        return None;
    }
    TraceContext::new(
        span_context.trace_id().to_bytes(),
        span_context.span_id().to_bytes(),
        span_context.trace_flags().to_u8(),
    )
    .ok()
}

/// Makes the span of the caller on another node the parent of `span`.
pub(super) fn set_remote_parent(span: &tracing::Span, context: &TraceContext) {
    if span.is_none() {
        return;
    }
    let remote = SpanContext::new(
        TraceId::from_bytes(context.trace_id()),
        SpanId::from_bytes(context.parent_id()),
        TraceFlags::new(context.flags()),
        true,
        TraceState::default(),
    );
    let parent = opentelemetry::Context::new().with_remote_span_context(remote);
    // Fails only when the span was already started by the layer, which it is not here.
    let _ = span.set_parent(parent);
}
