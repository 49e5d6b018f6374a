#![allow(non_snake_case)]
use distribute::prelude::*;

#[actor]
struct Point { x: i64 }

#[actor]
impl Point {
    #[message]
    fn get_x(&self) -> i64 { self.x }

    #[message]
    fn getX(&self) -> i64 { self.x }
}

fn main() {}
