//! Incidents: findings linked by the entities they share — one address, user or access key
//! named by both; an address and a user (or key, or session) seen acting in one event; two
//! addresses of one /24 with high findings within the same hours — scored by the combination
//! of their signals (levels, distinct rules, tactics reached, data out), not by volume alone.
//! A group of findings becomes an incident when one of them is medium or above.

use super::{actors::named, grouped, human_bytes, human_duration, utc};
use crate::detect::Finding;
use crate::detect::finding::level_rank;
use crate::detect::seen::{self, EntityId, Seen};
use crate::rules::tags;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const HOUR: i64 = 3_600_000_000_000;
const MINUTE: i64 = 60_000_000_000;

/// One incident.
#[derive(Clone, Debug)]
pub struct Incident {
    /// `INC-1` is the most important.
    pub id: String,
    pub level: &'static str,
    pub score: u32,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The latest event of the incident's addresses and keys, matched or not.
    pub last_activity: i64,
    /// The earliest event of its addresses anywhere in the evidence (UTC ns): the actor may
    /// have been there before its first finding.
    pub first_activity: i64,
    pub ips: Vec<String>,
    pub users: Vec<String>,
    pub keys: Vec<String>,
    pub sessions: Vec<String>,
    /// Tactics with the time each was first reached, in that order.
    pub tactics: Vec<(&'static str, i64)>,
    /// Bytes sent to the incident's addresses (or, without addresses, its keys).
    pub bytes_out: u64,
    /// Rows the logs say were handed to them, when they say.
    pub records: Option<u64>,
    /// Bytes out per hour (hours since the epoch), sorted.
    pub hours: Vec<(i64, u64)>,
    /// Indices of its findings, by time.
    pub findings: Vec<usize>,
    /// Still active within the last hour of the evidence, or `silenced`.
    pub ongoing: bool,
    /// A log the actor silenced stays silent to the end of the evidence.
    pub silenced: bool,
    pub summary: String,
}

struct Dsu(Vec<usize>);

impl Dsu {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let next = self.0[y];
            self.0[y] = r;
            y = next;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        // The smaller index becomes the root, so components do not depend on link order.
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            self.0[hi] = lo;
        }
    }
}

fn kind_code(kind: &str) -> u8 {
    seen::KINDS.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

/// A finding of log tampering: cloud logging stopped or reduced, event logging or security
/// tools disabled, indicators (logs, shell history) removed. Other defense evasion (a
/// security group opened, public access unblocked) silences no log.
fn silences_logs(f: &Finding) -> bool {
    f.technique.as_deref().is_some_and(|t| {
        ["T1562.001", "T1562.002", "T1562.006", "T1562.008", "T1070"]
            .iter()
            .any(|p| t.starts_with(p))
    })
}

/// Findings that can start or join an incident: low or above, naming someone.
fn qualifies(f: &Finding) -> bool {
    level_rank(f.level) >= 1 && named(f).next().is_some()
}

fn ipv4_prefix(ip: &str) -> Option<[u8; 3]> {
    let a: std::net::Ipv4Addr = ip.parse().ok()?;
    let o = a.octets();
    Some([o[0], o[1], o[2]])
}

/// Links findings into components.
fn link(findings: &[Finding], seen: &Seen) -> Dsu {
    let mut dsu = Dsu((0..findings.len()).collect());
    let mut by_entity: HashMap<EntityId, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate().filter(|(_, f)| qualifies(f)) {
        for (kind, value) in named(f) {
            let id = Seen::id(kind_code(kind), value);
            match by_entity.get(&id) {
                Some(&j) => dsu.union(i, j),
                None => {
                    by_entity.insert(id, i);
                }
            }
        }
    }
    for (a, b) in seen.links.keys() {
        if let (Some(&i), Some(&j)) = (by_entity.get(a), by_entity.get(b)) {
            dsu.union(i, j);
        }
    }
    // One action logged once per account it touched (useradd then usermod naming the new
    // account): the same rule, the same file, within a minute, for findings that name
    // accounts only (addresses would link unrelated clients hitting one rule together).
    let mut by_rule: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let accounts_only = |f: &Finding| f.ips.is_empty();
    for (i, f) in findings
        .iter()
        .enumerate()
        .filter(|(_, f)| qualifies(f) && accounts_only(f))
    {
        if let Some((path, _, _)) = f.evidence.first() {
            by_rule
                .entry((f.rule_id.as_str(), path.as_str()))
                .or_default()
                .push(i);
        }
    }
    for members in by_rule.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                if (findings[i].first_seen - findings[j].first_seen).abs() <= MINUTE {
                    dsu.union(i, j);
                }
            }
        }
    }
    // Neighbouring addresses acting within the same hours (a rotating pool in one /24).
    let mut by_prefix: BTreeMap<[u8; 3], Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        // High signals only: a shared provider's /24 holds many unrelated customers.
        if qualifies(f) && level_rank(f.level) >= 3 {
            for p in f.ips.iter().filter_map(|ip| ipv4_prefix(ip)) {
                by_prefix.entry(p).or_default().push(i);
            }
        }
    }
    for members in by_prefix.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (a, b) = (&findings[i], &findings[j]);
                if a.first_seen <= b.last_seen + HOUR && b.first_seen <= a.last_seen + HOUR {
                    dsu.union(i, j);
                }
            }
        }
    }
    dsu
}

