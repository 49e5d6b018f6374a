//! Fuzz target `introspect`: see `distribute::__fuzz::introspect` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::introspect(data) {
        panic!("introspect: {violation}");
    }
});
