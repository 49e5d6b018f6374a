//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same entry points
//! the cargo-fuzz targets call (`distribute::__fuzz`), on the stable toolchain: every input a
//! fuzzing run found interesting, and every regression input, must still decode without a
//! panic and keep the target's invariants.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use distribute::__fuzz::TARGETS;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(target);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("no corpus at {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .map(|e| e.path())
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        })
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_input_keeps_its_targets_invariants() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, entry) in TARGETS {
        let files = corpus_files(target);
        assert!(!files.is_empty(), "the corpus of fuzz target {target} is empty");
        for file in files {
            let data = fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            match panic::catch_unwind(AssertUnwindSafe(|| entry(&data))) {
                Ok(Ok(())) => {}
                Ok(Err(violation)) => failures.push(format!("{}: {violation}", file.display())),
                Err(_) => failures.push(format!("{}: panicked", file.display())),
            }
            replayed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_fuzz_target_has_an_entry_point_and_a_corpus() {
    let mut dirs: Vec<String> = fs::read_dir(corpus_root())
        .unwrap_or_else(|e| panic!("no fuzz corpus: {e}"))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut targets: Vec<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    targets.sort();
    assert_eq!(
        dirs, targets,
        "corpus directories and distribute::__fuzz::TARGETS differ"
    );
}
