//! Detection: compiled rules routed by logsource, evaluated on every event of a work item
//! into a partial state (matches per rule and actor, correlation buckets per group and
//! minute) that merges associatively; findings are made from the merged state at the end.

pub mod convergence;
pub mod correlate;
pub mod corrlog;
pub mod crawlers;
pub mod finding;
pub mod firstseen;
pub mod gaps;
pub mod matcher;
pub mod popular;
pub mod post;
mod prefilter;
pub mod route;
pub mod seen;
pub mod view;

use crate::parse::{Event, Format};
use crate::rules::{RuleSet, tags};
use crate::scan::records::{FileCtx, Sink, SinkFactory};
use correlate::CorrSpec;
pub use finding::Finding;
use matcher::Matcher;
use prefilter::Prefilter;
use route::{Logsource, Route};
use std::collections::BTreeMap;
use view::{Scratch, View};

/// How many evidence references a finding keeps (the total is counted too).
pub const MAX_EVIDENCE: usize = 5;
/// How many distinct values of an entity kind a finding lists.
pub const MAX_ENTITIES: usize = 16;

/// A rule ready to run.
#[derive(Clone)]
pub struct Compiled {
    pub id: String,
    pub title: String,
    pub level: &'static str,
    pub tactics: Vec<&'static str>,
    pub technique: Option<String>,
    pub matcher: Matcher,
    pub logsource: Logsource,
    /// The formats (and, for syslog, programs) the rule reads, from the pipeline.
    pub route: Route,
    /// False when the rule only feeds correlations.
    pub generate: bool,
    /// Correlations fed by this rule, with the field to group by for each.
    pub feeds: Vec<usize>,
    /// Every matching event is a timeline row.
    pub timeline: bool,
    /// First-seen test (leaktrail extension): findings for new values of a key.
    pub first_seen: Option<crate::rules::FirstSeen>,
    /// Derived fields (leaktrail extension `extract`): (name, field, regex).
    pub extract: Vec<(String, String, regex::bytes::Regex)>,
    /// Escalation and message template (leaktrail extensions).
    pub post: post::Post,
    /// Sigma filters that apply to this rule: each one's condition must also hold.
    pub filters: Vec<Matcher>,
    /// leaktrail's `off_hours`: the rule matches only outside working hours.
    pub off_hours: Option<crate::rules::OffHours>,
    /// leaktrail's `popular`: the field naming what each event served, how many actors make
    /// it public content, and the level its findings are lowered to then.
    pub popular: Option<popular::Popular>,
}

/// A rule that could not be compiled.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub origin: String,
    pub id: String,
    pub reason: String,
}

/// The compiled rule set.
pub struct Engine {
    pub rules: Vec<Compiled>,
    pub corrs: Vec<CorrSpec>,
    /// For each correlation, the correlation whose state it reads (itself, or an earlier one
    /// that keeps the same state: an absolute and a baseline threshold on one sum).
    state_of: Vec<usize>,
    pub skipped: Vec<Skipped>,
    /// For each format (by its position in `Format::ALL`), the prefilter over the rules its
    /// events can match; None when no rule can.
    prefilters: Vec<Option<Prefilter>>,
}

pub(crate) fn level_of(l: Option<rsigma_parser::Level>) -> &'static str {
    l.map_or("medium", |l| l.as_str())
}

impl Engine {
    /// Compiles a rule set; rules that cannot be compiled are listed, not fatal.
    pub fn new(set: &RuleSet) -> Engine {
        let mut rules = Vec::new();
        let mut skipped = Vec::new();
        for r in &set.rules {
            let (tactics, technique) = tags::classify(&r.sigma.tags);
            let compiled = compile_extract(&r.ext.extract)
                .and_then(|x| Ok((x, post::Post::from_ext(&r.ext)?)))
                .and_then(|(x, p)| Ok((x, p, popular::compile(&r.ext)?)));
            let (extract, post, popular) = match compiled {
                Ok(x) => x,
                Err(reason) => {
                    skipped.push(Skipped {
                        origin: r.origin.display(),
                        id: r.id(),
                        reason,
                    });
                    continue;
                }
            };
            let logsource = Logsource::from_sigma(&r.sigma.logsource);
            let fmap = set.pipeline.field_map(&logsource);
            match Matcher::compile(&r.sigma, &set.placeholders, &fmap) {
                Ok(matcher) => rules.push(Compiled {
                    id: r.id(),
                    title: r.sigma.title.clone(),
                    level: level_of(r.sigma.level),
                    tactics,
                    technique,
                    matcher,
                    route: set.pipeline.route(&logsource),
                    logsource,
                    generate: r.ext.timeline != crate::rules::Timeline::Only
                        && r.ext.first_seen.is_none(),
                    feeds: Vec::new(),
                    timeline: r.ext.timeline != crate::rules::Timeline::No,
                    first_seen: r.ext.first_seen.clone(),
                    extract,
                    post,
                    filters: Vec::new(),
                    off_hours: working(set, r.ext.off_hours),
                    popular,
                }),
                Err(reason) => skipped.push(Skipped {
                    origin: r.origin.display(),
                    id: r.id(),
                    reason,
                }),
            }
        }
        attach_filters(set, &mut rules, &mut skipped);
        let mut corrs = Vec::new();
        for c in &set.correlations {
            match CorrSpec::new(c, set, &rules) {
                Ok(spec) => {
                    for &b in &spec.bases {
                        rules[b].feeds.push(corrs.len());
                        if !c.sigma.generate {
                            rules[b].generate = false;
                        }
                    }
                    corrs.push(spec);
                }
                Err(reason) => skipped.push(Skipped {
                    origin: c.origin.display(),
                    id: c.id(),
                    reason,
                }),
            }
        }
        let prefilters = Format::ALL
            .iter()
            .map(|&f| {
                let subset: Vec<usize> = (0..rules.len())
                    .filter(|&i| rules[i].route.reads(f))
                    .collect();
                (!subset.is_empty()).then(|| Prefilter::new(&rules, &subset))
            })
            .collect();
        let state_of = (0..corrs.len())
            .map(|i| {
                (0..i)
                    .find(|&j| corrs[j].same_state(&corrs[i]))
                    .unwrap_or(i)
            })
            .collect();
        Engine {
            rules,
            corrs,
            state_of,
            skipped,
            prefilters,
        }
    }

    /// The prefilter over the rules that may match events of a format, when there are any.
    fn prefilter(&self, f: Format) -> Option<&Prefilter> {
        let i = Format::ALL.iter().position(|&x| x == f)?;
        self.prefilters[i].as_ref()
    }

    /// The prefilter that searches whole buffers of a format, when there is one. JSON writers
    /// may escape `/`, W3C joins stem and query, and a Zeek record's `_path` is in the file's
    /// header: there a record's text is not its fields' text, so every candidate rule runs on
    /// every record.
    fn buffer_prefilter(&self, f: Format) -> Option<&Prefilter> {
        if matches!(f, Format::Json | Format::W3c | Format::Zeek) {
            return None;
        }
        self.prefilter(f).filter(|p| p.ac.is_some())
    }
}

/// A rule's working hours, with `--working-hours` and `--workdays` applied.
pub(crate) fn working(
    set: &RuleSet,
    h: Option<crate::rules::OffHours>,
) -> Option<crate::rules::OffHours> {
    h.map(|mut h| {
        if let Some((a, b)) = set.working_hours {
            (h.start, h.end) = (a, b);
        }
        if let Some(d) = set.off_days {
            h.off_days = d;
        }
        h
    })
}

