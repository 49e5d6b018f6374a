//! The raw baseline of a global registration's pattern: three parties on loopback TCP (pure
//! tokio, no `distribute`) passing fixed 64-byte frames along the registration's chain.
//!
//! The claimant Z sends a claim to the sequencer S; S sends a commit to the third party W; W
//! acknowledges it to S; S sends Z its commit; Z's reader wakes the waiting caller through a
//! oneshot, as a registry's reader answers its caller (Z does not acknowledge its own commit,
//! as a registry's claimant does not since protocol version 5). Four one-way hops and four
//! frames, as `register_global` costs from a node that is not the sequencer: the floor of that
//! chain on this machine, which a raw round trip (two hops) does not show.

use std::io;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::interleave::{on_worker, Latency};
use crate::BoxError;

/// Every frame's size; its first byte says what it is.
const FRAME: usize = 64;
const CLAIM: u8 = 1;
const COMMIT: u8 = 2;
const ACK: u8 = 3;

/// A connected pair of loopback sockets, `TCP_NODELAY` on both.
async fn pair() -> io::Result<(Arc<TcpStream>, Arc<TcpStream>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let near = TcpStream::connect(listener.local_addr()?).await?;
    let (far, _) = listener.accept().await?;
    near.set_nodelay(true)?;
    far.set_nodelay(true)?;
    Ok((Arc::new(near), Arc::new(far)))
}

/// Reads one frame; its kind.
async fn read_frame(stream: &TcpStream) -> io::Result<u8> {
    let mut frame = [0u8; FRAME];
    let mut got = 0;
    while got < FRAME {
        stream.readable().await?;
        match stream.try_read(&mut frame[got..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(frame[0])
}

/// Writes one frame of `kind`, straight from the calling task as the registry's steps do.
async fn write_frame(stream: &TcpStream, kind: u8) -> io::Result<()> {
    let mut frame = [0u8; FRAME];
    frame[0] = kind;
    let mut sent = 0;
    while sent < FRAME {
        match stream.try_write(&frame[sent..]) {
            Ok(n) => sent += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => stream.writable().await?,
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Where Z's reader finds the caller waiting for its answer.
type Waiting = Arc<Mutex<Option<oneshot::Sender<()>>>>;

/// The three parties' connections and reader tasks, kept across rounds.
pub(crate) struct Chain {
    /// Z's end of its connection to S, which the caller writes its claims to.
    claims: Arc<TcpStream>,
    waiting: Waiting,
    readers: Vec<JoinHandle<io::Result<()>>>,
    warmup: usize,
    samples: usize,
    task: Latency,
}

impl Chain {
    /// Connects the three parties and starts their readers; rounds of `warmup + samples`
    /// registrations.
    pub(crate) async fn new(warmup: usize, samples: usize) -> Result<Self, BoxError> {
        let (z_to_s, s_from_z) = pair().await?;
        let (s_to_w, w_from_s) = pair().await?;
        let waiting: Waiting = Arc::default();
        let readers = vec![
            // S: a claim from Z goes on to W as a commit.
            tokio::spawn(serve(Arc::clone(&s_from_z), {
                let s_to_w = Arc::clone(&s_to_w);
                move |kind| (kind == CLAIM).then(|| (Arc::clone(&s_to_w), COMMIT))
            })),
            // S: W's acknowledgement releases Z's commit.
            tokio::spawn(serve(Arc::clone(&s_to_w), {
                let s_from_z = Arc::clone(&s_from_z);
                move |_| Some((Arc::clone(&s_from_z), COMMIT))
            })),
            // W: a commit is acknowledged to S.
            tokio::spawn(serve(Arc::clone(&w_from_s), {
                let w_from_s = Arc::clone(&w_from_s);
                move |_| Some((Arc::clone(&w_from_s), ACK))
            })),
            tokio::spawn(answer(Arc::clone(&z_to_s), Arc::clone(&waiting))),
        ];
        Ok(Chain {
            claims: z_to_s,
            waiting,
            readers,
            warmup,
            samples,
            task: Latency::default(),
        })
    }

    /// One round of registrations from a task on a worker; returns its p50 in microseconds.
    pub(crate) async fn round_from_task(&mut self) -> Result<f64, BoxError> {
        let (claims, waiting) = (Arc::clone(&self.claims), Arc::clone(&self.waiting));
        let (warmup, samples) = (self.warmup, self.samples);
        let measured = on_worker(async move {
            let mut measured = Vec::with_capacity(samples);
            for round in 0..warmup + samples {
                let start = Instant::now();
                register(&claims, &waiting).await?;
                if round >= warmup {
                    measured.push(start.elapsed());
                }
            }
            Ok::<Vec<Duration>, BoxError>(measured)
        })
        .await?;
        self.task.add(measured);
        Ok(self.task.p50s.last().copied().unwrap_or(0.0))
    }

    /// Prints `name_from_task.p50` / `.p99` over the rounds.
    pub(crate) fn report(&mut self, name: &str) {
        if !self.task.p50s.is_empty() {
            self.task.report(&format!("{name}_from_task"));
        }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// One registration: the claim, then the answer.
async fn register(claims: &TcpStream, waiting: &Waiting) -> Result<(), BoxError> {
    let (answer, answered) = oneshot::channel();
    *waiting.lock().map_err(|_| "the waiting slot is poisoned")? = Some(answer);
    write_frame(claims, CLAIM).await?;
    answered.await.map_err(|_| "Z's reader ended")?;
    Ok(())
}

/// Reads frames from `from` and writes what `reply` says each one calls for.
async fn serve(from: Arc<TcpStream>, reply: impl Fn(u8) -> Option<(Arc<TcpStream>, u8)>) -> io::Result<()> {
    loop {
        let kind = read_frame(&from).await?;
        if let Some((to, kind)) = reply(kind) {
            write_frame(&to, kind).await?;
        }
    }
}

/// Z's reader: each commit answers the waiting caller.
async fn answer(from_s: Arc<TcpStream>, waiting: Waiting) -> io::Result<()> {
    loop {
        read_frame(&from_s).await?;
        let answer = waiting.lock().ok().and_then(|mut slot| slot.take());
        if let Some(answer) = answer {
            let _ = answer.send(());
        }
    }
}
