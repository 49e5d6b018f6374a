//! [`Bytes`]: a byte buffer that crosses the network as one run of bytes.
//!
//! serde sees a `Vec<u8>` as a sequence of `u8`s, so both codecs here write and read it one
//! element at a time: a call into the serializer per byte, which for a 64 KiB payload costs
//! far more than the copy itself. `Bytes` goes through serde's byte-buffer methods
//! (`serialize_bytes`, `deserialize_bytes`) instead: the encoder appends the whole buffer
//! with one copy, and the decoder copies it out of the frame with one copy. On the wire it is
//! a length and the bytes, in both [`Bincode`](super::Bincode) and `Postcard`, so it is also
//! the same encoding as a `Vec<u8>` in both formats (a sender and a receiver may disagree on
//! which of the two they use).

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A byte buffer for bulk payloads in messages: a `Vec<u8>` that the codecs encode and decode
/// as one block instead of byte by byte.
///
/// Use it for a message argument or reply that carries more than a few bytes of opaque data
/// (a file chunk, an image, a serialized blob). It dereferences to `Vec<u8>`, and converts
/// from and into one without copying. The codec's size limit still applies, as to any value.
///
/// # Example
///
/// ```
/// use distribute::codec::{Bincode, Codec};
/// use distribute::Bytes;
///
/// let chunk = Bytes::from(vec![7u8; 64 * 1024]);
/// let mut frame = Vec::new();
/// Bincode::<{ 1 << 20 }>.encode(&chunk, &mut frame)?;
/// // A varint length (for 65 536 bytes, a marker byte and a u32), then the bytes.
/// assert_eq!(frame.len(), 5 + 64 * 1024);
/// let back: Bytes = Bincode::<{ 1 << 20 }>.decode(&frame)?;
/// assert_eq!(back, chunk);
/// let plain: Vec<u8> = back.into_vec();
/// assert_eq!(plain.len(), 64 * 1024);
/// # Ok::<(), distribute::codec::CodecError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// An empty buffer.
    pub const fn new() -> Self {
        Bytes(Vec::new())
    }

    /// The bytes, as a `Vec<u8>` (no copy).
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    /// The length only: a bulk payload in a log line helps nobody.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_bytes`, not `deserialize_byte_buf`: from a frame in memory both codecs
        // then lend the bytes, copied once into the buffer; bincode's `byte_buf` path would
        // zero a buffer first and copy into it.
        deserializer.deserialize_bytes(BytesVisitor).map(Bytes)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte buffer")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
        Ok(bytes.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(bytes)
    }

    /// Formats that write bytes as a sequence (self-describing ones, such as JSON) end here.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        // A claimed size is not trusted for more than a small reservation.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(byte) = seq.next_element::<u8>()? {
            out.push(byte);
        }
        Ok(out)
    }
}
