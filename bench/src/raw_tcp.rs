//! Raw loopback-TCP baselines (pure tokio, no distribute), plus the plumbing to run a peer in a
//! separate OS process: the bench binary re-executes itself with a hidden argument, the child
//! announces its port on stdout and serves one connection. Reusable for remote benchmarks.
//!
//! Wire format: a 4-byte big-endian length followed by that many bytes of body.

use std::fmt::Display;
use std::future::Future;
use std::io::{self, BufRead as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::interleave::{on_worker, Latency};
use crate::BoxError;

/// Hidden command-line argument that turns the bench binary into a one-connection echo server.
pub(crate) const ECHO_SERVER_ARG: &str = "--echo-server";

/// Upper bound on a frame body, so that a corrupt length prefix fails instead of allocating.
const MAX_FRAME: usize = 16 * 1024 * 1024;
/// Capacity of the `BufReader`s and `BufWriter`s on both ends.
const IO_BUFFER: usize = 64 * 1024;
/// How long a child server waits for its parent to connect before giving up.
pub(crate) const ACCEPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the parent waits for a child to announce its port.
pub(crate) const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the parent waits for a child to exit on its own once the connection is closed.
pub(crate) const EXIT_GRACE: Duration = Duration::from_secs(5);

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

pub(crate) fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("timed out waiting for {what}"))
}

/// Awaits a task, turning a panic or cancellation into an `io::Error`.
async fn join<T>(task: JoinHandle<io::Result<T>>) -> io::Result<T> {
    task.await.map_err(io::Error::other)?
}

/// Buffers one frame; the caller decides when to flush.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, body: &[u8]) -> io::Result<()> {
    if body.len() > MAX_FRAME {
        return Err(invalid(format!(
            "frame of {} bytes exceeds {MAX_FRAME}",
            body.len()
        )));
    }
    let len = u32::try_from(body.len()).map_err(|e| invalid(e.to_string()))?;
    writer.write_u32(len).await?;
    writer.write_all(body).await
}

/// Reads one frame into `body`; `Ok(false)` on a clean end of stream at a frame boundary.
pub(crate) async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    body: &mut Vec<u8>,
) -> io::Result<bool> {
    if reader.fill_buf().await?.is_empty() {
        return Ok(false);
    }
    let len = reader.read_u32().await? as usize;
    if len > MAX_FRAME {
        return Err(invalid(format!("frame of {len} bytes exceeds {MAX_FRAME}")));
    }
    body.resize(len, 0);
    reader.read_exact(body).await?;
    Ok(true)
}

/// Echoes every frame back until the peer closes the connection. Replies are flushed as soon
/// as no further request is already buffered, so pipelined requests are answered in batches.
pub(crate) async fn echo(stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, write) = stream.into_split();
    let mut reader = BufReader::with_capacity(IO_BUFFER, read);
    let mut writer = BufWriter::with_capacity(IO_BUFFER, write);
    let mut body = Vec::new();
    while read_frame(&mut reader, &mut body).await? {
        write_frame(&mut writer, &body).await?;
        if reader.buffer().is_empty() {
            writer.flush().await?;
        }
    }
    writer.flush().await
}

/// A connection to an echo server, kept open across rounds of round trips, so that every
/// round measures a warm connection.
pub(crate) struct EchoClient {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
    request: Vec<u8>,
    reply: Vec<u8>,
}

impl EchoClient {
    /// Connects to the echo server at `addr`; every request will carry `payload` bytes.
    pub(crate) async fn connect(addr: SocketAddr, payload: usize) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(EchoClient {
            reader: BufReader::with_capacity(IO_BUFFER, read),
            writer: BufWriter::with_capacity(IO_BUFFER, write),
            request: vec![0x5A; payload],
            reply: Vec::with_capacity(payload),
        })
    }

    /// Sends `warmup + samples` requests one at a time and returns the round-trip times of
    /// the last `samples`.
    pub(crate) async fn ping_pong(&mut self, warmup: usize, samples: usize) -> io::Result<Vec<Duration>> {
        let mut measured = Vec::with_capacity(samples);
        for round in 0..warmup + samples {
            let elapsed = self.ping().await?;
            if round >= warmup {
                measured.push(elapsed);
            }
        }
        Ok(measured)
    }

    /// Sends one request, waits for its echo and returns the round-trip time.
    pub(crate) async fn ping(&mut self) -> io::Result<Duration> {
        let start = Instant::now();
        write_frame(&mut self.writer, &self.request).await?;
        self.writer.flush().await?;
        if !read_frame(&mut self.reader, &mut self.reply).await? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let elapsed = start.elapsed();
        if self.reply.len() != self.request.len() {
            return Err(invalid(format!(
                "reply of {} bytes, expected {}",
                self.reply.len(),
                self.request.len()
            )));
        }
        Ok(elapsed)
    }
}

/// Who serves the echo of an [`Rtt`] baseline.
enum EchoServer {
    Task(JoinHandle<io::Result<()>>),
    Child(ChildProcess),
}

