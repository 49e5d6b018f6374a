use distribute::prelude::*;

#[actor]
struct Watcher;

#[actor]
impl Watcher {
    #[on_start]
    fn init(&mut self, ctx: &mut Context<Self>, extra: u32) { let _ = (ctx, extra); }

    #[on_stop]
    fn stopped(&mut self, reason: ExitReason) { let _ = reason; }

    #[on_exit]
    fn exited(&mut self) {}

    #[on_down]
    fn down(&mut self, down: Down) -> bool { let _ = down; true }
}

#[actor]
struct Other;

#[actor]
impl Other {
    #[on_exit]
    fn exited(self, signal: &ExitSignal) { let _ = signal; }

    #[on_stop(now)]
    fn stopped(&mut self, _reason: &ExitReason) {}
}

fn main() {}
