//! Traces: the crate's spans and events, and the W3C trace context that links a caller's span
//! to its handler's span on another node.
//!
//! Every span and event of the crate goes through the macros of this module
//! (`trace_event!`, `trace_span!`) and the crate-internal span types below, so that the default feature
//! `tracing` can be switched off: without it they expand to code that only type-checks their
//! arguments, and the crate has no `tracing` dependency.
//!
//! A message carries its sender's span to the handler as a `Caller`: nothing (a null
//! pointer) when no subscriber was ever installed or none wants `debug` spans, so an untraced
//! send pays one relaxed atomic load. The [`TraceContext`] is the form a span's identity takes
//! between nodes; its wire encoding needs no feature.

mod w3c;

#[cfg(feature = "opentelemetry")]
mod otel;

pub use w3c::{TraceContext, TraceContextError, TRACE_CONTEXT_LEN};

/// Whether this build of the crate has its `tracing` feature: spans and events compiled in
/// (they cost nothing measurable while no subscriber listens). Without it, they compile to
/// nothing and the crate does not depend on `tracing`.
pub const COMPILED_IN: bool = cfg!(feature = "tracing");

/// An event at `level` (`trace`, `debug`, `info`, `warn` or `error`), in `tracing`'s syntax.
/// Without the `tracing` feature the arguments are type-checked and never evaluated.
#[cfg(feature = "tracing")]
macro_rules! trace_event {
    ($level:ident, $($arg:tt)+) => {
        ::tracing::$level!($($arg)+)
    };
}

/// An event at `level` (`trace`, `debug`, `info`, `warn` or `error`), in `tracing`'s syntax.
/// Without the `tracing` feature the arguments are type-checked and never evaluated.
#[cfg(not(feature = "tracing"))]
macro_rules! trace_event {
    ($level:ident, $($arg:tt)+) => {{
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        if false {
            // The level keeps events that differ only by it apart (`if_same_then_else`).
            let _ = ::core::stringify!($level);
            $crate::trace::use_fields!($($arg)+);
        }
    }};
}

/// A [`Span`] at `level` named `name`, with `tracing`'s field syntax; `Span::none()` without
/// the `tracing` feature (the fields are type-checked and never evaluated).
#[cfg(feature = "tracing")]
macro_rules! trace_span {
    ($level:ident, $name:literal $(, $($field:tt)+)?) => {
        $crate::trace::Span(::tracing::span!(
            $crate::trace::level!($level),
            $name
            $(, $($field)+)?
        ))
    };
}

/// A [`Span`] at `level` named `name`, with `tracing`'s field syntax; `Span::none()` without
/// the `tracing` feature (the fields are type-checked and never evaluated).
#[cfg(not(feature = "tracing"))]
macro_rules! trace_span {
    ($level:ident, $name:literal $(, $($field:tt)+)?) => {{
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        if false {
            $($crate::trace::use_fields!($($field)+);)?
        }
        $crate::trace::Span::none()
    }};
}

/// `tracing::Level` from a level's macro name.
#[cfg(feature = "tracing")]
macro_rules! level {
    (trace) => {
        ::tracing::Level::TRACE
    };
    (debug) => {
        ::tracing::Level::DEBUG
    };
    (info) => {
        ::tracing::Level::INFO
    };
    (warn) => {
        ::tracing::Level::WARN
    };
    (error) => {
        ::tracing::Level::ERROR
    };
}

/// Type-checks the fields and message of an event or span without evaluating them: what the
/// macros above leave when the `tracing` feature is off.
#[cfg(not(feature = "tracing"))]
macro_rules! use_fields {
    () => {};
    ($($name:ident).+ = % $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::trace::use_fields!($($($rest)*)?);
    };
    ($($name:ident).+ = ? $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::trace::use_fields!($($($rest)*)?);
    };
    ($($name:ident).+ = $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::trace::use_fields!($($($rest)*)?);
    };
    (% $($name:ident).+ $(, $($rest:tt)*)?) => {
        let _ = &$($name).+;
        $crate::trace::use_fields!($($($rest)*)?);
    };
    (? $($name:ident).+ $(, $($rest:tt)*)?) => {
        let _ = &$($name).+;
        $crate::trace::use_fields!($($($rest)*)?);
    };
    ($first:ident $(. $more:ident)* $(, $($rest:tt)*)?) => {
        let _ = &$first $(. $more)*;
        $crate::trace::use_fields!($($($rest)*)?);
    };
    ($message:literal $(, $($args:tt)*)?) => {
        let _ = ::core::format_args!($message $(, $($args)*)?);
    };
}

#[cfg(feature = "tracing")]
pub(crate) use level;
pub(crate) use trace_event;
pub(crate) use trace_span;
#[cfg(not(feature = "tracing"))]
pub(crate) use use_fields;

