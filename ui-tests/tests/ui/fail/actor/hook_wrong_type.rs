use distribute::prelude::*;

#[actor]
struct Watcher;

#[actor]
impl Watcher {
    #[on_down]
    fn down(&mut self, down: ExitSignal) { let _ = down; }

    #[on_start]
    fn init(&mut self) -> u32 { 1 }
}

fn main() {}
