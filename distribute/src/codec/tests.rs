//! Unit tests of the codecs: the contract both formats share, then format specifics.
use super::*;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

const SMALL: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle { radius: f64 },
    Polygon(Vec<(i32, i32)>),
    Tagged(String, Option<Box<Shape>>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Drawing {
    id: u64,
    title: String,
    shapes: Vec<Shape>,
    layers: HashMap<String, Vec<u8>>,
    ordered: BTreeMap<u16, Option<i64>>,
    owner: Option<String>,
    unit: (),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Small {
    A,
    B(u8),
    C { x: u16 },
}

fn drawing() -> Drawing {
    Drawing {
        id: u64::MAX - 7,
        title: "plan — ground floor ✓".to_owned(),
        shapes: vec![
            Shape::Empty,
            Shape::Circle { radius: -2.5 },
            Shape::Polygon(vec![(0, 0), (i32::MIN, i32::MAX), (-1, 1)]),
            Shape::Tagged(
                "nested".to_owned(),
                Some(Box::new(Shape::Tagged(String::new(), None))),
            ),
        ],
        layers: HashMap::from([
            ("base".to_owned(), vec![1, 2, 3]),
            ("empty".to_owned(), Vec::new()),
        ]),
        ordered: BTreeMap::from([(1, Some(-1)), (600, None), (u16::MAX, Some(i64::MIN))]),
        owner: None,
        unit: (),
    }
}

fn encoded<C: Codec, T: Serialize + ?Sized>(codec: &C, value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let result = codec.encode(value, &mut out);
    assert_eq!(result, Ok(()), "{} failed to encode", C::NAME);
    out
}

fn round_trip<C, T>(codec: &C, value: T)
where
    C: Codec,
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = encoded(codec, &value);
    assert_eq!(codec.decode::<T>(&bytes), Ok(value), "{}", C::NAME);
}

/// The codec's encoding of a length (a `u64` and a `usize` share the varint form in both
/// formats), used to forge length prefixes.
fn length_prefix<C: Codec>(codec: &C, len: u64) -> Vec<u8> {
    encoded(codec, &len)
}

/// Tests of the contract every codec keeps, run once per codec.
macro_rules! contract_tests {
    ($module:ident, $codec:ident) => {
        mod $module {
            use super::*;

            type Limited = $codec<SMALL>;
            type Unlimited = $codec<{ usize::MAX }>;

            #[test]
            fn round_trips_primitives() {
                let c = Limited::default();
                round_trip(&c, 0u8);
                round_trip(&c, u8::MAX);
                round_trip(&c, u16::MAX);
                round_trip(&c, u32::MAX);
                round_trip(&c, u64::MAX);
                round_trip(&c, u128::MAX);
                round_trip(&c, i8::MIN);
                round_trip(&c, i32::MIN);
                round_trip(&c, i64::MIN);
                round_trip(&c, i64::MAX);
                round_trip(&c, i128::MIN);
                round_trip(&c, -1.5f32);
                round_trip(&c, f64::MAX);
                round_trip(&c, f64::NEG_INFINITY);
                round_trip(&c, true);
                round_trip(&c, false);
                round_trip(&c, 'é');
                round_trip(&c, '\u{10FFFF}');
                round_trip(&c, ());
                round_trip(&c, usize::MAX);
            }

            #[test]
            fn round_trips_nan_bit_for_bit() {
                let c = Limited::default();
                let nan = f64::from_bits(0x7ff8_0000_dead_beef);
                let back: f64 = c.decode(&encoded(&c, &nan)).unwrap();
                assert_eq!(back.to_bits(), nan.to_bits());
            }

            #[test]
            fn round_trips_strings() {
                let c = Limited::default();
                round_trip(&c, String::new());
                round_trip(&c, "hello".to_owned());
                round_trip(&c, "ünïcødé 🦀 漢字".to_owned());
                round_trip(&c, "x".repeat(300));
            }

            #[test]
            fn round_trips_nested_structs_enums_and_collections() {
                let c = Limited::default();
                round_trip(&c, drawing());
                round_trip(&c, Some(vec![Small::A, Small::B(9), Small::C { x: 700 }]));
                round_trip(&c, Option::<Small>::None);
                round_trip(&c, vec![Vec::<u64>::new(), vec![1, u64::MAX]]);
                round_trip(&c, HashMap::from([(1u8, "one".to_owned())]));
                round_trip(&c, (1u8, "two".to_owned(), [3u16; 4]));
            }

            #[test]
            fn encode_appends_after_existing_bytes() {
                let c = Limited::default();
                // One value encoded twice: its HashMap iterates in the same order.
                let value = drawing();
                let mut out = vec![0xAA, 0xBB];
                c.encode(&value, &mut out).unwrap();
                assert_eq!(&out[..2], &[0xAA, 0xBB]);
                assert_eq!(&out[2..], encoded(&c, &value).as_slice());
                assert_eq!(c.decode::<Drawing>(&out[2..]), Ok(value));
            }

            #[test]
            fn decode_rejects_trailing_bytes() {
                let c = Limited::default();
                let mut bytes = encoded(&c, &drawing());
                bytes.push(0);
                assert_eq!(
                    c.decode::<Drawing>(&bytes),
                    Err(CodecError::TrailingBytes { extra: 1 })
                );
                bytes.extend_from_slice(&[1, 2]);
                assert_eq!(
                    c.decode::<Drawing>(&bytes),
                    Err(CodecError::TrailingBytes { extra: 3 })
                );
                assert_eq!(
                    c.decode::<()>(&[7]),
                    Err(CodecError::TrailingBytes { extra: 1 })
                );
            }

            #[test]
            fn decode_rejects_every_truncation() {
                let c = Limited::default();
                let bytes = encoded(&c, &drawing());
                for len in 0..bytes.len() {
                    let result = c.decode::<Drawing>(&bytes[..len]);
                    assert!(
                        matches!(result, Err(CodecError::Decode(_))),
                        "prefix of {len} bytes gave {result:?}"
                    );
                }
            }

            #[test]
            fn decode_rejects_unknown_enum_variant() {
                let c = Limited::default();
                // Variant index 3 of a three-variant enum, in both formats a single byte.
                let result = c.decode::<Small>(&[3]);
                assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
                let result = c.decode::<Small>(&length_prefix(&c, 1 << 40));
                assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
            }

            #[test]
            fn decode_rejects_bad_bool_option_and_utf8() {
                let c = Limited::default();
                assert!(matches!(c.decode::<bool>(&[2]), Err(CodecError::Decode(_))));
                assert!(matches!(
                    c.decode::<Option<u8>>(&[2, 0]),
                    Err(CodecError::Decode(_))
                ));
                assert!(matches!(
                    c.decode::<String>(&[2, 0xC3, 0x28]),
                    Err(CodecError::Decode(_))
                ));
            }

            #[test]
            fn decode_rejects_input_longer_than_limit() {
                let c = Limited::default();
                let bytes = vec![0u8; SMALL + 1];
                assert_eq!(
                    c.decode::<Vec<u8>>(&bytes),
                    Err(CodecError::TooLarge {
                        size: SMALL + 1,
                        limit: SMALL
                    })
                );
            }

            #[test]
            fn decode_rejects_huge_length_prefix_without_allocating() {
                let c = Limited::default();
                let mut bytes = length_prefix(&c, 1 << 60);
                bytes.extend_from_slice(b"abc");
                // Each of these would need 2^60 elements: an attempt to reserve them
                // would abort the test process, so reaching the asserts is the check.
                assert!(c.decode::<Vec<u8>>(&bytes).is_err());
                assert!(c.decode::<Vec<u64>>(&bytes).is_err());
                assert!(c.decode::<String>(&bytes).is_err());
                assert!(c.decode::<HashMap<u8, u8>>(&bytes).is_err());
                let unlimited = Unlimited::default();
                assert!(unlimited.decode::<Vec<u8>>(&bytes).is_err());
            }

            #[test]
            fn decode_rejects_length_prefix_longer_than_input() {
                let c = Limited::default();
                let mut bytes = length_prefix(&c, 10);
                bytes.extend_from_slice(b"abc");
                let result = c.decode::<String>(&bytes);
                assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
                let result = c.decode::<Vec<u8>>(&bytes);
                assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
            }

            #[test]
            fn encode_over_limit_fails_and_leaves_out_unchanged() {
                let c = Limited::default();
                let value = vec![7u8; SMALL];
                let true_size = encoded(&Unlimited::default(), &value).len();
                assert!(true_size > SMALL);
                let mut out = vec![1, 2, 3];
                assert_eq!(
                    c.encode(&value, &mut out),
                    Err(CodecError::TooLarge {
                        size: true_size,
                        limit: SMALL
                    })
                );
                assert_eq!(out, [1, 2, 3]);
            }

            #[test]
            fn encode_accepts_exactly_limit_bytes_and_rejects_one_more() {
                let c = Limited::default();
                let unlimited = Unlimited::default();
                let fits = (0..=SMALL)
                    .find(|&n| encoded(&unlimited, &vec![0u8; n]).len() == SMALL)
                    .unwrap();
                let mut out = Vec::new();
                c.encode(&vec![0u8; fits], &mut out).unwrap();
                assert_eq!(out.len(), SMALL);
                let over = vec![0u8; fits + 1];
                assert!(matches!(
                    c.encode(&over, &mut out),
                    Err(CodecError::TooLarge { .. })
                ));
            }

            #[test]
            fn encode_failure_from_serialize_leaves_out_unchanged() {
                struct Unencodable;
                impl Serialize for Unencodable {
                    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        use serde::ser::{Error, SerializeSeq};
                        let mut seq = s.serialize_seq(Some(2))?;
                        seq.serialize_element(&42u32)?;
                        Err(S::Error::custom("refused"))
                    }
                }
                let c = Limited::default();
                let mut out = vec![9];
                let result = c.encode(&Unencodable, &mut out);
                assert!(matches!(result, Err(CodecError::Encode(_))), "{result:?}");
                assert_eq!(out, [9]);
            }

            #[test]
            fn encode_rejects_sequence_without_length() {
                struct Unsized;
                impl Serialize for Unsized {
                    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        // A filtered iterator cannot tell its length in advance.
                        s.collect_seq([1u8, 2, 3].iter().filter(|_| true))
                    }
                }
                let c = Limited::default();
                let mut out = Vec::new();
                let result = c.encode(&Unsized, &mut out);
                assert!(matches!(result, Err(CodecError::Encode(_))), "{result:?}");
                assert!(out.is_empty());
            }

            #[test]
            fn decode_never_panics_on_single_bytes() {
                let c = Limited::default();
                for byte in 0..=u8::MAX {
                    let input = [byte];
                    let _ = c.decode::<Drawing>(&input);
                    let _ = c.decode::<Shape>(&input);
                    let _ = c.decode::<String>(&input);
                    let _ = c.decode::<Option<Small>>(&input);
                    let _ = c.decode::<u64>(&input);
                    let _ = c.decode::<char>(&input);
                }
            }

            #[test]
            fn decode_never_panics_on_garbage() {
                let c = Limited::default();
                // A seeded generator keeps the garbage reproducible.
                let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
                for round in 0..2000 {
                    let len = rng.usize(..64);
                    let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
                    let _ = c.decode::<Drawing>(&bytes);
                    let _ = c.decode::<Vec<Shape>>(&bytes);
                    let _ = c.decode::<HashMap<String, Vec<u8>>>(&bytes);
                    // Real encodings with random bytes flipped hit deeper paths.
                    let mut mutated = encoded(&c, &drawing());
                    let at = rng.usize(..mutated.len());
                    mutated[at] ^= (round as u8) | 1;
                    let _ = c.decode::<Drawing>(&mutated);
                }
            }

            #[test]
            fn bytes_encode_as_a_vec_of_u8_does_and_round_trip() {
                let c = Unlimited::default();
                let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
                let bulk = crate::codec::Bytes::from(payload.clone());
                let wire = encoded(&c, &bulk);
                // The same wire form as a `Vec<u8>`: a length, then the bytes.
                assert_eq!(wire, encoded(&c, &payload));
                assert_eq!(
                    wire.len(),
                    length_prefix(&c, payload.len() as u64).len() + payload.len()
                );
                assert_eq!(c.decode::<crate::codec::Bytes>(&wire), Ok(bulk));
                assert_eq!(c.decode::<Vec<u8>>(&wire), Ok(payload));
                round_trip(&c, crate::codec::Bytes::new());
                round_trip(
                    &c,
                    (7u8, crate::codec::Bytes::from(&b"in a tuple"[..]), 9u64),
                );
            }

            #[test]
            fn bytes_decoding_rejects_truncation_and_forged_lengths() {
                let c = Limited::default();
                let wire = encoded(&c, &crate::codec::Bytes::from(vec![1u8; 100]));
                for cut in 0..wire.len() {
                    assert!(
                        c.decode::<crate::codec::Bytes>(&wire[..cut]).is_err(),
                        "cut at {cut}"
                    );
                }
                let mut forged = length_prefix(&c, u64::MAX / 2);
                forged.extend_from_slice(&[0; 16]);
                assert!(c.decode::<crate::codec::Bytes>(&forged).is_err());
                let over = crate::codec::Bytes::from(vec![0u8; SMALL + 1]);
                let mut out = Vec::new();
                assert!(matches!(
                    c.encode(&over, &mut out),
                    Err(CodecError::TooLarge { .. })
                ));
                assert!(out.is_empty());
            }

            #[test]
            fn limit_is_reported_and_default_is_default_limit() {
                assert_eq!(Limited::LIMIT, SMALL);
                assert_eq!(<$codec>::LIMIT, DEFAULT_LIMIT);
            }
        }
    };
}

