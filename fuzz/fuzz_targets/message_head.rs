//! Fuzz target `message_head`: see `distribute::__fuzz::message_head` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::message_head(data) {
        panic!("message_head: {violation}");
    }
});
