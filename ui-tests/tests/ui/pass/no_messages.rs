//! An actor without messages: it still runs its hooks and can be stopped.
use std::sync::Arc;

use distribute::prelude::*;
use distribute::Message;
use tokio::sync::Notify;

#[actor]
struct Idle {
    started: Arc<Notify>,
}

#[actor]
impl Idle {
    #[on_start]
    fn init(&mut self) {
        self.started.notify_one();
    }

    /// An ordinary method, not a message.
    #[allow(dead_code)]
    fn helper(&self) {}
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    assert!(IdleMsg::TAGS.is_empty());
    let codec = distribute::codec::Bincode::<64>;
    assert!(IdleMsg::decode_body(&codec, 1, &[], ::distribute::ReplySlot::none()).is_err());

    let started = Arc::new(Notify::new());
    let node = Node::new();
    let idle = node
        .spawn(Idle {
            started: started.clone(),
        })
        .await?;
    started.notified().await;
    assert_eq!(idle.stop(ExitReason::Normal).await, ExitReason::Normal);
    Ok(())
}