contract_tests!(bincode_contract, Bincode);
#[cfg(feature = "postcard")]
contract_tests!(postcard_contract, Postcard);

#[test]
fn codecs_are_send_sync_copy_and_errors_are_send_sync() {
    fn codec_traits<T: Codec + Copy>() {}
    fn error_traits<T: std::error::Error + Send + Sync + 'static>() {}
    codec_traits::<DefaultCodec>();
    codec_traits::<Bincode>();
    codec_traits::<Bincode<16>>();
    #[cfg(feature = "postcard")]
    codec_traits::<Postcard>();
    error_traits::<CodecError>();
}

#[test]
fn bincode_name_is_bincode() {
    assert_eq!(<Bincode as Codec>::NAME, "bincode");
}

#[test]
fn bincode_string_with_huge_length_prefix_is_too_large() {
    // 0xFD announces a u64 varint: this claims a 2^60-byte string.
    let bytes = [0xFD, 0, 0, 0, 0, 0, 0, 0, 0x10, b'a'];
    assert_eq!(
        Bincode::<SMALL>.decode::<String>(&bytes),
        Err(CodecError::TooLarge {
            size: SMALL + 1,
            limit: SMALL
        })
    );
}

#[test]
fn bincode_vec_with_huge_length_prefix_runs_out_of_input() {
    // serde reserves a bounded capacity for sequences and then meets the end of input.
    let bytes = [0xFD, 0, 0, 0, 0, 0, 0, 0, 0x10, 1, 2, 3];
    let result = Bincode::<SMALL>.decode::<Vec<u8>>(&bytes);
    assert!(
        matches!(&result, Err(CodecError::Decode(m)) if m.contains("ends early")),
        "{result:?}"
    );
}

