//! Fuzz target `session`: see `distribute::__fuzz::session` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::session(data) {
        panic!("session: {violation}");
    }
});
