//! The HTTP side: three routes over the sampler's shared frame.
//!
//! `/` is the page, `/api/cluster` the latest frame as JSON, `/events` a Server-Sent Events
//! stream of frames. What a client can make the server hold is bounded: SSE clients are
//! capped by a semaphore (one more gets 503), each holds one `watch` receiver, and no request
//! body is read. Requests whose `Host` is a name other than `localhost` or an allowed host are
//! refused, so a web page elsewhere cannot read the cluster through DNS rebinding.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{watch, Semaphore};

use crate::sampler::Frame;

/// The page: one file, inline CSS and JavaScript, no build step.
const PAGE: &str = include_str!("page.html");

/// The page may run its own inline script and style and talk to this server only.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

/// How soon a browser reconnects when the stream breaks.
const RECONNECT: Duration = Duration::from_secs(1);

/// What the handlers share.
pub(crate) struct Shared {
    /// The sampler's latest frame.
    pub(crate) frames: watch::Receiver<Option<Arc<Frame>>>,
    /// One permit per SSE client.
    pub(crate) clients: Arc<Semaphore>,
    /// Host names accepted besides IP literals and `localhost`.
    pub(crate) allowed_hosts: Vec<String>,
}

/// The dashboard's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/cluster", get(api_cluster))
        .route("/events", get(events))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), check_host))
        .with_state(shared)
}

async fn check_host(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if host_allowed(request.headers(), &shared.allowed_hosts) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "host not allowed: see Dashboard::allow_host\n",
        )
            .into_response()
    }
}

/// Whether a request's `Host` header names this server as a browser on loopback or a trusted
/// network would: an IP address, `localhost`, or one of `allowed`. A request without the
/// header (not a browser's) is let through.
pub(crate) fn host_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(value) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = value.to_str() else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.parse::<IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

async fn page() -> Response {
    let mut response = axum::response::Html(PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn api_cluster(State(shared): State<Arc<Shared>>) -> Response {
    let frame = shared.frames.borrow().clone();
    match frame {
        Some(frame) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            frame.api_json.clone(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":"no snapshot yet"}"#,
        )
            .into_response(),
    }
}

async fn events(State(shared): State<Arc<Shared>>) -> Response {
    let Ok(permit) = Arc::clone(&shared.clients).try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many dashboard clients\n").into_response();
    };
    let mut frames = shared.frames.clone();
    // The current frame is sent at once; then one per new frame. The stream ends (and the
    // permit is released) when the client goes or the sampler stops.
    frames.mark_changed();
    let stream = futures_util::stream::unfold((frames, permit), |(mut frames, permit)| async move {
        frames.changed().await.ok()?;
        let frame = frames.borrow_and_update().clone();
        let event = match frame {
            Some(frame) => Event::default().event("view").data(frame.view_json.as_str()),
            None => Event::default().comment("no snapshot yet"),
        };
        Some((Ok::<_, Infallible>(event.retry(RECONNECT)), (frames, permit)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("a header value"));
        headers
    }

    #[test]
    fn ip_literals_and_localhost_are_allowed_hosts() {
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "[::1]:80",
            "10.0.0.7:1",
            "LocalHost:9",
        ] {
            assert!(host_allowed(&with_host(host), &[]), "{host}");
        }
        assert!(host_allowed(&HeaderMap::new(), &[]));
    }

    #[test]
    fn other_names_are_refused_unless_allowed() {
        assert!(!host_allowed(&with_host("evil.example:8080"), &[]));
        assert!(!host_allowed(&with_host("localhost.evil.example"), &[]));
        let allowed = vec!["ops.internal".to_owned()];
        assert!(host_allowed(&with_host("ops.internal:8080"), &allowed));
        assert!(!host_allowed(&with_host("evil.example"), &allowed));
    }
}
