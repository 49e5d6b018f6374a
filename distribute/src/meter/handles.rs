//! Handles that forward to `metrics` with the feature on, and do nothing without it.

use std::sync::Arc;

/// A label value shared by many handles (a node's or a peer's name): cloned without
/// allocating.
pub(crate) type Label = Arc<str>;

/// A monotonic counter.
#[derive(Clone, Default)]
pub(crate) struct Counter {
    #[cfg(feature = "metrics")]
    inner: Option<metrics::Counter>,
}

impl Counter {
    /// Adds `n`.
    #[inline]
    pub(crate) fn increment(&self, n: u64) {
        #[cfg(feature = "metrics")]
        if let Some(inner) = &self.inner {
            inner.increment(n);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = n;
    }
}

#[cfg(feature = "metrics")]
impl From<metrics::Counter> for Counter {
    fn from(inner: metrics::Counter) -> Self {
        Counter { inner: Some(inner) }
    }
}

/// A value that goes up and down.
#[derive(Clone, Default)]
pub(crate) struct Gauge {
    #[cfg(feature = "metrics")]
    inner: Option<metrics::Gauge>,
}

impl Gauge {
    /// Adds `n`.
    #[inline]
    pub(crate) fn increment(&self, n: f64) {
        #[cfg(feature = "metrics")]
        if let Some(inner) = &self.inner {
            inner.increment(n);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = n;
    }

    /// Takes `n` away.
    #[inline]
    pub(crate) fn decrement(&self, n: f64) {
        #[cfg(feature = "metrics")]
        if let Some(inner) = &self.inner {
            inner.decrement(n);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = n;
    }

    /// Sets the value.
    #[inline]
    pub(crate) fn set(&self, value: f64) {
        #[cfg(feature = "metrics")]
        if let Some(inner) = &self.inner {
            inner.set(value);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = value;
    }
}

#[cfg(feature = "metrics")]
impl From<metrics::Gauge> for Gauge {
    fn from(inner: metrics::Gauge) -> Self {
        Gauge { inner: Some(inner) }
    }
}

/// A distribution of observed values.
#[derive(Clone, Default)]
pub(crate) struct Histogram {
    #[cfg(feature = "metrics")]
    inner: Option<metrics::Histogram>,
}

impl Histogram {
    /// Records one observation.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn record(&self, value: f64) {
        #[cfg(feature = "metrics")]
        if let Some(inner) = &self.inner {
            inner.record(value);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = value;
    }
}

#[cfg(feature = "metrics")]
impl From<metrics::Histogram> for Histogram {
    fn from(inner: metrics::Histogram) -> Self {
        Histogram { inner: Some(inner) }
    }
}
