//! The `#[actor]` impl block may live in another module than the struct: the generated items
//! are emitted next to the impl block.
use distribute::prelude::*;

#[actor(name = "greeter")]
pub struct Greeter {
    greeting: String,
}

mod messages {
    use distribute::prelude::*;

    use super::Greeter;

    #[actor]
    impl Greeter {
        #[message]
        pub fn greet(&self, name: String) -> String {
            format!("{}, {name}!", self.greeting)
        }
    }
}

use messages::GreeterClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let greeter = node
        .spawn(Greeter {
            greeting: "Hello".to_string(),
        })
        .await?;
    assert_eq!(greeter.greet("Ada".to_string()).await?, "Hello, Ada!");
    assert_eq!(<Greeter as Actor>::NAME, "greeter");
    Ok(())
}
