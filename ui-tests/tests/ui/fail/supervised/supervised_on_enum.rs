use distribute::prelude::*;

#[supervised]
enum Light { Red, Green }

fn main() {}