/// Compiles the Sigma filters and attaches each to the rules it names whose logsource it
/// fits (every field the filter's logsource sets must be the rule's).
fn attach_filters(set: &RuleSet, rules: &mut [Compiled], skipped: &mut Vec<Skipped>) {
    for f in &set.filters {
        let ls = f
            .sigma
            .logsource
            .as_ref()
            .map(Logsource::from_sigma)
            .unwrap_or_default();
        let fmap = set.pipeline.field_map(&ls);
        let m = match Matcher::from_detections(&f.sigma.detection, &set.placeholders, &fmap) {
            Ok(m) => m,
            Err(reason) => {
                skipped.push(Skipped {
                    origin: f.origin.display(),
                    id: f.id(),
                    reason: format!("filter: {reason}"),
                });
                continue;
            }
        };
        // Every rule a filter names must be loaded, or the filter silently does nothing.
        let mut all_known = true;
        if let rsigma_parser::FilterRuleTarget::Specific(names) = &f.sigma.rules {
            for n in names {
                if !set.rules.iter().any(|r| r.answers_to(n)) {
                    all_known = false;
                    skipped.push(Skipped {
                        origin: f.origin.display(),
                        id: f.id(),
                        reason: format!("filter: names rule `{n}`, which is not loaded"),
                    });
                }
            }
        }
        let mut attached = 0;
        for c in rules.iter_mut() {
            let Some(rule) = set.rules.iter().find(|r| r.id() == c.id) else {
                continue;
            };
            if ls.covers(&c.logsource) && f.targets(rule) {
                c.filters.push(m.clone());
                attached += 1;
            }
        }
        let specific = matches!(f.sigma.rules, rsigma_parser::FilterRuleTarget::Specific(_));
        if attached == 0 && all_known && specific {
            skipped.push(Skipped {
                origin: f.origin.display(),
                id: f.id(),
                reason: "filter: applies to no loaded rule (its logsource fits none it names)"
                    .into(),
            });
        }
    }
}

/// Compiles a rule's `extract` regular expressions.
fn compile_extract(
    x: &[crate::rules::Extract],
) -> Result<Vec<(String, String, regex::bytes::Regex)>, String> {
    x.iter()
        .map(|e| {
            regex::bytes::Regex::new(&e.regex)
                .map(|re| (e.name.clone(), e.field.clone(), re))
                .map_err(|err| format!("extract `{}`: bad regular expression: {err}", e.name))
        })
        .collect()
}

/// Sets a rule's derived fields on the event: the first capture group, or the whole match.
fn derive(rule: &Compiled, v: &mut View<'_, '_>) {
    for (name, field, re) in &rule.extract {
        v.derive(name, field, re);
    }
}

/// A reference to an event: file index, line and byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ref {
    pub file: usize,
    pub line: u64,
    pub offset: u64,
}

/// A sorted set of at most [`MAX_ENTITIES`] strings in one small vector (a B-tree node per
/// set would cost far more for the one or two values most sets hold). When full, the smallest
/// values are kept, so the result does not depend on arrival order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmallSet(Vec<String>);

impl SmallSet {
    /// Adds a value.
    pub fn insert(&mut self, v: &str) {
        if let Err(pos) = self.0.binary_search_by(|x| x.as_str().cmp(v))
            && pos < MAX_ENTITIES
        {
            self.0.insert(pos, v.to_string());
            self.0.truncate(MAX_ENTITIES);
        }
    }

    /// The values, sorted.
    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a SmallSet {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// What one actor did under one rule, so far.
#[derive(Clone, Debug, Default)]
pub struct Agg {
    pub count: u64,
    pub first: i64,
    pub last: i64,
    pub bytes: f64,
    pub evidence: Vec<Ref>,
    pub ips: SmallSet,
    pub users: SmallSet,
    pub keys: SmallSet,
    /// Accounts that were tried (failed logins), as opposed to accounts that acted.
    pub targets: SmallSet,
    /// Application sessions.
    pub sessions: SmallSet,
    /// Events whose action failed (an HTTP error status, a CloudTrail errorCode, a failed
    /// login): a finding whose events all failed is an attempt, not a step reached.
    pub failed: u64,
    /// The event at the first and at the last time (ties: the earliest reference).
    pub first_at: Option<Ref>,
    pub last_at: Option<Ref>,
    /// By UTC day, the earliest and latest time of day of its events (nanoseconds), for
    /// up to [`MAX_DAYS`] days: a job that runs every night at 02:00 shows as the same band
    /// on every day (see [`Agg::recurs`]).
    pub days: BTreeMap<i64, (i64, i64)>,
}

/// Days of an actor's events kept per rule, to tell a daily job.
const MAX_DAYS: usize = 400;
const DAY: i64 = 86_400_000_000_000;
/// How wide a band of the day a daily job's events fit in, every day.
const JOB_BAND: i64 = 3_600_000_000_000;

impl Agg {
    fn add_day(&mut self, day: i64, lo: i64, hi: i64) {
        if let Some(b) = self.days.get_mut(&day) {
            (b.0, b.1) = (b.0.min(lo), b.1.max(hi));
        } else if self.days.len() < MAX_DAYS {
            self.days.insert(day, (lo, hi));
        }
    }

    /// When every event fell, on two days or more, within the same hour of the day (UTC):
    /// the start of that band. A scheduled job, most likely (a nightly backup's dump).
    pub fn recurs(&self) -> Option<i64> {
        if self.days.len() < 2 || self.days.len() >= MAX_DAYS {
            return None;
        }
        let lo = self.days.values().map(|b| b.0).min()?;
        let hi = self.days.values().map(|b| b.1).max()?;
        (hi - lo <= JOB_BAND).then_some(lo)
    }

    pub(crate) fn add(&mut self, ts: i64, bytes: f64, r: Ref, ent: &Entities) {
        if self.count == 0 || (ts, r) < (self.first, self.first_at.unwrap_or(r)) {
            self.first = ts;
            self.first_at = Some(r);
        }
        let later = ts > self.last || (ts == self.last && self.last_at.is_some_and(|l| r < l));
        if self.count == 0 || later {
            self.last = ts;
            self.last_at = Some(r);
        }
        self.failed += u64::from(ent.failed);
        self.count += 1;
        self.bytes += bytes;
        keep_earliest(&mut self.evidence, r);
        ent.add_to(self);
        let tod = ts.rem_euclid(DAY);
        self.add_day(ts.div_euclid(DAY), tod, tod);
    }

    /// Adds another part (in any order: the result is the same).
    pub fn merge(&mut self, o: Agg) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = o;
            return;
        }
        if (o.first, o.first_at) < (self.first, self.first_at) {
            (self.first, self.first_at) = (o.first, o.first_at);
        }
        if o.last > self.last || (o.last == self.last && o.last_at < self.last_at) {
            (self.last, self.last_at) = (o.last, o.last_at);
        }
        self.failed += o.failed;
        self.count += o.count;
        self.bytes += o.bytes;
        for r in o.evidence {
            keep_earliest(&mut self.evidence, r);
        }
        for (d, (lo, hi)) in o.days {
            self.add_day(d, lo, hi);
        }
        for (a, b) in [
            (&mut self.ips, o.ips),
            (&mut self.users, o.users),
            (&mut self.keys, o.keys),
            (&mut self.targets, o.targets),
            (&mut self.sessions, o.sessions),
        ] {
            for v in b.iter() {
                a.insert(v);
            }
        }
    }
}

