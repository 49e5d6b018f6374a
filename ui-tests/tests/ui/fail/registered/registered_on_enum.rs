use distribute::prelude::*;

#[registered("lights")]
enum Light { Red, Green }

fn main() {}
