use distribute::prelude::*;

#[actor]
struct Twice;

#[actor]
impl Twice {
    #[on_start]
    fn first(&mut self) {}

    #[on_start]
    fn second(&mut self) {}

    #[message]
    #[on_stop]
    fn both(&mut self) {}
}

fn main() {}
