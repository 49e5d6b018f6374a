use distribute::prelude::*;

#[actor(remote_spawn = 5)]
struct Literal;

#[actor]
impl Literal {}

#[actor(remote_spawn "args")]
struct Missing;

#[actor]
impl Missing {}

#[actor(remote_spawn, remote_spawn)]
#[derive(serde::Serialize, serde::Deserialize)]
struct Twice;

#[actor]
impl Twice {}

fn main() {}
