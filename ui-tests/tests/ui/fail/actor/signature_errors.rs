use distribute::prelude::*;

#[actor]
struct Odd;

#[actor]
impl Odd {
    #[message]
    unsafe fn risky(&self) {}

    #[message]
    extern "C" fn foreign(&self) {}

    #[message]
    fn opaque(&self) -> impl std::fmt::Debug { 1 }

    #[message]
    fn pattern(&self, (a, b): (u8, u8), _: u8) -> u8 { a + b }

    #[message]
    fn reply(&self, reply: u8) -> u8 { reply }

    #[message]
    fn context(&self, ctx: Context<Self>) { let _ = ctx; }
}

fn main() {}
