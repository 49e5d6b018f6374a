use distribute::prelude::*;

#[derive(serde::Serialize)]
struct Report { lines: Vec<String> }

#[actor]
struct Reporter;

#[actor]
impl Reporter {
    #[message]
    fn report(&self) -> Report { Report { lines: Vec::new() } }
}

fn main() {}