/// The value of a span field recorded later ([`Span::record`]).
#[cfg(feature = "tracing")]
pub(crate) use tracing::field::Empty;

/// The value of a span field recorded later ([`Span::record`]).
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Empty;

/// One of the crate's spans; a unit without the `tracing` feature.
#[cfg(feature = "tracing")]
#[derive(Debug, Clone)]
pub(crate) struct Span(pub(crate) tracing::Span);

/// One of the crate's spans; a unit without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone)]
pub(crate) struct Span;

/// What [`HandleSpan::enter`] returns without the `tracing` feature: nothing to exit.
#[cfg(not(feature = "tracing"))]
pub(crate) struct Entered;

#[cfg(feature = "tracing")]
impl Span {
    /// Records `value` as the field `field` (declared [`Empty`] when the span was made).
    pub(crate) fn record(&self, field: &'static str, value: &'static str) {
        if !self.0.is_none() {
            self.0.record(field, value);
        }
    }

    /// Records `value`'s `Display` form as the field `field`.
    pub(crate) fn record_display(&self, field: &'static str, value: &dyn std::fmt::Display) {
        if !self.0.is_none() {
            self.0.record(field, tracing::field::display(value));
        }
    }

    /// Runs `future` inside this span.
    pub(crate) fn instrument<F: std::future::Future>(
        self,
        future: F,
    ) -> impl std::future::Future<Output = F::Output> {
        tracing::Instrument::instrument(future, self.0)
    }
}

#[cfg(not(feature = "tracing"))]
impl Span {
    /// A span that records nothing.
    pub(crate) fn none() -> Self {
        Span
    }

    /// Records `value` as the field `field`.
    pub(crate) fn record(&self, field: &'static str, value: &'static str) {
        let _ = (field, value);
    }

    /// Records `value`'s `Display` form as the field `field`.
    pub(crate) fn record_display(&self, field: &'static str, value: &dyn std::fmt::Display) {
        let _ = (field, value);
    }

    /// Runs `future` inside this span.
    pub(crate) fn instrument<F: std::future::Future>(self, future: F) -> F {
        future
    }
}

