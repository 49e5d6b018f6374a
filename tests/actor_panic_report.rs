//! With `defer_panic_reports` installed, a panicking handler's caller hears of the failure
//! before the panic report is written; the report still appears, backtrace included; panics
//! outside actors still go to the hook installed before.
//!
//! A panic hook belongs to the whole process, so the panics happen in a process of their
//! own: `panic-report` (`tests/bin/panic_report.rs`), whose output the test reads.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use distribute_tests::DEADLINE;

/// Runs `panic-report` with `args` and `RUST_BACKTRACE=1`; fails the test if it does not
/// finish within the deadline.
fn panic_report(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_panic-report"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("panic-report {args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn the_caller_fails_before_the_deferred_report_and_other_panics_keep_their_hook() {
    let output = panic_report(&["order"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stderr:\n{stderr}\nstdout:\n{stdout}");

    let caller = stderr
        .find("caller got: Err(ActorFailed")
        .unwrap_or_else(|| panic!("the caller got ActorFailed; stderr:\n{stderr}"));
    let report = stderr
        .find("panicked at ")
        .unwrap_or_else(|| panic!("the report was written; stderr:\n{stderr}"));
    assert!(
        caller < report,
        "the caller was answered before the report was written; stderr:\n{stderr}"
    );
    let report = &stderr[report..];
    assert!(
        report.contains("support/mod.rs"),
        "names the panic's location:\n{report}"
    );
    assert!(
        report.contains("\nhandler exploded\n"),
        "carries the message:\n{report}"
    );
    assert!(
        report.contains("stack backtrace:\n"),
        "has its backtrace:\n{report}"
    );
    assert_eq!(stderr.matches("panicked at ").count(), 1, "one report:\n{stderr}");

    assert!(
        !stdout.contains("previous hook: handler exploded"),
        "the actor's panic was not handed to the previous hook:\n{stdout}"
    );
    assert!(
        stdout.contains("previous hook: outside any actor\nplain thread ended: panicked"),
        "a panic outside actors went to the previous hook:\n{stdout}"
    );
}
