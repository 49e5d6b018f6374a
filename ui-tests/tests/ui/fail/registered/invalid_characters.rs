use distribute::prelude::*;

#[actor]
#[registered("billing service")]
struct Billing;

#[actor]
impl Billing {}

#[actor]
#[registered("eu/west/cache")]
struct Cache;

#[actor]
impl Cache {}

#[actor]
#[registered("café")]
struct Cafe;

#[actor]
impl Cafe {}

fn main() {}