#[test]
fn bincode_unknown_variant_message_names_the_index() {
    let result = Bincode::<SMALL>.decode::<Option<u8>>(&[5, 0]);
    assert!(
        matches!(&result, Err(CodecError::Decode(m)) if m.contains("variant index 5")),
        "{result:?}"
    );
}

#[test]
fn bincode_decode_budget_counts_integers_at_memory_width() {
    // 100 small u64s encode as 101 bytes, within the limit of 128, but bincode's decode
    // budget charges 8 bytes per integer and per length: the documented asymmetry.
    let codec = Bincode::<128>;
    let value = vec![1u64; 100];
    let bytes = encoded(&codec, &value);
    assert_eq!(bytes.len(), 101);
    assert_eq!(
        codec.decode::<Vec<u64>>(&bytes),
        Err(CodecError::TooLarge {
            size: 129,
            limit: 128
        })
    );
    assert_eq!(Bincode::<1024>.decode::<Vec<u64>>(&bytes), Ok(value));
}

#[test]
fn bincode_wire_format_is_standard_varint() {
    // Pinned so that an accidental config change (fixint, big endian) is caught: it would
    // break every node still running the old build.
    assert_eq!(encoded(&Bincode::<SMALL>, &(250u32, 251u32)), [250, 0xFB, 251, 0]);
    assert_eq!(encoded(&Bincode::<SMALL>, &"hi"), [2, b'h', b'i']);
}

