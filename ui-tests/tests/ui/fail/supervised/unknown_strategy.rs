use distribute::prelude::*;

#[actor]
#[supervised(strategy = one_for_none)]
struct Worker;

#[actor]
impl Worker {}

#[actor]
#[supervised(strategy = OneForAll)]
struct Cache;

#[actor]
impl Cache {}

fn main() {}
