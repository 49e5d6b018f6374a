//! Fuzz target `control`: see `distribute::__fuzz::control` for the input layout and invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = distribute::__fuzz::control(data) {
        panic!("control: {violation}");
    }
});
