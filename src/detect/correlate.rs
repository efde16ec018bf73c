//! Correlations over the whole data set: `event_count`, `value_count`, `value_sum` and
//! `temporal`/`temporal_ordered`, grouped by fields (with aliases across rules), over sliding
//! windows. State is kept per group in one-minute buckets, so memory grows with groups and
//! active minutes, not with events, and partial states of chunks merge by adding buckets.

use super::view::View;
use super::{Agg, Compiled, Entities, Finding, Ref};
use crate::parse::Format;
use crate::rules::{Correlation, Rule, tags};
use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationType};
use std::collections::BTreeMap;

/// Distinct values kept per minute for `value_count`.
const MAX_DISTINCT: usize = 4096;
const MINUTE: i64 = 60_000_000_000;

/// One bucket (a minute, or longer for long windows) of one group: counters only (88 bytes),
/// so the state grows with groups and active minutes, not with events.
#[derive(Clone, Debug)]
pub struct Minute {
    pub minute: i64,
    pub count: u64,
    pub sum: f64,
    pub bytes: f64,
    pub first: i64,
    pub last: i64,
    /// The first event of the minute (evidence for a finding over it).
    pub first_ref: Ref,
    /// The event at `last` (ties: the earliest reference).
    pub last_ref: Ref,
    /// Events whose action failed or was refused (counted only by correlations that count
    /// failures).
    pub failed: u64,
    /// What only `value_count` and temporal correlations keep (none for the others).
    pub extra: Option<Box<Extra>>,
    /// The UTC offset the log wrote for the bucket's first event (its local time, for
    /// off-hours correlations).
    pub offset: i32,
}

/// A bucket's distinct values and base-rule times.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Hashes of the distinct values (`value_count`), sorted; the smallest are kept when
    /// there are too many, so the result does not depend on arrival order.
    pub distinct: Vec<u64>,
    /// First time each base rule matched, how often, and its first event (temporal
    /// correlations).
    pub bases: BTreeMap<usize, (i64, u64, Ref)>,
}

impl Minute {
    fn new(minute: i64, ts: i64, r: Ref, offset: i32) -> Self {
        Minute {
            offset,
            minute,
            count: 0,
            sum: 0.0,
            bytes: 0.0,
            first: ts,
            last: ts,
            first_ref: r,
            last_ref: r,
            failed: 0,
            extra: None,
        }
    }

    /// The distinct value hashes (`value_count`).
    pub fn distinct(&self) -> &[u64] {
        self.extra.as_deref().map_or(&[], |e| &e.distinct)
    }

    fn add(&mut self, ts: i64, value: Value, bytes: f64, r: Ref, failed: bool) {
        self.count += 1;
        self.failed += u64::from(failed);
        self.bytes += bytes;
        if ts < self.first || (ts == self.first && r < self.first_ref) {
            self.first = ts;
            self.first_ref = r;
        }
        if ts > self.last || (ts == self.last && r < self.last_ref) {
            self.last = ts;
            self.last_ref = r;
        }
        match value {
            Value::Num(n) => self.sum += n,
            Value::Hash(h) => insert_distinct(&mut self.extra.get_or_insert_default().distinct, h),
            Value::Base(b) => {
                let m = &mut self.extra.get_or_insert_default().bases;
                let (first, n, at) = m.entry(b).or_insert((ts, 0, r));
                if (ts, r) < (*first, *at) {
                    (*first, *at) = (ts, r);
                }
                *n += 1;
            }
            Value::None => {}
        }
    }
}

/// The longest run in a sorted, deduplicated list: values each at most `max_gap + 1` above the
/// one before (consecutive integers when `max_gap` is 0); its length is the values in it.
fn longest_run(sorted: &[u64], max_gap: u64) -> usize {
    best_run(sorted, max_gap).0
}

/// The longest run's length, first and last value (the earliest of equally long runs;
/// `(0, 0, 0)` for no values).
fn best_run(sorted: &[u64], max_gap: u64) -> (usize, u64, u64) {
    let (mut best, mut cur, mut start) = ((0, 0, 0), 0, 0);
    for (i, &n) in sorted.iter().enumerate() {
        if i > 0 && n - sorted[i - 1] <= max_gap.saturating_add(1) {
            cur += 1;
        } else {
            (cur, start) = (1, n);
        }
        if cur > best.0 {
            best = (cur, start, n);
        }
    }
    best
}

