//! Fuzz target `frame_decoder`: see `distribute::__fuzz::frame_decoder` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::frame_decoder(data) {
        panic!("frame_decoder: {violation}");
    }
});
