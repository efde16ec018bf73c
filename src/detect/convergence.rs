//! Kill-chain convergence: one actor (address, user or access key) whose findings, of two rules
//! or more, reach three or more ATT&CK tactics. Each finding alone may be noise; together they are an intrusion, so
//! this is what lifts an attack chain above a busy but benign actor.

use super::finding::{Finding, level_rank};
use crate::rules::tags;
use std::collections::{BTreeMap, BTreeSet};

/// The rule id of convergence findings.
pub const RULE_ID: &str = "leaktrail-killchain-convergence";
/// How many distinct tactics make a chain.
pub const MIN_TACTICS: usize = 3;

/// An actor's events and bytes out in the evidence, by one of its names (kind, value).
pub type TotalsOf<'a> = &'a dyn Fn(&str, &str) -> Option<(u64, u64)>;

/// An actor's name: its kind and value.
type Name<'a> = (&'static str, &'a str);

/// Convergence findings for the actors of `findings` (informational findings do not count).
/// `totals_of(kind, value)` is how many events and bytes out the evidence holds for an actor's
/// name (`"ip"`, `"user"`, `"key"`), when the actors table knows it.
pub fn converge(findings: &[Finding], totals_of: TotalsOf<'_>) -> Vec<Finding> {
    let mut by_actor: BTreeMap<(&'static str, &str), Vec<&Finding>> = BTreeMap::new();
    // Attempts that all failed (a 404 probe, a refused API call) show intent, not a step
    // reached: they do not count towards a chain.
    for f in findings
        .iter()
        .filter(|f| level_rank(f.level) >= 1 && !f.attempt_only())
    {
        let kinds = [("ip", &f.ips), ("user", &f.users), ("key", &f.keys)];
        for (kind, values) in kinds {
            for v in values {
                by_actor.entry((kind, v.as_str())).or_default().push(f);
            }
        }
    }
    // An actor known by several names (its address, its user, its key) whose findings are the
    // same is one chain naming them all, not a chain per name.
    let mut by_set: BTreeMap<Vec<&str>, (Vec<Name>, Vec<&Finding>)> = BTreeMap::new();
    for (name, fs) in by_actor {
        let mut ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let e = by_set.entry(ids).or_insert_with(|| (Vec::new(), fs));
        e.0.push(name);
    }
    let mut groups: Vec<_> = by_set.into_values().collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (names, fs) in groups {
        let mut tactics: Vec<&'static str> = fs
            .iter()
            .flat_map(|f| f.tactics.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // A chain is several steps: one rule tagged with many tactics is one step.
        let rules: BTreeSet<&str> = fs.iter().map(|f| f.rule_id.as_str()).collect();
        if tactics.len() < MIN_TACTICS || rules.len() < 2 {
            continue;
        }
        // Nor is one event that several rules describe (stolen instance credentials reading
        // an object): a chain needs two events at least.
        let events: BTreeSet<&(String, u64, u64)> = fs.iter().flat_map(|f| &f.evidence).collect();
        if events.len() < 2 && fs.iter().all(|f| f.count <= 1) {
            continue;
        }
        tactics.sort_by_key(|t| tags::order(t));
        let totals: Vec<(u64, u64)> = names.iter().filter_map(|(k, v)| totals_of(k, v)).collect();
        let events = totals.iter().map(|t| t.0).max();
        let bytes = totals.iter().map(|t| t.1).max();
        out.push(chain(&names, &tactics, &fs, events, bytes));
    }
    out
}

/// The chain of one actor: `names` (kind, value), sorted, name it; `events` and `bytes` are
/// the actor's events and bytes out in the evidence when known (under its busiest name).
fn chain(
    names: &[Name],
    tactics: &[&'static str],
    fs: &[&Finding],
    events: Option<u64>,
    bytes: Option<u64>,
) -> Finding {
    let mut evidence: Vec<(String, u64, u64)> = Vec::new();
    let mut sorted: Vec<&&Finding> = fs.iter().collect();
    sorted.sort_by_key(|f| (f.first_seen, f.rule_id.clone()));
    for f in &sorted {
        if let Some(e) = f.evidence.first().filter(|e| !evidence.contains(e))
            && evidence.len() < super::MAX_EVIDENCE
        {
            evidence.push(e.clone());
        }
    }
    let pick = |want: &str| {
        names
            .iter()
            .filter(|(k, _)| *k == want)
            .map(|(_, v)| v.to_string())
            .collect()
    };
    // Named after its first name (as when every name had its own chain).
    let (kind, actor) = names[0];
    let id = crate::input::sha256_hex(format!("{RULE_ID}\0{kind}\0{actor}").as_bytes())[..16]
        .to_string();
    // The chain starts at its earliest finding's first event and ends at its latest one's last.
    let earliest = fs.iter().min_by_key(|f| (f.first_seen, f.rule_id.clone()));
    let latest = fs.iter().max_by_key(|f| (f.last_seen, f.rule_id.clone()));
    Finding {
        first_at: earliest.and_then(|f| f.first_at.clone().or_else(|| f.evidence.first().cloned())),
        last_at: latest.and_then(|f| f.last_at.clone().or_else(|| f.evidence.last().cloned())),
        id,
        rule_id: RULE_ID.to_string(),
        title: format!("One actor across {} ATT&CK tactics", tactics.len()),
        level: "critical",
        tactics: tactics.to_vec(),
        technique: None,
        first_seen: fs.iter().map(|f| f.first_seen).min().unwrap_or_default(),
        last_seen: fs.iter().map(|f| f.last_seen).max().unwrap_or_default(),
        // Findings overlap (a probing burst, a recon burst and a scanner user agent are the
        // same requests; a bulk read is also part of a bytes-out sum), so their events added
        // up can exceed the actor's: the count is the smaller of that sum and the actor's
        // events in the evidence (under its busiest name), and at least its largest finding's.
        // The bytes likewise: the findings' bytes added up, at most the actor's bytes out
        // (a bulk read inside a bytes-out sum is counted once), at least its largest finding's.
        count: fs
            .iter()
            .map(|f| f.count)
            .sum::<u64>()
            .min(events.unwrap_or(u64::MAX))
            // Never fewer than its largest finding (the actor's events under one name can
            // miss those it made under another).
            .max(fs.iter().map(|f| f.count).max().unwrap_or_default()),
        bytes: fs
            .iter()
            .map(|f| f.bytes)
            .sum::<f64>()
            .min(bytes.map_or(f64::MAX, |b| b as f64))
            .max(fs.iter().map(|f| f.bytes).fold(0.0, f64::max)),
        ips: pick("ip"),
        users: pick("user"),
        keys: pick("key"),
        evidence,
        detail: format!("{} findings: {}", fs.len(), tactics.join(" → ")),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rule: &str, tactic: &'static str, ip: &str, level: &'static str, t: i64) -> Finding {
        Finding {
            id: rule.into(),
            rule_id: rule.into(),
            title: rule.into(),
            level,
            tactics: vec![tactic],
            technique: None,
            first_seen: t,
            last_seen: t + 10,
            count: 2,
            bytes: 100.0,
            ips: vec![ip.into()],
            users: vec![],
            keys: vec![],
            evidence: vec![("a.log".into(), t as u64, 0)],
            detail: String::new(),
            ..Default::default()
        }
    }

    #[test]
    fn one_event_described_by_several_rules_is_no_chain() {
        // Stolen instance credentials reading one object: two rules, three tactics, one event.
        let one = |rule: &str, tactics: Vec<&'static str>| Finding {
            tactics,
            count: 1,
            evidence: vec![("trail.json".into(), 7, 0)],
            ..f(rule, "collection", "198.51.100.23", "high", 5)
        };
        let fs = vec![
            one("creds", vec!["credential-access", "initial-access"]),
            one("read", vec!["collection"]),
        ];
        assert!(converge(&fs, &|_, _| None).is_empty());
        // The same rules on two events are two steps.
        let mut two = fs.clone();
        two[1].evidence = vec![("trail.json".into(), 9, 0)];
        assert_eq!(converge(&two, &|_, _| None).len(), 1);
    }

    #[test]
    fn three_tactics_make_a_chain() {
        let fs = vec![
            f("scan", "reconnaissance", "203.0.113.66", "medium", 1),
            f("sqli", "initial-access", "203.0.113.66", "high", 2),
            f("dump", "exfiltration", "203.0.113.66", "high", 3),
            f("scan", "reconnaissance", "192.0.2.1", "medium", 1),
            f("noise", "discovery", "192.0.2.1", "informational", 1),
            f("more", "collection", "192.0.2.1", "informational", 1),
        ];
        let c = converge(&fs, &|_, _| None);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].ips, ["203.0.113.66"]);
        assert_eq!(
            c[0].tactics,
            ["reconnaissance", "initial-access", "exfiltration"]
        );
        assert_eq!((c[0].first_seen, c[0].last_seen, c[0].count), (1, 13, 6));
        assert_eq!(c[0].evidence.len(), 3);
        assert_eq!(c[0].bytes, 300.0, "the findings' bytes added up");
        // Overlapping findings add up to more than the actor did: its own count and bytes out
        // bound them, and its largest finding is a floor.
        let known = |k: &str, v: &str| (k == "ip" && v == "203.0.113.66").then_some((4, 250));
        let c = converge(&fs, &known);
        assert_eq!((c[0].count, c[0].bytes), (4, 250.0));
        let too_few = |_: &str, _: &str| Some((1, 10));
        let c = converge(&fs, &too_few);
        assert_eq!((c[0].count, c[0].bytes), (2, 100.0));
        let busy = |_: &str, _: &str| Some((4000, 9_000_000));
        let c = converge(&fs, &busy);
        assert_eq!((c[0].count, c[0].bytes), (6, 300.0));
    }

    #[test]
    fn names_of_one_actor_with_the_same_findings_make_one_chain() {
        let mut fs = vec![
            f("recon", "discovery", "192.0.2.7", "low", 1),
            f("stolen", "credential-access", "192.0.2.7", "high", 2),
            f("read", "collection", "192.0.2.7", "high", 3),
        ];
        for x in &mut fs {
            x.keys = vec!["ASIAEXAMPLE".into()];
        }
        // The address also did something the key did not: its chain is another.
        let mut other = f("probe", "reconnaissance", "192.0.2.7", "medium", 0);
        other.keys.clear();
        let c = converge(&fs, &|_, _| None);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].ips.as_slice(), c[0].keys.as_slice()),
            (
                &["192.0.2.7".to_string()][..],
                &["ASIAEXAMPLE".to_string()][..]
            )
        );
        fs.push(other);
        let c = converge(&fs, &|_, _| None);
        assert_eq!(c.len(), 2);
        assert!(
            c.iter()
                .any(|x| x.ips.is_empty() && x.keys == ["ASIAEXAMPLE"])
        );
        assert!(
            c.iter()
                .any(|x| x.ips == ["192.0.2.7"] && x.keys.is_empty() && x.tactics.len() == 4)
        );
    }

    #[test]
    fn one_rule_with_many_tactics_is_one_step() {
        let mut login = f("login", "initial-access", "198.51.100.9", "medium", 1);
        login.tactics = vec![
            "initial-access",
            "persistence",
            "privilege-escalation",
            "defense-evasion",
        ];
        assert!(converge(std::slice::from_ref(&login), &|_, _| None).is_empty());
        // The same rule found twice is still one step.
        let again = Finding {
            id: "login2".into(),
            first_seen: 50,
            ..login.clone()
        };
        assert!(converge(&[login.clone(), again], &|_, _| None).is_empty());
        // A second rule makes it a chain.
        let other = f("scan", "reconnaissance", "198.51.100.9", "medium", 0);
        assert_eq!(converge(&[login, other], &|_, _| None).len(), 1);
    }
}
