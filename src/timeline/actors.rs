//! Actors: every entity a finding names (addresses, users, access keys), with what it did
//! across all the evidence — not only in the matched events — and the entities that were sent
//! the most data, whether or not a rule fired on them.

use super::SourceInfo;
use crate::detect::Finding;
use crate::detect::seen::{self, Seen};
use std::collections::BTreeMap;

/// How many entities by bytes out join the actors though no finding names them.
pub const TOP_BY_BYTES: usize = 10;

/// One actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// `ip`, `user`, `key` or `session`.
    pub kind: &'static str,
    pub value: String,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub events: u64,
    pub bytes_out: u64,
    pub records: u64,
    /// Sorted.
    pub finding_ids: Vec<String>,
    /// Files it appears in (relative paths, sorted).
    pub sources: Vec<String>,
    /// Listed for its bytes out only (no finding names it).
    pub by_bytes_only: bool,
}

fn kind_code(kind: &str) -> u8 {
    seen::KINDS.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

/// The entities a finding names, as (kind, value).
pub fn named(f: &Finding) -> impl Iterator<Item = (&'static str, &str)> {
    let ips = f.ips.iter().map(|v| ("ip", v.as_str()));
    let users = f.users.iter().map(|v| ("user", v.as_str()));
    let keys = f.keys.iter().map(|v| ("key", v.as_str()));
    let sessions = f.sessions.iter().map(|v| ("session", v.as_str()));
    ips.chain(users).chain(keys).chain(sessions)
}

fn actor(kind: &'static str, value: &str, seen: &Seen, sources: &[SourceInfo]) -> Actor {
    let a = seen.get(kind_code(kind), value);
    Actor {
        kind,
        value: value.to_string(),
        first_seen: a.map(|a| a.first),
        last_seen: a.map(|a| a.last),
        events: a.map_or(0, |a| a.events),
        bytes_out: a.map_or(0, |a| a.bytes_out),
        records: a.map_or(0, |a| a.records),
        finding_ids: Vec::new(),
        sources: a.map_or_else(Vec::new, |a| {
            let mut v: Vec<String> = a
                .files
                .iter()
                .filter_map(|&i| sources.get(i as usize).map(|s| s.rel.clone()))
                .collect();
            v.sort();
            v.dedup();
            v
        }),
        by_bytes_only: false,
    }
}

/// The actors, sorted by kind then value.
pub fn actors(findings: &[Finding], seen: &Seen, sources: &[SourceInfo]) -> Vec<Actor> {
    let mut out: BTreeMap<(u8, String), Actor> = BTreeMap::new();
    for f in findings {
        for (kind, value) in named(f) {
            out.entry((kind_code(kind), value.to_string()))
                .or_insert_with(|| actor(kind, value, seen, sources))
                .finding_ids
                .push(f.id.clone());
        }
    }
    // Top receivers of data: sorted by bytes, then value, so ties do not depend on hashing.
    let mut by_bytes: Vec<(&u8, &seen::Activity)> = seen
        .entities
        .iter()
        .filter(|(_, a)| a.bytes_out > 0)
        .map(|((k, _), a)| (k, a))
        .collect();
    by_bytes
        .sort_by(|a, b| (b.1.bytes_out, a.0, &a.1.value).cmp(&(a.1.bytes_out, b.0, &b.1.value)));
    for (k, a) in by_bytes.into_iter().take(TOP_BY_BYTES) {
        let kind = seen::KINDS[*k as usize];
        out.entry((*k, a.value.clone())).or_insert_with(|| {
            let mut x = actor(kind, &a.value, seen, sources);
            x.by_bytes_only = true;
            x
        });
    }
    out.into_values()
        .map(|mut a| {
            a.finding_ids.sort();
            a.finding_ids.dedup();
            a
        })
        .collect()
}
