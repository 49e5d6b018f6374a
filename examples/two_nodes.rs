//! Two nodes in two OS processes: a client calls a key-value service on a server over TCP.
//!
//! Run with `cargo run --example two_nodes`. This program plays both roles:
//!
//! - without arguments it is the **client**: it starts a second copy of itself with
//!   `--serve`, reads the server's address from the child's stdout, starts its own node,
//!   connects, finds the service by name, calls it, shows a typed error, asks the server to
//!   stop, sees the server's node go down with an orderly goodbye, and exits;
//! - with `--serve` it is the **server**: it starts a node, registers a `KvStore` actor
//!   under the name `kv`, prints `ready <address>`, and serves until it is told to stop or
//!   its stdin closes (so it never outlives the client).
//!
//! Both nodes share a secret cookie: the client makes a fresh one for each run and hands it
//! to the server in the `DISTRIBUTE_COOKIE` environment variable, which a node reads when
//! its builder is given no cookie. A node with another cookie cannot connect.
//!
//! The server's own lines are prefixed with `[server]`; the two processes print
//! concurrently, so those lines may interleave with the client's.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use distribute::prelude::*;
use distribute::{NodeDownReason, RegistryError};
use tokio::sync::oneshot;

/// How long the client waits for each step of the other process.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The service: a map from strings to strings. Both processes compile this same
/// definition, so their nodes agree on its protocol (`lookup_on` checks a fingerprint).
#[actor]
struct KvStore {
    entries: BTreeMap<String, String>,
    /// Fired by `stop_server`; the server's `main` waits on it. Not part of any message,
    /// so it need not be serializable.
    stop: Option<oneshot::Sender<()>>,
}

#[actor]
impl KvStore {
    /// Stores `value` under `key`; returns the value it replaces.
    #[message]
    fn put(&mut self, key: String, value: String) -> Option<String> {
        self.entries.insert(key, value)
    }

    /// The value under `key`.
    #[message]
    fn get(&self, key: String) -> Option<String> {
        self.entries.get(&key).cloned()
    }

