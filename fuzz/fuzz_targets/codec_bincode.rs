//! Fuzz target `codec_bincode`: see `distribute::__fuzz::codec_bincode` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::codec_bincode(data) {
        panic!("codec_bincode: {violation}");
    }
});
