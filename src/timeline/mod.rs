//! From findings to the story: actors (every entity a finding names, plus the top receivers of
//! data), incidents (findings linked by the entities they share), tactics in the order they
//! were reached, a plain-language summary, and the rows of the timeline.

pub mod actors;
pub mod incidents;
pub mod rows;

use crate::detect::Finding;
use crate::detect::seen::Seen;
pub use actors::Actor;
pub use incidents::Incident;
pub use rows::Row;

/// Everything the reports tell, built once from the scan's findings and entity activity.
pub struct Story {
    pub findings: Vec<Finding>,
    /// For each finding (same order), the index of its incident.
    pub incident_of: Vec<Option<usize>>,
    /// Most important first (INC-1 is the one to read first).
    pub incidents: Vec<Incident>,
    pub actors: Vec<Actor>,
    pub rows: Vec<Row>,
    /// The latest event time in the evidence (UTC ns), to tell whether activity stopped; the
    /// window's end when the evidence goes on after it.
    pub evidence_end: Option<i64>,
    /// The window events were read in (`--since`, `--until`), when one was given.
    pub window: (Option<i64>, Option<i64>),
}

impl Story {
    /// Findings that belong to no incident (informational ones, those naming no actor).
    pub fn loose_findings(&self) -> Vec<&Finding> {
        self.findings
            .iter()
            .zip(&self.incident_of)
            .filter(|(_, i)| i.is_none())
            .map(|(f, _)| f)
            .collect()
    }

    /// An incident's timeline: where each of its findings starts, and its notable events.
    pub fn incident_rows(&self, incident: &str) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|r| r.desc != "Last seen" && r.incident_id.as_deref() == Some(incident))
            .collect()
    }

    /// Actors by bytes out, then by findings, then by value.
    pub fn actors_by_bytes(&self) -> Vec<&Actor> {
        let mut list: Vec<&Actor> = self.actors.iter().collect();
        list.sort_by(|a, b| {
            (b.bytes_out, b.finding_ids.len(), &a.value).cmp(&(
                a.bytes_out,
                a.finding_ids.len(),
                &b.value,
            ))
        });
        list
    }
}

/// What the story needs to know about each scanned file, by scan index.
#[derive(Clone, Debug, Default)]
pub struct SourceInfo {
    /// The path evidence references use.
    pub path: String,
    /// Relative to its root (as in the manifest).
    pub rel: String,
    pub sha256: Option<String>,
    /// Timesketch-style data type (`webserver:access`, `aws:cloudtrail`).
    pub data_type: &'static str,
}

/// One event of a rule marked for the timeline (a login, a role change, a policy change).
#[derive(Clone, Debug)]
pub struct NotableEvent {
    pub time: i64,
    /// Scan index of its file.
    pub file: usize,
    pub line: u64,
    pub offset: u64,
    pub rule_id: String,
    pub title: String,
    pub level: &'static str,
    pub tactic: Option<&'static str>,
    pub ip: Option<String>,
    pub user: Option<String>,
    pub key: Option<String>,
}

/// Builds the story.
pub fn build(
    findings: Vec<Finding>,
    notable: &[NotableEvent],
    seen: &Seen,
    sources: &[SourceInfo],
    evidence_end: Option<i64>,
    window: (Option<i64>, Option<i64>),
) -> Story {
    let (incidents, incident_of) = incidents::group(&findings, seen, evidence_end);
    let actors = actors::actors(&findings, seen, sources);
    let mut rows = rows::rows(&findings, &incident_of, &incidents, sources);
    rows.extend(rows::event_rows(notable, &incidents, sources));
    rows::sort(&mut rows);
    Story {
        findings,
        incident_of,
        incidents,
        actors,
        rows,
        evidence_end,
        window,
    }
}

impl Story {
    /// The window read, in words (` · only events before …`), or nothing.
    pub fn window_words(&self) -> String {
        match self.window {
            (None, None) => String::new(),
            (Some(a), None) => format!(" · only events from {}", utc(a)),
            (None, Some(b)) => format!(" · only events before {}", utc(b)),
            (Some(a), Some(b)) => format!(" · only events from {} and before {}", utc(a), utc(b)),
        }
    }
}

/// RFC 3339 UTC with `Z` for UTC nanoseconds.
pub fn utc(n: i64) -> String {
    crate::parse::Timestamp {
        nanos: n,
        offset: 0,
        assumed: false,
    }
    .to_utc_string()
}

/// Bytes for people: 48.2 MB, 654.0 MB, 1.3 GB (decimal units, as on the wire).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    if b < 1000 {
        return format!("{b} bytes");
    }
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// A count of events in words: `1 event`, `2,363 events`.
pub fn events(n: u64) -> String {
    counted(n, "event")
}

/// A count of things in words: `1 file`, `2,363 files` (a plural in -s).
pub fn counted(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", grouped(n))
    }
}

/// A number with thousands separators (120,000).
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration for people: 42 minutes, 3.5 hours, 2 days.
pub fn human_duration(ns: i64) -> String {
    let s = ns / 1_000_000_000;
    match s {
        s if s < 120 => format!("{s} seconds"),
        s if s < 7200 => format!("{} minutes", s / 60),
        s if s < 172_800 => format!("{:.1} hours", s as f64 / 3600.0),
        s => format!("{:.1} days", s as f64 / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_numbers() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(48_244_618), "48.2 MB");
        assert_eq!(human_bytes(654_006_602), "654.0 MB");
        assert_eq!(grouped(120000), "120,000");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(grouped(12), "12");
        assert_eq!(human_duration(42 * 60 * 1_000_000_000), "42 minutes");
        // A month-long silence in a log (a gap finding's title).
        assert_eq!(human_duration(40_266 * 60 * 1_000_000_000), "28.0 days");
    }
}
