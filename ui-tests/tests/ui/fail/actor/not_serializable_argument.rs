use distribute::prelude::*;

#[derive(serde::Serialize, serde::Deserialize)]
struct Job { id: u64 }

struct Connection;

#[actor]
struct Pool { jobs: Vec<Job> }

#[actor]
impl Pool {
    #[message]
    fn submit(&mut self, job: Job, via: Connection) { let _ = via; self.jobs.push(job) }
}

fn main() {}
