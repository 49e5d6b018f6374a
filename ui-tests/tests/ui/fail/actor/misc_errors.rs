use distribute::prelude::*;

#[actor(mailbox, name = )]
struct A;

#[actor(mailbox = 99999999999999999999999999, codec = )]
struct B;

#[actor]
struct C;

#[actor]
impl C {
    #[message]
    fn two(&self, a: &mut Context<Self>, b: &Context<Self>) { let _ = (a, b); }

    #[message]
    fn cow(&self, text: std::borrow::Cow<'_, str>) { let _ = text; }

    #[message]
    fn _1x(&self) {}

    #[message]
    fn bounded(&self) where Self: Sized {}
}

fn main() {}
