//! Rules: loading Sigma YAML (with rsigma-parser) from the built-in pack and from user files,
//! the extensions leaktrail reads under its own `leaktrail:` key, ATT&CK tags, and the problems
//! of rules that cannot be loaded (reported with their file, never fatal to a scan).

pub mod builtin;
pub mod pipeline;
pub mod tags;

use rsigma_parser::{CorrelationRule, SigmaRule};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// Where a rule came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary (`rules/` in the repository).
    Builtin(&'static str),
    /// A user file.
    File(PathBuf),
}

impl Origin {
    /// The file name or path for messages.
    pub fn display(&self) -> String {
        match self {
            Origin::Builtin(name) => format!("builtin:{name}"),
            Origin::File(p) => p.display().to_string(),
        }
    }
}

/// leaktrail's additions to a Sigma rule, read from its `leaktrail:` key.
#[derive(Clone, Debug, Default)]
pub struct Extension {
    /// Events the rule must match (`rules test`): objects of field → value, or raw lines.
    pub positive: Vec<Json>,
    /// Events the rule must not match.
    pub negative: Vec<Json>,
    /// The numeric field summed by a `value_sum` correlation (default `sc-bytes`).
    pub sum_field: Option<String>,
    /// `timeline: events` — every matching event is also a row of the timeline;
    /// `timeline: only` — rows only, no finding (context such as successful logins).
    pub timeline: Timeline,
    /// `first_seen:` — a finding when a value (an address) shows up for a key (an account)
    /// that already had history with other values.
    pub first_seen: Option<FirstSeen>,
    /// `extract: {name: {field, regex}}` — derived fields: the regex's first capture group
    /// (or whole match) in `field`, usable by the rule's correlations like any field.
    pub extract: Vec<Extract>,
    /// `run: true` on a `value_count` correlation: the window's value is the longest run of
    /// consecutive integers among the values (sequential id walking), not their number;
    /// `run: {max_gap: N}` lets up to N missing ids sit between two of the run's values (ids
    /// deleted, or skipped by the walker). The run's length is the ids seen in it.
    pub run: Option<u64>,
    /// `escalate: [{bytes: N, count: N, level: L}]` — raise the finding's level at thresholds.
    pub escalate: Vec<Escalation>,
    /// `message: "..."` — a template for the finding's message (`{ips}`, `{bytes_human}`, ...).
    pub message: Option<String>,
    /// `baseline: {factor, min_windows}` on a correlation: a window fires only when its value
    /// is at least `factor` times the median of the group's own windows (its history in the
    /// same data), on top of the rule's condition; groups with fewer windows never fire.
    pub baseline: Option<(f64, usize)>,
    /// `first_min: N` on a temporal correlation: its first rule must match at least N times in
    /// the window (default 1).
    pub first_min: u64,
    /// `off_hours: {start: 8, end: 19, weekends: true}` on a rule: it matches only events
    /// outside working hours, read in the log's own local time (the offset it wrote).
    pub off_hours: Option<OffHours>,
    /// `popular: {field, size, clients, level}` on a rule: a finding whose every event served
    /// a resource (`field`, a path, with the response's `size` in bytes when given: a static
    /// file is the same size for everyone) that findings of the rule show served to `clients`
    /// or more actors is public content, and is lowered to `level`; so are the same actors'
    /// value-sum findings made mostly of those responses.
    pub popular: Option<Popular>,
}

/// A rule's `popular` extension.
#[derive(Clone, Debug, PartialEq)]
pub struct Popular {
    pub field: String,
    pub size: Option<String>,
    pub clients: usize,
    pub level: String,
}

/// Working hours: events outside them are "off hours".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffHours {
    /// First working hour (0-23) and the hour work ends (1-24), local time.
    pub start: u32,
    pub end: u32,
    /// Days that are off all day: bit 0 Monday ... bit 6 Sunday.
    pub off_days: u8,
}

