//! `#[actor(mailbox = N, name = "...", codec = Type)]` on the struct, and the defaults.
use distribute::codec::{Bincode, Codec, CodecError};
use distribute::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// A codec of our own: bincode behind a one-byte version prefix.
#[derive(Default)]
struct Versioned(Bincode);

impl Codec for Versioned {
    const NAME: &'static str = "versioned";

    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.push(1);
        self.0.encode(value, out)
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        match bytes.split_first() {
            Some((1, rest)) => self.0.decode(rest),
            _ => Err(CodecError::Decode("unknown version".to_string())),
        }
    }
}

#[actor(mailbox = 64, name = "counter", codec = Versioned)]
#[derive(Default)]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[message]
    fn add(&mut self, by: u64) {
        self.n += by;
    }
}

#[actor(codec = distribute::codec::Bincode<1024>, mailbox = 1_000)]
struct Small;

#[actor]
impl Small {}

#[actor()]
struct Defaults;

#[actor]
impl Defaults {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(<Counter as Actor>::MAILBOX_CAPACITY, 64);
    assert_eq!(<Counter as Actor>::NAME, "counter");
    assert_eq!(<<Counter as Actor>::Codec as Codec>::NAME, "versioned");
    assert_eq!(<Small as Actor>::MAILBOX_CAPACITY, 1000);
    assert_eq!(
        <Defaults as Actor>::MAILBOX_CAPACITY,
        distribute::DEFAULT_MAILBOX_CAPACITY
    );
    assert_eq!(<Defaults as Actor>::NAME, "Defaults");
    assert_eq!(<<Defaults as Actor>::Codec as Codec>::NAME, "bincode");

    let node = Node::new();
    let counter = node.spawn(Counter::default()).await?;
    assert_eq!(counter.mailbox_capacity(), 64);
    counter.add(1).await?;

    let mut body = Vec::new();
    distribute::Message::encode_body(&CounterMsg::Add { by: 7 }, &Versioned::default(), &mut body)?;
    assert_eq!(body[0], 1);
    Ok(())
}
