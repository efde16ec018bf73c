//! Findings: what a rule found, for which actors, when, how often, how many bytes, and where
//! the evidence is (file, line, byte offset; the first few and the total).

use super::{Agg, Ref};
use crate::parse::Timestamp;
use serde_json::{Value, json};

/// One finding.
#[derive(Clone, Debug, Default)]
pub struct Finding {
    /// Stable id: a hash of the rule id, the actor and the first evidence reference.
    pub id: String,
    pub rule_id: String,
    pub title: String,
    pub level: &'static str,
    pub tactics: Vec<&'static str>,
    pub technique: Option<String>,
    /// UTC nanoseconds.
    pub first_seen: i64,
    pub last_seen: i64,
    pub count: u64,
    pub bytes: f64,
    pub ips: Vec<String>,
    pub users: Vec<String>,
    pub keys: Vec<String>,
    /// Accounts tried by failed logins.
    pub targets: Vec<String>,
    /// Application sessions the events carried.
    pub sessions: Vec<String>,
    pub evidence: Vec<(String, u64, u64)>,
    /// What made a correlation fire (peak value in its window), empty for single events.
    pub detail: String,
    /// The rule's message template filled in (leaktrail's `message`), or empty.
    pub message: String,
    /// Events whose action failed; `failed == count` makes the finding an attempt only.
    pub failed: u64,
    /// The events at the first and last time, when known: (path, line, offset).
    pub first_at: Option<(String, u64, u64)>,
    pub last_at: Option<(String, u64, u64)>,
    /// When the finding's step was reached, when that is later than its first event: a sum
    /// of bytes out reaches exfiltration when it crosses its condition (UTC nanoseconds).
    pub reached: Option<i64>,
    /// Every event fell within the same hour of the day on several days (a scheduled job).
    pub recurs: bool,
    /// A silence that lasts until the evidence ends (its log was never heard from again).
    pub open_end: bool,
}

/// Findings by level (informational first) and how many of them are attempts only.
pub fn tally<'f>(fs: impl IntoIterator<Item = &'f Finding>) -> ([usize; 5], usize) {
    let (mut by_level, mut attempts) = ([0usize; 5], 0);
    for f in fs {
        by_level[level_rank(f.level) as usize] += 1;
        attempts += usize::from(f.attempt_only());
    }
    (by_level, attempts)
}

/// The findings counted by level, in words: "12 findings: 1 critical, 3 high, ...", and how
/// many were attempts only (every event refused), which do not reach their tactic.
pub fn tally_words<'f>(fs: impl IntoIterator<Item = &'f Finding>) -> String {
    let (c, attempts) = tally(fs);
    let mut s = format!(
        "{} findings: {} critical, {} high, {} medium, {} low, {} informational",
        c.iter().sum::<usize>(),
        c[4],
        c[3],
        c[2],
        c[1],
        c[0]
    );
    if attempts > 0 {
        s.push_str(&format!(
            " ({attempts} of them attempts only: every event failed or was refused)"
        ));
    }
    s
}

/// Numeric rank of a level (informational = 0 ... critical = 4).
pub fn level_rank(l: &str) -> u8 {
    match l {
        "informational" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => 2,
    }
}

fn ts(n: i64) -> String {
    Timestamp {
        nanos: n,
        offset: 0,
        assumed: false,
    }
    .to_utc_string()
}

impl Finding {
    /// A finding from the matches of one rule by one actor.
    pub fn from_agg(
        rule_id: &str,
        title: &str,
        level: &'static str,
        tactics: &[&'static str],
        technique: Option<String>,
        agg: &Agg,
        paths: &[String],
    ) -> Finding {
        let at = |r: &Ref| {
            (
                paths.get(r.file).cloned().unwrap_or_default(),
                r.line,
                r.offset,
            )
        };
        let evidence: Vec<(String, u64, u64)> = agg.evidence.iter().map(at).collect();
        let first = evidence
            .first()
            .map(|(p, _, o)| format!("{p}:{o}"))
            .unwrap_or_default();
        let actor = agg
            .ips
            .iter()
            .chain(&agg.users)
            .chain(&agg.keys)
            .next()
            .cloned()
            .unwrap_or_default();
        let id = crate::input::sha256_hex(format!("{rule_id}\0{actor}\0{first}").as_bytes())[..16]
            .to_string();
        Finding {
            id,
            rule_id: rule_id.to_string(),
            title: title.to_string(),
            level,
            tactics: tactics.to_vec(),
            technique,
            first_seen: agg.first,
            last_seen: agg.last,
            count: agg.count,
            bytes: agg.bytes,
            ips: agg.ips.iter().cloned().collect(),
            users: agg.users.iter().cloned().collect(),
            keys: agg.keys.iter().cloned().collect(),
            targets: agg.targets.iter().cloned().collect(),
            sessions: agg.sessions.iter().cloned().collect(),
            evidence,
            detail: String::new(),
            message: String::new(),
            failed: agg.failed,
            first_at: agg.first_at.as_ref().map(at),
            last_at: agg.last_at.as_ref().map(at),
            reached: None,
            recurs: false,
            open_end: false,
        }
    }

    /// Every event of the finding failed: an attempt, not a step reached.
    pub fn attempt_only(&self) -> bool {
        self.count > 0 && self.failed >= self.count
    }

    /// The case-file form (DESIGN.md §2).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "level": self.level,
            "tactic": self.tactics.first(),
            "tactics": self.tactics,
            "technique": self.technique,
            "first_seen": ts(self.first_seen),
            "last_seen": ts(self.last_seen),
            "count": self.count,
            "bytes": self.bytes.round() as u64,
            "entities": {"ips": self.ips, "users": self.users, "keys": self.keys, "sessions": self.sessions, "targets": self.targets},
            "evidence": self.evidence.iter().map(|(p, l, o)| json!({"path": p, "line": l, "offset": o})).collect::<Vec<_>>(),
            // A finding without matched events (a silence) still points at its evidence.
            "evidence_total": self.count.max(self.evidence.len() as u64),
            "detail": self.detail,
            "message": self.message,
            "failed": self.failed,
            "incident": Value::Null,
        })
    }

    /// One line for the terminal (log-derived text must be sanitised by the caller).
    pub fn summary(&self) -> String {
        let who: Vec<&str> = self
            .ips
            .iter()
            .chain(&self.users)
            .chain(&self.keys)
            .map(String::as_str)
            .take(3)
            .collect();
        let bytes = if self.bytes > 0.0 {
            format!(", {} bytes", self.bytes.round() as u64)
        } else {
            String::new()
        };
        let who = if who.is_empty() {
            String::new()
        } else {
            format!(" — {}", who.join(", "))
        };
        format!(
            "[{}] {}{who} — {} to {}, {}{bytes}{}{}",
            self.level,
            self.title,
            ts(self.first_seen),
            ts(self.last_seen),
            crate::timeline::events(self.count),
            if self.attempt_only() {
                ", all failed or refused"
            } else {
                ""
            },
            if self.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.detail)
            }
        )
    }
}
