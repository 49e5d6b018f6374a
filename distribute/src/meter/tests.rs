use std::collections::BTreeSet;

use super::ALL;

/// The names in the first column of a Markdown table whose rows start with `prefix`.
fn table_names(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix(prefix))
        .filter_map(|row| row.trim_start().strip_prefix("| `"))
        .filter_map(|row| row.split('`').next())
        .filter(|name| name.starts_with("distribute_"))
        .map(str::to_owned)
        .collect()
}

fn constants() -> BTreeSet<String> {
    ALL.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn the_docs_table_lists_exactly_the_named_constants_once_each() {
    let rows = table_names(include_str!("../meter.rs"), "//!");
    let listed: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), listed.len(), "a metric is listed twice: {rows:?}");
    assert_eq!(listed, constants());
    assert_eq!(ALL.len(), constants().len(), "a constant is listed twice in ALL");
}

#[test]
fn the_readme_table_lists_exactly_the_named_constants() {
    let rows = table_names(include_str!("../../../README.md"), "");
    let listed: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(listed, constants());
}

#[test]
fn the_docs_table_gives_every_metric_a_known_type() {
    let text = include_str!("../meter.rs");
    for row in text.lines().filter(|l| l.starts_with("//! | `distribute_")) {
        let kind = row.split('|').nth(2).map(str::trim);
        assert!(
            matches!(kind, Some("counter" | "gauge" | "histogram")),
            "unknown type in {row}"
        );
        let name = row.split('`').nth(1).unwrap_or_default();
        if kind == Some("counter") {
            assert!(
                name.ends_with("_total"),
                "a counter's name ends in _total: {name}"
            );
        }
    }
}

#[test]
fn a_batch_times_one_handler_in_the_sample_period_and_samples_depth_at_batch_starts() {
    let meters = super::ActorMeters::detached("Test");
    let mut batch = super::Batch::default();
    let period = u32::from(super::scopes::HANDLER_SAMPLE_EVERY);
    let mut depths_asked = 0;
    let timed = (0..period * 3)
        .filter(|i| {
            batch.took(&meters, i % 100 == 0, || {
                depths_asked += 1;
                0
            })
        })
        .count();
    super::Batch::flush(&meters, period * 3);
    #[cfg(feature = "metrics")]
    assert_eq!(
        (timed, depths_asked),
        (3, 2),
        "one handler in {period} timed, the depth sampled at each of the two batch starts"
    );
    #[cfg(not(feature = "metrics"))]
    assert_eq!((timed, depths_asked), (0, 0));
}
