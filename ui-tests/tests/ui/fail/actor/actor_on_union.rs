use distribute::prelude::*;

#[actor]
union Bits { int: u32, float: f32 }

fn main() {}
