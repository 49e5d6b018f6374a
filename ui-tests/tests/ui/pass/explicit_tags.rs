//! Explicit tags are kept as written; the others are hashes of the method name in the upper
//! half of the `u32` range, so they do not depend on the order of the methods.
use distribute::__private::fnv1a64;
use distribute::codec::Bincode;
use distribute::prelude::*;
use distribute::Message;

#[actor]
#[derive(Default)]
struct Registry {
    names: Vec<String>,
}

#[actor]
impl Registry {
    #[message(tag = 1)]
    fn register(&mut self, name: String) {
        self.names.push(name);
    }

    #[message(tag = 0x7FFF_FFFF)]
    fn count(&self) -> usize {
        self.names.len()
    }

    #[message()]
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }
}

fn generated(name: &str) -> u32 {
    (fnv1a64(name.as_bytes()) as u32) | 0x8000_0000
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let register = RegistryMsg::Register {
        name: "a".to_string(),
    };
    assert_eq!((register.tag(), register.name()), (1, "register"));
    assert_eq!(
        RegistryMsg::TAGS,
        &[
            (1, "register"),
            (0x7FFF_FFFF, "count"),
            (generated("names"), "names")
        ]
    );

    // The wire body is the arguments as a tuple, and decoding needs the tag.
    let codec = Bincode::<1024>;
    let mut body = Vec::new();
    register.encode_body(&codec, &mut body)?;
    let mut expected = Vec::new();
    distribute::codec::Codec::encode(&codec, &("a".to_string(),), &mut expected)?;
    assert_eq!(body, expected);
    assert!(
        matches!(RegistryMsg::decode_body(&codec, 1, &body, ::distribute::ReplySlot::none())?, RegistryMsg::Register { name } if name == "a")
    );

    let node = Node::new();
    let registry = node.spawn(Registry::default()).await?;
    registry.register("x".to_string()).await?;
    assert_eq!(registry.count().await?, 1);
    assert_eq!(registry.names().await?, vec!["x".to_string()]);
    Ok(())
}
