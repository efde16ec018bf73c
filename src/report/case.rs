//! case.json: the machine-readable case file (schema_version 1, docs/case-file.md and
//! docs/case.schema.json): the run, the evidence manifest, findings, incidents and actors.

use crate::timeline::{Actor, Incident, SourceInfo, Story, utc};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The case file's schema version.
pub const SCHEMA_VERSION: u32 = 1;

fn incident(i: &Incident, story: &Story) -> Value {
    json!({
        "id": i.id,
        "level": i.level,
        "score": i.score,
        "first_seen": utc(i.first_seen),
        "last_seen": utc(i.last_seen),
        "last_activity": utc(i.last_activity),
        "ongoing": i.ongoing,
        "entities": {"ips": i.ips, "users": i.users, "keys": i.keys, "sessions": i.sessions},
        "tactics": i.tactics.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        "tactics_reached": i.tactics.iter().map(|(t, at)| json!({"tactic": t, "first_seen": utc(*at)})).collect::<Vec<_>>(),
        "bytes_out": i.bytes_out,
        "records": i.records,
        "finding_ids": i.findings.iter().map(|&f| story.findings[f].id.clone()).collect::<Vec<_>>(),
        "summary": i.summary,
    })
}

fn actor(a: &Actor) -> Value {
    json!({
        "kind": a.kind,
        "value": a.value,
        "first_seen": a.first_seen.map(utc),
        "last_seen": a.last_seen.map(utc),
        "events": a.events,
        "bytes_out": a.bytes_out,
        "records": a.records,
        "finding_ids": a.finding_ids,
        "sources": a.sources,
        "listed_for": if a.by_bytes_only { "bytes_out" } else { "findings" },
    })
}

/// The findings, each with its incident and the SHA-256 of every evidence file.
fn findings(story: &Story, sources: &[SourceInfo]) -> Vec<Value> {
    let sha: HashMap<&str, &SourceInfo> = sources.iter().map(|s| (s.path.as_str(), s)).collect();
    story
        .findings
        .iter()
        .zip(&story.incident_of)
        .map(|(f, inc)| {
            let mut v = f.to_json();
            v["incident"] = inc.map_or(Value::Null, |n| json!(story.incidents[n].id));
            v["evidence"] = f
                .evidence
                .iter()
                .map(|(p, l, o)| {
                    let s = sha.get(p.as_str());
                    json!({
                        "path": s.map_or(p.as_str(), |s| s.rel.as_str()),
                        "location": p,
                        "line": l,
                        "offset": o,
                        "sha256": s.and_then(|s| s.sha256.clone()),
                    })
                })
                .collect();
            v
        })
        .collect()
}

/// The whole case file.
pub fn case(run: Value, evidence: Value, story: &Story, sources: &[SourceInfo]) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "leaktrail", "version": env!("CARGO_PKG_VERSION")},
        "run": run,
        "evidence": evidence,
        "findings": findings(story, sources),
        "incidents": story.incidents.iter().map(|i| incident(i, story)).collect::<Vec<_>>(),
        "actors": story.actors.iter().map(actor).collect::<Vec<_>>(),
    })
}
