//! `Self` in argument and reply types means the actor type, also in the generated enum and
//! client trait; raw identifiers work as method names.
use distribute::prelude::*;
use serde::{Deserialize, Serialize};

#[actor]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

#[actor]
impl Point {
    #[message]
    fn translate(&mut self, by: Self) -> Self {
        self.x += by.x;
        self.y += by.y;
        self.clone()
    }

    #[message]
    fn many(&self, n: usize) -> Vec<Self> {
        vec![self.clone(); n]
    }

    #[message]
    fn r#type(&self) -> String {
        "point".to_string()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let point = node.spawn(Point::default()).await?;
    assert_eq!(point.translate(Point { x: 1, y: 2 }).await?, Point { x: 1, y: 2 });
    assert_eq!(point.many(2).await?.len(), 2);
    assert_eq!(point.r#type().await?, "point");
    let _ = PointMsg::Type {
        reply: distribute::ReplyTo::detached(),
    };
    Ok(())
}