/// Keeps the [`MAX_EVIDENCE`] earliest references (in scan order), sorted, whatever order
/// they arrive in.
fn keep_earliest(ev: &mut Vec<Ref>, r: Ref) {
    if let Err(pos) = ev.binary_search(&r)
        && pos < MAX_EVIDENCE
    {
        ev.insert(pos, r);
        ev.truncate(MAX_EVIDENCE);
    }
}

/// The entities an event names.
#[derive(Clone, Debug, Default)]
pub struct Entities {
    pub ip: Option<String>,
    pub user: Option<String>,
    pub key: Option<String>,
    /// The account a failed login tried; for a CloudTrail call, the outside accounts (or
    /// `public`) it shared a resource with, the access key it created or the user or role it
    /// changed: a target, not an actor.
    pub target: Option<String>,
    pub session: Option<String>,
    /// The event's action failed (HTTP status 400 or above, a CloudTrail errorCode, a failed
    /// or refused login).
    pub failed: bool,
}

impl Entities {
    fn add_to(&self, agg: &mut Agg) {
        let pairs = [
            (&self.ip, &mut agg.ips),
            (&self.user, &mut agg.users),
            (&self.key, &mut agg.keys),
            (&self.target, &mut agg.targets),
            (&self.session, &mut agg.sessions),
        ];
        for (v, set) in pairs {
            if let Some(v) = v {
                set.insert(v);
            }
        }
    }

    /// The actor a finding is grouped by: address, else user, else key. A call made with an
    /// access key is grouped by its key: the principal acts, and one address (a NAT, an office,
    /// AWS itself) is shared by principals that have nothing to do with each other.
    fn primary(&self) -> String {
        if let Some(k) = &self.key {
            return k.clone();
        }
        let actor = self
            .ip
            .clone()
            .or_else(|| self.user.clone())
            .or_else(|| self.key.clone());
        actor.or_else(|| self.target.clone()).unwrap_or_default()
    }
}

/// Structured address fields only: a free-text `ip` may be any address the message mentions.
const IP_FIELDS: &[&str] = &["c-ip", "src_ip", "sourceIPAddress"];
const USER_FIELDS: &[&str] = &[
    "cs-username",
    "user",
    "userIdentity.userName",
    "userIdentity.arn",
];
const KEY_FIELDS: &[&str] = &["userIdentity.accessKeyId", "api_key", "key_id"];
const SESSION_FIELDS: &[&str] = &["session", "session_id"];
/// What a successful event acted on, in order of preference: the outside accounts a CloudTrail
/// call shared a resource with, a newly created access key, the IAM user or role it changed;
/// the server a connection reached.
const TARGET_FIELDS: &[&str] = &[
    "sharedWith",
    "responseElements.accessKey.accessKeyId",
    "requestParameters.userName",
    "requestParameters.roleName",
    // The server a connection or a proxied request reached (Zeek, Squid).
    "dst_ip",
];
const BYTE_FIELDS: &[&str] = &[
    "sc-bytes",
    "additionalEventData.bytesTransferredOut",
    "bytes",
    // Zeek conn.log: what the originator sent (an upload from the inside).
    "orig_bytes",
];

fn first_text(v: &mut View<'_, '_>, names: &[&str], ip_only: bool) -> Option<String> {
    for n in names {
        if let Some(s) = v.value(n) {
            if s.is_empty() || s == b"-" || (ip_only && !crate::parse::util::is_ip(s)) {
                continue;
            }
            return Some(String::from_utf8_lossy(s).into_owned());
        }
    }
    None
}

/// How an event's action ended, as far as its fields say.
struct Outcome {
    /// A failed login (or one for an unknown user).
    login_failed: bool,
    /// An HTTP error status or a CloudTrail error code.
    refused: bool,
}

impl Outcome {
    fn failed(&self) -> bool {
        self.login_failed || self.refused
    }
}

/// The fields [`outcome`] reads besides `sc-status`; most logs have none of them.
const OUTCOME_TEXT_FIELDS: &[&str] = &[
    "outcome",
    "responseElements.ConsoleLogin",
    "event",
    "errorCode",
];

fn outcome(v: &mut View<'_, '_>) -> Outcome {
    let refused_status = |v: &mut View<'_, '_>| v.number("sc-status").is_some_and(|s| s >= 400.0);
    // An access log's records: the status alone, after one look per field layout.
    if v.lacks_all(OUTCOME_TEXT_FIELDS) {
        return Outcome {
            login_failed: false,
            refused: refused_status(v),
        };
    }
    let login_failed = v
        .value("outcome")
        .is_some_and(|o| o == b"failure" || o == b"invalid_user")
        || v.value("responseElements.ConsoleLogin") == Some(b"Failure")
        || v.value_lower("event")
            .is_some_and(|e| memchr::memmem::find(e, b"fail").is_some());
    let refused = refused_status(v) || v.value("errorCode").is_some_and(|e| !e.is_empty());
    Outcome {
        login_failed,
        refused,
    }
}

/// `s3://bucket/key` of a CloudTrail S3 object call.
fn s3_object(v: &mut View<'_, '_>) -> Option<String> {
    let key = first_text(v, &["requestParameters.key"], false)?;
    let bucket = first_text(v, &["requestParameters.bucketName"], false)?;
    Some(format!("s3://{bucket}/{key}"))
}

/// `s3://bucket/*` of a CloudTrail S3 object read that was not refused: where what was
/// taken came from (writes and deletes take nothing).
fn read_bucket(v: &mut View<'_, '_>) -> Option<String> {
    let reads = matches!(
        v.value("eventName"),
        Some(b"GetObject" | b"SelectObjectContent" | b"GetObjectTorrent")
    );
    if !reads || !v.has("requestParameters.key") || outcome(v).refused {
        return None;
    }
    let bucket = first_text(v, &["requestParameters.bucketName"], false)?;
    Some(format!("s3://{bucket}/*"))
}

fn entities(v: &mut View<'_, '_>) -> Entities {
    let user = first_text(v, USER_FIELDS, false).filter(|u| u != "null");
    let out = outcome(v);
    // The user of a failed or unknown-user login is the account tried, not the one acting.
    let (user, target) = if out.login_failed {
        (None, user)
    } else {
        // A call that shares a resource targets whoever it is shared with; one that creates
        // or changes an identity targets it (the new key, the user given a password); an S3
        // object call, the object (what was read or written).
        // A refused object call read nothing: its object is not named.
        let target = first_text(v, TARGET_FIELDS, false)
            .or_else(|| (!out.refused).then(|| s3_object(v)).flatten());
        (user, target)
    };
    Entities {
        failed: out.failed(),
        ip: first_text(v, IP_FIELDS, true),
        user,
        key: first_text(v, KEY_FIELDS, false),
        target,
        session: first_text(v, SESSION_FIELDS, false).filter(|s| s != "null"),
    }
}

fn bytes(v: &mut View<'_, '_>) -> f64 {
    BYTE_FIELDS.iter().find_map(|n| v.number(n)).unwrap_or(0.0)
}

/// The hasher of detection's tables and group keys: fast, and seeded with a constant so a run
/// is reproducible (group keys are compared in full, so a collision costs time, not a result).
pub(crate) type HashState = foldhash::fast::FixedState;

