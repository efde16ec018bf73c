//! The pipeline's field lists (pipelines/leaktrail.yml) against what the parsers produce: every
//! field of every event read from sample-logs/ and the corpus must be declared for its format,
//! or `rules lint` would call a rule that can fire one that cannot.

mod common;

use common::{corpus, scan_collect};
use leaktrail::rules::pipeline::Pipeline;
use leaktrail::scan::Options;
use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn every_field_the_parsers_produce_is_declared() {
    let mut roots = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs")];
    if let Some(c) = corpus("") {
        roots.push(c);
    }
    let (_, events) = scan_collect(&Options::new(roots));
    assert!(events.len() > 10_000);
    let p = Pipeline::default();
    let mut missing = BTreeSet::new();
    let mut formats = BTreeSet::new();
    for e in &events {
        formats.insert(e.format);
        for (name, _) in &e.fields {
            if !p.spec(e.format).has_field(name) {
                missing.insert(format!("{}: {name}", e.format.name()));
            }
        }
    }
    assert!(formats.len() >= 12, "formats seen: {formats:?}");
    assert!(
        missing.is_empty(),
        "fields not in the pipeline: {missing:#?}"
    );
}
