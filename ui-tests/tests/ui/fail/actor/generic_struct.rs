use distribute::prelude::*;

#[actor]
struct Cache<K, V> { entries: Vec<(K, V)> }

#[actor]
struct Borrowed<'a> { name: &'a str }

fn main() {}