const HASH_SEED: u64 = 0x6c65_616b_7472_6169;

pub(crate) fn hasher() -> foldhash::fast::FoldHasher<'static> {
    use std::hash::BuildHasher;
    static STATE: HashState = HashState::with_seed(HASH_SEED);
    STATE.build_hasher()
}

/// The partial detection state of a share of the work; parts merge in any order to the same
/// result (sums, minima, sorted sets that keep their smallest members).
#[derive(Default)]
pub struct Partial {
    pub singles: BTreeMap<(usize, String), Agg>,
    /// This part's entities and correlation group keys, numbered.
    names: corrlog::Interner,
    /// The events correlations read, kept by this part.
    pub corr: corrlog::Log,
    /// Other parts' correlation events (merged parts keep their logs as they are).
    pub more_corr: Vec<corrlog::Log>,
    /// When each file had events (for gaps).
    pub activity: gaps::Activity,
    /// What each entity did, across all events.
    pub seen: seen::Seen,
    /// Events of rules marked for the timeline.
    pub notable: Notables,
    /// (first-seen rule, hash of the key) → the key's values.
    pub first_seen: std::collections::HashMap<(usize, u64), firstseen::Group, HashState>,
}

/// How many notable events the timeline keeps (the earliest; the rest are counted).
pub const MAX_NOTABLE: usize = 20_000;

/// One event of a rule marked for the timeline.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Notable {
    pub ts: i64,
    pub at: Ref,
    /// Index of the rule in the engine.
    pub rule: usize,
    /// The entities it names (address, user, key).
    pub ip: Option<String>,
    pub user: Option<String>,
    pub key: Option<String>,
}

/// Notable events: the earliest [`MAX_NOTABLE`] by (time, reference), and how many there were.
#[derive(Clone, Debug, Default)]
pub struct Notables {
    pub kept: Vec<Notable>,
    pub total: u64,
}

impl Notables {
    fn add(&mut self, n: Notable) {
        self.total += 1;
        self.kept.push(n);
        if self.kept.len() >= 2 * MAX_NOTABLE {
            self.trim();
        }
    }

    /// Sorts and keeps the earliest [`MAX_NOTABLE`].
    pub fn trim(&mut self) {
        self.kept.sort();
        self.kept.truncate(MAX_NOTABLE);
    }

    fn merge(&mut self, o: Notables) {
        self.total += o.total;
        self.kept.extend(o.kept);
        self.trim();
    }
}

impl Partial {
    /// Ends scanning into this part: its tallies become activities and its correlation log
    /// keeps the keys its ids stand for.
    fn seal(&mut self) {
        if !self.names.is_empty() {
            self.seen.fold(&self.names);
            self.corr.seal(std::mem::take(&mut self.names));
        }
    }

    /// Adds the next part.
    pub fn merge(&mut self, mut o: Partial) {
        self.seal();
        o.seal();
        let Partial {
            names: _,
            singles,
            corr,
            more_corr,
            activity,
            seen,
            notable,
            first_seen,
        } = o;
        // The singles and the entities are the two big maps: merged side by side.
        let (mine, theirs) = (&mut self.seen, seen);
        let rest = &mut self.singles;
        rayon::join(
            || mine.merge(theirs),
            || {
                for (k, a) in singles {
                    rest.entry(k).or_default().merge(a);
                }
            },
        );
        self.more_corr.push(corr);
        self.more_corr.extend(more_corr);
        self.activity.merge(activity);
        self.notable.merge(notable);
        for (k, g) in first_seen {
            match self.first_seen.entry(k) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(g);
                }
                std::collections::hash_map::Entry::Occupied(mut m) if m.get().key == g.key => {
                    m.get_mut().merge(g)
                }
                // A key-hash collision between parts: vanishingly rare; the later key is left out.
                std::collections::hash_map::Entry::Occupied(_) => {}
            }
        }
    }
}

/// Runs the engine over events.
pub struct DetectSink<'e> {
    engine: &'e Engine,
    /// The engine's rules, this thread's copy (see [`DetectFactory`]).
    rules: std::sync::Arc<Vec<Compiled>>,
    pool: Pool,
    scratch: Scratch,
    state: Partial,
    /// `mark[rule] == generation` when the rule's literals occur in the current record (or
    /// its key index names it); `marked` lists those rules.
    mark: Vec<u32>,
    marked: Vec<usize>,
    generation: u32,
    chunk: ChunkScan,
    /// The group key being built, and the keys of this event already interned: (group-by
    /// fields, as the address of their list, → group id).
    key: Vec<u8>,
    keys: Vec<(usize, u32)>,
    ahead: Ahead,
    /// The fields the actors table reads, for the current field layout.
    plan: seen::Plan,
}

/// The buffer being parsed, lower-cased, with the positions of literal matches in it.
#[derive(Default)]
struct ChunkScan {
    format: Option<Format>,
    /// Address and length of the buffer (records are slices of it).
    base: usize,
    len: usize,
    lower: Vec<u8>,
    hits: Vec<(u32, u32)>,
    /// The first hit not before the last record asked about: records come in order, so the
    /// next one's hits are found from here.
    cursor: std::cell::Cell<usize>,
    /// Records of this buffer start with an address worth looking ahead for.
    ahead_on: bool,
}

/// Looks ahead of the record being parsed, in a buffer whose records start with the client
/// address: [`AHEAD_FAR`] records ahead the address's slot in the interner is fetched, and
/// [`AHEAD_NEAR`] records ahead (the slot now at hand) the address's tally. A busy log's
/// clients are spread over tables larger than the cache; without this, each record waits on
/// memory for them in turn.
#[derive(Default)]
struct Ahead {
    /// Address just past the last record looked at, and how many records ahead that is.
    end: usize,
    lead: usize,
    /// The records from the next one to `lead` ahead, nearest first: where each one's first
    /// word is and that word read as an IPv4 address.
    ring: std::collections::VecDeque<Word>,
    /// The record being parsed, as it was read ahead.
    current: Option<Word>,
}

/// A record's first word (address and length) and, when it spells one, the IPv4 address.
#[derive(Clone, Copy)]
pub(crate) struct Word {
    pub(crate) at: usize,
    pub(crate) len: usize,
    pub(crate) v4: Option<u32>,
}

const AHEAD_FAR: usize = 8;
const AHEAD_NEAR: usize = 3;

impl Ahead {
    fn step(&mut self, rest: &[u8], names: &corrlog::Interner, seen: &seen::Seen) {
        let start = rest.as_ptr() as usize;
        self.current = None;
        if self.end < start || self.end > start + rest.len() {
            // A new buffer (or a jump in it): start over from the next record.
            (self.end, self.lead) = (start, 0);
            self.ring.clear();
        } else {
            self.lead = self.lead.saturating_sub(1);
            // The record about to be parsed was the nearest one ahead.
            while self.ring.front().is_some_and(|w| w.at < start) {
                self.current = self.ring.pop_front();
            }
        }
        while self.lead < AHEAD_FAR && self.end < start + rest.len() {
            let line = &rest[self.end - start..];
            let len = memchr::memchr(b' ', &line[..line.len().min(16)]).unwrap_or(usize::MAX);
            let v4 = line.get(..len).and_then(corrlog::ipv4);
            if let Some(a) = v4 {
                names.prefetch_v4(a);
            }
            self.ring.push_back(Word {
                at: self.end,
                len,
                v4,
            });
            self.end += memchr::memchr(b'\n', line).map_or(line.len(), |e| e + 1);
            self.lead += 1;
        }
        // The record that just came within reach: its slot has had time to arrive.
        if let Some(id) = self
            .ring
            .get(AHEAD_NEAR - 1)
            .and_then(|w| w.v4)
            .and_then(|a| names.find_v4(a))
        {
            seen.prefetch(id);
        }
    }
}

