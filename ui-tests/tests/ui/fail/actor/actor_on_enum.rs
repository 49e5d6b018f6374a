use distribute::prelude::*;

#[actor]
enum Light { Red, Green }

fn main() {}
