use distribute::prelude::*;

#[actor]
#[registered(billing)]
struct Billing;

#[actor]
impl Billing {}

#[actor]
#[registered(5)]
struct Cache;

#[actor]
impl Cache {}

#[actor]
#[registered(name = "sessions")]
struct Sessions;

#[actor]
impl Sessions {}

#[actor]
#[registered(b"tokens")]
struct Tokens;

#[actor]
impl Tokens {}

fn main() {}
