//! Fuzz target `registry`: see `distribute::__fuzz::registry` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::registry(data) {
        panic!("registry: {violation}");
    }
});
