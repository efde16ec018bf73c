//! Correlations over the whole data set: `event_count`, `value_count`, `value_sum` and
//! `temporal`/`temporal_ordered`, grouped by fields (with aliases across rules), over sliding
//! windows. State is kept per group in one-minute buckets, so memory grows with groups and
//! active minutes, not with events, and partial states of chunks merge by adding buckets.

use super::view::View;
use super::{Agg, Compiled, Entities, Finding, Ref};
use crate::rules::{Correlation, Rule, tags};
use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationType};
use std::collections::{BTreeMap, BTreeSet};

/// Distinct values kept per bucket for `value_count`.
const MAX_DISTINCT: usize = 4096;
const MINUTE: i64 = 60_000_000_000;

/// One minute of one group.
#[derive(Clone, Debug, Default)]
pub struct Bucket {
    pub count: u64,
    pub sum: f64,
    pub distinct: BTreeSet<String>,
    /// First time each base rule matched in this minute (for temporal correlations).
    pub bases: BTreeMap<usize, i64>,
    pub agg: Agg,
}

impl Bucket {
    /// Adds one matching event.
    pub fn add(&mut self, ts: i64, value: Value, bytes: f64, r: Ref, e: &Entities) {
        self.count += 1;
        match value {
            Value::Num(n) => self.sum += n,
            Value::Text(t) => {
                if self.distinct.len() < MAX_DISTINCT {
                    self.distinct.insert(t);
                }
            }
            Value::Base(b) => {
                let first = self.bases.entry(b).or_insert(ts);
                *first = (*first).min(ts);
            }
            Value::None => {}
        }
        self.agg.add(ts, bytes, r, e);
    }

    /// Adds another part of the same minute.
    pub fn merge(&mut self, o: Bucket) {
        self.count += o.count;
        self.sum += o.sum;
        for v in o.distinct {
            if self.distinct.len() < MAX_DISTINCT {
                self.distinct.insert(v);
            }
        }
        for (b, t) in o.bases {
            let first = self.bases.entry(b).or_insert(t);
            *first = (*first).min(t);
        }
        self.agg.merge(o.agg);
    }
}

/// What an event contributes to a correlation.
pub enum Value {
    Num(f64),
    Text(String),
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
}

fn resolve(name: &str, alias: &[rsigma_parser::FieldAlias], base: &Rule) -> String {
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
    super::matcher::map_field(mapped.as_deref().unwrap_or(name)).to_string()
}

impl CorrSpec {
    /// Compiles a correlation against the loaded (`rules`) and compiled rules.
    pub fn new(c: &Correlation, rules: &[Rule], compiled: &[Compiled]) -> Result<CorrSpec, String> {
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
                    .map(|g| resolve(g, &s.aliases, rule))
                    .collect(),
            );
            let f = cond_field
                .as_deref()
                .map(|f| resolve(f, &s.aliases, rule))
                .or(c.ext.sum_field.clone());
            field.push(f);
        }
        let (tactics, technique) = tags::classify(&s.tags);
        Ok(CorrSpec {
            id: c.id(),
            title: s.title.clone(),
            level: s.level.map_or("medium", |l| l.as_str()),
            tactics,
            technique,
            kind: s.correlation_type,
            bases,
            group,
            field,
            span: (s.timespan.seconds as i64).max(1) * 1_000_000_000,
            predicates,
        })
    }

    fn base_pos(&self, rule: usize) -> Option<usize> {
        self.bases.iter().position(|&b| b == rule)
    }

    /// The group key of an event matched by base rule `rule` (None when a field is missing).
    pub fn group_key(&self, rule: usize, v: &mut View<'_, '_>) -> Option<Vec<String>> {
        let k = self.base_pos(rule)?;
        self.group[k]
            .iter()
            .map(|g| v.value(g).map(|s| String::from_utf8_lossy(s).into_owned()))
            .collect()
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
            CorrelationType::ValueCount => {
                match self.field[k].as_deref().and_then(|f| v.value(f)) {
                    Some(s) => Value::Text(String::from_utf8_lossy(s).into_owned()),
                    None => Value::None,
                }
            }
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => Value::Base(k),
            _ => Value::None,
        }
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

    /// The window's value: events, distinct values, sum, or bases seen (in order for
    /// temporal_ordered).
    fn window_value(&self, w: &[&Bucket]) -> f64 {
        match self.kind {
            CorrelationType::EventCount => w.iter().map(|b| b.count).sum::<u64>() as f64,
            CorrelationType::ValueSum => w.iter().map(|b| b.sum).sum(),
            CorrelationType::ValueCount => {
                let mut all: BTreeSet<&String> = BTreeSet::new();
                w.iter().for_each(|b| all.extend(b.distinct.iter()));
                all.len() as f64
            }
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                let mut first: BTreeMap<usize, i64> = BTreeMap::new();
                for b in w {
                    for (&k, &t) in &b.bases {
                        let e = first.entry(k).or_insert(t);
                        *e = (*e).min(t);
                    }
                }
                let ordered = self.kind == CorrelationType::Temporal
                    || (0..self.bases.len())
                        .map(|k| first.get(&k))
                        .collect::<Option<Vec<_>>>()
                        .is_some_and(|ts| ts.windows(2).all(|p| p[0] <= p[1]));
                if ordered { first.len() as f64 } else { 0.0 }
            }
            _ => 0.0,
        }
    }

    /// Slides the window over a group's minutes; a finding covers every minute that was part
    /// of a window meeting the condition.
    pub fn evaluate(
        &self,
        key: &[String],
        buckets: &BTreeMap<i64, Bucket>,
        paths: &[String],
    ) -> Option<Finding> {
        let mins: Vec<(&i64, &Bucket)> = buckets.iter().collect();
        let span_min = (self.span + MINUTE - 1) / MINUTE;
        let mut hit = vec![false; mins.len()];
        let mut peak = f64::MIN;
        let mut j = 0;
        for i in 0..mins.len() {
            j = j.max(i);
            while j < mins.len() && *mins[j].0 < *mins[i].0 + span_min {
                j += 1;
            }
            let w: Vec<&Bucket> = mins[i..j].iter().map(|(_, b)| *b).collect();
            let v = self.window_value(&w);
            if self.holds(v) {
                peak = peak.max(v);
                hit[i..j].iter_mut().for_each(|h| *h = true);
            }
        }
        if !hit.iter().any(|h| *h) {
            return None;
        }
        let mut agg = Agg::default();
        for (_, b) in mins.iter().zip(&hit).filter(|(_, h)| **h).map(|(m, _)| m) {
            agg.merge(b.agg.clone());
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
        f.detail = format!(
            "{} {} in {}s for {}",
            self.kind.as_str(),
            peak.round(),
            self.span / 1_000_000_000,
            key.join(", ")
        );
        Some(f)
    }
}
