use distribute::prelude::*;

#[actor]
#[registered]
struct Billing;

#[actor]
impl Billing {}

#[actor]
#[registered()]
struct Cache;

#[actor]
impl Cache {}

fn main() {}
