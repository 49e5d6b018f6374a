//! A method returning `Result<T, E>` is an ask whose client returns
//! `Result<Result<T, E>, CallError>`: the actor's error and the call's error stay apart.
use distribute::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum StoreError {
    Missing(String),
}

#[actor]
#[derive(Default)]
struct Store {
    items: Vec<(String, u32)>,
}

#[actor]
impl Store {
    #[message]
    fn put(&mut self, key: String, value: u32) {
        self.items.push((key, value));
    }

    #[message]
    async fn find(&self, key: String) -> Result<u32, StoreError> {
        self.items
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or(StoreError::Missing(key))
    }

    #[message]
    fn unit(&self) -> () {}
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let store = node.spawn(Store::default()).await?;
    store.put("a".to_string(), 1).await?;
    let found: Result<Result<u32, StoreError>, CallError> = store.find("a".to_string()).await;
    assert_eq!(found, Ok(Ok(1)));
    assert_eq!(
        store.find("b".to_string()).await?,
        Err(StoreError::Missing("b".to_string()))
    );
    // `-> ()` is a tell, like no return type.
    let told: Result<(), CallError> = store.unit().await;
    assert_eq!(told, Ok(()));
    Ok(())
}
