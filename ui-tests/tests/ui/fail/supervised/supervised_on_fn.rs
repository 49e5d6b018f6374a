use distribute::prelude::*;

#[supervised(pool = 2)]
fn worker() {}

fn main() {}
