//! Timeline rows: each finding's episode as a row where it starts and, when it lasts, a row
//! where it ends; each notable event (logins, role changes, exports, policy changes: events of
//! rules marked `timeline`) as a row of its own. Sorted by time, then source, then offset, so
//! two runs give the same rows.

use super::{Incident, NotableEvent, SourceInfo, actors::named, grouped};
use crate::detect::Finding;
use std::collections::HashMap;

/// One row of timeline.jsonl / timeline.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// UTC nanoseconds.
    pub time: i64,
    /// Timesketch's `timestamp_desc`.
    pub desc: &'static str,
    pub message: String,
    pub data_type: &'static str,
    pub level: &'static str,
    pub tactic: Option<&'static str>,
    pub rule_id: String,
    pub finding_id: String,
    pub incident_id: Option<String>,
    pub path: String,
    pub sha256: Option<String>,
    pub line: Option<u64>,
    pub offset: Option<u64>,
    pub count: u64,
    pub bytes: u64,
}

fn message(f: &Finding, last: bool) -> String {
    let who: Vec<&str> = named(f).map(|(_, v)| v).take(4).collect();
    let mut m = f.title.clone();
    if last {
        m.push_str(" (ends)");
    }
    if !f.message.is_empty() {
        m.push_str(": ");
        m.push_str(&f.message);
        return m;
    }
    if !who.is_empty() {
        m.push_str(" — ");
        m.push_str(&who.join(", "));
    }
    m.push_str(&format!(" — {}", super::events(f.count)));
    if f.attempt_only() {
        m.push_str(", all failed");
    } else if f.failed > 0 {
        m.push_str(&format!(", {} failed", grouped(f.failed)));
    }
    if f.bytes >= 1.0 {
        m.push_str(&format!(", {} bytes", grouped(f.bytes.round() as u64)));
    }
    if !f.detail.is_empty() {
        m.push_str(&format!(" ({})", f.detail));
    }
    m
}

/// The rows of every finding.
pub fn rows(
    findings: &[Finding],
    incident_of: &[Option<usize>],
    incidents: &[Incident],
    sources: &[SourceInfo],
) -> Vec<Row> {
    let by_path: HashMap<&str, &SourceInfo> =
        sources.iter().map(|s| (s.path.as_str(), s)).collect();
    let mut out = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        // The event at that time when it is known.
        let row = |time: i64, desc: &'static str, last: bool| {
            let ev = if last {
                f.last_at.as_ref()
            } else {
                f.first_at.as_ref().or(f.evidence.first())
            };
            let src = ev.and_then(|(p, _, _)| by_path.get(p.as_str()));
            Row {
                time,
                desc,
                message: message(f, last),
                data_type: src.map_or("leaktrail:finding", |s| s.data_type),
                level: f.level,
                tactic: f.tactics.first().copied(),
                rule_id: f.rule_id.clone(),
                finding_id: f.id.clone(),
                incident_id: incident_of[i].map(|n| incidents[n].id.clone()),
                path: src.map_or_else(String::new, |s| s.rel.clone()),
                sha256: src.and_then(|s| s.sha256.clone()),
                line: ev.map(|e| e.1),
                offset: ev.map(|e| e.2),
                count: f.count,
                bytes: f.bytes.round() as u64,
            }
        };
        out.push(row(f.first_seen, "First seen", false));
        if f.last_seen != f.first_seen {
            out.push(row(f.last_seen, "Last seen", true));
        }
    }
    out
}

/// Rows of notable events; each belongs to the incident that names one of its entities.
pub fn event_rows(
    events: &[NotableEvent],
    incidents: &[Incident],
    sources: &[SourceInfo],
) -> Vec<Row> {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for inc in incidents.iter().rev() {
        for v in inc.ips.iter().chain(&inc.users).chain(&inc.keys) {
            owner.insert(v.as_str(), inc.id.as_str());
        }
    }
    events
        .iter()
        .map(|e| {
            let src = sources.get(e.file);
            let who: Vec<&str> = [&e.ip, &e.user, &e.key]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let mut message = e.title.clone();
            if !who.is_empty() {
                message.push_str(" — ");
                message.push_str(&who.join(", "));
            }
            Row {
                time: e.time,
                desc: "Event time",
                message,
                data_type: src.map_or("text:line", |s| s.data_type),
                level: e.level,
                tactic: e.tactic,
                rule_id: e.rule_id.clone(),
                finding_id: String::new(),
                incident_id: who.iter().find_map(|w| owner.get(w)).map(|s| s.to_string()),
                path: src.map_or_else(String::new, |s| s.rel.clone()),
                sha256: src.and_then(|s| s.sha256.clone()),
                line: Some(e.line),
                offset: Some(e.offset),
                count: 1,
                bytes: 0,
            }
        })
        .collect()
}

/// Sorts rows by time, then source path, then offset (then finding and kind, for ties).
pub fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (a.time, &a.path, a.offset, &a.finding_id, a.desc, &a.rule_id).cmp(&(
            b.time,
            &b.path,
            b.offset,
            &b.finding_id,
            b.desc,
            &b.rule_id,
        ))
    });
}