impl ChunkScan {
    /// The record's position in the buffer, when it is a slice of it (and of its format).
    fn locate(&self, format: Format, raw: &[u8]) -> Option<usize> {
        let at = (raw.as_ptr() as usize).checked_sub(self.base)?;
        (self.format == Some(format) && at + raw.len() <= self.len).then_some(at)
    }

    /// The literal matches that start inside `at..at + len`.
    fn hits_in(&self, at: usize, len: usize) -> &[(u32, u32)] {
        let before = |k: usize| self.hits.get(k).is_some_and(|&(h, _)| (h as usize) < at);
        let mut i = self.cursor.get().min(self.hits.len());
        if i > 0 && !before(i - 1) {
            // An earlier record than the last one: search from the start.
            i = self.hits.partition_point(|&(h, _)| (h as usize) < at);
        }
        while before(i) {
            i += 1;
        }
        self.cursor.set(i);
        // A record holds few matches, if any.
        let n = self.hits[i..]
            .iter()
            .take_while(|&&(h, _)| (h as usize) < at + len)
            .count();
        &self.hits[i..i + n]
    }
}

/// Makes a [`DetectSink`] per work item. A sink starts from a state left by an earlier
/// item and gives it back when done, so a thread keeps adding to one state (a busy web log's
/// clients are created once per thread, not once per chunk) and the states are merged once,
/// at the end, by [`DetectFactory::into_state`]. Parts merge in any order to the same result.
///
/// Each worker thread evaluates its own copy of the rules. A compiled regular expression keeps
/// its search caches in a pool owned by the first thread that used it; another thread takes
/// the pool's slower path, and both then write next to the owner's mark: with one copy shared
/// by two threads, perf put 7% of a scan's time on that one cache line (one regex rule on a
/// 200 MB access log).
pub struct DetectFactory<'e> {
    engine: &'e Engine,
    pool: Pool,
    /// By slot of `pool`: that thread's copy of the rules.
    rules: Vec<std::sync::Arc<Vec<Compiled>>>,
}

/// States by worker thread (rayon's thread index; the last slot for other threads): a state
/// stays with the thread that allocated it, so its growth and frees stay in that thread's
/// allocator arena.
/// The buffers a sink reuses from one work item to the next go with it: a work item is a
/// 1 MiB chunk, and fresh buffers for each (the buffer lower-cased, above all) cost page
/// faults on every chunk.
type Pool = std::sync::Arc<Vec<std::sync::Mutex<Vec<(Partial, Reuse)>>>>;

/// A sink's buffers, kept between work items.
#[derive(Default)]
struct Reuse {
    scratch: Scratch,
    chunk: ChunkScan,
    mark: Vec<u32>,
    generation: u32,
    key: Vec<u8>,
}

/// The calling thread's slot: its index among rayon's workers, the last for other threads.
fn slot_index(slots: usize) -> usize {
    let last = slots - 1;
    rayon::current_thread_index().map_or(last, |i| i.min(last))
}

fn slot(pool: &Pool) -> &std::sync::Mutex<Vec<(Partial, Reuse)>> {
    &pool[slot_index(pool.len())]
}

impl<'e> DetectFactory<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        let slots = rayon::current_num_threads() + 1;
        DetectFactory {
            engine,
            pool: std::sync::Arc::new((0..slots).map(|_| Default::default()).collect()),
            rules: (0..slots)
                .map(|_| std::sync::Arc::new(engine.rules.clone()))
                .collect(),
        }
    }

    /// The merged state of every sink made.
    pub fn into_state(self) -> Partial {
        let parts: Vec<Partial> = self
            .pool
            .iter()
            .flat_map(|s| std::mem::take(&mut *s.lock().unwrap_or_else(|e| e.into_inner())))
            .map(|(p, _)| p)
            .collect();
        let t0 = std::time::Instant::now();
        // Each part folds its own tallies, side by side; the merge then only adds.
        let mut parts = parts;
        {
            use rayon::prelude::*;
            parts.par_iter_mut().for_each(Partial::seal);
        }
        let n = parts.len();
        if timing_on() {
            let bytes: usize = parts.iter().map(|p| p.corr.bytes()).sum();
            timing(&format!("correlation logs hold {bytes} bytes"));
        }
        let mut parts = parts.into_iter();
        let mut state = parts.next().unwrap_or_default();
        for p in parts {
            state.merge(p);
        }
        state.seal();
        timing(&format!("merged {n} parts in {:?}", t0.elapsed()));
        state.notable.trim();
        state
    }
}

impl<'e> SinkFactory for DetectFactory<'e> {
    type Sink = DetectSink<'e>;
    fn make(&self) -> DetectSink<'e> {
        let (state, mut reuse) = slot(&self.pool)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        reuse.mark.resize(self.engine.rules.len(), 0);
        // The buffer searched last belongs to the previous work item: no record of this one
        // is in it (a CloudTrail document is not announced as a buffer).
        reuse.chunk.format = None;
        reuse.chunk.ahead_on = false;
        DetectSink {
            engine: self.engine,
            rules: self.rules[slot_index(self.rules.len())].clone(),
            pool: self.pool.clone(),
            scratch: reuse.scratch,
            state,
            mark: reuse.mark,
            marked: Vec::new(),
            generation: reuse.generation,
            chunk: reuse.chunk,
            key: reuse.key,
            keys: Vec::new(),
            ahead: Ahead::default(),
            plan: seen::Plan::default(),
        }
    }
}

