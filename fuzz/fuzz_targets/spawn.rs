//! Fuzz target `spawn`: see `distribute::__fuzz::spawn` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::spawn(data) {
        panic!("spawn: {violation}");
    }
});
