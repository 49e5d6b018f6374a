//! Compile tests of the macros: every supported form in `ui/pass` compiles and runs; every
//! error in `ui/fail/<macro>` fails with the committed `.stderr`.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p distribute-ui-tests`,
//! then read every diff: each message must be clear, spanned on the right token, and show the
//! right form.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/actor/*.rs");
    cases.compile_fail("tests/ui/fail/supervised/*.rs");
    cases.compile_fail("tests/ui/fail/registered/*.rs");
}