impl Sink for DetectSink<'_> {
    type Out = ();

    fn event(&mut self, file: &FileCtx, format: Format, ev: &Event<'_, '_>) {
        let Some(ts) = ev.ts.map(|t| t.nanos) else {
            return;
        };
        let r = Ref {
            file: file.index,
            line: ev.line,
            offset: ev.offset,
        };
        self.state.activity.add(file.index, ts, r);
        // One comparison of the field names with the previous event's serves the rules'
        // lookups and the actors table.
        self.plan.layout = self.scratch.sync_layout(ev.fields);
        let addr = self.state.seen.add(
            &mut self.state.names,
            file.index,
            ts,
            ev,
            self.ahead.current,
            &mut self.plan,
        );
        let engine = self.engine;
        let Some(pf) = engine.prefilter(format) else {
            return;
        };
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After a wrap, old marks could look current.
            self.mark.fill(0);
            self.generation = 1;
        }
        self.marked.clear();
        let filtered =
            !matches!(format, Format::Json | Format::W3c | Format::Zeek) && pf.ac.is_some();
        let chunk = &self.chunk;
        let mut v = match chunk.locate(format, ev.raw).filter(|_| filtered) {
            // The buffer was searched as a whole: most records hold no literal at all.
            Some(at) => {
                let len = ev.raw.len();
                let lower = &chunk.lower[at..at + len];
                let hits = chunk.hits_in(at, len);
                if !hits.is_empty() {
                    let marks = mark(&mut self.mark, &mut self.marked, self.generation);
                    pf.mark_hits(&chunk.lower, at, len, hits, marks);
                }
                View::synced_with_raw_lower(ev, &mut self.scratch, lower)
            }
            None => {
                let mut v = View::synced(ev, &mut self.scratch);
                if filtered {
                    let marks = mark(&mut self.mark, &mut self.marked, self.generation);
                    pf.mark_all(v.raw_lower(), marks);
                }
                v
            }
        };
        // A request target with a percent escape (or a `+` in its query) is decoded (once: the
        // rules' tests reuse it) and searched again: the rules whose literals appear only
        // decoded (`%24%7bjndi%3a`, `'+or+1=1`) are candidates too. The searched formats log
        // the whole target in one field, the first of those present. When only a query's `+`
        // changed, only the literals with a space can newly be found.
        let escapes = if filtered {
            v.escapes()
        } else {
            view::Escapes::None
        };
        if escapes != view::Escapes::None
            && let Some(name) = matcher::URL_FIELDS.into_iter().find(|n| v.has(n))
            && let Some((_, lower)) = v.url_decoded(name)
        {
            let marks = mark(&mut self.mark, &mut self.marked, self.generation);
            if escapes == view::Escapes::Plus {
                pf.mark_spaced(lower, marks);
            } else {
                pf.mark_all(lower, marks);
            }
        }
        if let Some(k) = &pf.key {
            let mut marks = mark(&mut self.mark, &mut self.marked, self.generation);
            for i in 0..k.fields.len() {
                marks(k.rules(i, &mut v).unwrap_or_default());
            }
        }
        let mut ent: Option<Entities> = None;
        let mut failed: Option<bool> = None;
        self.keys.clear();
        let rules = &*self.rules;
        // The rules to evaluate: those evaluated on every record, and those the prefilter or
        // the key index marked, in rule order.
        let every = if filtered {
            &pf.every_searched
        } else {
            &pf.every_unsearched
        };
        self.marked.sort_unstable();
        let marked = std::mem::take(&mut self.marked);
        for ri in union_sorted(every, &marked) {
            let rule = &rules[ri];
            if let (Some(h), Some(t)) = (&rule.off_hours, ev.ts)
                && !h.is_off(t.nanos, t.offset)
            {
                continue;
            }
            if !route::applies(&rule.route, format, &mut v) || !rule.matcher.matches(&mut v) {
                continue;
            }
            // A filter's condition is ANDed to the rule's (Sigma filters: `not selection`).
            if rule.filters.iter().any(|f| !f.matches(&mut v)) {
                continue;
            }
            if !rule.extract.is_empty() {
                derive(rule, &mut v);
            }
            if let Some(spec) = &rule.first_seen {
                firstseen::add(&mut self.state.first_seen, ri, spec, ts, r, &mut v);
            }
            if rule.timeline {
                let e = ent.get_or_insert_with(|| entities(&mut v));
                self.state.notable.add(Notable {
                    ts,
                    at: r,
                    rule: ri,
                    ip: e.ip.clone(),
                    user: e.user.clone().or_else(|| e.target.clone()),
                    key: e.key.clone(),
                });
            }
            if rule.generate {
                let e = ent.get_or_insert_with(|| entities(&mut v));
                let b = bytes(&mut v);
                let agg = self.state.singles.entry((ri, e.primary())).or_default();
                match &rule.popular {
                    // What the event served is the finding's target.
                    Some(p) => {
                        let mut e = e.clone();
                        e.target = p.target(&mut v);
                        agg.add(ts, b, r, &e);
                    }
                    None => agg.add(ts, b, r, e),
                }
            }
            for &ci in &rule.feeds {
                // A correlation that shares another's state is fed through that one.
                if engine.state_of[ci] != ci {
                    continue;
                }
                let mut f = Feed {
                    ri,
                    ts,
                    at: r,
                    addr,
                    key: &mut self.key,
                    keys: &mut self.keys,
                    failed: &mut failed,
                };
                let st = &mut self.state;
                f.feed(
                    &engine.corrs[ci],
                    ci,
                    &mut v,
                    &mut ent,
                    &mut st.corr,
                    &mut st.names,
                );
            }
        }
        self.marked = marked;
    }

    fn buffer(&mut self, data: &[u8], format: Format) -> bool {
        let c = &mut self.chunk;
        c.format = None;
        // An access log's records start with the client's address.
        c.ahead_on = format == Format::Access;
        let Some(pf) = self.engine.buffer_prefilter(format) else {
            return false;
        };
        let ascii = lower_ascii(data, &mut c.lower);
        pf.chunk_hits(&c.lower, &mut c.hits);
        c.cursor.set(0);
        (c.format, c.base, c.len) = (Some(format), data.as_ptr() as usize, data.len());
        ascii
    }

    fn ahead(&mut self, rest: &[u8]) {
        if self.chunk.ahead_on {
            self.ahead.step(rest, &self.state.names, &self.state.seen);
        }
    }

    fn finish(self) {
        slot(&self.pool)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((
                self.state,
                Reuse {
                    scratch: self.scratch,
                    chunk: self.chunk,
                    mark: self.mark,
                    generation: self.generation,
                    key: self.key,
                },
            ));
    }
}

/// Writes `data` lower-cased (ASCII letters) into `out`, in one pass that also tells whether
/// every byte is ASCII. With AVX2 (checked once, at run time) the pass takes 32 bytes a step
/// instead of the baseline's 16.
fn lower_ascii(data: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    out.reserve(data.len());
    let spare = &mut out.spare_capacity_mut()[..data.len()];
    #[cfg(target_arch = "x86_64")]
    let high = if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { lower_into_avx2(data, spare) }
    } else {
        lower_into(data, spare)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let high = lower_into(data, spare);
    // SAFETY: `lower_into` wrote every one of the first `data.len()` bytes.
    unsafe { out.set_len(data.len()) };
    high < 0x80
}

/// Lower-cases `src` into `dst` (of the same length); returns every byte ORed together.
#[inline(always)]
fn lower_into(src: &[u8], dst: &mut [std::mem::MaybeUninit<u8>]) -> u8 {
    let mut high = 0u8;
    for (d, &b) in dst.iter_mut().zip(src) {
        high |= b;
        d.write(b.to_ascii_lowercase());
    }
    high
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lower_into_avx2(src: &[u8], dst: &mut [std::mem::MaybeUninit<u8>]) -> u8 {
    lower_into(src, dst)
}

/// A prefilter callback that marks the rules it is given as candidates for the current event,
/// and lists each once in `marked`.
fn mark<'m>(
    marks: &'m mut [u32],
    marked: &'m mut Vec<usize>,
    generation: u32,
) -> impl FnMut(&[usize]) + 'm {
    move |rules| {
        for &r in rules {
            if marks[r] != generation {
                marks[r] = generation;
                marked.push(r);
            }
        }
    }
}

/// The union of two sorted lists of distinct rule indices, in order.
fn union_sorted<'a>(a: &'a [usize], b: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                (i, j) = (i + 1, j + 1);
                x
            }
            (Some(&x), Some(&y)) if x < y => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => return None,
        };
        Some(next)
    })
}

