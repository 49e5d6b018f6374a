//! A `Context` parameter, `&mut` or `&`, anywhere in the argument list: passed by the dispatch,
//! not part of the message.
use distribute::prelude::*;

#[actor]
#[derive(Default)]
struct Worker {
    log: Vec<String>,
}

#[actor]
impl Worker {
    #[message]
    fn whoami(&self, ctx: &Context<Self>) -> ActorId {
        ctx.id()
    }

    #[message]
    fn first(&mut self, ctx: &mut Context<Self>, text: String) {
        self.log.push(format!("{text}@{}", ctx.id() == ctx.myself().id()));
    }

    #[message]
    fn middle(&mut self, a: u8, ctx: &mut distribute::Context<Worker>, b: u8) -> u8 {
        let _ = ctx.is_trapping_exits();
        a + b
    }

    #[message]
    async fn last(&mut self, text: String, ctx: &mut Context<Self>) -> usize {
        self.log.push(text);
        let _ = ctx.node();
        self.log.len()
    }

    #[message]
    fn stop_now(&mut self, ctx: &mut Context<Self>) {
        ctx.stop(ExitReason::Normal);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let worker = node.spawn(Worker::default()).await?;
    assert_eq!(worker.whoami().await?, worker.id());
    worker.first("x".to_string()).await?;
    assert_eq!(worker.middle(2, 3).await?, 5);
    assert_eq!(worker.last("y".to_string()).await?, 2);
    worker.stop_now().await?;
    assert_eq!(worker.wait_for_stop().await, ExitReason::Normal);
    Ok(())
}
