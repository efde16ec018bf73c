//! Public content (leaktrail's `popular` rule extension). A 50 MB file that many different
//! clients download in full is a site's public download, not a leak: a data set stolen through
//! the web is fetched by the few who stole it. A rule with `popular: {field, clients, level}`
//! names what each of its events served (the finding's targets); once the whole evidence is
//! read, a target that the rule's findings show served to `clients` or more actors is public,
//! and a finding whose every target is public is lowered to `level`. The same actors'
//! value-sum findings (bytes out per address) made mostly of those responses are lowered too:
//! they measure the same downloads.

use super::finding::{Finding, level_rank};
use super::{Engine, MAX_ENTITIES};
use crate::rules::Extension;
use std::collections::{BTreeMap, BTreeSet};

/// A value-sum finding is public content when at least this share of its bytes is.
const PUBLIC_SHARE: f64 = 0.8;

/// A file is public when its downloads span at least this long (nanoseconds): a site's
/// download is fetched over days; a stolen file passed around proxies or scanners within
/// hours is not lowered for the many addresses that took it.
const PUBLIC_SPAN: i64 = 24 * 3_600_000_000_000;

/// The compiled extension.
#[derive(Clone, Debug)]
pub struct Popular {
    /// The field naming the resource served, and the one with the response's size.
    pub field: String,
    pub size: Option<String>,
    pub clients: usize,
    pub level: &'static str,
}

/// The compiled extension. A level that is not one of Sigma's five is an error.
pub fn compile(ext: &Extension) -> Result<Option<Popular>, String> {
    let Some(p) = &ext.popular else {
        return Ok(None);
    };
    let level = super::post::level_name(&p.level)
        .ok_or_else(|| format!("popular: unknown level `{}`", p.level))?;
    Ok(Some(Popular {
        field: p.field.clone(),
        size: p.size.clone(),
        clients: p.clients,
        level,
    }))
}

impl Popular {
    /// What an event served: `/misc/sample.log (54306753 bytes)`.
    pub fn target(&self, v: &mut super::view::View<'_, '_>) -> Option<String> {
        let what = String::from_utf8_lossy(v.value(&self.field)?).into_owned();
        match &self.size {
            Some(s) => {
                let n = v.number(s)?;
                Some(format!("{what} ({n:.0} bytes)"))
            }
            None => Some(what),
        }
    }
}

/// The actor a finding is about: its first address, else user, else key.
fn actor(f: &Finding) -> Option<&str> {
    f.ips
        .first()
        .or(f.users.first())
        .or(f.keys.first())
        .map(String::as_str)
}

/// Lowers the findings that served public content (see the module's documentation).
pub fn lower(engine: &Engine, out: &mut [Finding]) {
    for rule in &engine.rules {
        let Some(Popular {
            clients,
            level,
            size,
            ..
        }) = &rule.popular
        else {
            continue;
        };
        // Value sums grouped by the client address alone, of the field that sizes the
        // responses: bytes out per client (not uploads, not another log's bytes).
        let by_address: BTreeSet<&str> = engine
            .corrs
            .iter()
            .filter(|c| c.key_is_address() && c.sums(size.as_deref().unwrap_or("sc-bytes")))
            .map(|c| c.id.as_str())
            .collect();
        let mine = |f: &Finding| f.rule_id == rule.id;
        // Who was served each target, and from when to when.
        let mut served: BTreeMap<String, (BTreeSet<String>, i64, i64)> = BTreeMap::new();
        for f in out.iter().filter(|f| mine(f)) {
            if let Some(a) = actor(f) {
                for t in &f.targets {
                    let e = served
                        .entry(t.clone())
                        .or_insert_with(|| (BTreeSet::new(), f.first_seen, f.last_seen));
                    e.0.insert(a.to_string());
                    (e.1, e.2) = (e.1.min(f.first_seen), e.2.max(f.last_seen));
                }
            }
        }
        served
            .retain(|_, (who, first, last)| who.len() >= *clients && *last - *first >= PUBLIC_SPAN);
        if served.is_empty() {
            continue;
        }
        // The public findings: (actor, first, last, bytes).
        let mut public: Vec<(String, i64, i64, f64)> = Vec::new();
        for f in out.iter_mut().filter(|f| mine(f)) {
            // A full set of targets may have left some out: not known to be all public.
            let all_public = !f.targets.is_empty()
                && f.targets.len() < MAX_ENTITIES
                && f.targets.iter().all(|t| served.contains_key(t));
            if !all_public {
                // Some of it public: each public file's size once is the least it took of them.
                let some: f64 = f
                    .targets
                    .iter()
                    .filter(|t| served.contains_key(*t))
                    .filter_map(|t| size_of(t))
                    .sum();
                if let Some(a) = actor(f).filter(|_| some > 0.0) {
                    public.push((a.to_string(), f.first_seen, f.last_seen, some));
                }
                continue;
            }
            let t = &f.targets[0];
            let note = format!(
                "public content: {t} was served to {} clients",
                served[t].0.len()
            );
            if let Some(a) = actor(f) {
                public.push((a.to_string(), f.first_seen, f.last_seen, f.bytes));
            }
            lower_one(f, level, note);
        }
        for f in out
            .iter_mut()
            .filter(|f| by_address.contains(f.rule_id.as_str()))
        {
            let Some(a) = actor(f) else {
                continue;
            };
            // Only downloads known to lie inside the sum's span count.
            let bytes: f64 = public
                .iter()
                .filter(|(who, first, last, _)| {
                    who == a && *first >= f.first_seen && *last <= f.last_seen
                })
                .map(|p| p.3)
                .sum();
            if f.bytes > 0.0 && bytes >= PUBLIC_SHARE * f.bytes {
                let note = format!(
                    "mostly public content: {:.0}% of it in files served to many clients",
                    (100.0 * bytes / f.bytes).min(100.0)
                );
                lower_one(f, level, note);
            }
        }
    }
}

/// The size a target names (`/misc/sample.log (54306753 bytes)`).
fn size_of(target: &str) -> Option<f64> {
    let inner = target.strip_suffix(" bytes)")?;
    inner[inner.rfind('(')? + 1..].parse().ok()
}

/// Lowers a finding to `level` (never raises it) and says why in its detail.
fn lower_one(f: &mut Finding, level: &'static str, why: String) {
    if level_rank(level) < level_rank(f.level) {
        f.level = level;
    }
    if f.detail.is_empty() {
        f.detail = why;
    } else {
        f.detail = format!("{}; {why}", f.detail);
    }
}
