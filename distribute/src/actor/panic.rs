//! Panic reports of actor handlers, written after the caller has heard of the failure.
//!
//! The runtime catches a handler's panic when unwinding reaches its `catch_unwind` (see
//! `run.rs`), and only then answers the caller with `ActorFailed`. The process's panic hook
//! runs before that, at the panic itself; with `RUST_BACKTRACE=1` the standard hook captures
//! and resolves the backtrace (reading debug info, slow the first time) before unwinding
//! even starts, so the caller waits for the report to be written. [`defer_panic_reports`]
//! installs a hook that, for panics while the runtime polls an actor's handler or hook,
//! captures the backtrace unresolved and writes the report on a blocking thread once the
//! callers have been answered. Every other panic goes to the hook installed before it.
//!
//! Costs nothing until installed: the runtime then counts its polls in a thread-local, a
//! few instructions per handler poll.

use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, OnceLock};

thread_local! {
    /// How many guarded actor futures this thread is polling now (guards can nest).
    static GUARDED_POLLS: Cell<u32> = const { Cell::new(0) };
    /// Reports held back by the hook until the poll that panicked has returned.
    static HELD: RefCell<Vec<Report>> = const { RefCell::new(Vec::new()) };
}

/// Whether the deferring hook is installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();
/// Whether the note on `RUST_BACKTRACE` was written, as the standard hook writes it once.
static NOTE_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Makes the failure of a panicking handler reach its caller before the panic report is
/// written, which matters when backtraces are on (`RUST_BACKTRACE=1`).
///
/// By default the process's panic hook writes the report (message, location and, with
/// `RUST_BACKTRACE=1`, a backtrace) at the panic, before unwinding reaches the runtime; only
/// then does the caller get [`CallError::ActorFailed`](crate::CallError::ActorFailed).
/// Resolving the backtrace's symbols makes that slow: about 100 to 250 ms for the first
/// panic of a debug build on a typical machine (debug info is read from disk), a few
/// milliseconds for later ones. Call this once, early in `main`, to take that off the
/// caller's path.
///
/// The hook it installs handles panics that happen while the runtime runs an actor's
/// handler or hook: it captures the backtrace without resolving it (when `RUST_BACKTRACE`
/// asks for one, as the standard hook does) and writes the report to standard error in the
/// standard hook's form, on a blocking thread of the runtime, after the callers were
/// answered. Every other panic, and every panic when panics abort, goes to the hook that was
/// installed before (a custom hook installed before this one does not see actors' panics);
/// a hook installed after this one replaces it. Calling it again does nothing.
///
/// The standard library resolves backtraces under one process-wide lock, which capturing
/// one also takes: a panic that comes while an earlier report's backtrace is being resolved
/// (the first resolution in a process takes the 100 to 250 ms above) waits for it. Spaced
/// panics all reach their callers in well under a millisecond.
///
/// ```
/// # #[tokio::main] async fn main() {
/// distribute::actor::defer_panic_reports();
/// // ... spawn actors: a panicking handler's caller now gets `ActorFailed` at once.
/// # }
/// ```
pub fn defer_panic_reports() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if cfg!(panic = "abort") || GUARDED_POLLS.with(Cell::get) == 0 {
                return previous(info);
            }
            let report = Report::capture(info);
            HELD.with(|held| held.borrow_mut().push(report));
        }));
        INSTALLED.store(true, Ordering::Release);
    });
}

/// Marks the poll of an actor's handler or hook on this thread, for the deferring hook;
/// nothing when the hook is not installed.
pub(crate) struct GuardedPoll {
    counted: bool,
}

impl GuardedPoll {
    pub(crate) fn enter() -> Self {
        let counted = INSTALLED.load(Ordering::Relaxed);
        if counted {
            GUARDED_POLLS.with(|polls| polls.set(polls.get().saturating_add(1)));
        }
        GuardedPoll { counted }
    }
}

impl Drop for GuardedPoll {
    fn drop(&mut self) {
        if self.counted {
            GUARDED_POLLS.with(|polls| polls.set(polls.get().saturating_sub(1)));
        }
    }
}

/// Writes the reports the hook held back on this thread: on a blocking thread of the current
/// runtime, or here without one. Called once the poll that panicked has returned and the
/// callers were answered; also after a poll whose panic the handler caught itself.
pub(crate) fn write_held_reports() {
    if !INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    let reports = HELD.with(|held| std::mem::take(&mut *held.borrow_mut()));
    if reports.is_empty() {
        return;
    }
    let write = move || {
        for report in reports {
            report.write();
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(write);
        }
        Err(_) => write(),
    }
}