/// Saturday and Sunday.
pub const WEEKEND: u8 = 0b110_0000;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl OffHours {
    /// True when a time (UTC nanoseconds, with the log's offset in seconds) is outside
    /// working hours.
    pub fn is_off(&self, nanos: i64, offset: i32) -> bool {
        use chrono::{Datelike, Timelike};
        let local = nanos.div_euclid(1_000_000_000) + i64::from(offset);
        let Some(t) = chrono::DateTime::from_timestamp(local, 0) else {
            return false;
        };
        let day = t.weekday().num_days_from_monday();
        self.off_days & (1 << day) != 0 || t.hour() < self.start || t.hour() >= self.end
    }

    /// Working hours `8-18` or `08:00-18:00` → (start, end).
    pub fn parse_hours(s: &str) -> Result<(u32, u32), String> {
        let hour = |x: &str| -> Option<u32> {
            let h = x.trim().strip_suffix(":00").unwrap_or(x.trim());
            h.parse().ok()
        };
        let (a, b) = s.split_once('-').ok_or("expected START-END, e.g. 08-18")?;
        match (hour(a), hour(b)) {
            (Some(a), Some(b)) if a < b && b <= 24 => Ok((a, b)),
            _ => Err(format!(
                "{s:?}: expected START-END in whole hours, start before end, e.g. 08-18 or 07:00-20:00"
            )),
        }
    }

    /// Working days `mon-fri`, `sun-thu` (ranges wrap), `mon,wed,fri` or `all` → the mask of
    /// days off.
    pub fn parse_workdays(s: &str) -> Result<u8, String> {
        let s = s.trim().to_ascii_lowercase();
        if s == "all" {
            return Ok(0);
        }
        let day = |d: &str| {
            DAYS.iter()
                .position(|x| d.trim().starts_with(x))
                .ok_or_else(|| format!("{d:?} is not a day (mon, tue, ... sun)"))
        };
        let mut work = 0u8;
        for part in s.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (mut i, j) = (day(a)?, day(b)?);
                    loop {
                        work |= 1 << i;
                        if i == j {
                            break;
                        }
                        i = (i + 1) % 7;
                    }
                }
                None => work |= 1 << day(part)?,
            }
        }
        Ok(!work & 0x7f)
    }
}

/// One escalation step as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub min_bytes: Option<u64>,
    pub min_count: Option<u64>,
    pub level: String,
}

/// A derived field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extract {
    pub name: String,
    pub field: String,
    pub regex: String,
}

/// A first-seen test: for each value of `key`, the values of `value` seen over time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstSeen {
    /// Fields that make the key (an account, an access key).
    pub key: Vec<String>,
    /// The field whose new values are reported (an address).
    pub value: String,
    /// Addresses are compared by network: IPv4 prefix length (default 24).
    pub prefix_v4: u8,
    /// IPv6 prefix length (default 48).
    pub prefix_v6: u8,
    /// A value is new only if it appears at least this long after the key's first event
    /// (seconds, default one hour): the key needs a history.
    pub after: i64,
}

impl FirstSeen {
    fn from_json(v: &Json) -> Option<FirstSeen> {
        let key = match v.get("key")? {
            Json::String(s) => vec![s.clone()],
            Json::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => return None,
        };
        let num = |k: &str, d: u64| v.get(k).and_then(Json::as_u64).unwrap_or(d);
        let after = v
            .get("after")
            .and_then(Json::as_str)
            .and_then(duration_secs)
            .unwrap_or(3600);
        Some(FirstSeen {
            key,
            value: v.get("value")?.as_str()?.to_string(),
            prefix_v4: num("prefix_v4", 24).min(32) as u8,
            prefix_v6: num("prefix_v6", 48).min(128) as u8,
            after,
        })
    }
}

/// `30s`, `10m`, `1h`, `2d` in seconds.
fn duration_secs(s: &str) -> Option<i64> {
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    Some(match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return None,
    })
}

/// A Sigma filter (meta-rule): its condition is ANDed to the condition of the rules it names
/// (or of every rule) — `condition: not selection` tunes out the events `selection` matches.
#[derive(Clone, Debug)]
pub struct Filter {
    pub sigma: rsigma_parser::FilterRule,
    pub origin: Origin,
}

impl Filter {
    /// The filter's id, or its title.
    pub fn id(&self) -> String {
        self.sigma
            .id
            .clone()
            .unwrap_or_else(|| self.sigma.title.clone())
    }

    /// True when the filter applies to a rule (by id, name or title).
    pub fn targets(&self, rule: &Rule) -> bool {
        match &self.sigma.rules {
            rsigma_parser::FilterRuleTarget::Any => true,
            rsigma_parser::FilterRuleTarget::Specific(names) => {
                names.iter().any(|n| rule.answers_to(n))
            }
        }
    }
}

/// Whether a rule's events become timeline rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timeline {
    #[default]
    No,
    Events,
    Only,
}