/// Where a message was sent from, for the parent of its handler's span: the sender's span on
/// this node, a span on another node, or nothing.
///
/// One pointer: null when there is nothing to carry (no subscriber, none that wants the
/// handler's span, or no current span), so an untraced message grows by eight bytes and no
/// allocation.
#[derive(Debug, Default)]
pub(crate) struct Caller(#[cfg(feature = "tracing")] Option<Box<Origin>>);

#[cfg(feature = "tracing")]
#[derive(Debug)]
enum Origin {
    Local(tracing::Span),
    Remote(TraceContext),
}

impl Caller {
    /// Whether callers are ever known in this build (the `tracing` feature).
    pub(crate) const TRACKED: bool = cfg!(feature = "tracing");

    /// The current span, if spans of message handlers can be recorded at all. Without a
    /// subscriber this is one relaxed atomic load.
    #[inline]
    pub(crate) fn current() -> Self {
        #[cfg(feature = "tracing")]
        if tracing::dispatcher::has_been_set() {
            return Self::current_span();
        }
        Caller::default()
    }

    #[cfg(feature = "tracing")]
    #[inline(never)]
    fn current_span() -> Self {
        if !tracing::level_enabled!(tracing::Level::DEBUG) {
            return Caller::default();
        }
        let span = tracing::Span::current();
        if span.is_none() {
            return Caller::default();
        }
        Caller(Some(Box::new(Origin::Local(span))))
    }

    /// Whether the caller is known (a span on this node, or a trace context from another).
    #[inline(always)]
    pub(crate) fn is_known(&self) -> bool {
        #[cfg(feature = "tracing")]
        return self.0.is_some();
        #[cfg(not(feature = "tracing"))]
        false
    }

    /// Drops the caller; inlined, so that the common case, no caller, costs one branch and
    /// no call to the drop glue of a span.
    #[inline(always)]
    pub(crate) fn discard(self) {
        #[cfg(feature = "tracing")]
        if let Some(origin) = self.0 {
            drop_origin(origin);
        }
    }

    /// The trace context of a caller on another node.
    #[cfg(all(test, feature = "tracing"))]
    pub(crate) fn remote_context(&self) -> Option<TraceContext> {
        match self.0.as_deref() {
            Some(Origin::Remote(context)) => Some(*context),
            _ => None,
        }
    }

    /// A caller on another node, known by the trace context that came with its message.
    pub(crate) fn remote(context: Option<TraceContext>) -> Self {
        #[cfg(feature = "tracing")]
        if let Some(context) = context {
            return Caller(Some(Box::new(Origin::Remote(context))));
        }
        let _ = context;
        Caller::default()
    }
}

#[cfg(feature = "tracing")]
#[cold]
#[inline(never)]
fn drop_origin(origin: Box<Origin>) {
    drop(origin);
}

/// The trace context to send with a message to another node: the OpenTelemetry context of
/// the current span, with the `opentelemetry` feature; `None` otherwise, or when the current
/// span has none.
pub(crate) fn outgoing_context() -> Option<TraceContext> {
    #[cfg(feature = "opentelemetry")]
    if tracing::dispatcher::has_been_set() {
        return otel::current_context();
    }
    None
}

/// The span of one message's handling, `handle`, while the handler runs: one pointer in the
/// actor's task, null unless a subscriber records the span (so an idle actor's task does not
/// grow by a whole `tracing::Span`).
///
/// The span is at `debug` level, with the actor's type and id, the message's name, and its
/// `outcome` (`ok` or `panicked`) recorded at the end ([`HandleSpan::finish`]). Its parent is
/// the caller's span; a root span when the caller is unknown. A caller on another node is
/// recorded as `remote_parent` (its `traceparent`), and with the `opentelemetry` feature
/// becomes the OpenTelemetry parent of the span.
#[derive(Default)]
pub(crate) struct HandleSpan(#[cfg(feature = "tracing")] Option<Box<tracing::Span>>);

impl HandleSpan {
    /// The span for handling `message`, sent by `caller`, in the actor `actor`. Without a
    /// subscriber that wants `debug` spans this is one atomic load.
    #[inline]
    pub(crate) fn new(
        actor_type: &'static str,
        actor: &dyn std::fmt::Display,
        message: &'static str,
        caller: Caller,
    ) -> Self {
        #[cfg(feature = "tracing")]
        if tracing::level_enabled!(tracing::Level::DEBUG) {
            return Self::record(actor_type, actor, message, caller);
        }
        let _ = (actor_type, actor, message);
        caller.discard();
        HandleSpan::default()
    }

    #[cfg(feature = "tracing")]
    #[inline(never)]
    fn record(
        actor_type: &'static str,
        actor: &dyn std::fmt::Display,
        message: &'static str,
        caller: Caller,
    ) -> Self {
        let parent = match caller.0.as_deref() {
            Some(Origin::Local(span)) => span.id(),
            _ => None,
        };
        let span = tracing::debug_span!(
            target: "distribute::actor",
            parent: parent,
            "handle",
            actor_type,
            actor = %actor,
            message,
            outcome = tracing::field::Empty,
            remote_parent = tracing::field::Empty,
        );
        if span.is_none() {
            return HandleSpan::default();
        }
        if let Some(Origin::Remote(context)) = caller.0.as_deref() {
            span.record("remote_parent", tracing::field::display(context));
            #[cfg(feature = "opentelemetry")]
            otel::set_remote_parent(&span, context);
        }
        HandleSpan(Some(Box::new(span)))
    }

    /// Whether a subscriber may want `handle` spans now: one atomic load.
    #[inline(always)]
    pub(crate) fn wanted() -> bool {
        #[cfg(feature = "tracing")]
        return tracing::level_enabled!(tracing::Level::DEBUG);
        #[cfg(not(feature = "tracing"))]
        false
    }

    /// Makes the span current while the handler is polled.
    #[cfg(feature = "tracing")]
    #[inline]
    pub(crate) fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.0.as_deref().map(tracing::Span::enter)
    }

    /// Makes the span current while the handler is polled.
    #[cfg(not(feature = "tracing"))]
    #[inline]
    pub(crate) fn enter(&self) -> Entered {
        Entered
    }

    /// Records how the handler ended and closes the span.
    #[inline]
    pub(crate) fn finish(&mut self, panicked: bool) {
        #[cfg(feature = "tracing")]
        if let Some(span) = self.0.take() {
            span.record("outcome", if panicked { "panicked" } else { "ok" });
        }
        let _ = panicked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_subscriber_a_caller_carries_nothing() {
        // No test in this binary installs a subscriber.
        assert_eq!(
            format!("{:?}", Caller::current()),
            format!("{:?}", Caller::default())
        );
        assert!(std::mem::size_of::<Caller>() <= std::mem::size_of::<usize>());
    }

    #[test]
    fn events_and_spans_accept_the_crates_field_forms() {
        let (peer, error, connection) = ("p", "e", 3u64);
        trace_event!(debug, %peer, ?error, connection, n = 1, m = %peer, "message {}", connection);
        trace_event!(warn, peer = %peer, "{peer} frame not sent");
        let span = trace_span!(debug, "spawn", actor = %peer, outcome = Empty);
        span.record("outcome", "ok");
        let mut handle = HandleSpan::new("Counter", &1, "add", Caller::current());
        {
            let _entered = handle.enter();
        }
        handle.finish(false);
    }
}
