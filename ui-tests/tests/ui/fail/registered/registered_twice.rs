use distribute::prelude::*;

#[actor]
#[registered("billing")]
#[registered("invoices")]
struct Billing;

#[actor]
impl Billing {}

fn main() {}