impl Extension {
    fn from_custom(custom: &std::collections::HashMap<String, impl serde::Serialize>) -> Self {
        let Some(v) = custom
            .get("leaktrail")
            .and_then(|v| serde_json::to_value(v).ok())
        else {
            return Extension::default();
        };
        let list = |k: &str| {
            v.get(k)
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
        };
        Extension {
            positive: list("positive"),
            negative: list("negative"),
            sum_field: v
                .get("sum_field")
                .and_then(Json::as_str)
                .map(str::to_string),
            timeline: match v.get("timeline").and_then(Json::as_str) {
                Some("events") => Timeline::Events,
                Some("only") => Timeline::Only,
                _ => Timeline::No,
            },
            first_seen: v.get("first_seen").and_then(FirstSeen::from_json),
            extract: v
                .get("extract")
                .and_then(Json::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(name, spec)| {
                            Some(Extract {
                                name: name.clone(),
                                field: spec.get("field")?.as_str()?.to_string(),
                                regex: spec.get("regex")?.as_str()?.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            run: match v.get("run") {
                Some(Json::Bool(true)) => Some(0),
                Some(o) => o
                    .get("max_gap")
                    .and_then(Json::as_u64)
                    .map(|g| g.min(1_000_000)),
                None => None,
            },
            escalate: list("escalate")
                .iter()
                .map(|e| Escalation {
                    min_bytes: e.get("bytes").and_then(Json::as_u64),
                    min_count: e.get("count").and_then(Json::as_u64),
                    level: e
                        .get("level")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                })
                .collect(),
            message: v.get("message").and_then(Json::as_str).map(str::to_string),
            off_hours: v.get("off_hours").map(|o| OffHours {
                start: o.get("start").and_then(Json::as_u64).unwrap_or(8).min(23) as u32,
                end: o
                    .get("end")
                    .and_then(Json::as_u64)
                    .unwrap_or(19)
                    .clamp(1, 24) as u32,
                off_days: match o.get("workdays").and_then(Json::as_str) {
                    Some(w) => OffHours::parse_workdays(w).unwrap_or(WEEKEND),
                    None if o.get("weekends").and_then(Json::as_bool).unwrap_or(true) => WEEKEND,
                    None => 0,
                },
            }),
            first_min: v.get("first_min").and_then(Json::as_u64).unwrap_or(1),
            popular: v.get("popular").and_then(|p| {
                Some(Popular {
                    field: p.get("field")?.as_str()?.to_string(),
                    size: p.get("size").and_then(Json::as_str).map(str::to_string),
                    clients: p.get("clients").and_then(Json::as_u64).unwrap_or(5).max(2) as usize,
                    level: p
                        .get("level")
                        .and_then(Json::as_str)
                        .unwrap_or("low")
                        .to_string(),
                })
            }),
            baseline: v.get("baseline").map(|b| {
                (
                    b.get("factor").and_then(Json::as_f64).unwrap_or(10.0),
                    b.get("min_windows").and_then(Json::as_u64).unwrap_or(6) as usize,
                )
            }),
        }
    }
}

/// A detection rule with what leaktrail needs beside Sigma's AST.
#[derive(Clone, Debug)]
pub struct Rule {
    pub sigma: SigmaRule,
    pub origin: Origin,
    pub ext: Extension,
}

impl Rule {
    /// True when a reference names this rule: its id, name or title.
    pub fn answers_to(&self, n: &str) -> bool {
        self.sigma.id.as_deref() == Some(n)
            || self.sigma.name.as_deref() == Some(n)
            || self.sigma.title == n
    }

    /// The rule's id (Sigma's `id`, else its title).
    pub fn id(&self) -> String {
        id_or_title(&self.sigma.id, &self.sigma.title)
    }
}

/// Sigma's `id`, else the title (rules without an id still need a name in findings).
fn id_or_title(id: &Option<String>, title: &str) -> String {
    id.clone().unwrap_or_else(|| title.to_string())
}

/// A correlation rule.
#[derive(Clone, Debug)]
pub struct Correlation {
    pub sigma: CorrelationRule,
    pub origin: Origin,
    pub ext: Extension,
}

impl Correlation {
    /// The correlation's id (Sigma's `id`, else its title).
    pub fn id(&self) -> String {
        id_or_title(&self.sigma.id, &self.sigma.title)
    }
}

/// A rule file that could not be (fully) loaded.
#[derive(Clone, Debug)]
pub struct Problem {
    pub origin: String,
    pub message: String,
}

/// Every rule loaded, and what could not be.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub correlations: Vec<Correlation>,
    /// Sigma filters: detections that exclude events from the rules they name.
    pub filters: Vec<Filter>,
    /// Values for `|expand` placeholders, by name (without the `%`).
    pub placeholders: std::collections::BTreeMap<String, Vec<String>>,
    pub problems: Vec<Problem>,
    /// How rules meet events: logsources per format, field-name mappings.
    pub pipeline: pipeline::Pipeline,
    /// Number of files read.
    pub files: usize,
    /// `--working-hours`: replaces the hours of every rule with `off_hours`.
    pub working_hours: Option<(u32, u32)>,
    /// `--workdays`: replaces the days off of every rule with `off_hours`.
    pub off_days: Option<u8>,
    /// SHA-256 over the rule texts, in load order (recorded in the case file).
    texts: Vec<u8>,
}

impl RuleSet {
    /// Adds the rules of one YAML text.
    pub fn add_text(&mut self, text: &str, origin: Origin) {
        self.files += 1;
        self.texts.extend_from_slice(text.as_bytes());
        match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => {
                for e in c.errors {
                    self.problems.push(Problem {
                        origin: origin.display(),
                        message: e,
                    });
                }
                for r in c.rules {
                    let ext = Extension::from_custom(&r.custom_attributes);
                    self.rules.push(Rule {
                        sigma: r,
                        origin: origin.clone(),
                        ext,
                    });
                }
                for r in c.correlations {
                    let ext = Extension::from_custom(&r.custom_attributes);
                    self.correlations.push(Correlation {
                        sigma: r,
                        origin: origin.clone(),
                        ext,
                    });
                }
                for f in c.filters {
                    self.filters.push(Filter {
                        sigma: f,
                        origin: origin.clone(),
                    });
                }
            }
            Err(e) => self.problems.push(Problem {
                origin: origin.display(),
                message: e.to_string(),
            }),
        }
    }

    /// Adds a file or every `.yml`/`.yaml` file under a folder (sorted).
    pub fn add_path(&mut self, path: &Path) {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| path.is_file() || p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
            .collect();
        if files.is_empty() && !path.exists() {
            // Counted as a file that failed, so `loaded N of T` stays true.
            self.files += 1;
            self.problems.push(Problem {
                origin: path.display().to_string(),
                message: "no such file or folder".into(),
            });
        }
        files.sort();
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => self.add_text(&text, Origin::File(f)),
                Err(e) => self.problems.push(Problem {
                    origin: f.display().to_string(),
                    message: format!("cannot read: {e}"),
                }),
            }
        }
    }

