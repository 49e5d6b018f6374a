//! The wire codecs: decoding arbitrary bytes as a few representative message types, and
//! round trips of values built from the fuzzer's bytes.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::{check, Input, Outcome, Violation};
use crate::codec::{Bincode, Codec};
use crate::{ActorId, NodeId};

/// A message shaped like the ones `#[actor]` generates: an enum of struct variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Msg {
    Tell {
        by: u64,
    },
    Ask {
        key: String,
        tags: Vec<String>,
        limit: Option<u32>,
    },
    Nested(Record),
    Unit,
}

/// A record with most of serde's data model (floats apart, see [`Floats`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    id: u64,
    small: i16,
    big: i128,
    flag: bool,
    letter: char,
    name: String,
    bytes: Vec<u8>,
    pair: (u8, i64),
    counts: BTreeMap<String, u32>,
    actor: ActorId,
}

/// Floats, compared by their encodings (NaN is not equal to itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Floats(f32, f64);

/// Bincode with the default limit, and with a small one (whose decode budget can run out).
pub fn codec_bincode(data: &[u8]) -> Outcome {
    codec_with(&Bincode::<{ crate::codec::DEFAULT_LIMIT }>, data)?;
    decode_all(&Bincode::<256>, data);
    Ok(())
}

/// Postcard with the default limit and with a small one.
#[cfg(feature = "postcard")]
pub fn codec_postcard(data: &[u8]) -> Outcome {
    use crate::codec::Postcard;
    codec_with(&Postcard::<{ crate::codec::DEFAULT_LIMIT }>, data)?;
    decode_all(&Postcard::<256>, data);
    Ok(())
}

/// Input `type selector | bytes`: the bytes decoded as the selected type must re-encode
/// stably; then a value built from the same bytes must survive encode and decode.
fn codec_with<C: Codec>(codec: &C, data: &[u8]) -> Outcome {
    let mut input = Input(data);
    let selector = input.byte();
    let body = input.0;
    match selector % 6 {
        0 => stable::<C, Msg>(codec, body)?,
        1 => stable::<C, Record>(codec, body)?,
        2 => stable::<C, Floats>(codec, body)?,
        3 => stable::<C, (String, u32)>(codec, body)?,
        4 => stable::<C, Vec<ActorId>>(codec, body)?,
        _ => stable::<C, BTreeMap<u64, Option<Vec<u8>>>>(codec, body)?,
    }
    let record = record(&mut Input(body));
    round_trip(codec, &record)?;
    round_trip(codec, &Msg::Nested(record))?;
    let floats = Floats(f32::from_bits(input.u64() as u32), f64::from_bits(input.u64()));
    let encoded = encode(codec, &floats)?;
    let decoded: Floats = decode(codec, &encoded)?;
    check(encode(codec, &decoded)? == encoded, || {
        format!("{floats:?} does not round-trip")
    })
}

/// Decodes as every type without checking anything but the absence of panics.
fn decode_all<C: Codec>(codec: &C, data: &[u8]) {
    let _ = codec.decode::<Msg>(data);
    let _ = codec.decode::<Record>(data);
    let _ = codec.decode::<Floats>(data);
    let _ = codec.decode::<BTreeMap<u64, Option<Vec<u8>>>>(data);
}

fn encode<C: Codec, T: Serialize + Debug>(codec: &C, value: &T) -> Result<Vec<u8>, Violation> {
    let mut out = Vec::new();
    codec
        .encode(value, &mut out)
        .map_err(|e| Violation::new(format!("{} cannot encode {value:?}: {e}", C::NAME)))?;
    Ok(out)
}

fn decode<C: Codec, T: DeserializeOwned>(codec: &C, bytes: &[u8]) -> Result<T, Violation> {
    codec
        .decode(bytes)
        .map_err(|e| Violation::new(format!("{} cannot decode its own {bytes:02x?}: {e}", C::NAME)))
}

/// Whatever decodes re-encodes, and that encoding decodes and re-encodes to itself.
fn stable<C: Codec, T: Serialize + DeserializeOwned + Debug>(codec: &C, bytes: &[u8]) -> Outcome {
    let Ok(value) = codec.decode::<T>(bytes) else {
        return Ok(());
    };
    let encoded = encode(codec, &value)?;
    let again: T = decode(codec, &encoded)?;
    check(encode(codec, &again)? == encoded, || {
        format!("{} decoded {value:?}, which does not re-encode stably", C::NAME)
    })
}

/// Encoding then decoding gives the value back.
fn round_trip<C: Codec, T: Serialize + DeserializeOwned + PartialEq + Debug>(
    codec: &C,
    value: &T,
) -> Outcome {
    let decoded: T = decode(codec, &encode(codec, value)?)?;
    check(&decoded == value, || {
        format!("{} turned {value:?} into {decoded:?}", C::NAME)
    })
}

/// A record whose every field comes from the fuzzer's bytes.
fn record(input: &mut Input<'_>) -> Record {
    let text = |input: &mut Input<'_>| {
        let len = usize::from(input.byte() % 32);
        String::from_utf8_lossy(input.take(len)).into_owned()
    };
    let id = input.u64();
    let small = i16::from_be_bytes([input.byte(), input.byte()]);
    let big = i128::from(input.u64()) << 64 | i128::from(input.u64());
    let flag = input.byte() & 1 == 1;
    let letter = char::from_u32(u32::from(input.u16()) << 5).unwrap_or('\u{fffd}');
    let name = text(input);
    let len = usize::from(input.byte());
    let bytes = input.take(len).to_vec();
    let pair = (input.byte(), input.u64() as i64);
    let counts = (0..input.byte() % 4)
        .map(|_| (text(input), u32::from(input.u16())))
        .collect();
    let actor = ActorId::new(NodeId::from_u64(input.u64()), input.u64());
    Record {
        id,
        small,
        big,
        flag,
        letter,
        name,
        bytes,
        pair,
        counts,
        actor,
    }
}
