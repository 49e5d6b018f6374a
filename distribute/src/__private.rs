//! Items used by the code that `#[actor]` generates. Not a public API: names and signatures
//! here may change in any release.

pub use serde;

use crate::codec::Codec;
use crate::error::BoxError;

/// Per-struct settings written by `#[actor]` on the struct, read by `#[actor]` on the `impl`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an actor",
    label = "this type has `#[actor]` methods but is not declared as an actor",
    note = "add `#[actor]` to the definition of `{Self}`: `#[actor] struct {Self} {{ ... }}`"
)]
pub trait ActorConfig {
    /// Mailbox capacity (`#[actor(mailbox = N)]`).
    const MAILBOX_CAPACITY: usize;
    /// Name in logs (`#[actor(name = "...")]`, default: the struct's name).
    const NAME: &'static str;
    /// Wire codec (`#[actor(codec = Path)]`, default: bincode).
    type Codec: Codec;
}

/// Implemented by every type that can travel in a message: an argument or a reply.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel in a message",
    label = "not serializable",
    note = "message arguments and replies cross the network, so they must implement `serde::Serialize` and `serde::de::DeserializeOwned` and be `Send + 'static`",
    note = "derive them: `#[derive(serde::Serialize, serde::Deserialize)]`"
)]
pub trait Wire: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {}

impl<T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static> Wire for T {}

/// Compile-time check that `T` can travel in a message; generated once per argument and reply
/// type, spanned on the type, so the error points at it.
pub const fn assert_wire<T: Wire>() {}

/// What an `#[on_start]` hook may return: `()` or `Result<(), E>`.
pub trait IntoStartResult {
    /// Converts into the result `Actor::started` returns.
    fn into_start_result(self) -> Result<(), BoxError>;
}

impl IntoStartResult for () {
    fn into_start_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoStartResult for Result<(), E> {
    fn into_start_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// FNV-1a, the hash behind generated tags and fingerprints; exposed so tests can check them.
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}
