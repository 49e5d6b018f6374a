//! # distribute-dashboard
//!
//! A live web page of a [`distribute`] cluster: every node, its supervision trees (supervisor
//! type and strategy, each child's state, restarts, mailbox depth and message rate), its
//! names, groups and peers with their traffic, updated as they change.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use distribute::Node;
//! use distribute_dashboard::Dashboard;
//!
//! # async fn run(node: Node) -> std::io::Result<()> {
//! let dashboard = Dashboard::new(node)
//!     .interval(Duration::from_millis(500))
//!     .serve_local() // 127.0.0.1, a port the OS chooses
//!     .await?;
//! println!("dashboard at {}", dashboard.url());
//! // ... the page updates until the handle is dropped or shut down:
//! dashboard.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ## Routes
//!
//! - `/`: one self-contained HTML page (inline CSS and JavaScript), which follows `/events`;
//! - `/api/cluster`: the latest view as JSON (`{"view": ..., "snapshot": ...}`: the
//!   [`view::ClusterView`] with rates, and the [`ClusterSnapshot`] it was built from);
//! - `/events`: Server-Sent Events, one `view` event (a [`view::ClusterView`] as JSON) per
//!   interval.
//!
//! ## Security
//!
//! The page shows the whole cluster, names and ids included, to anyone who can reach it, with
//! no authentication. **Do not expose it beyond loopback or a trusted network.** It listens on
//! 127.0.0.1 unless told otherwise; requests that name the server by a host name other than
//! `localhost` are refused (against DNS rebinding) unless [`Dashboard::allow_host`] lists it.
//!
//! ## Costs and bounds
//!
//! One task takes a snapshot of the cluster per interval ([`DEFAULT_INTERVAL`]), however many
//! pages are open, and serializes it once; every client reads that. At most
//! [`DEFAULT_MAX_CLIENTS`] pages follow the stream at once ([`Dashboard::max_clients`]); one
//! more is answered 503. Message rates are computed here, from consecutive snapshots
//! ([`rates`]): messages handled between two snapshots of a node, divided by the time between
//! them on that node's clock.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use distribute::introspect::{ClusterSnapshot, IntrospectOptions};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

pub mod rates;
mod sampler;
mod server;
pub mod view;

#[cfg(test)]
mod fixtures;

use sampler::Source;

/// How often the dashboard takes a snapshot unless [`Dashboard::interval`] says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(500);

/// The shortest interval [`Dashboard::interval`] accepts; shorter ones are raised to it.
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// How many pages may follow the live stream at once unless [`Dashboard::max_clients`] says
/// otherwise.
pub const DEFAULT_MAX_CLIENTS: usize = 32;

/// How long [`Dashboard::new`] waits for each member's snapshot: a member slower than that is
/// shown unavailable rather than holding up the page.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest a whole snapshot may take, at least; a slower one is abandoned and the pages
/// keep the previous one (a safety net: members have [`PEER_TIMEOUT`] each).
const MIN_SNAPSHOT_BUDGET: Duration = Duration::from_secs(10);

/// How long [`DashboardHandle::shutdown`] waits for open connections to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A dashboard, configured and not yet serving. [`Dashboard::serve`] starts it.
pub struct Dashboard {
    source: Source,
    interval: Duration,
    max_clients: usize,
    allowed_hosts: Vec<String>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("interval", &self.interval)
            .field("max_clients", &self.max_clients)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// A dashboard of the cluster that `node` is a member of, as `node` gathers it
    /// ([`Node::introspect_cluster`](distribute::Node::introspect_cluster)).
    ///
    /// Each member has [`PEER_TIMEOUT`] to answer; one that does not is shown unavailable
    /// with the error, and the others are shown as they answered.
    pub fn new(node: distribute::Node) -> Self {
        let options = IntrospectOptions {
            timeout: PEER_TIMEOUT,
            ..IntrospectOptions::default()
        };
        Self::from_source(move || {
            let node = node.clone();
            async move { node.introspect_cluster_with(options).await }
        })
    }

    /// A dashboard of the snapshots `source` returns, one call per interval: for snapshots
    /// gathered another way, or made up in a test.
    pub fn from_source<F, Fut>(source: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ClusterSnapshot> + Send + 'static,
    {
        Dashboard {
            source: Arc::new(move || Box::pin(source())),
            interval: DEFAULT_INTERVAL,
            max_clients: DEFAULT_MAX_CLIENTS,
            allowed_hosts: Vec::new(),
        }
    }

    /// How often to take a snapshot and update the pages ([`DEFAULT_INTERVAL`]; at least
    /// [`MIN_INTERVAL`]).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(MIN_INTERVAL);
        self
    }

    /// How many pages may follow the live stream at once ([`DEFAULT_MAX_CLIENTS`]; at least 1).
    pub fn max_clients(mut self, max_clients: usize) -> Self {
        self.max_clients = max_clients.max(1);
        self
    }

    /// Accepts requests that name the server `host` (a DNS name on a trusted network, without
    /// the port). IP addresses and `localhost` are always accepted.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// Serves the dashboard on 127.0.0.1, on a port the OS chooses
    /// ([`DashboardHandle::url`] tells which).
    ///
    /// # Errors
    ///
    /// When the listening socket cannot be opened.
    pub async fn serve_local(self) -> io::Result<DashboardHandle> {
        self.serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Serves the dashboard on `addr` until the handle is dropped or shut down. Must be
    /// called inside a tokio runtime. Anyone who can reach `addr` sees the whole cluster: keep
    /// it on loopback or a trusted network.
    ///
    /// # Errors
    ///
    /// When the listening socket cannot be opened (address in use, not permitted, ...).
    pub async fn serve(self, addr: SocketAddr) -> io::Result<DashboardHandle> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let (frames_tx, frames) = watch::channel(None);
        let budget = (self.interval * 4).max(MIN_SNAPSHOT_BUDGET);
        let sampler = tokio::spawn(sampler::run(
            self.source,
            self.interval,
            budget,
            frames_tx,
            stopped.clone(),
        ));
        let shared = Arc::new(server::Shared {
            frames,
            clients: Arc::new(Semaphore::new(self.max_clients)),
            allowed_hosts: self.allowed_hosts,
        });
        let mut stopped = stopped;
        let app = server::router(shared);
        let server = tokio::spawn(async move {
            let until_stopped = async move {
                let _ = stopped.wait_for(|stopped| *stopped).await;
            };
            // An accept error ends the server; the page then fails to load, visibly.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(until_stopped)
                .await;
        });
        Ok(DashboardHandle {
            local_addr,
            stop,
            tasks: vec![sampler, server],
        })
    }
}

/// A serving dashboard. Dropping it stops the dashboard; [`DashboardHandle::shutdown`] stops it
/// and waits until it has.
#[derive(Debug)]
pub struct DashboardHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl DashboardHandle {
    /// The address the dashboard listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The page's URL, `http://<address>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// Stops taking snapshots, ends every live stream, stops listening and waits (at most a
    /// few seconds) for open connections to close.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for DashboardHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
