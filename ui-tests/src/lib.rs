//! Compile tests of the distribute macros live in `tests/`.
