//! timeline.jsonl (Timesketch's JSONL import: `message`, `datetime`, `timestamp_desc` on every
//! row) and timeline.csv (the same rows under one frozen header, for Timeline Explorer and
//! spreadsheets: no embedded newlines, formulas neutralised).

use crate::timeline::{Row, utc};
use serde_json::json;

/// The CSV header. Frozen: a change of columns is a new `timeline_version`.
pub const CSV_HEADER: &[&str] = &[
    "datetime",
    "timestamp",
    "timestamp_desc",
    "message",
    "data_type",
    "tag",
    "level",
    "tactic",
    "rule_id",
    "finding_id",
    "incident_id",
    "source_path",
    "source_line",
    "source_offset",
    "source_sha256",
    "count",
    "bytes",
    "timeline_version",
];

/// The version written in every row's `timeline_version` column.
pub const TIMELINE_VERSION: &str = "1";

/// ISO 8601 with an explicit offset, as Timesketch documents it.
fn datetime(n: i64) -> String {
    let s = utc(n);
    match s.strip_suffix('Z') {
        Some(t) => format!("{t}+00:00"),
        None => s,
    }
}

fn tags(r: &Row) -> Vec<String> {
    let mut t = vec!["leaktrail".to_string(), r.level.to_string()];
    t.extend(r.tactic.map(str::to_string));
    t
}

/// timeline.jsonl: one JSON object per row.
pub fn jsonl(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows {
        let v = json!({
            "message": r.message,
            "datetime": datetime(r.time),
            "timestamp_desc": r.desc,
            "timestamp": r.time.div_euclid(1000),
            "data_type": r.data_type,
            "tag": tags(r),
            "level": r.level,
            "tactic": r.tactic,
            "rule_id": r.rule_id,
            "finding_id": r.finding_id,
            "incident_id": r.incident_id,
            "source_path": r.path,
            "source_line": r.line,
            "source_offset": r.offset,
            "source_sha256": r.sha256,
            "count": r.count,
            "bytes": r.bytes,
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// A CSV cell: line breaks and tabs become spaces, other control characters (terminal escape
/// sequences: `cat` and `less` show the file raw) and bidirectional overrides visible escapes
/// (`\x1b`); a cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`)
/// gets a leading apostrophe; quoted when needed.
pub fn cell(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\r' | '\n' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut v = super::sanitize::terminal(&spaced);
    if v.starts_with(['=', '+', '-', '@']) || s.starts_with(['\t', '\r']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"']) || v.starts_with(' ') || v.ends_with(' ') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// timeline.csv: the header, then one line per row.
pub fn csv(rows: &[Row]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    for r in rows {
        let cells = [
            datetime(r.time),
            r.time.div_euclid(1000).to_string(),
            r.desc.to_string(),
            r.message.clone(),
            r.data_type.to_string(),
            tags(r).join(";"),
            r.level.to_string(),
            r.tactic.unwrap_or("").to_string(),
            r.rule_id.clone(),
            r.finding_id.clone(),
            r.incident_id.clone().unwrap_or_default(),
            r.path.clone(),
            opt(r.line),
            opt(r.offset),
            r.sha256.clone().unwrap_or_default(),
            r.count.to_string(),
            r.bytes.to_string(),
            TIMELINE_VERSION.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_inert_and_single_line() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tcmd"), "' cmd");
        assert_eq!(cell("a\nb\r\nc"), "a b  c");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        // Escape sequences and bidirectional overrides reach neither a terminal nor a sheet.
        assert_eq!(cell("\x1b[31mroot"), "\\x1b[31mroot");
        assert_eq!(cell("a\u{202e}b\x07"), "a\\u{202e}b\\x07");
        assert_eq!(cell("\x1b=1"), "\\x1b=1");
    }

    #[test]
    fn datetime_has_an_offset() {
        assert_eq!(datetime(0), "1970-01-01T00:00:00+00:00");
    }
}