    /// Lowercase hex SHA-256 of every rule text loaded, in order.
    pub fn sha256(&self) -> String {
        crate::input::sha256_hex(&self.texts)
    }
}

#[cfg(test)]
mod tests {
    use super::OffHours;

    #[test]
    fn off_hours_in_the_logs_local_time() {
        let h = OffHours {
            start: 7,
            end: 20,
            off_days: super::WEEKEND,
        };
        // 2026-10-12 is a Monday.
        let at = |hh: i64, offset: i32| {
            (1_791_763_200 + hh * 3600) * 1_000_000_000 - i64::from(offset) * 1_000_000_000
        };
        assert!(!h.is_off(at(10, 0), 0), "Monday 10:00 is working time");
        assert!(h.is_off(at(23, 0), 0), "Monday 23:00 is off hours");
        assert!(h.is_off(at(6, 0), 0), "06:00 is before work");
        assert!(!h.is_off(at(19, 0), 0), "19:00 is still working time");
        assert!(h.is_off(at(20, 0), 0), "20:00 is off hours");
        // 10:00 local at +09:00 is 01:00 UTC: read in local time, it is working time.
        assert!(!h.is_off(at(10, 9 * 3600), 9 * 3600));
        // Saturday noon.
        assert!(h.is_off(at(5 * 24 + 12, 0), 0));
        // A Sunday-to-Thursday week: Saturday is off, Sunday and Monday work, Friday is off.
        let gulf = OffHours {
            off_days: OffHours::parse_workdays("sun-thu").unwrap(),
            ..h
        };
        assert!(gulf.is_off(at(5 * 24 + 12, 0), 0));
        assert!(!gulf.is_off(at(6 * 24 + 12, 0), 0));
        assert!(!gulf.is_off(at(12, 0), 0));
        assert!(gulf.is_off(at(4 * 24 + 12, 0), 0));
        assert_eq!(OffHours::parse_workdays("mon-fri"), Ok(super::WEEKEND));
        assert_eq!(OffHours::parse_workdays("all"), Ok(0));
        assert_eq!(OffHours::parse_workdays("mon,wed"), Ok(0b111_1010));
        assert!(OffHours::parse_workdays("someday").is_err());
        assert_eq!(OffHours::parse_hours("08-18"), Ok((8, 18)));
        assert_eq!(OffHours::parse_hours("07:00-20:00"), Ok((7, 20)));
        assert!(OffHours::parse_hours("18-08").is_err());
        assert!(OffHours::parse_hours("8").is_err());
    }
}
