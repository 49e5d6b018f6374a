//! What `#[actor]` generates for the wire: stable tags, a fingerprint, strict decoding.

use distribute::__private::fnv1a64;
use distribute::codec::{Bincode, CodecError};
use distribute::prelude::*;
use distribute::{Message, ReplySlot};

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

    #[message(tag = 7)]
    fn count(&self) -> usize {
        self.items.len()
    }

    #[message]
    async fn find(&self, key: String) -> Result<u32, String> {
        self.items
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or(format!("no {key}"))
    }
}

/// The same messages declared in another order, with other argument names.
mod reordered {
    use distribute::prelude::*;

    #[actor]
    #[derive(Default)]
    #[allow(dead_code)] // only its generated message type is inspected
    pub(super) struct Store;

    #[actor]
    #[allow(dead_code)]
    impl Store {
        #[message]
        pub(super) async fn find(&self, key: String) -> Result<u32, String> {
            Err(key)
        }

        #[message(tag = 7)]
        pub(super) fn count(&self) -> usize {
            0
        }

        #[message]
        pub(super) fn put(&mut self, _key: String, _value: u32) {}
    }
}

fn generated_tag(name: &str) -> u32 {
    (fnv1a64(name.as_bytes()) as u32) | 0x8000_0000
}

#[test]
fn generated_tags_hash_the_method_name_and_explicit_tags_are_kept() {
    let put = StoreMsg::Put {
        key: "a".into(),
        value: 1,
    };
    assert_eq!(put.tag(), generated_tag("put"));
    assert_eq!(put.name(), "put");
    let mut tags: Vec<(u32, &str)> = StoreMsg::TAGS.to_vec();
    tags.sort();
    let mut expected = vec![
        (7, "count"),
        (generated_tag("put"), "put"),
        (generated_tag("find"), "find"),
    ];
    expected.sort();
    assert_eq!(tags, expected);
}

#[test]
fn reordering_methods_changes_neither_tags_nor_fingerprint() {
    let mut ours: Vec<_> = StoreMsg::TAGS.to_vec();
    let mut theirs: Vec<_> = reordered::StoreMsg::TAGS.to_vec();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    assert_eq!(StoreMsg::FINGERPRINT, reordered::StoreMsg::FINGERPRINT);
}

#[test]
fn messages_round_trip_and_unknown_tags_are_errors() {
    let codec: Bincode = Bincode;
    let msg = StoreMsg::Put {
        key: "apples".into(),
        value: 3,
    };
    let mut body = Vec::new();
    msg.encode_body(&codec, &mut body).unwrap();
    match StoreMsg::decode_body(&codec, msg.tag(), &body, ReplySlot::none()).unwrap() {
        StoreMsg::Put { key, value } => assert_eq!((key.as_str(), value), ("apples", 3)),
        _ => panic!("decoded the wrong variant"),
    }
    assert_eq!(
        StoreMsg::decode_body(&codec, 0x1234, &body, ReplySlot::none()).err(),
        Some(CodecError::UnknownTag { tag: 0x1234 })
    );
    // A body for `put` is not a valid body for `count` (which takes no arguments).
    assert!(matches!(
        StoreMsg::decode_body(&codec, 7, &body, ReplySlot::none()),
        Err(CodecError::TrailingBytes { .. })
    ));
    // Garbage never panics.
    for byte in 0..=255u8 {
        let _ = StoreMsg::decode_body(&codec, msg.tag(), &[byte], ReplySlot::none());
    }
}

#[tokio::test]
async fn result_replies_arrive_nested_in_the_call_result() {
    let node = Node::new();
    let store = node.spawn(Store::default()).await.unwrap();
    store.put("pears".into(), 4).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.find("pears".into()).await.unwrap(), Ok(4));
    assert_eq!(
        store.find("plums".into()).await.unwrap(),
        Err("no plums".to_string())
    );
}
