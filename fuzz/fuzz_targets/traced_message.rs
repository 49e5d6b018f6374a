//! Fuzz target `traced_message`: see `distribute::__fuzz::traced_message` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::traced_message(data) {
        panic!("traced_message: {violation}");
    }
});
