use distribute::prelude::*;

#[actor]
struct Door { open: bool }

#[actor]
impl Door {
    #[message]
    fn open(&mut self) { self.open = true; }

    // `#[actor]` already generates `try_open` on `DoorClient` for `open`.
    #[message]
    fn try_open(&mut self) -> bool { !std::mem::replace(&mut self.open, true) }
}

fn main() {}