/// The raw round-trip baseline: an echo server (a task of this process, or a child process)
/// and one connection to it, kept across the rounds it is measured in. The rounds measured
/// from the calling task and from a worker task are pooled separately, over every suite that
/// interleaves its figures with them.
pub(crate) struct Rtt {
    /// `None` only while a round runs on a worker task, which holds the client.
    client: Option<EchoClient>,
    server: EchoServer,
    /// Unmeasured and measured round trips per round.
    warmup: usize,
    samples: usize,
    main: Latency,
    task: Latency,
}

impl Rtt {
    fn new(client: EchoClient, server: EchoServer, warmup: usize, samples: usize) -> Self {
        Rtt {
            client: Some(client),
            server,
            warmup,
            samples,
            main: Latency::default(),
            task: Latency::default(),
        }
    }

    /// An echo server task in this process; rounds of `warmup + samples` round trips.
    pub(crate) async fn in_process(payload: usize, warmup: usize, samples: usize) -> Result<Self, BoxError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            echo(stream).await
        });
        match EchoClient::connect(addr, payload).await {
            Ok(client) => Ok(Rtt::new(client, EchoServer::Task(server), warmup, samples)),
            Err(error) => {
                server.abort();
                Err(error.into())
            }
        }
    }

    /// An echo server in a child process (this binary, re-executed).
    pub(crate) async fn cross_process(
        payload: usize,
        warmup: usize,
        samples: usize,
    ) -> Result<Self, BoxError> {
        // On an early return, dropping `child` kills and reaps it.
        let mut child = spawn_self(ECHO_SERVER_ARG)?;
        let port: u16 = child.read_port(ANNOUNCE_TIMEOUT).await?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let client = EchoClient::connect(addr, payload).await?;
        Ok(Rtt::new(client, EchoServer::Child(child), warmup, samples))
    }

    /// One round of round trips from the calling task; returns its p50 in microseconds.
    pub(crate) async fn round(&mut self) -> Result<f64, BoxError> {
        let client = self.client.as_mut().ok_or("the echo client was lost")?;
        self.main.add(client.ping_pong(self.warmup, self.samples).await?);
        Ok(self.main.p50s.last().copied().unwrap_or(0.0))
    }

    /// One round trip from the calling task, not recorded: for figures that pair their
    /// samples with round trips one by one (see [`crate::interleave::paired_samples`]).
    pub(crate) async fn ping(&mut self) -> Result<Duration, BoxError> {
        let client = self.client.as_mut().ok_or("the echo client was lost")?;
        Ok(client.ping().await?)
    }

    /// Records `samples`, round trips from the calling task taken by [`Rtt::ping`], as one
    /// round; returns its p50 in microseconds.
    pub(crate) fn record(&mut self, samples: Vec<Duration>) -> f64 {
        self.main.add(samples);
        self.main.p50s.last().copied().unwrap_or(0.0)
    }

    /// One round of round trips from a task spawned on the runtime; returns its p50.
    pub(crate) async fn round_from_task(&mut self) -> Result<f64, BoxError> {
        let mut client = self.client.take().ok_or("the echo client was lost")?;
        let (warmup, samples) = (self.warmup, self.samples);
        let (client, measured) = on_worker(async move {
            let measured = client.ping_pong(warmup, samples).await;
            Ok((client, measured))
        })
        .await?;
        self.client = Some(client);
        self.task.add(measured?);
        Ok(self.task.p50s.last().copied().unwrap_or(0.0))
    }

    /// Prints `name.p50` / `.p99` over the rounds from the calling task, and
    /// `name_from_task.p50` / `.p99` over those from a worker task, if there were any.
    pub(crate) fn report(&mut self, name: &str) {
        if !self.main.p50s.is_empty() {
            self.main.report(name);
        }
        if !self.task.p50s.is_empty() {
            self.task.report(&format!("{name}_from_task"));
        }
    }

    /// Closes the connection and waits for the server to end.
    pub(crate) async fn close(self) -> Result<(), BoxError> {
        drop(self.client);
        match self.server {
            EchoServer::Task(task) => join(task).await?,
            EchoServer::Child(child) => child.finish(EXIT_GRACE).await?,
        }
        Ok(())
    }
}

/// Throughput in messages per second of `messages` frames of `payload` bytes over one loopback
/// connection, from the first write until the receiver has read the last frame.
pub(crate) async fn throughput(messages: u64, payload: usize) -> io::Result<f64> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, (server, _)) = (client?, accepted?);
    let receiver = tokio::spawn(async move {
        let mut reader = BufReader::with_capacity(IO_BUFFER, server);
        let mut body = Vec::with_capacity(payload);
        for _ in 0..messages {
            if !read_frame(&mut reader, &mut body).await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if body.len() != payload {
                return Err(invalid(format!(
                    "frame of {} bytes, expected {payload}",
                    body.len()
                )));
            }
        }
        Ok(Instant::now())
    });
    let sender = tokio::spawn(async move {
        let body = vec![0xA5; payload];
        let mut writer = BufWriter::with_capacity(IO_BUFFER, client);
        let start = Instant::now();
        for _ in 0..messages {
            write_frame(&mut writer, &body).await?;
        }
        writer.flush().await?;
        writer.shutdown().await?;
        Ok(start)
    });
    let (start, end) = tokio::try_join!(join(sender), join(receiver))?;
    Ok(messages as f64 / end.duration_since(start).as_secs_f64())
}