    /// Every key, in order.
    #[message]
    fn keys(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// Asks the server process to shut its node down and exit; returns how many entries
    /// the store held. The reply leaves before the shutdown starts.
    #[message]
    fn stop_server(&mut self) -> usize {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.entries.len()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        serve().await
    } else {
        client().await
    }
}

/// The server role.
async fn serve() -> Result<(), Box<dyn Error>> {
    // No `.cookie(...)`: the node reads DISTRIBUTE_COOKIE, set by the client.
    let node = Node::builder().name("server").start().await?;
    let addr = node.listen_addr().ok_or("the server's node is not networked")?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let store = KvStore {
        entries: BTreeMap::new(),
        stop: Some(stop_tx),
    };
    let kv = node.spawn(store).await?;
    node.register_local("kv", &kv)?;
    say(&format!(
        "[server] Node `{}` ({}) serves a KvStore as `kv`.",
        node.name(),
        node.id()
    ));
    // The one line the client parses.
    say(&format!("ready {addr}"));

    let why = tokio::select! {
        _ = stop_rx => "Asked to stop",
        _ = stdin_closed() => "The client is gone (stdin closed)",
    };
    say(&format!("[server] {why}: shutting the node down."));
    node.shutdown().await;
    say("[server] Node shut down, exiting with status 0.");
    Ok(())
}

/// Resolves when this process's stdin reaches its end: the parent closed it, or died.
async fn stdin_closed() {
    let (tx, rx) = oneshot::channel::<()>();
    // Reading stdin blocks, so it gets a thread of its own.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// Prints a line on stdout; a closed stdout is not worth failing for.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The client role.
async fn client() -> Result<(), Box<dyn Error>> {
    let cookie = fresh_cookie();
    let mut server = ServerProcess::start(&cookie)?;
    println!(
        "1. Started the server: this program again, with `--serve`, as process {}.\n   \
         It gets this run's fresh cookie in DISTRIBUTE_COOKIE.",
        server.child.id()
    );
    let addr = server.ready().await?;
    println!("2. The server says its node listens on {addr}.");

    let node = Node::builder().name("client").cookie(&cookie).start().await?;
    let mut events = node.events();
    let server_id = node.connect(addr).await?;
    println!(
        "3. Started node `client` ({}) and connected; the handshake proved both know the cookie.\n   \
         The server's node is {server_id}.",
        node.id()
    );

    let kv: ActorRef<KvStore> = node.lookup_on(server_id, "kv").await?;
    println!(
        "4. Looked up `kv` on the server: {}, a remote ref (is_local: {}).",
        kv.id(),
        kv.is_local()
    );

    let replaced = kv.put("language".into(), "Rust".into()).await?;
    println!("5. put(language, Rust) over TCP: it replaced {replaced:?}.");
    kv.put("runtime".into(), "tokio".into()).await?;
    let replaced = kv.put("language".into(), "Rust 2021".into()).await?;
    println!("   put(runtime, tokio), then put(language, Rust 2021): it replaced {replaced:?}.");
    let language = kv.get("language".into()).await?;
    let missing = kv.get("colour".into()).await?;
    println!("   get(language) = {language:?}, get(colour) = {missing:?}.");
    println!("   keys() = {:?}. Every reply is typed.", kv.keys().await?);

    match node.lookup_on::<KvStore>(server_id, "no-such-service").await {
        Err(err @ RegistryError::NotFound { .. }) => {
            println!("6. Looking up a name the server never registered is a typed error: {err}.");
        }
        Ok(found) => return Err(format!("`no-such-service` unexpectedly found: {}", found.id()).into()),
        Err(other) => return Err(other.into()),
    }

    let held = kv.stop_server().await?;
    println!("7. Asked the server to stop; its store held {held} entries.");
    let reason = loop {
        let event = tokio::time::timeout(STEP_TIMEOUT, events.recv())
            .await
            .map_err(|_| "no NodeDown for the server in time")?;
        match event {
            Some(NodeEvent::NodeDown { node, reason, .. }) if node == server_id => break reason,
            Some(_) => {}
            None => return Err("the client's event stream ended".into()),
        }
    };
    if reason != NodeDownReason::PeerShutdown {
        return Err(format!("expected the server to say goodbye, but its node went down: {reason}").into());
    }
    println!("8. NodeDown for the server, reason `{reason}`: it said goodbye, nothing was lost.");
    match kv.get("language".into()).await {
        Err(err @ CallError::NodeDown { .. }) => println!("   Calls to it now fail at once: {err}."),
        other => return Err(format!("unexpected answer from a stopped server: {other:?}").into()),
    }

    let status = server.exited().await?;
    if !status.success() {
        return Err(format!("the server process failed: {status}").into());
    }
    println!("9. The server process exited: {status}.");
    node.shutdown().await;
    println!("10. Client node shut down. Done.");
    Ok(())
}

/// A cookie for this run only, from the clock and the process id. Good enough to keep
/// apart the runs of an example; a real cluster gets a secret from its deployment.
fn fresh_cookie() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    format!("two-nodes-{}-{nanos:x}", std::process::id())
}

/// The server process, as the client sees it. Dropping it kills and reaps the process if
/// it is still running, so that a client failing half-way leaves no orphan behind.
struct ServerProcess {
    child: Child,
    ready: Option<oneshot::Receiver<Result<SocketAddr, String>>>,
}

impl ServerProcess {
    /// Starts this program with `--serve` and `cookie` in DISTRIBUTE_COOKIE.
    fn start(cookie: &str) -> Result<ServerProcess, Box<dyn Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--serve")
            .env("DISTRIBUTE_COOKIE", cookie)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take();
        // From here on the guard owns the process.
        let mut server = ServerProcess { child, ready: None };
        let stdout = stdout.ok_or("the server's stdout is not piped")?;
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || forward_output(stdout, tx));
        server.ready = Some(rx);
        Ok(server)
    }

    /// Waits for the server's `ready <address>` line.
    async fn ready(&mut self) -> Result<SocketAddr, Box<dyn Error>> {
        let rx = self.ready.take().ok_or("already waited for the server")?;
        match tokio::time::timeout(STEP_TIMEOUT, rx).await {
            Ok(Ok(Ok(addr))) => Ok(addr),
            Ok(Ok(Err(error))) => Err(error.into()),
            Ok(Err(_)) => Err("the server's output stopped before it was ready".into()),
            Err(_) => Err("the server was not ready in time".into()),
        }
    }

    /// Waits, without blocking the runtime, for the server process to exit.
    async fn exited(&mut self) -> Result<ExitStatus, Box<dyn Error>> {
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err("the server process did not exit in time".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads the server's stdout: reports the address of its `ready` line through `ready`,
/// and prints every other line, indented, on this process's stdout.
fn forward_output(stdout: ChildStdout, ready: oneshot::Sender<Result<SocketAddr, String>>) {
    let mut ready = Some(ready);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        match line.strip_prefix("ready ") {
            Some(addr) => {
                if let Some(ready) = ready.take() {
                    let parsed = addr
                        .trim()
                        .parse()
                        .map_err(|e| format!("bad address {addr:?}: {e}"));
                    let _ = ready.send(parsed);
                }
            }
            None => say(&format!("   {line}")),
        }
    }
}
