use distribute::prelude::*;

#[registered("billing")]
struct Billing;

fn main() {}