/// One matching event on its way to the correlations its rule feeds.
struct Feed<'s, 'f> {
    ri: usize,
    ts: i64,
    at: Ref,
    /// The field that named the event's address and the address's interned id.
    addr: Option<(&'f [u8], u32)>,
    key: &'s mut Vec<u8>,
    keys: &'s mut Vec<(usize, u32)>,
    /// Whether the event's action failed, once read (for correlations that count failures).
    failed: &'s mut Option<bool>,
}

/// See [`Feed::feed`]: which ids of a run name the collection it walks.
const WALK_SAMPLE: u64 = 16;

/// A response this large is named by its path in a bytes-out finding (`{largest}`).
const LARGE_RESPONSE: f64 = 1_000_000.0;

/// The longest path named as a large response.
const MAX_PATH: usize = 200;

/// The path a web request asked for (without its query), when the log names one.
fn response_path(v: &mut View<'_, '_>) -> Option<String> {
    let p = match v.value("cs-uri-stem") {
        Some(p) => p,
        None => {
            let t = v.value("cs-uri-query")?;
            &t[..memchr::memchr(b'?', t).unwrap_or(t.len())]
        }
    };
    if p.is_empty() {
        return None;
    }
    // A padded path is cut, not dropped: its download still counts.
    let text = String::from_utf8_lossy(&p[..p.len().min(MAX_PATH)]).into_owned();
    Some(if p.len() > MAX_PATH {
        format!("{}…", text.trim_end_matches('\u{fffd}'))
    } else {
        text
    })
}

impl Feed<'_, '_> {
    /// Adds the event to a correlation's log. The group key is interned once per event for
    /// each set of group-by fields; entities are read only for a group's earliest events
    /// (enough to name the actor) and only when the key is not the client address.
    fn feed(
        &mut self,
        spec: &CorrSpec,
        ci: usize,
        v: &mut View<'_, '_>,
        ent: &mut Option<Entities>,
        log: &mut corrlog::Log,
        names: &mut corrlog::Interner,
    ) {
        let Some(fields) = spec.group_fields(self.ri) else {
            return;
        };
        let which = fields.as_ptr() as usize;
        let gid = match self.keys.iter().find(|(f, _)| *f == which) {
            Some(&(_, id)) => id,
            // Grouped by the address field alone: its id is the address's (the same tag and
            // bytes), already looked up for the actors table.
            None if let Some((name, id)) = self.addr
                && let [only] = fields
                && only.as_bytes() == name =>
            {
                self.keys.push((which, id));
                id
            }
            None => {
                if !spec.key_bytes(self.ri, v, self.key) {
                    return;
                }
                let id = names.id(0, self.key).0;
                self.keys.push((which, id));
                id
            }
        };
        let value = spec.value_of(self.ri, v);
        let b = bytes(v);
        if let Some(slot) = spec.entity_slot(self.ri)
            && log.wants_entities(ci, (gid, slot), self.at)
        {
            let mut e = ent.get_or_insert_with(|| entities(v)).clone();
            // A correlation names its group's first events only: the first two objects of a
            // bulk download would read as all it took.
            if e.target.as_deref().is_some_and(|t| t.starts_with("s3://")) {
                e.target = None;
            }
            log.add_entities(ci, (gid, slot), self.at, e);
        }
        // What the event read, by time bucket of the correlation (few events get here).
        let bucket = || self.ts.div_euclid(spec.bucket());
        // The bucket of an S3 object read that was not refused.
        if spec.names_places
            && let Some(place) = read_bucket(v)
        {
            log.add_place(ci, gid, &place, bucket(), None);
        }
        // A large response to a client whose response bytes are summed: what left, by path.
        if let correlate::Value::Num(n) = value
            && n >= LARGE_RESPONSE
            && spec.sums("sc-bytes")
            && spec.key_is_address()
            && log.large_wanted(ci, gid, n as u64)
            && let Some(path) = response_path(v)
        {
            log.add_large(ci, gid, path, bucket(), n as u64);
        }
        // The collection of a walked id (`/api/customers/{id}`), from the ids whose remainder
        // by [`WALK_SAMPLE`] is at most the run's gap: a run's steps cannot jump over those,
        // so every run over more than sixteen ids holds some, and reading every fetch's
        // would cost more than the rule itself.
        if let correlate::Value::Hash(id) = value
            && let Some(gap) = spec.walk_gap()
            && id % WALK_SAMPLE <= gap
            && let Some(t) = spec.run_target(self.ri, v)
        {
            log.add_place(ci, gid, &t, bucket(), Some(id));
        }
        let tz = v.event().ts.map_or(0, |t| t.offset);
        // The entities, when read, already say it.
        let failed = spec.counts_failures
            && *self.failed.get_or_insert_with(|| match ent {
                Some(e) => e.failed,
                None => outcome(v).failed(),
            });
        log.add(
            ci,
            corrlog::Rec {
                gid,
                ts: self.ts,
                tz,
                at: self.at,
                bytes: b,
                value,
                failed,
            },
        );
    }
}

/// Scans with the engine: the scan's result and the merged detection state.
pub fn scan(
    opts: &crate::scan::Options,
    engine: &Engine,
    progress: &(dyn Fn(u64) + Sync),
) -> (crate::scan::ScanResult, Partial) {
    let factory = DetectFactory::new(engine);
    let t0 = std::time::Instant::now();
    let result = crate::scan::run(opts, &factory, &mut |_, ()| {}, progress);
    timing(&format!("read and matched in {:?}", t0.elapsed()));
    (result, factory.into_state())
}

fn timing_on() -> bool {
    std::env::var_os("LEAKTRAIL_TIMING").is_some()
}

/// With `LEAKTRAIL_TIMING` set, a line on stderr for each phase of a scan (a diagnostic).
pub fn timing(what: &str) {
    if timing_on() {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "timing: {what}");
    }
}

