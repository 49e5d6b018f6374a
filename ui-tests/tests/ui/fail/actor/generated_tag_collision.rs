//! `kv` and `brjba` hash to the same generated tag, 0xb5629334.
use distribute::prelude::*;

#[actor]
struct Store;

#[actor]
impl Store {
    #[message]
    fn kv(&self) {}

    #[message]
    fn brjba(&self) {}
}

fn main() {}
