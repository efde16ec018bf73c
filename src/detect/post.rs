//! What happens to a finding after its rule fired (leaktrail extensions): severity escalation
//! (`escalate: [{bytes: N, level: critical}, {count: N, level: high}]` — the level is raised,
//! never lowered, when the finding reaches a threshold) and an output template for its message
//! (`message: "{ips} received {bytes_human} in {count} responses"`).

use super::Finding;
use super::finding::level_rank;
use crate::rules::Extension;
use crate::timeline::{grouped, human_bytes, utc};

/// One escalation step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub min_bytes: Option<u64>,
    pub min_count: Option<u64>,
    pub level: &'static str,
}

/// A rule's after-firing treatment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Post {
    pub escalate: Vec<Step>,
    pub message: Option<String>,
}

/// The static name of a level (unknown names are refused).
pub fn level_name(s: &str) -> Option<&'static str> {
    ["informational", "low", "medium", "high", "critical"]
        .into_iter()
        .find(|l| l.eq_ignore_ascii_case(s))
}

impl Post {
    /// From a rule's extension; an escalation naming no known level is an error.
    pub fn from_ext(ext: &Extension) -> Result<Post, String> {
        let escalate = ext
            .escalate
            .iter()
            .map(|e| {
                let level = level_name(&e.level)
                    .ok_or_else(|| format!("escalate: unknown level `{}`", e.level))?;
                if e.min_bytes.is_none() && e.min_count.is_none() {
                    return Err("escalate: a step needs `bytes` or `count`".to_string());
                }
                Ok(Step {
                    min_bytes: e.min_bytes,
                    min_count: e.min_count,
                    level,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Post {
            escalate,
            message: ext.message.clone(),
        })
    }

    /// Escalates and renders the message.
    pub fn apply(&self, f: &mut Finding) {
        self.apply_with(f, &[]);
    }

    /// Escalates and renders the message, with placeholders of the finding's rule kind
    /// besides the finding's own (a run correlation's `{run}`).
    pub fn apply_with(&self, f: &mut Finding, vars: &[(&str, &str)]) {
        let bytes = f.bytes.max(0.0).round() as u64;
        for s in &self.escalate {
            let by_bytes = s.min_bytes.is_none_or(|b| bytes >= b);
            let by_count = s.min_count.is_none_or(|c| f.count >= c);
            if by_bytes && by_count && level_rank(s.level) > level_rank(f.level) {
                f.level = s.level;
            }
        }
        if let Some(t) = &self.message {
            f.message = render(t, f, vars);
            // A template says what happened; when every event was refused, it did not.
            if f.attempt_only() {
                f.message = format!("Attempted, every call refused: {}", f.message);
            }
        }
    }
}

/// Nouns a template counts with `{count}`, in the plural.
const PLURALS: [&str; 10] = [
    "requests",
    "responses",
    "calls",
    "connections",
    "events",
    "reads",
    "records",
    "logins",
    "objects",
    "attempts",
];

/// The template with the noun counted by `{count}` (the first of the next two words that is
/// one of [`PLURALS`]) in the singular, for a count of one: "in 1 response".
fn singular_count(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find("{count}") {
        let (head, tail) = rest.split_at(at + "{count}".len());
        out.push_str(head);
        // The next two words, without trailing punctuation ("responses;").
        let noun = tail
            .split(' ')
            .skip(1)
            .take(2)
            .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphabetic()))
            .find(|w| PLURALS.contains(w));
        match noun.and_then(|w| tail.find(&format!(" {w}")).map(|i| (i + 1, w))) {
            Some((at, w)) => {
                out.push_str(&tail[..at]);
                out.push_str(&w[..w.len() - 1]);
                rest = &tail[at + w.len()..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Fills `{name}` placeholders from the finding and `vars`; unknown names are left as
/// written.
fn render(template: &str, f: &Finding, vars: &[(&str, &str)]) -> String {
    if f.count == 1 && template.contains("{count}") {
        return fill(&singular_count(template), f, vars);
    }
    fill(template, f, vars)
}

fn fill(template: &str, f: &Finding, vars: &[(&str, &str)]) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    let bytes = f.bytes.max(0.0).round() as u64;
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let value = match name {
            "ips" => list(&f.ips),
            "users" => list(&f.users),
            "keys" => list(&f.keys),
            "targets" => list(&f.targets),
            "actor" => f
                .ips
                .iter()
                .chain(&f.users)
                .chain(&f.keys)
                .next()
                .cloned()
                .unwrap_or_else(|| "-".into()),
            "count" => grouped(f.count),
            "bytes" => grouped(bytes),
            "bytes_human" => human_bytes(bytes),
            "first_seen" => utc(f.first_seen),
            "last_seen" => utc(f.last_seen),
            "title" => f.title.clone(),
            "level" => f.level.to_string(),
            "detail" => f.detail.clone(),
            _ => match vars.iter().find(|(k, _)| *k == name) {
                Some((_, v)) => (*v).to_string(),
                None => format!("{{{name}}}"),
            },
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_counted_in_the_singular() {
        assert_eq!(
            singular_count(
                "{ips} received {bytes_human} in {count} responses; {count} SSH logins, {count} x"
            ),
            "{ips} received {bytes_human} in {count} response; {count} SSH login, {count} x"
        );
        let f = Finding {
            count: 1,
            ..Default::default()
        };
        assert_eq!(
            render("in {count} requests from {ips}", &f, &[]),
            "in 1 request from -"
        );
        let f = Finding {
            count: 2,
            ..Default::default()
        };
        assert_eq!(render("in {count} requests", &f, &[]), "in 2 requests");
    }

    fn finding(bytes: f64, count: u64) -> Finding {
        Finding {
            id: "x".into(),
            rule_id: "r".into(),
            title: "Large volume".into(),
            level: "high",
            tactics: vec!["exfiltration"],
            technique: None,
            first_seen: 0,
            last_seen: 0,
            count,
            bytes,
            ips: vec!["203.0.113.66".into()],
            users: vec![],
            keys: vec!["AKIA1".into()],
            evidence: vec![],
            detail: String::new(),
            ..Default::default()
        }
    }

    #[test]
    fn escalates_up_never_down() {
        let p = Post {
            escalate: vec![
                Step {
                    min_bytes: Some(1_000_000_000),
                    min_count: None,
                    level: "critical",
                },
                Step {
                    min_bytes: None,
                    min_count: Some(10),
                    level: "low",
                },
            ],
            message: None,
        };
        let mut small = finding(5e6, 20);
        p.apply(&mut small);
        assert_eq!(small.level, "high");
        let mut big = finding(2e9, 20);
        p.apply(&mut big);
        assert_eq!(big.level, "critical");
    }

    #[test]
    fn renders_placeholders() {
        let p = Post {
            escalate: vec![],
            message: Some(
                "{keys} took {bytes_human} ({bytes} bytes) from {ips} in {count} requests {nope}"
                    .into(),
            ),
        };
        let mut f = finding(450_526_564.0, 300);
        p.apply(&mut f);
        assert_eq!(
            f.message,
            "AKIA1 took 450.5 MB (450,526,564 bytes) from 203.0.113.66 in 300 requests {nope}"
        );
        // Every event refused: the message says it was only tried.
        let mut refused = finding(0.0, 2);
        refused.failed = 2;
        p.apply(&mut refused);
        assert!(
            refused
                .message
                .starts_with("Attempted, every call refused: AKIA1 took"),
            "{}",
            refused.message
        );
    }
}
