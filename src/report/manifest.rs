//! The evidence manifest: one JSON object per input file, as `sources --json` prints it and
//! `case.json` embeds it (DESIGN.md §2).

use crate::parse::Timestamp;
use crate::scan::{FileReport, ScanResult};
use serde_json::{Value, json};

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_utc_string()))
}

/// One file's manifest entry.
pub fn entry(f: &FileReport) -> Value {
    let s = &f.stats;
    let examples: Vec<Value> = s
        .examples
        .iter()
        .map(|e| json!({"line": e.line, "reason": e.reason, "text": e.text}))
        .collect();
    json!({
        "path": f.rel,
        "location": f.path,
        "status": f.status.name(),
        "size": f.size,
        "sha256": f.sha256,
        "format": f.format.map(|x| x.name()),
        "compression": f.compression.map(|c| c.name()),
        "lines": s.lines,
        "records": s.records,
        "parsed": s.parsed,
        "unparsed": s.unparsed,
        "first_event": time(s.first),
        "last_event": time(s.last),
        "problems": f.problems,
        "unparsed_examples": examples,
    })
}

/// The manifest of a whole scan, in path order.
pub fn manifest(r: &ScanResult) -> Value {
    Value::Array(r.files.iter().map(entry).collect())
}
