use distribute::prelude::*;

#[actor]
#[registered("")]
struct Billing;

#[actor]
impl Billing {}

fn main() {}
