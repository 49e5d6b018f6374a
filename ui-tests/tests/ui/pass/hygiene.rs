//! Argument and type names that the generated code also uses internally (`ctx`, `msg`,
//! `codec`, `serializer`, `reply` in a tell, types named `C`, `S`, `R`) do not clash with it.
use distribute::codec::{Bincode, Codec};
use distribute::prelude::*;
use distribute::Message;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct S(u8);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct C(u8);

#[actor]
#[derive(Default)]
struct R {
    total: u32,
}

#[actor]
impl R {
    #[message]
    #[allow(clippy::too_many_arguments)]
    fn all(
        &mut self,
        ctx: u8,
        msg: u8,
        codec: u8,
        out: u8,
        body: u8,
        tag: u8,
        serializer: u8,
        tuple: u8,
    ) -> u32 {
        self.total += [ctx, msg, codec, out, body, tag, serializer, tuple]
            .iter()
            .map(|&x| u32::from(x))
            .sum::<u32>();
        self.total
    }

    #[message]
    fn types(&self, s: S, c: C) -> (S, C) {
        (s, c)
    }

    #[message]
    fn with_context(&self, context: &mut Context<Self>, ctx: u8) -> (bool, u8) {
        (context.id() == context.myself().id(), ctx)
    }

    #[message]
    fn tell(&mut self, reply: u32) {
        self.total = reply;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let r = node.spawn(R::default()).await?;
    assert_eq!(r.all(1, 2, 3, 4, 5, 6, 7, 8).await?, 36);
    assert_eq!(r.types(S(1), C(2)).await?, (S(1), C(2)));
    assert_eq!(r.with_context(9).await?, (true, 9));
    RClient::tell(&r, 5).await?; // `ActorRef::tell` takes precedence over the message `tell`
    assert_eq!(r.all(0, 0, 0, 0, 0, 0, 0, 0).await?, 5);

    let msg = RMsg::All {
        ctx: 1,
        msg: 2,
        codec: 3,
        out: 4,
        body: 5,
        tag: 6,
        serializer: 7,
        tuple: 8,
        reply: distribute::ReplyTo::detached(),
    };
    let codec = Bincode::<1024>;
    let mut body = Vec::new();
    msg.encode_body(&codec, &mut body)?;
    let mut expected = Vec::new();
    codec.encode(&(1u8, 2u8, 3u8, 4u8, 5u8, 6u8, 7u8, 8u8), &mut expected)?;
    assert_eq!(body, expected);
    match RMsg::decode_body(&codec, msg.tag(), &body, ::distribute::ReplySlot::none())? {
        RMsg::All { ctx, tuple, .. } => assert_eq!((ctx, tuple), (1, 8)),
        _ => unreachable!(),
    }
    Ok(())
}