/// A panic, as the standard hook would report it, with its backtrace not yet resolved.
struct Report {
    thread: String,
    location: String,
    message: String,
    backtrace: Option<Backtrace>,
}

impl Report {
    fn capture(info: &PanicHookInfo<'_>) -> Self {
        let thread = std::thread::current();
        Report {
            thread: thread.name().unwrap_or("<unnamed>").to_owned(),
            location: info.location().map(|l| l.to_string()).unwrap_or_default(),
            message: payload_text(info.payload()).to_owned(),
            backtrace: backtrace_style().map(|_| Backtrace::force_capture()),
        }
    }

    /// Writes the report to standard error in one piece; resolves the backtrace.
    fn write(self) {
        let mut text = format!(
            "thread '{}' panicked at {}:\n{}\n",
            self.thread, self.location, self.message
        );
        if let Some(backtrace) = self.backtrace {
            text.push_str("stack backtrace:\n");
            if backtrace_style() == Some(true) {
                let _ = writeln!(text, "{backtrace:#}");
            } else {
                text.push_str(&short_backtrace(&backtrace.to_string()));
                text.push_str(
                    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n",
                );
            }
        } else if !NOTE_WRITTEN.swap(true, Ordering::Relaxed) {
            text.push_str("note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n");
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// A panic's message, as the standard hook shows it.
fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "Box<dyn Any>"
    }
}

/// The frames of a formatted backtrace that the standard hook shows in its short form: those
/// between the panic machinery (up to `__rust_end_short_backtrace`) and the thread's start
/// (from `__rust_begin_short_backtrace`), numbered from 0.
fn short_backtrace(full: &str) -> String {
    // A frame is its numbered line ("  12: symbol") and the lines that follow it.
    let mut frames: Vec<(String, Vec<&str>)> = Vec::new();
    for line in full.lines() {
        match line.trim_start().split_once(": ") {
            Some((number, symbol)) if number.chars().all(|c| c.is_ascii_digit()) => {
                frames.push((symbol.to_owned(), Vec::new()));
            }
            _ => {
                if let Some((_, more)) = frames.last_mut() {
                    more.push(line);
                }
            }
        }
    }
    let start = frames
        .iter()
        .position(|(symbol, _)| symbol.contains("__rust_end_short_backtrace"))
        .map_or(0, |end| end + 1);
    let mut out = String::new();
    let shown = frames[start..]
        .iter()
        .take_while(|(symbol, _)| !symbol.contains("__rust_begin_short_backtrace"));
    for (number, (symbol, more)) in shown.enumerate() {
        let _ = writeln!(out, "{number:>4}: {symbol}");
        for line in more {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// What `RUST_BACKTRACE` asks panics for, read once as the standard hook does: `None` for
/// no backtrace (unset or `0`), `Some(true)` for `full`, `Some(false)` for the short form.
fn backtrace_style() -> Option<bool> {
    static STYLE: OnceLock<Option<bool>> = OnceLock::new();
    *STYLE.get_or_init(|| match std::env::var_os("RUST_BACKTRACE") {
        None => None,
        Some(value) if value == "0" => None,
        Some(value) => Some(value == "full"),
    })
}

#[cfg(test)]
mod tests {
    use super::short_backtrace;

    #[test]
    fn the_short_form_keeps_the_frames_between_the_panic_machinery_and_the_thread_start() {
        let full = "\
   0: capture
             at ./panic.rs:1:1
   1: std::sys::backtrace::__rust_end_short_backtrace
   2: __rustc::rust_begin_unwind
             at ./panicking.rs:2:2
   3: user::handler
             at ./user.rs:3:3
   4: std::sys::backtrace::__rust_begin_short_backtrace
   5: start_thread
";
        assert_eq!(
            short_backtrace(full),
            "   0: __rustc::rust_begin_unwind
             at ./panicking.rs:2:2
   1: user::handler
             at ./user.rs:3:3
"
        );
    }

    #[test]
    fn without_the_markers_every_frame_is_kept() {
        let full = "   0: a\n   1: b\n             at ./b.rs:1:1\n";
        assert_eq!(short_backtrace(full), full);
    }
}
