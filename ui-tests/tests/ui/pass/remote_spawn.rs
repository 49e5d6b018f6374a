use distribute::prelude::*;
use distribute::RemoteSpawn;

#[actor(remote_spawn)]
#[derive(serde::Serialize, serde::Deserialize)]
struct Whole { n: u64 }

#[actor]
impl Whole {
    #[message]
    fn get(&self) -> u64 { self.n }
}

#[actor(remote_spawn = (String, u32), mailbox = 8)]
struct FromArgs { name: String, n: u32 }

impl From<(String, u32)> for FromArgs {
    fn from((name, n): (String, u32)) -> Self { FromArgs { name, n } }
}

#[actor]
impl FromArgs {
    #[message]
    fn describe(&self) -> String { format!("{} {}", self.name, self.n) }
}

fn main() {
    let whole = <Whole as RemoteSpawn>::from_args(Whole { n: 3 });
    assert_eq!(whole.n, 3);
    let made = <FromArgs as RemoteSpawn>::from_args(("x".into(), 2));
    assert_eq!((made.name.as_str(), made.n), ("x", 2));
}