/// A child process that is killed (if still running) and reaped when dropped, so that no error
/// path leaves a zombie or an orphan behind. Its stdin is a lifeline: the child sees end of file
/// when this process goes away, however it goes away.
pub(crate) struct ChildProcess {
    child: Child,
}

/// Re-executes the current binary with `arg`, stdin and stdout piped, stderr inherited.
pub(crate) fn spawn_self(arg: &str) -> io::Result<ChildProcess> {
    spawn_self_with(&[arg], &[])
}

/// Like [`spawn_self`], with extra environment variables for the child.
pub(crate) fn spawn_self_with_env(arg: &str, env: &[(&str, &str)]) -> io::Result<ChildProcess> {
    spawn_self_with(&[arg], env)
}

/// Like [`spawn_self`], with several arguments.
pub(crate) fn spawn_self_with_args(args: &[&str]) -> io::Result<ChildProcess> {
    spawn_self_with(args, &[])
}

fn spawn_self_with(args: &[&str], env: &[(&str, &str)]) -> io::Result<ChildProcess> {
    spawn_program(&std::env::current_exe()?, args, env)
}

/// Starts `program` with `args` and `env`, its stdin and stdout piped, as a [`ChildProcess`].
pub(crate) fn spawn_program(
    program: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> io::Result<ChildProcess> {
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(ChildProcess { child })
}

impl ChildProcess {
    /// Reads the first line the child prints on stdout and parses it as a TCP port.
    pub(crate) async fn read_port(&mut self, within: Duration) -> io::Result<u16> {
        self.read_announcement(within).await
    }

    /// Reads the first line the child prints on stdout and parses it as a `T` (a port, an
    /// address).
    pub(crate) async fn read_announcement<T>(&mut self, within: Duration) -> io::Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        let stdout = self
            .child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("child stdout is not piped"))?;
        // A blocking read on a pool thread; if it times out, dropping `self` kills the child,
        // which ends the read.
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let line = tokio::time::timeout(within, line)
            .await
            .map_err(|_| timed_out("the child's announcement"))?
            .map_err(io::Error::other)??;
        line.trim()
            .parse()
            .map_err(|e| invalid(format!("child announced {line:?}: {e}")))
    }

    /// Closes the child's stdin (the lifeline: a child serving until its parent is gone exits
    /// now) and waits up to `grace` for it to exit on its own, then kills it. Errors if it had
    /// to be killed or did not exit successfully.
    pub(crate) async fn finish(mut self, grace: Duration) -> io::Result<()> {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + grace;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(io::Error::other(format!("child exited with {status}")))
                };
            }
            if Instant::now() >= deadline {
                // Drop kills and reaps it.
                return Err(timed_out("the child to exit"));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        // Reaps it; returns the cached status if it already was.
        let _ = self.child.wait();
    }
}

/// Child side: binds 127.0.0.1:0, prints the port on stdout, accepts one connection and runs
/// `serve` on it. Returns when `serve` does, when no connection arrives in time, or as soon as
/// the parent closes our stdin (i.e. the parent is gone).
pub(crate) async fn serve_one_child<F, Fut>(serve: F) -> io::Result<()>
where
    F: FnOnce(TcpStream) -> Fut,
    Fut: Future<Output = io::Result<()>>,
{
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    announce(listener.local_addr()?.port())?;
    let parent_gone = lifeline()?;
    tokio::select! {
        served = async {
            let (stream, _) = tokio::time::timeout(ACCEPT_TIMEOUT, listener.accept())
                .await
                .map_err(|_| timed_out("the parent to connect"))??;
            serve(stream).await
        } => served,
        _ = parent_gone => Ok(()),
    }
}

/// Child side: prints `what` as one line on stdout, which the parent reads with
/// [`ChildProcess::read_announcement`].
pub(crate) fn announce(what: impl Display) -> io::Result<()> {
    use std::io::Write as _;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{what}")?;
    stdout.flush()
}

/// Resolves when stdin reaches end of file (or fails). A plain thread rather than
/// `tokio::io::stdin`, whose blocking read would hold up the runtime's shutdown.
pub(crate) fn lifeline() -> io::Result<oneshot::Receiver<()>> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("lifeline".into())
        .spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            let _ = tx.send(());
        })?;
    Ok(rx)
}

/// Entry point of the `--echo-server` child: echoes one connection, exits when it closes.
pub(crate) async fn echo_server_child() -> io::Result<()> {
    serve_one_child(echo).await
}