const WEIGHTS: [f64; 5] = [0.5, 2.0, 5.0, 15.0, 40.0];

/// The level a finding carries into its incident: an attempt whose every event failed (a
/// scanner's 404-answered exploit) weighs as low at most, so the internet's background of
/// failed probes does not become a list of high incidents.
fn weight_level(f: &Finding) -> &'static str {
    // A medium finding whose events came at the same hour every day weighs as low too: the
    // nightly backup's dump is no incident by itself, and does not outrank an attack chain.
    // High and critical findings keep their weight however regular (an attacker picks the
    // hour).
    if (f.attempt_only() || (f.recurs && level_rank(f.level) == 2)) && level_rank(f.level) > 1 {
        "low"
    } else {
        f.level
    }
}

/// The combination of signals: each rule counts once in full (repeats a quarter), each
/// tactic reached adds, and data out adds by its order of magnitude.
fn score(fs: &[&Finding], tactics: usize, bytes: u64) -> u32 {
    let mut seen_rules = BTreeSet::new();
    let mut s = 0.0;
    for f in fs {
        let w = WEIGHTS[level_rank(weight_level(f)) as usize];
        s += if seen_rules.insert(f.rule_id.as_str()) {
            w
        } else {
            w / 4.0
        };
    }
    s += 8.0 * tactics as f64;
    s += 4.0 * (1.0 + bytes as f64 / 1e6).log10();
    s.round() as u32
}

/// Groups findings into incidents, most important first; also returns each finding's
/// incident.
pub fn group(
    findings: &[Finding],
    seen: &Seen,
    end: Option<i64>,
) -> (Vec<Incident>, Vec<Option<usize>>) {
    let mut dsu = link(findings, seen);
    let mut comps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if qualifies(f) {
            comps.entry(dsu.find(i)).or_default().push(i);
        }
    }
    // A silence that begins right after an actor's own log tampering (CloudTrail quiet from
    // the attacker's StopLogging on) is that actor's doing: it joins their incident. A log
    // that merely went quiet after someone's last request is not.
    for (i, f) in findings.iter().enumerate() {
        if f.rule_id != crate::detect::gaps::RULE_ID {
            continue;
        }
        let Some(before) = f.first_at.as_ref() else {
            continue;
        };
        let by = findings.iter().position(|g| {
            qualifies(g)
                && !g.attempt_only()
                && g.rule_id != crate::detect::gaps::RULE_ID
                && silences_logs(g)
                && (g.last_at.as_ref() == Some(before) || g.evidence.contains(before))
        });
        if let Some(j) = by {
            comps.entry(dsu.find(j)).or_default().push(i);
        }
    }
    // An incident needs one medium signal at least; low findings alone stay loose (a customer
    // signing in from a new network is not an incident by itself).
    let mut incidents: Vec<Incident> = comps
        .into_values()
        .filter(|members| {
            members
                .iter()
                .any(|&i| level_rank(weight_level(&findings[i])) >= 2)
        })
        .map(|members| incident(findings, members, seen, end))
        .collect();
    incidents.sort_by(|a, b| {
        (b.score, a.first_seen, &a.findings).cmp(&(a.score, b.first_seen, &b.findings))
    });
    let mut of = vec![None; findings.len()];
    for (n, inc) in incidents.iter_mut().enumerate() {
        inc.id = format!("INC-{}", n + 1);
        for &i in &inc.findings {
            of[i] = Some(n);
        }
    }
    for inc in &mut incidents {
        inc.summary = summary(inc, findings, end);
    }
    (incidents, of)
}

