use distribute::prelude::*;

#[actor]
fn counter() {}

#[actor]
trait Greeter {}

fn main() {}
