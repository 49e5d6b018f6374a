use distribute::prelude::*;

/// A public actor whose messages are all crate-private: its message enum cannot be as
/// visible as the actor.
#[actor]
#[derive(Default)]
pub struct Counter { n: u64 }

#[actor]
impl Counter {
    #[message]
    fn add(&mut self, by: u64) { self.n += by; }

    #[message]
    pub(crate) fn get(&self) -> u64 { self.n }
}

/// A public actor without messages.
#[actor]
pub struct Silent;

#[actor]
impl Silent {}

fn main() {}
