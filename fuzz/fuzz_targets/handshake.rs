//! Fuzz target `handshake`: see `distribute::__fuzz::handshake` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::handshake(data) {
        panic!("handshake: {violation}");
    }
});
