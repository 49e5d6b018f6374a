use distribute::prelude::*;

#[actor]
#[registered("billing", "invoices")]
struct Billing;

#[actor]
impl Billing {}

#[actor]
#[registered("workers", pool = 3)]
struct Worker;

#[actor]
impl Worker {}

fn main() {}