#[cfg(feature = "postcard")]
mod postcard_format {
    use super::*;

    #[test]
    fn postcard_name_is_postcard() {
        assert_eq!(<Postcard as Codec>::NAME, "postcard");
    }

    #[test]
    fn postcard_huge_length_prefix_is_decode_error() {
        // LEB128 varint of 2^60: eight continuation bytes and 0x10.
        let mut bytes = vec![0x80; 8];
        bytes.push(0x10);
        bytes.extend_from_slice(b"abc");
        let codec = Postcard::<SMALL>;
        for result in [
            codec.decode::<String>(&bytes).map(drop),
            codec.decode::<Vec<u8>>(&bytes).map(drop),
            codec.decode::<Vec<String>>(&bytes).map(drop),
        ] {
            assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
        }
    }

    #[test]
    fn postcard_decodes_whatever_fits_the_limit() {
        // No decode budget: unlike bincode, integer-heavy values near the limit decode.
        let codec = Postcard::<128>;
        let value = vec![1u64; 100];
        let bytes = encoded(&codec, &value);
        assert_eq!(codec.decode::<Vec<u64>>(&bytes), Ok(value));
    }

    #[test]
    fn postcard_wire_format_is_leb128_varint() {
        assert_eq!(encoded(&Postcard::<SMALL>, &(127u32, 128u32)), [127, 0x80, 1]);
        assert_eq!(encoded(&Postcard::<SMALL>, &"hi"), [2, b'h', b'i']);
    }
}