/// Turns the merged state into findings, sorted by time then rule.
pub fn findings(engine: &Engine, state: &Partial, paths: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    for ((ri, _), agg) in &state.singles {
        let r = &engine.rules[*ri];
        let mut f = Finding::from_agg(
            &r.id,
            &r.title,
            r.level,
            &r.tactics,
            r.technique.clone(),
            agg,
            paths,
        );
        r.post.apply(&mut f);
        // The same action at the same hour every day: a scheduled job, most likely. A medium
        // finding stays as it is, says so, and weighs as low in an incident; high and critical
        // ones are not judged by their regularity (an attacker picks the hour).
        if let Some(at) = agg.recurs().filter(|_| finding::level_rank(f.level) <= 2) {
            f.recurs = true;
            let note = format!(
                "every event within the hour from {} UTC, on {} days: a scheduled job?",
                crate::timeline::utc(at).get(11..16).unwrap_or("?"),
                agg.days.len()
            );
            f.detail = if f.detail.is_empty() {
                note
            } else {
                format!("{}; {note}", f.detail)
            };
        }
        out.push(f);
    }
    let parts: Vec<&corrlog::Log> = std::iter::once(&state.corr)
        .chain(&state.more_corr)
        .collect();
    // Each correlation state is read on its own (in parallel), in a fixed order.
    use rayon::prelude::*;
    let states: Vec<usize> = (0..engine.corrs.len())
        .filter(|&ci| engine.state_of[ci] == ci)
        .collect();
    let per_state: Vec<Vec<Finding>> = states
        .par_iter()
        .map(|&ci| {
            let readers: Vec<&CorrSpec> = (0..engine.corrs.len())
                .filter(|&cj| engine.state_of[cj] == ci)
                .map(|cj| &engine.corrs[cj])
                .collect();
            let mut fs = Vec::new();
            let t0 = std::time::Instant::now();
            let gs = corrlog::groups(&parts, ci, &readers, engine.corrs[ci].bucket());
            timing(&format!(
                "state {ci} {}: {} groups in {:?}",
                engine.corrs[ci].id,
                gs.len(),
                t0.elapsed()
            ));
            for g in gs {
                for spec in &readers {
                    fs.extend(spec.evaluate(&g, paths));
                }
            }
            fs
        })
        .collect();
    out.extend(per_state.into_iter().flatten());
    for ((ri, _), g) in &state.first_seen {
        let rule = &engine.rules[*ri];
        if let Some(spec) = &rule.first_seen {
            for mut f in firstseen::findings(rule, spec, g, paths) {
                rule.post.apply(&mut f);
                out.push(f);
            }
        }
    }
    let totals_of = |kind: &str, value: &str| {
        let code = match kind {
            "ip" => seen::IP,
            "user" => seen::USER,
            _ => seen::KEY,
        };
        state.seen.get(code, value).map(|a| (a.events, a.bytes_out))
    };
    popular::lower(engine, &mut out);
    let lines_at = |p: &str, offsets: &[u64]| {
        crate::input::excerpt::lines_at(std::path::Path::new(p), offsets)
    };
    let crawler = crawlers::lower(&mut out, &lines_at);
    // A crawler's findings are no step of an attack chain.
    let steps: Vec<Finding> = out
        .iter()
        .zip(&crawler)
        .filter(|(_, c)| !**c)
        .map(|(f, _)| f.clone())
        .collect();
    let chains = convergence::converge(&steps, &totals_of);
    out.extend(chains);
    out.sort_by(|a, b| (a.first_seen, &a.rule_id, &a.id).cmp(&(b.first_seen, &b.rule_id, &b.id)));
    out
}

#[cfg(test)]
mod tests {
    /// A job at the same hour every day, and only that, recurs; one more event at another hour
    /// of one of its days, or a single day, does not.
    #[test]
    fn a_daily_job_recurs() {
        use super::{Agg, DAY, Entities, Ref};
        let at = |day: i64, h: i64, m: i64| day * DAY + (h * 60 + m) * 60_000_000_000;
        let r = Ref {
            file: 0,
            line: 1,
            offset: 0,
        };
        let e = Entities::default();
        let mut nightly = Agg::default();
        for day in [100, 101, 102] {
            nightly.add(at(day, 2, 0), 0.0, r, &e);
            nightly.add(at(day, 2, 41), 0.0, r, &e);
        }
        // In parts, in any order.
        let mut other = Agg::default();
        other.add(at(103, 2, 5), 0.0, r, &e);
        let mut a = nightly.clone();
        a.merge(other.clone());
        let mut b = other;
        b.merge(nightly.clone());
        assert_eq!(a.recurs(), Some(at(0, 2, 0)));
        assert_eq!(b.recurs(), a.recurs());
        let mut extra = nightly.clone();
        extra.add(at(101, 10, 0), 0.0, r, &e);
        assert_eq!(extra.recurs(), None);
        let mut one = Agg::default();
        one.add(at(5, 2, 0), 0.0, r, &e);
        one.add(at(5, 2, 1), 0.0, r, &e);
        assert_eq!(one.recurs(), None);
    }

    /// What an S3 object call read: only reads that were not refused, with a key.
    #[test]
    fn only_object_reads_name_a_bucket() {
        use crate::parse::{Esc, Event, Fields};
        let bucket = |name: &[u8], error: Option<&[u8]>, key: bool| {
            let mut f = Fields::default();
            f.put_str("eventName", name, Esc::None);
            f.put_str(
                "requestParameters.bucketName",
                b"customer-exports",
                Esc::None,
            );
            if key {
                f.put_str("requestParameters.key", b"2026/10/part-001.csv", Esc::None);
            }
            if let Some(e) = error {
                f.put_str("errorCode", e, Esc::None);
            }
            let mut s = super::view::Scratch::default();
            let ev = Event::of(&f);
            super::read_bucket(&mut super::View::new(&ev, &mut s))
        };
        let want = Some("s3://customer-exports/*".to_string());
        assert_eq!(bucket(b"GetObject", None, true), want);
        assert_eq!(bucket(b"SelectObjectContent", None, true), want);
        assert_eq!(bucket(b"GetObject", Some(b""), true), want);
        assert_eq!(bucket(b"GetObject", Some(b"AccessDenied"), true), None);
        assert_eq!(bucket(b"PutObject", None, true), None);
        assert_eq!(bucket(b"DeleteObject", None, true), None);
        assert_eq!(bucket(b"GetObject", None, false), None);
    }

    #[test]
    fn a_records_hits_are_found_in_order_and_out_of_it() {
        let c = super::ChunkScan {
            hits: vec![(5, 8), (12, 14), (15, 16), (20, 25), (40, 41)],
            ..Default::default()
        };
        let at = |a, n| c.hits_in(a, n).to_vec();
        assert_eq!(at(0, 10), [(5, 8)]);
        assert_eq!(at(10, 10), [(12, 14), (15, 16)]);
        assert_eq!(at(30, 5), []);
        assert_eq!(at(36, 10), [(40, 41)]);
        assert_eq!(at(50, 10), []);
        // Back to an earlier record.
        assert_eq!(at(20, 1), [(20, 25)]);
        assert_eq!(at(0, 5), []);
        assert_eq!(at(0, 13), [(5, 8), (12, 14)]);
    }

    #[test]
    fn the_rules_to_evaluate_are_both_lists_in_order_once() {
        let u = |a: &[usize], b: &[usize]| super::union_sorted(a, b).collect::<Vec<_>>();
        assert_eq!(u(&[1, 4, 9], &[0, 4, 5, 12]), [0, 1, 4, 5, 9, 12]);
        assert_eq!(u(&[], &[3]), [3]);
        assert_eq!(u(&[2, 3], &[]), [2, 3]);
        assert_eq!(u(&[], &[]), [0usize; 0]);
        // Marks are listed once however many literals of a rule a record holds.
        let (mut marks, mut marked) = (vec![0u32; 6], Vec::new());
        {
            let mut m = super::mark(&mut marks, &mut marked, 7);
            m(&[4, 1]);
            m(&[1, 4, 5]);
        }
        assert_eq!(marked, [4, 1, 5]);
        assert_eq!(marks, [0, 7, 0, 0, 7, 7]);
    }

    #[test]
    fn lowering_a_buffer_tells_whether_it_is_ascii() {
        let mut out = Vec::new();
        // Longer than one block, with the letters' neighbours (`@`, `[`, backquote, `{`).
        let text =
            b"GET /Index.PHP?Q=AbC@[`{ HTTP/1.1 \"Mozilla/5.0 (X11; Linux x86_64)\"\n".repeat(3);
        assert!(super::lower_ascii(&text, &mut out));
        assert_eq!(out, text.to_ascii_lowercase());
        // One byte with the high bit set, anywhere, and the buffer is not ASCII.
        for at in [0, 63, 64, 100, text.len() - 1] {
            let mut t = text.clone();
            t[at] = 0xC3;
            assert!(!super::lower_ascii(&t, &mut out), "high byte at {at}");
            assert_eq!(out, t.to_ascii_lowercase());
        }
        assert!(super::lower_ascii(b"", &mut out) && out.is_empty());
    }
}
