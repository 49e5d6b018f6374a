//! Nodes in OS processes of their own: the `test-node` binary of this package
//! (`bin/test_node.rs`), so that their deaths are real ones.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::{within, COOKIE};

/// A `test-node` process. Dropping it kills and reaps the process, so that no path of a
/// test, a failed assertion included, leaves one behind.
pub struct NodeProcess {
    child: Child,
    /// Where its node listens.
    pub addr: SocketAddr,
}

impl NodeProcess {
    /// Starts `test-node <name> <args>` (the binary at `program`, which a test names with
    /// `env!("CARGO_BIN_EXE_test-node")`) and waits for its `ready <addr>` line.
    pub async fn start(program: &str, name: &str, args: &[String]) -> NodeProcess {
        let child = Command::new(program)
            .arg(name)
            .args(args)
            .env("DISTRIBUTE_COOKIE", COOKIE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("start the test-node process: {error}"));
        // From here on the guard owns the process.
        let mut node = NodeProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let Some(stdout) = node.child.stdout.take() else {
            panic!("the child's stdout is piped");
        };
        // Reading blocks: on a thread of its own, which ends at the latest when the guard
        // kills the process and the pipe closes.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = match within(&format!("the ready line of {name}"), rx).await {
            Ok(Ok(line)) => line,
            other => panic!("no ready line from {name}: {other:?}"),
        };
        node.addr = match line.trim().strip_prefix("ready ").map(str::parse) {
            Some(Ok(addr)) => addr,
            _ => panic!("expected `ready <addr>` from {name}, got {line:?}"),
        };
        node
    }

    /// Closes the process's stdin, which asks it to shut down in order.
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Kills the process with SIGKILL (on Unix) and reaps it.
    pub fn kill(&mut self) -> ExitStatus {
        if let Err(error) = self.child.kill() {
            panic!("kill the child: {error}");
        }
        self.child
            .wait()
            .unwrap_or_else(|error| panic!("reap the child: {error}"))
    }

    /// Waits (without blocking the runtime) until the process exits; fails after the
    /// deadline.
    pub async fn exited(&mut self) -> ExitStatus {
        within("the child process to exit", async {
            loop {
                match self.child.try_wait() {
                    Ok(Some(status)) => return status,
                    Ok(None) => tokio::time::sleep(Duration::from_millis(10)).await,
                    Err(error) => panic!("poll the child: {error}"),
                }
            }
        })
        .await
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // Both fail harmlessly if the process is already gone and reaped.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