/// The distinct values of a window's buckets, sorted.
fn distinct_in(w: &[Minute]) -> Vec<u64> {
    let mut all: Vec<u64> = w
        .iter()
        .flat_map(|m| m.distinct().iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// How many paths a bytes-out finding's `{largest}` names (of the client's largest responses,
/// [`super::corrlog::LARGE_KEPT`] kept, those within the windows that fired).
const LARGEST_SHOWN: usize = 3;

/// The longest text around a walked id named as a run's target (a longer one is no
/// collection path worth naming).
const MAX_RUN_TARGET: usize = 200;

/// The share of a value-sum finding's total below which its leading buckets are not part of it.
const QUIET_LEAD: f64 = 0.01;

/// Unmarks a value-sum finding's first buckets while together they add less than
/// [`QUIET_LEAD`] of its first burst and would not meet the condition on their own (`holds`):
/// a window that meets the condition starts at its first event, and a client's ordinary
/// requests (or a run of failed logins) before the bulk download would otherwise date the
/// data's leaving from them. Only the first burst (hit buckets no more than `span` buckets
/// apart) is trimmed, against its own total: an earlier burst is never dropped for a larger
/// later one. The buckets that carry the volume, and everything after them, stay.
fn trim_quiet_lead(mins: &[Minute], hit: &mut [bool], span: i64, holds: impl Fn(f64) -> bool) {
    let Some(start) = hit.iter().position(|h| *h) else {
        return;
    };
    let mut end = start + 1;
    while end < mins.len() && hit[end] && mins[end].minute - mins[end - 1].minute < span {
        end += 1;
    }
    let total: f64 = mins[start..end].iter().map(|m| m.sum).sum();
    let mut lead = 0.0;
    for i in start..end {
        lead += mins[i].sum;
        if lead >= total * QUIET_LEAD || holds(lead) {
            break;
        }
        hit[i] = false;
    }
}

/// Separates the values of a multi-field group key.
pub const KEY_SEP: char = '\u{1f}';

fn insert_distinct(d: &mut Vec<u64>, h: u64) {
    if let Err(pos) = d.binary_search(&h)
        && pos < MAX_DISTINCT
    {
        d.insert(pos, h);
        d.truncate(MAX_DISTINCT);
    }
}

/// One group of one correlation, built at the end from its events in time order: its key, its
/// buckets (sorted, one per bucket) and the entities of its earliest events.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// The group-by values joined by [`KEY_SEP`].
    pub key: String,
    /// Sorted by bucket, one entry per bucket (events are added in time order).
    pub minutes: Vec<Minute>,
    /// The entities of the group's earliest events, sorted by reference.
    pub firsts: Vec<(Ref, Entities)>,
    /// What its events read (S3 buckets, collections walked by id), by time bucket and name.
    pub places: Vec<super::corrlog::Place>,
}

impl Group {
    /// Adds the next event in time order. `bucket` is the correlation's bucket length in
    /// nanoseconds ([`CorrSpec::bucket`]).
    pub fn add(&mut self, e: super::corrlog::Rec, bucket: i64) {
        let minute = e.ts.div_euclid(bucket);
        let m = match self.minutes.last_mut() {
            Some(m) if m.minute == minute => m,
            _ => {
                // The bucket keeps the UTC offset the log wrote for its first event.
                self.minutes.push(Minute::new(minute, e.ts, e.at, e.tz));
                self.minutes.last_mut().expect("just pushed")
            }
        };
        m.add(e.ts, e.value, e.bytes, e.at, e.failed);
    }
}

/// What an event contributes to a correlation.
#[derive(Debug)]
pub enum Value {
    Num(f64),
    /// A value counted by `value_count`, as a hash of its bytes.
    Hash(u64),
    Base(usize),
    None,
}

/// A compiled correlation.
pub struct CorrSpec {
    pub id: String,
    pub title: String,
    pub level: &'static str,
    pub tactics: Vec<&'static str>,
    pub technique: Option<String>,
    pub kind: CorrelationType,
    /// Compiled indices of the base rules.
    pub bases: Vec<usize>,
    /// For each base (same order), the fields that make the group key.
    group: Vec<Vec<String>>,
    /// For each base, the field counted or summed.
    field: Vec<Option<String>>,
    span: i64,
    predicates: Vec<(ConditionOperator, u64)>,
    /// Every group-by field is a client address.
    by_address: bool,
    /// leaktrail's `run`: the longest run of consecutive integer values counts, with up to
    /// this many missing ids between two of them.
    run: Option<u64>,
    /// Some base rule reads CloudTrail: the S3 buckets its events read objects from are named.
    pub names_places: bool,
    /// For a run over a derived field, per base: the field it is extracted from and the
    /// extraction (sampled fetches name what was walked: `/api/customers/{id}`).
    run_source: Vec<Option<(String, regex::bytes::Regex)>>,
    /// Escalation and message template.
    post: super::post::Post,
    /// leaktrail's `baseline`: (factor, minimum windows of history).
    baseline: Option<(f64, usize)>,
    /// leaktrail's `first_min`: a temporal correlation's first rule must match this often in
    /// the window (a run of failures, not one typo, before a login).
    first_min: u64,
    /// leaktrail's `off_hours`: only buckets outside working hours (in the log's local time)
    /// count. Evaluation only: the state is shared with the same correlation at all hours.
    off_hours: Option<crate::rules::OffHours>,
    /// No base rule selects on an outcome field (status, error code, login outcome): a window
    /// whose every event failed or was refused is then an attempt (a burst of refused
    /// `GetPasswordData` calls), while for rules that select failures (a run of 401s, of
    /// failed logins) failing is the pattern itself.
    pub counts_failures: bool,
}

/// Fields whose value says whether an action failed: a rule that tests one selects failures
/// (or successes) on purpose.
pub const OUTCOME_FIELDS: [&str; 7] = [
    "sc-status",
    "errorCode",
    "errorMessage",
    "outcome",
    "event",
    "event.outcome",
    "responseElements.ConsoleLogin",
];

fn resolve(
    name: &str,
    alias: &[rsigma_parser::FieldAlias],
    base: &Rule,
    pipeline: &crate::rules::pipeline::Pipeline,
) -> String {
    let mapped = alias.iter().find(|a| a.alias == name).and_then(|a| {
        let keys = [
            base.sigma.name.clone(),
            base.sigma.id.clone(),
            Some(base.sigma.title.clone()),
        ];
        keys.iter()
            .flatten()
            .find_map(|k| a.mapping.get(k))
            .cloned()
    });
    let ls = super::route::Logsource::from_sigma(&base.sigma.logsource);
    pipeline
        .field_map(&ls)
        .map(mapped.as_deref().unwrap_or(name))
        .to_string()
}

impl CorrSpec {
    /// For each base (compiled index), the fields its group key and counted value read.
    pub fn fields_read(&self) -> impl Iterator<Item = (usize, &String)> {
        self.bases.iter().enumerate().flat_map(|(k, &b)| {
            self.group[k]
                .iter()
                .chain(self.field[k].iter())
                .map(move |f| (b, f))
        })
    }

    /// True when two correlations keep the same state (the same bases, group-by, counted
    /// field, kind and buckets): only their conditions differ, so one state serves both.
    pub fn same_state(&self, o: &CorrSpec) -> bool {
        self.kind == o.kind
            && self.bases == o.bases
            && self.group == o.group
            && self.field == o.field
            && self.bucket() == o.bucket()
            && self.run == o.run
    }

    /// Compiles a correlation against the loaded (`rules`) and compiled rules.
    pub fn new(
        c: &Correlation,
        set: &crate::rules::RuleSet,
        compiled: &[Compiled],
    ) -> Result<CorrSpec, String> {
        let (rules, pipeline) = (&set.rules, &set.pipeline);
        let s = &c.sigma;
        let (predicates, cond_field) = match &s.condition {
            CorrelationCondition::Threshold {
                predicates, field, ..
            } => (
                predicates.clone(),
                field.as_ref().and_then(|f| f.first().cloned()),
            ),
            CorrelationCondition::Extended(_) => {
                return Err("extended correlation conditions are not supported yet".into());
            }
        };
        if !matches!(
            s.correlation_type,
            CorrelationType::EventCount
                | CorrelationType::ValueCount
                | CorrelationType::ValueSum
                | CorrelationType::Temporal
                | CorrelationType::TemporalOrdered
        ) {
            return Err(format!(
                "correlation type {} is not supported yet",
                s.correlation_type.as_str()
            ));
        }
        let mut bases = Vec::new();
        let (mut group, mut field) = (Vec::new(), Vec::new());
        for name in &s.rules {
            let rule = rules
                .iter()
                .find(|r| {
                    r.sigma.name.as_deref() == Some(name) || r.sigma.id.as_deref() == Some(name)
                })
                .ok_or_else(|| format!("references rule `{name}`, which is not loaded"))?;
            let idx = compiled
                .iter()
                .position(|x| x.id == rule.id())
                .ok_or_else(|| format!("references rule `{name}`, which could not be compiled"))?;
            bases.push(idx);
            group.push(
                s.group_by
                    .iter()
                    .map(|g| resolve(g, &s.aliases, rule, pipeline))
                    .collect(),
            );
            let f = cond_field
                .as_deref()
                .map(|f| resolve(f, &s.aliases, rule, pipeline))
                .or(c.ext.sum_field.clone());
            field.push(f);
        }
        let (tactics, technique) = tags::classify(&s.tags);
        let run_source = bases
            .iter()
            .zip(&field)
            .map(|(&b, f)| {
                let f = f.as_deref()?;
                compiled[b]
                    .extract
                    .iter()
                    .find(|(name, _, _)| name == f)
                    .map(|(_, src, re)| (src.clone(), re.clone()))
            })
            .collect();
        let names_places = bases.iter().any(|&b| {
            [Format::CloudTrailDelivery, Format::CloudTrailLines]
                .iter()
                .any(|&f| compiled[b].route.reads(f))
        });
        let counts_failures = bases.iter().all(|&b| {
            let r = &compiled[b];
            std::iter::once(&r.matcher)
                .chain(&r.filters)
                .flat_map(|m| &m.fields)
                .all(|f| !OUTCOME_FIELDS.contains(&f.as_str()))
        });
        Ok(CorrSpec {
            id: c.id(),
            title: s.title.clone(),
            level: super::level_of(s.level),
            tactics,
            technique,
            kind: s.correlation_type,
            bases,
            field,
            span: (s.timespan.seconds as i64).max(1) * 1_000_000_000,
            predicates,
            by_address: Self::group_is_address(&group),
            run: c
                .ext
                .run
                .filter(|_| s.correlation_type == CorrelationType::ValueCount),
            run_source,
            names_places,
            post: super::post::Post::from_ext(&c.ext)?,
            baseline: c.ext.baseline,
            first_min: c.ext.first_min,
            off_hours: super::working(set, c.ext.off_hours),
            group,
            counts_failures,
        })
    }

    /// For a run over ids extracted from a field (whose collection it names), the gap a
    /// run may have.
    pub fn walk_gap(&self) -> Option<u64> {
        self.run
            .filter(|_| self.run_source.iter().any(Option::is_some))
    }

    /// For a run correlation over an id extracted from a field, that field's value with the
    /// id replaced by `{id}` (`/api/customers/{id}`): what the run walks through.
    pub fn run_target(&self, rule: usize, v: &mut View<'_, '_>) -> Option<String> {
        self.run?;
        let (src, re) = self.run_source.get(self.base_pos(rule)?)?.as_ref()?;
        let s = v.value(src)?;
        let c = re.captures(s)?;
        let m = c.get(1).or_else(|| c.get(0))?;
        // `/api/orders/560/` walks the same collection as `/api/orders/561`.
        let (head, tail) = (&s[..m.start()], &s[m.end()..]);
        let tail = tail.strip_suffix(b"/").unwrap_or(tail);
        if head.len() + tail.len() > MAX_RUN_TARGET {
            return None;
        }
        Some(format!(
            "{}{{id}}{}",
            String::from_utf8_lossy(head),
            String::from_utf8_lossy(tail)
        ))
    }

    fn base_pos(&self, rule: usize) -> Option<usize> {
        self.bases.iter().position(|&b| b == rule)
    }

    /// Writes the group key of an event matched by base rule `rule` into `out`: the values'
    /// bytes joined by [`KEY_SEP`] (false when a field is missing).
    pub fn key_bytes(&self, rule: usize, v: &mut View<'_, '_>, out: &mut Vec<u8>) -> bool {
        out.clear();
        let Some(k) = self.base_pos(rule) else {
            return false;
        };
        for (i, g) in self.group[k].iter().enumerate() {
            if i > 0 {
                out.push(super::corrlog::KEY_SEP_BYTE);
            }
            match v.value(g) {
                Some(x) => out.extend_from_slice(x),
                None => return false,
            }
        }
        true
    }

    /// The group-by fields of base rule `rule` (events with the same fields share a key).
    pub fn group_fields(&self, rule: usize) -> Option<&[String]> {
        Some(&self.group[self.base_pos(rule)?])
    }

    /// True when every group-by field is a client address: the key then names the actor and
    /// the group needs no other entities read.
    pub fn key_is_address(&self) -> bool {
        self.by_address
    }

    /// Where the entities of base rule `rule`'s events are kept, when they are: temporal
    /// correlations keep each base's earliest events apart (the login that followed the
    /// failures names the account taken, not only the names guessed), and read them even when
    /// grouped by address (their events are few); the others keep a group's earliest events,
    /// and only when the key does not already name the actor.
    pub fn entity_slot(&self, rule: usize) -> Option<u8> {
        match self.kind {
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                Some(self.base_pos(rule)?.min(u8::MAX as usize) as u8)
            }
            _ => (!self.by_address).then_some(0),
        }
    }

    /// `ip` (the address a text or syslog message names) counts when a rule groups by it: the
    /// rule's author says that address is the one acting.
    fn group_is_address(group: &[Vec<String>]) -> bool {
        group.iter().all(|fields| {
            !fields.is_empty()
                && fields
                    .iter()
                    .all(|f| matches!(f.as_str(), "c-ip" | "src_ip" | "sourceIPAddress" | "ip"))
        })
    }

    /// Whether this is a value sum of `field` for every base rule (what a bytes-out sum adds).
    pub fn sums(&self, field: &str) -> bool {
        self.kind == CorrelationType::ValueSum
            && self
                .field
                .iter()
                .all(|f| f.as_deref().unwrap_or("sc-bytes") == field)
    }

    /// What the event adds: a number (sum), a value (distinct count) or its base (temporal).
    pub fn value_of(&self, rule: usize, v: &mut View<'_, '_>) -> Value {
        let Some(k) = self.base_pos(rule) else {
            return Value::None;
        };
        match self.kind {
            CorrelationType::ValueSum => {
                let f = self.field[k].as_deref().unwrap_or("sc-bytes");
                Value::Num(v.number(f).unwrap_or(0.0))
            }
            CorrelationType::ValueCount if self.run.is_some() => {
                // Ids as numbers (the run is over consecutive integers); others are ignored.
                match self.field[k]
                    .as_deref()
                    .and_then(|f| v.value(f))
                    .and_then(|s| std::str::from_utf8(s).ok()?.parse::<u64>().ok())
                {
                    Some(n) => Value::Hash(n),
                    None => Value::None,
                }
            }
            CorrelationType::ValueCount => {
                match self.field[k].as_deref().and_then(|f| v.value(f)) {
                    Some(s) => {
                        use std::hash::Hasher;
                        let mut h = super::hasher();
                        h.write(s);
                        Value::Hash(h.finish())
                    }
                    None => Value::None,
                }
            }
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => Value::Base(k),
            _ => Value::None,
        }
    }

    /// False when no window can meet a `gt`/`gte` condition because even the whole group's
    /// total (`events` matched, `sum` of values) does not (most groups of a busy log), so the
    /// windows need not be slid. A group's distinct values are at most its events.
    pub fn may_fire(&self, events: u64, sum: f64) -> bool {
        let monotone = self
            .predicates
            .iter()
            .all(|(op, _)| matches!(op, ConditionOperator::Gt | ConditionOperator::Gte));
        if !monotone {
            return true;
        }
        let total = match self.kind {
            CorrelationType::EventCount | CorrelationType::ValueCount => events as f64,
            CorrelationType::ValueSum => sum,
            _ => return true,
        };
        self.holds(total)
    }

    /// Bucket length: a minute, or a tenth of the window for windows over ten minutes (a
    /// one-hour window slides in six-minute steps), so long windows keep fewer buckets.
    pub fn bucket(&self) -> i64 {
        let tenth = self.span / 10;
        (tenth / MINUTE).max(1) * MINUTE
    }

    /// The window's length in buckets.
    pub fn span_buckets(&self) -> i64 {
        let bucket = self.bucket();
        (self.span + bucket - 1) / bucket
    }

    fn holds(&self, value: f64) -> bool {
        self.predicates.iter().all(|(op, n)| {
            let n = *n as f64;
            match op {
                ConditionOperator::Lt => value < n,
                ConditionOperator::Lte => value <= n,
                ConditionOperator::Gt => value > n,
                ConditionOperator::Gte => value >= n,
                ConditionOperator::Eq => value == n,
                ConditionOperator::Neq => value != n,
            }
        })
    }

    /// Temporal correlations: the evidence starts with the first event of each step in the
    /// firing windows, the last step first (the login that followed the failures is what the
    /// finding is about), then the others in order; the buckets' first events follow.
    fn lead_with_steps(&self, mins: &[Minute], hit: &[bool], evidence: &mut Vec<Ref>) {
        let mut first: BTreeMap<usize, (i64, Ref)> = BTreeMap::new();
        for m in mins.iter().zip(hit).filter(|(_, h)| **h).map(|(m, _)| m) {
            for (&k, &(t, _, at)) in m.extra.iter().flat_map(|e| &e.bases) {
                let e = first.entry(k).or_insert((t, at));
                if (t, at) < *e {
                    *e = (t, at);
                }
            }
        }
        let mut lead: Vec<Ref> = first.values().rev().take(1).map(|&(_, at)| at).collect();
        lead.extend(first.values().map(|&(_, at)| at));
        for at in evidence.drain(..) {
            lead.push(at);
        }
        let mut seen = std::collections::BTreeSet::new();
        lead.retain(|at| seen.insert(*at));
        lead.truncate(super::MAX_EVIDENCE);
        *evidence = lead;
    }

    /// The window's value: events, distinct values, sum, or bases seen (in order for
    /// temporal_ordered).
    fn window_value(&self, w: &[Minute]) -> f64 {
        match self.kind {
            CorrelationType::EventCount => w.iter().map(|m| m.count).sum::<u64>() as f64,
            CorrelationType::ValueSum => w.iter().map(|m| m.sum).sum(),
            CorrelationType::ValueCount => {
                let all = distinct_in(w);
                if let Some(gap) = self.run {
                    longest_run(&all, gap) as f64
                } else {
                    all.len() as f64
                }
            }
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                let mut first: BTreeMap<usize, i64> = BTreeMap::new();
                let mut first_rule = 0;
                for m in w
                    .iter()
                    .filter_map(|m| m.extra.as_deref().map(|e| &e.bases))
                {
                    for (&k, &(t, n, _)) in m {
                        let e = first.entry(k).or_insert(t);
                        *e = (*e).min(t);
                        if k == 0 {
                            first_rule += n;
                        }
                    }
                }
                if first_rule < self.first_min {
                    return 0.0;
                }
                let in_order = (0..self.bases.len())
                    .map(|k| first.get(&k))
                    .collect::<Option<Vec<_>>>()
                    .is_some_and(|ts| ts.windows(2).all(|p| p[0] <= p[1]));
                if self.kind == CorrelationType::Temporal || in_order {
                    first.len() as f64
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
    }

    /// Slides the window over a group's minutes; a finding covers every minute that was part
    /// of a window meeting the condition.
    pub fn evaluate(&self, g: &Group, paths: &[String]) -> Option<Finding> {
        let events = g.minutes.iter().map(|m| m.count).sum();
        if !self.may_fire(events, g.minutes.iter().map(|m| m.sum).sum()) {
            return None;
        }
        let mut mins = g.minutes.clone();
        if let Some(h) = &self.off_hours {
            let bucket = self.bucket();
            mins.retain(|m| h.is_off(m.minute * bucket, m.offset));
        }
        let span_min = self.span_buckets();
        let mut windows = Vec::with_capacity(mins.len());
        let mut j = 0;
        for i in 0..mins.len() {
            j = j.max(i);
            while j < mins.len() && mins[j].minute < mins[i].minute + span_min {
                j += 1;
            }
            windows.push((i, j, self.window_value(&mins[i..j])));
        }
        // Relative to the group's own history: its median window.
        let floor = match self.baseline {
            None => None,
            Some((_, need)) if windows.len() < need => return None,
            Some((factor, _)) => {
                let mut vs: Vec<f64> = windows.iter().map(|w| w.2).collect();
                vs.sort_by(f64::total_cmp);
                Some((vs[vs.len() / 2], factor))
            }
        };
        let mut hit = vec![false; mins.len()];
        let (mut peak, mut peak_at) = (f64::MIN, (0, 0));
        for &(i, j, v) in &windows {
            let above = floor.is_none_or(|(median, factor)| v > median && v >= factor * median);
            if self.holds(v) && above {
                if v > peak {
                    (peak, peak_at) = (v, (i, j));
                }
                hit[i..j].iter_mut().for_each(|h| *h = true);
            }
        }
        if !hit.iter().any(|h| *h) {
            return None;
        }
        // A sum reaches its step when it crosses the condition, not at the first event of
        // its window: 50 MB out within an hour is reached at the response that made it 50 MB,
        // which may come after a login whose minute started the window.
        let mut reached = None;
        if self.kind == CorrelationType::ValueSum {
            trim_quiet_lead(&mins, &mut hit, span_min, |v| self.holds(v));
            let fires = |v: f64| self.holds(v) && floor.is_none_or(|(m, k)| v > m && v >= k * m);
            if let Some(&(i, j, _)) = windows.iter().find(|w| fires(w.2)) {
                reached = (i..j)
                    .find(|&k| fires(self.window_value(&mins[i..=k])))
                    .map(|k| mins[k].last);
            }
        }
        let mut agg = Agg::default();
        for (r, e) in &g.firsts {
            agg.add(0, 0.0, *r, e);
        }
        agg.evidence.clear();
        agg.days.clear();
        // The sampled events' times are not the window's: its first and last events are
        // taken from its buckets below.
        (agg.first_at, agg.last_at) = (None, None);
        // The entities come from a few sampled events: the window's failures are counted from
        // its events below, and only when the base rules do not select failures (a run of
        // failed logins is itself the brute force, not an attempt at one).
        agg.failed = 0;
        if self.key_is_address() {
            agg.ips.insert(&g.key);
        }
        let (mut count, mut bytes, mut first, mut last) = (0, 0.0, i64::MAX, i64::MIN);
        for m in mins.iter().zip(&hit).filter(|(_, h)| **h).map(|(m, _)| m) {
            count += m.count;
            bytes += m.bytes;
            if self.counts_failures {
                agg.failed += m.failed;
            }
            if m.first < first
                || (m.first == first && agg.first_at.is_some_and(|r| m.first_ref < r))
            {
                agg.first_at = Some(m.first_ref);
            }
            if m.last > last || (m.last == last && agg.last_at.is_some_and(|r| m.last_ref < r)) {
                agg.last_at = Some(m.last_ref);
            }
            first = first.min(m.first);
            last = last.max(m.last);
            if agg.evidence.len() < super::MAX_EVIDENCE {
                agg.evidence.push(m.first_ref);
            }
        }
        (agg.count, agg.bytes, agg.first, agg.last) = (count, bytes, first, last);
        // The longest run of ids in the peak window, and what was read: for a walk, the
        // collections its sampled fetches in that window came from within the run's ids; for
        // others, the places read within the buckets that fired.
        let run = self
            .run
            .map(|gap| best_run(&distinct_in(&mins[peak_at.0..peak_at.1]), gap));
        let mut largest: BTreeMap<&str, u64> = BTreeMap::new();
        match run {
            Some((_, lo, hi)) => {
                let (from, to) = (mins[peak_at.0].minute, mins[peak_at.1 - 1].minute);
                for p in g
                    .places
                    .iter()
                    .filter(|p| (from..=to).contains(&p.bucket) && p.lo <= hi && p.hi >= lo)
                {
                    agg.targets.insert(&p.name);
                }
            }
            None => {
                let fired: Vec<i64> = mins
                    .iter()
                    .zip(&hit)
                    .filter(|(_, h)| **h)
                    .map(|(m, _)| m.minute)
                    .collect();
                for p in g
                    .places
                    .iter()
                    .filter(|p| fired.binary_search(&p.bucket).is_ok())
                {
                    if p.bytes > 0 {
                        *largest.entry(p.name.as_str()).or_insert(0) += p.bytes;
                    } else {
                        agg.targets.insert(&p.name);
                    }
                }
            }
        }
        // The paths of the group's largest responses within the windows that fired, most bytes
        // first (then by path); the targets keep the largest, not the first by name.
        let mut largest: Vec<(&str, u64)> = largest.into_iter().collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (p, _) in largest.iter().take(super::MAX_ENTITIES) {
            agg.targets.insert(p);
        }
        let largest: String = largest
            .iter()
            .take(LARGEST_SHOWN)
            .map(|(p, b)| format!("{p} ({})", crate::timeline::human_bytes(*b)))
            .collect::<Vec<_>>()
            .join(", ");
        if matches!(
            self.kind,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
        ) {
            self.lead_with_steps(&mins, &hit, &mut agg.evidence);
        }
        let mut f = Finding::from_agg(
            &self.id,
            &self.title,
            self.level,
            &self.tactics,
            self.technique.clone(),
            &agg,
            paths,
        );
        f.reached = reached;
        f.detail = format!(
            "{} {} in {}s for {}",
            self.kind.as_str(),
            peak.round(),
            self.span / 1_000_000_000,
            g.key.replace(KEY_SEP, ", ")
        );
        // The ids walked in the peak window: which records were read.
        let run = run.map(|(n, lo, hi)| {
            f.detail = format!(
                "run of {n} consecutive ids ({lo}–{hi}) in {}s for {}",
                self.span / 1_000_000_000,
                g.key.replace(KEY_SEP, ", ")
            );
            let of = if f.targets.is_empty() {
                String::new()
            } else {
                format!(" of {}", f.targets.join(", "))
            };
            format!(
                "{} ids between {lo} and {hi}{of} within {}",
                crate::timeline::grouped(n as u64),
                crate::timeline::human_duration(self.span)
            )
        });
        if let Some((median, _)) = floor {
            f.detail.push_str(&format!(
                "; {:.0}× its median window of {}",
                peak / median.max(1.0),
                median.round()
            ));
        }
        let largest = if largest.is_empty() {
            String::new()
        } else {
            format!("; largest responses: {largest}")
        };
        self.post.apply_with(
            &mut f,
            &[
                ("run", run.as_deref().unwrap_or("-")),
                ("largest", &largest),
            ],
        );
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::longest_run;

    #[test]
    fn a_value_sums_quiet_lead_is_not_part_of_it() {
        use super::{Minute, Ref, trim_quiet_lead};
        let r = Ref {
            file: 0,
            line: 1,
            offset: 0,
        };
        let minute = |n: i64, sum: f64| {
            let mut m = Minute::new(n, n * 60_000_000_000, r, 0);
            m.sum = sum;
            m
        };
        // Failed logins (small answers), an enumeration, then the export; one 1 h window.
        let mins = [
            minute(0, 4_000.0),
            minute(5, 6_000.0),
            minute(13, 2_000_000.0),
            minute(40, 18_000_000.0),
            minute(56, 48_000_000.0),
            minute(58, 1_000.0),
        ];
        let never = |_: f64| false;
        let mut hit = vec![true; mins.len()];
        trim_quiet_lead(&mins, &mut hit, 60, never);
        assert_eq!(hit, [false, false, true, true, true, true]);
        // A volume spread evenly keeps every bucket; unmarked buckets stay unmarked.
        let even = [minute(0, 1e6), minute(1, 1e6), minute(2, 1e6)];
        let mut hit = vec![false, true, true];
        trim_quiet_lead(&even, &mut hit, 60, never);
        assert_eq!(hit, [false, true, true]);
        // An earlier burst that met the condition by itself is kept, however large a later
        // one: a later burst is trimmed against its own total only.
        let two = [minute(0, 150e6), minute(100, 1e3), minute(101, 20e9)];
        let mut hit = vec![true; 3];
        trim_quiet_lead(&two, &mut hit, 60, |v| v >= 100e6);
        assert_eq!(hit, [true, true, true]);
        // A lead that meets the condition on its own stays, even under 1% of the burst.
        let big = [minute(0, 150e6), minute(1, 20e9)];
        let mut hit = vec![true; 2];
        trim_quiet_lead(&big, &mut hit, 60, |v| v >= 100e6);
        assert_eq!(hit, [true, true]);
    }

    #[test]
    fn runs_of_consecutive_ids() {
        assert_eq!(longest_run(&[], 0), 0);
        assert_eq!(longest_run(&[7], 0), 1);
        assert_eq!(longest_run(&[1, 2, 3, 5, 6, 10, 11, 12, 13], 0), 4);
        assert_eq!(longest_run(&[3, 13, 23, 33], 0), 1);
        assert_eq!(longest_run(&[u64::MAX - 1, u64::MAX], 0), 2);
        // Up to one missing id between two: 1-3, 5-6 join (4 is missing), 10 does not.
        assert_eq!(longest_run(&[1, 2, 3, 5, 6, 10, 11, 12, 13], 1), 5);
        // Up to three: everything joins (6 → 10 leaves 7, 8, 9 out).
        assert_eq!(longest_run(&[1, 2, 3, 5, 6, 10, 11, 12, 13], 3), 9);
        assert_eq!(longest_run(&[3, 13, 23, 33], 9), 4);
        assert_eq!(longest_run(&[0, u64::MAX], u64::MAX), 2);
        // Bounds: the earliest of equally long runs, its first and last value.
        use super::best_run;
        assert_eq!(best_run(&[], 0), (0, 0, 0));
        assert_eq!(best_run(&[1, 2, 3, 5, 6, 10, 11, 12, 13], 0), (4, 10, 13));
        assert_eq!(best_run(&[1, 2, 3, 5, 6, 7, 20], 0), (3, 1, 3));
        assert_eq!(best_run(&[1, 2, 3, 5, 6, 10, 11, 12, 13], 1), (5, 1, 6));
    }
}
