//! Typed messaging across nodes: messages that carry refs, a custom codec, and a protocol
//! mismatch caught as a typed error instead of a corrupted message.
//!
//! Run with `cargo run --example typed_messaging`. Two nodes start in this process and talk
//! over TCP on 127.0.0.1.
//!
//! - A chat `Room` on node `hub` keeps the refs of its `Member`s, which live on node `edge`
//!   and joined by sending their own ref inside a message. The room calls them back through
//!   those refs.
//! - `Member` messages travel with `Checked`, a codec written here: bincode plus a checksum,
//!   so a corrupted body is refused with a codec error rather than decoded into nonsense.
//! - Two versions of a `Store` actor: the v2 client looks up the v1 service and is told, with a
//!   typed error, that the protocols differ (each actor's messages hash to a fingerprint that
//!   both sides compare).

use std::time::Duration;

use distribute::codec::{Bincode, Codec, CodecError};
use distribute::prelude::*;
use distribute::RegistryError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A codec of our own: bincode, then a 4-byte checksum of the encoded bytes. Decoding checks
/// the checksum before anything else.
#[derive(Debug, Default, Clone, Copy)]
struct Checked;

impl Checked {
    fn checksum(bytes: &[u8]) -> [u8; 4] {
        let hash = distribute::__private::fnv1a64(bytes);
        (hash as u32).to_be_bytes()
    }
}

impl Codec for Checked {
    const NAME: &'static str = "checked-bincode";

    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let start = out.len();
        Bincode::<{ 1024 * 1024 }>.encode(value, out)?;
        let sum = Self::checksum(&out[start..]);
        out.extend_from_slice(&sum);
        Ok(())
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let Some((body, sum)) = bytes.split_last_chunk::<4>() else {
            return Err(CodecError::Decode("shorter than its checksum".into()));
        };
        if Self::checksum(body) != *sum {
            return Err(CodecError::Decode("checksum mismatch".into()));
        }
        Bincode::<{ 1024 * 1024 }>.decode(body)
    }
}

/// A chat member on the edge node. Its messages use the `Checked` codec.
#[actor(codec = Checked)]
struct Member {
    name: String,
    heard: Vec<String>,
}

#[actor]
impl Member {
    /// The room delivers a line.
    #[message]
    fn hear(&mut self, line: String) {
        self.heard.push(line);
    }

    /// Everything heard so far.
    #[message]
    fn transcript(&self) -> Vec<String> {
        self.heard.clone()
    }

    #[message]
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// A chat room on the hub node: it holds refs to members on other nodes.
#[actor]
#[derive(Default)]
struct Room {
    members: Vec<ActorRef<Member>>,
}

#[actor]
impl Room {
    /// A member joins by sending its own ref.
    #[message]
    async fn join(&mut self, member: ActorRef<Member>) -> usize {
        if let Ok(name) = member.name().await {
            for other in &self.members {
                let _ = other.hear(format!("* {name} joined")).await;
            }
        }
        self.members.push(member);
        self.members.len()
    }

    /// Sends a line to every member, through the refs it was given.
    #[message]
    async fn say(&mut self, from: String, text: String) {
        for member in &self.members {
            let _ = member.hear(format!("<{from}> {text}")).await;
        }
    }

    /// The refs of the members, which a caller on any node can use.
    #[message]
    fn members(&self) -> Vec<ActorRef<Member>> {
        self.members.clone()
    }
}

/// Version 1 of a key-value store, as deployed on the hub.
mod v1 {
    use distribute::prelude::*;

    #[actor]
    #[derive(Default)]
    pub(crate) struct Store {
        pub(crate) entries: std::collections::BTreeMap<String, u64>,
    }

    #[actor]
    impl Store {
        #[message]
        pub(crate) fn put(&mut self, key: String, value: u64) {
            self.entries.insert(key, value);
        }
    }
}

/// Version 2 changed `put`'s value to text: a different protocol under the same name.
mod v2 {
    use distribute::prelude::*;

    #[actor]
    #[derive(Default)]
    pub(crate) struct Store {
        pub(crate) entries: std::collections::BTreeMap<String, String>,
    }

    #[actor]
    impl Store {
        #[message]
        pub(crate) fn put(&mut self, key: String, value: String) {
            self.entries.insert(key, value);
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hub = Node::builder().name("hub").insecure_local().start().await?;
    let edge = Node::builder().name("edge").insecure_local().start().await?;
    edge.connect(hub.listen_addr().ok_or("hub does not listen")?)
        .await?;
    println!("1. Nodes `hub` and `edge` are connected.");

    let room = hub.spawn(Room::default()).await?;
    hub.register_local("lobby", &room)?;
    let lobby: ActorRef<Room> = edge.lookup_on(hub.id(), "lobby").await?;
    println!(
        "2. A Room on hub, named `lobby`; edge holds a remote ref to it: {}.",
        lobby.id()
    );

    let ada = edge
        .spawn(Member {
            name: "ada".into(),
            heard: Vec::new(),
        })
        .await?;
    let bob = edge
        .spawn(Member {
            name: "bob".into(),
            heard: Vec::new(),
        })
        .await?;
    lobby.join(ada.clone()).await?;
    let size = lobby.join(bob.clone()).await?;
    println!("3. ada and bob (on edge) joined by sending their own refs: the room has {size} members.");

    lobby.say("ada".into(), "hello from the edge".into()).await?;
    // Calls after a tell from the same sender are handled after it.
    let members = lobby.members().await?;
    println!(
        "4. ada said hello; the room called each member back through the refs it holds. \
         The refs it returns to edge are local again there: {:?}.",
        members.iter().map(ActorRef::is_local).collect::<Vec<_>>()
    );
    let transcript = bob.with_timeout(Duration::from_secs(1)).transcript().await?;
    println!("   bob's transcript: {transcript:?}");

    let mut corrupted = Vec::new();
    Checked.encode(&("a line".to_string(),), &mut corrupted)?;
    corrupted[2] ^= 0xFF;
    match Checked.decode::<(String,)>(&corrupted) {
        Err(err) => println!(
            "5. The `Checked` codec that Member's messages travel with refuses a corrupted body: {err}."
        ),
        Ok(value) => println!("5. unexpected: {value:?}"),
    }

    let store = hub.spawn(v1::Store::default()).await?;
    hub.register_local("store", &store)?;
    match edge.lookup_on::<v2::Store>(hub.id(), "store").await {
        Err(err @ RegistryError::TypeMismatch { .. }) => {
            println!("6. A v2 client looking up the v1 store gets a typed error, not garbage: {err}.");
        }
        other => println!("6. unexpected: {other:?}"),
    }
    let v1_client: ActorRef<v1::Store> = edge.lookup_on(hub.id(), "store").await?;
    v1::StoreClient::put(&v1_client, "answer".into(), 42).await?;
    println!("   The v1 client, speaking the same protocol, is served.");

    edge.shutdown().await;
    hub.shutdown().await;
    println!("7. Both nodes shut down.");
    Ok(())
}