fn incident(
    findings: &[Finding],
    mut members: Vec<usize>,
    seen: &Seen,
    end: Option<i64>,
) -> Incident {
    members.sort_by(|&a, &b| {
        (findings[a].first_seen, &findings[a].id).cmp(&(findings[b].first_seen, &findings[b].id))
    });
    let fs: Vec<&Finding> = members.iter().map(|&i| &findings[i]).collect();
    let mut ents: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut tactics: BTreeMap<&'static str, i64> = BTreeMap::new();
    for f in &fs {
        for (k, v) in named(f) {
            ents.entry(k).or_default().insert(v);
        }
        // A convergence finding restates its actor's tactics at the actor's first time, and
        // an attempt that all failed did not reach its tactic.
        if f.rule_id == crate::detect::convergence::RULE_ID || f.attempt_only() {
            continue;
        }
        let at = f.reached.unwrap_or(f.first_seen);
        for t in &f.tactics {
            let e = tactics.entry(t).or_insert(at);
            *e = (*e).min(at);
        }
    }
    let list = |k: &str| -> Vec<String> {
        ents.get(k)
            .map(|s| s.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default()
    };
    let (ips, users, keys) = (list("ip"), list("user"), list("key"));
    let sessions = list("session");
    let mut tactics: Vec<(&'static str, i64)> = tactics.into_iter().collect();
    tactics.sort_by_key(|(t, at)| (*at, tags::order(t)));
    // Data out by address; an incident without addresses counts its keys.
    let (measure, kind) = if ips.is_empty() {
        (&keys, seen::KEY)
    } else {
        (&ips, seen::IP)
    };
    let acts: Vec<&seen::Activity> = measure.iter().filter_map(|v| seen.get(kind, v)).collect();
    let bytes_out = acts.iter().map(|a| a.bytes_out).sum();
    let records: u64 = acts.iter().map(|a| a.records).sum();
    let measured: Vec<EntityId> = measure.iter().map(|v| Seen::id(kind, v)).collect();
    let mut by_hour: BTreeMap<i64, u64> = BTreeMap::new();
    for hours in seen.hours(&measured).values() {
        for (h, b) in hours {
            *by_hour.entry(*h).or_default() += b;
        }
    }
    // A joined silence ends at whoever restarted the log: not the actor's activity.
    let own = || {
        fs.iter()
            .filter(|f| f.rule_id != crate::detect::gaps::RULE_ID)
    };
    let first_seen = own().map(|f| f.first_seen).min().unwrap_or(0);
    let last_seen = own().map(|f| f.last_seen).max().unwrap_or(0);
    let activity = || {
        ips.iter()
            .filter_map(|v| seen.get(seen::IP, v))
            .chain(keys.iter().filter_map(|v| seen.get(seen::KEY, v)))
    };
    let last_activity = activity().map(|a| a.last).fold(last_seen, i64::max);
    // Addresses only: a stolen key or account was in use, legitimately, before the theft.
    let first_activity = ips
        .iter()
        .filter_map(|v| seen.get(seen::IP, v))
        .map(|a| a.first)
        .fold(first_seen, i64::min);
    let level = fs
        .iter()
        .map(|f| weight_level(f))
        .max_by_key(|l| level_rank(l))
        .unwrap_or("low");
    Incident {
        id: String::new(),
        level,
        score: score(&fs, tactics.len(), bytes_out),
        first_seen,
        last_seen,
        last_activity,
        first_activity,
        ips,
        users,
        keys,
        sessions,
        tactics,
        bytes_out,
        records: (records > 0).then_some(records),
        hours: by_hour.into_iter().collect(),
        findings: members,
        // A log the actor silenced and nobody restarted hides whatever came next: the
        // responder has to assume it goes on.
        ongoing: end.is_some_and(|e| last_activity >= e - HOUR) || fs.iter().any(|f| f.open_end),
        silenced: fs.iter().any(|f| f.open_end),
        summary: String::new(),
    }
}

fn some(v: &[String], n: usize) -> String {
    let mut s = v.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if v.len() > n {
        s.push_str(&format!(" and {} more", v.len() - n));
    }
    s
}

/// Who, from where, how they got in, what they took, how much, when it started and whether
/// it stopped — in plain words.
fn summary(inc: &Incident, findings: &[Finding], end: Option<i64>) -> String {
    let mut who = Vec::new();
    if !inc.ips.is_empty() {
        who.push(format!("address {}", some(&inc.ips, 3)));
    }
    if !inc.users.is_empty() {
        who.push(format!("account {}", some(&inc.users, 3)));
    }
    if !inc.keys.is_empty() {
        who.push(format!("key {}", some(&inc.keys, 2)));
    }
    let fs: Vec<&Finding> = inc.findings.iter().map(|&i| &findings[i]).collect();
    let mut s = format!(
        "{}: {} finding{} from {}, {} to {}.",
        inc.level.to_uppercase(),
        fs.len(),
        if fs.len() == 1 { "" } else { "s" },
        who.join("; "),
        utc(inc.first_seen),
        utc(inc.last_seen)
    );
    if let Some(f) = fs.iter().find(|f| {
        f.rule_id != crate::detect::convergence::RULE_ID
            && f.rule_id != crate::detect::gaps::RULE_ID
    }) {
        let failed = if f.attempt_only() {
            ", which failed"
        } else {
            ""
        };
        s.push_str(&format!(" It began with \"{}\"{failed}.", f.title));
    }
    if inc.first_activity < inc.first_seen - 60 * 1_000_000_000 {
        s.push_str(&format!(
            " Its addresses were first seen in the evidence at {}, {} before the first finding.",
            utc(inc.first_activity),
            human_duration(inc.first_seen - inc.first_activity)
        ));
    }
    let attempts: Vec<&str> = fs
        .iter()
        .filter(|f| f.attempt_only())
        .map(|f| f.title.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(3)
        .collect();
    if !attempts.is_empty() {
        s.push_str(&format!(" Tried without success: {}.", attempts.join("; ")));
    }
    let mut ways: Vec<&&Finding> = fs
        .iter()
        .filter(|f| {
            f.tactics
                .iter()
                .any(|t| matches!(*t, "initial-access" | "credential-access"))
                && f.rule_id != crate::detect::convergence::RULE_ID
                && !f.attempt_only()
        })
        .collect();
    // The strongest signals first, then the earliest.
    ways.sort_by_key(|f| (std::cmp::Reverse(level_rank(f.level)), f.first_seen));
    let mut entry: Vec<&str> = Vec::new();
    for f in ways {
        if entry.len() < 3 && !entry.contains(&f.title.as_str()) {
            entry.push(&f.title);
        }
    }
    if !entry.is_empty() {
        s.push_str(&format!(" Access: {}.", entry.join("; ")));
    }
    if !inc.tactics.is_empty() {
        let chain: Vec<&str> = inc.tactics.iter().map(|(t, _)| *t).collect();
        s.push_str(&format!(" Tactics reached: {}.", chain.join(" → ")));
    }
    if inc.bytes_out > 0 {
        s.push_str(&format!(
            " Data sent to them: {} ({} bytes)",
            human_bytes(inc.bytes_out),
            grouped(inc.bytes_out)
        ));
        if let Some(r) = inc.records {
            s.push_str(&format!(
                "; {} records where the logs count rows",
                grouped(r)
            ));
        }
        s.push('.');
    }
    // What the attacker left behind: access that outlives the activity unless it is removed.
    let mut kept: Vec<String> = Vec::new();
    for f in fs.iter().filter(|f| {
        f.tactics.contains(&"persistence")
            && !f.attempt_only()
            && f.rule_id != crate::detect::convergence::RULE_ID
    }) {
        // What it created or opened (a new key, an outside account), then the accounts and
        // keys that did it, rather than the address it came from.
        let who: Vec<&str> = f
            .targets
            .iter()
            .chain(&f.users)
            .chain(&f.keys)
            .chain(&f.ips)
            .map(String::as_str)
            .take(2)
            .collect();
        let item = format!("{} ({})", f.title, who.join(", "));
        if !kept.contains(&item) && kept.len() < 4 {
            kept.push(item);
        }
    }
    if !kept.is_empty() {
        s.push_str(&format!(
            " Persistence set up, and not shown removed in these logs: {}.",
            kept.join("; ")
        ));
    }
    // Silences that followed the actor's own events: what the logs cannot show.
    let blind: Vec<String> = fs
        .iter()
        .filter(|f| f.rule_id == crate::detect::gaps::RULE_ID)
        .map(|f| {
            let source = f.detail.split(": silent").next().unwrap_or("a log");
            let to = if f.open_end {
                format!(
                    "until the evidence ends ({})",
                    crate::timeline::utc(f.last_seen)
                )
            } else {
                format!("to {}", crate::timeline::utc(f.last_seen))
            };
            format!("{source} from {} {to}", crate::timeline::utc(f.first_seen))
        })
        .collect();
    if !blind.is_empty() {
        s.push_str(&format!(
            " Logs silent after their tampering (nothing in them shows what happened then): {}.",
            blind.join("; ")
        ));
    }
    // The stored objects the findings name as read (S3 keys and buckets, collections walked
    // by id): what left, by name.
    let reading: Vec<&&Finding> = fs
        .iter()
        .filter(|f| {
            f.tactics.contains(&"collection")
                && !f.attempt_only()
                && f.rule_id != crate::detect::convergence::RULE_ID
        })
        .collect();
    let objects: BTreeSet<&str> = reading
        .iter()
        .flat_map(|f| &f.targets)
        .map(String::as_str)
        .filter(|t| t.starts_with("s3://") || t.contains("{id}"))
        .collect();
    if !objects.is_empty() {
        let shown: Vec<&str> = objects.iter().copied().take(5).collect();
        let more = objects.len() - shown.len();
        // A finding keeps a bounded number of targets: when one is full, there were more.
        let full = reading
            .iter()
            .any(|f| f.targets.len() >= crate::detect::MAX_ENTITIES);
        let tail = match (more, full) {
            (0, false) => String::new(),
            (0, true) => " and more".to_string(),
            (n, false) => format!(" and {n} more"),
            (n, true) => format!(" and at least {n} more"),
        };
        s.push_str(&format!(" Objects read: {}{tail}.", shown.join(", ")));
    }
    match end {
        Some(e) if inc.silenced => s.push_str(&format!(
            " May still be going on: a log they silenced stays silent to the end of the evidence ({}); last activity seen {}.",
            utc(e),
            utc(inc.last_activity)
        )),
        Some(e) if inc.ongoing => s.push_str(&format!(
            " Still active at the end of the evidence: last activity {}, the evidence ends {}.",
            utc(inc.last_activity),
            utc(e)
        )),
        Some(e) => s.push_str(&format!(
            " Last activity {}, {} before the evidence ends.",
            utc(inc.last_activity),
            human_duration(e - inc.last_activity)
        )),
        None => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only log tampering explains a silence: stopping a trail or clearing history does, an
    /// opened security group does not.
    #[test]
    fn only_log_tampering_silences_logs() {
        let with = |t: &str| Finding {
            technique: Some(t.to_string()),
            tactics: vec!["defense-evasion"],
            ..Default::default()
        };
        for t in ["T1562.008", "T1070.003", "T1562.001"] {
            assert!(silences_logs(&with(t)), "{t}");
        }
        for t in ["T1562.007", "T1562", "T1078"] {
            assert!(!silences_logs(&with(t)), "{t}");
        }
        assert!(!silences_logs(&Finding::default()));
    }
}
