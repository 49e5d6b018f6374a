//! An actor written by hand against the public traits, without `#[actor]`: the macros are
//! sugar, not magic.

use distribute::codec::{Bincode, Codec, CodecError};
use distribute::prelude::*;
use distribute::{ErasedReply, Message, ReplySlot, ReplyTo};

struct Greeter {
    greeting: String,
}

enum GreeterMsg {
    SetGreeting { greeting: String },
    Greet { name: String, reply: ReplyTo<String> },
}

const SET_GREETING: u32 = 1;
const GREET: u32 = 2;

impl Message for GreeterMsg {
    const FINGERPRINT: u64 = 0x6772_6565_7465_7231;
    const TAGS: &'static [(u32, &'static str)] = &[(SET_GREETING, "set_greeting"), (GREET, "greet")];

    fn tag(&self) -> u32 {
        match self {
            GreeterMsg::SetGreeting { .. } => SET_GREETING,
            GreeterMsg::Greet { .. } => GREET,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            GreeterMsg::SetGreeting { .. } => "set_greeting",
            GreeterMsg::Greet { .. } => "greet",
        }
    }

    fn encode_body<C: Codec>(&self, codec: &C, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            GreeterMsg::SetGreeting { greeting } => codec.encode(&(greeting,), out),
            GreeterMsg::Greet { name, .. } => codec.encode(&(name,), out),
        }
    }

    fn decode_body<C: Codec>(codec: &C, tag: u32, body: &[u8], reply: ReplySlot) -> Result<Self, CodecError> {
        match tag {
            SET_GREETING => {
                let (greeting,): (String,) = codec.decode(body)?;
                Ok(GreeterMsg::SetGreeting { greeting })
            }
            GREET => {
                let (name,): (String,) = codec.decode(body)?;
                Ok(GreeterMsg::Greet {
                    name,
                    reply: ReplyTo::attach::<C>(reply),
                })
            }
            tag => Err(CodecError::UnknownTag { tag }),
        }
    }

    fn take_reply<C: Codec>(&mut self) -> Option<ErasedReply> {
        match self {
            GreeterMsg::SetGreeting { .. } => None,
            GreeterMsg::Greet { reply, .. } => reply.erase::<C>(),
        }
    }
}

impl Actor for Greeter {
    type Msg = GreeterMsg;
    type Codec = Bincode;
    const NAME: &'static str = "greeter";
    const MAILBOX_CAPACITY: usize = 8;
    const HAS_STARTED_HOOK: bool = false;

    async fn handle(&mut self, msg: GreeterMsg, _ctx: &mut Context<Self>) {
        match msg {
            GreeterMsg::SetGreeting { greeting } => self.greeting = greeting,
            GreeterMsg::Greet { name, reply } => reply.send(format!("{}, {name}!", self.greeting)),
        }
    }
}

#[tokio::test]
async fn a_hand_written_actor_serves_tells_and_asks() {
    let node = Node::new();
    let greeter = node
        .spawn(Greeter {
            greeting: "Hello".into(),
        })
        .await
        .unwrap();
    assert_eq!(greeter.mailbox_capacity(), 8);
    let greet = |name: &str| {
        let name = name.to_string();
        greeter.ask(move |reply| GreeterMsg::Greet { name, reply })
    };
    assert_eq!(greet("Ada").await.unwrap(), "Hello, Ada!");
    greeter
        .tell(GreeterMsg::SetGreeting {
            greeting: "Hej".into(),
        })
        .await
        .unwrap();
    assert_eq!(greet("Grace").await.unwrap(), "Hej, Grace!");
}

#[test]
fn a_hand_written_message_round_trips_through_its_codec() {
    let codec: Bincode = Bincode;
    let msg = GreeterMsg::SetGreeting {
        greeting: "Salut".into(),
    };
    let mut body = Vec::new();
    msg.encode_body(&codec, &mut body).unwrap();
    let back = GreeterMsg::decode_body(&codec, msg.tag(), &body, ReplySlot::none()).unwrap();
    assert!(matches!(back, GreeterMsg::SetGreeting { greeting } if greeting == "Salut"));
    assert!(matches!(
        GreeterMsg::decode_body(&codec, 99, &body, ReplySlot::none()),
        Err(CodecError::UnknownTag { tag: 99 })
    ));
}
