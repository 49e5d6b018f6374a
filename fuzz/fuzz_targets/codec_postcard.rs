//! Fuzz target `codec_postcard`: see `distribute::__fuzz::codec_postcard` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::codec_postcard(data) {
        panic!("codec_postcard: {violation}");
    }
});
