//! Shared helpers for integration tests: run a scan through the library and collect every
//! event with its fields as text, and find the corpus.

#![allow(dead_code)]

use leaktrail::parse::{Event, Format};
use leaktrail::scan::records::{FileCtx, Sink, SinkFactory};
use leaktrail::scan::{self, Options, ScanResult};
use std::path::PathBuf;

/// One collected event.
#[derive(Clone, Debug)]
pub struct Ev {
    pub path: String,
    pub line: u64,
    pub offset: u64,
    pub ts: Option<i64>,
    pub format: Format,
    pub fields: Vec<(String, String)>,
    pub raw: String,
}

impl Ev {
    /// The first field with this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Seconds since the epoch (floor).
    pub fn secs(&self) -> Option<i64> {
        self.ts.map(|n| n.div_euclid(1_000_000_000))
    }
}

pub struct Collect(Vec<Ev>);

impl Sink for Collect {
    type Out = Vec<Ev>;
    fn event(&mut self, file: &FileCtx, format: Format, ev: &Event<'_, '_>) {
        let f = ev.fields;
        let fields = (0..f.len())
            .map(|i| {
                let mut v = Vec::new();
                f.decode(f.value(i), &mut v);
                (
                    String::from_utf8_lossy(f.name(i)).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        self.0.push(Ev {
            path: file.path.clone(),
            line: ev.line,
            offset: ev.offset,
            ts: ev.ts.map(|t| t.nanos),
            format,
            fields,
            raw: String::from_utf8_lossy(ev.raw).into_owned(),
        });
    }
    fn finish(self) -> Vec<Ev> {
        self.0
    }
}

pub struct CollectFactory;

impl SinkFactory for CollectFactory {
    type Sink = Collect;
    fn make(&self) -> Collect {
        Collect(Vec::new())
    }
}

/// Scans with the given options and returns the report and every event in order.
pub fn scan_collect(opts: &Options) -> (ScanResult, Vec<Ev>) {
    let mut all = Vec::new();
    let r = scan::run(
        opts,
        &CollectFactory,
        &mut |_, evs: Vec<Ev>| all.extend(evs),
        &|_| {},
    );
    (r, all)
}

/// The corpus folder, or None (with a visible notice) when it is absent. With
/// `LEAKTRAIL_REQUIRE_CORPUS=1` (set by .ci/run) an absent corpus fails the test instead.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("LEAKTRAIL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let p = base.join(sub);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("LEAKTRAIL_REQUIRE_CORPUS").is_ok_and(|v| v == "1") {
        panic!(
            "corpus folder {} is missing and LEAKTRAIL_REQUIRE_CORPUS=1",
            p.display()
        );
    }
    eprintln!(
        "NOTICE: corpus folder {} not found: test skipped",
        p.display()
    );
    None
}

/// Percentage helper for printed rates.
pub fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        100.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

/// `log N pass = <line>` cases of a Wazuh ruleset test file (INI), with their section's name
/// and alert level.
pub fn wazuh_cases(path: &std::path::Path) -> Vec<(String, u32, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let (mut section, mut level, mut lines) = (String::new(), 0u32, Vec::<String>::new());
    for l in text.lines().chain(std::iter::once("[end]")) {
        if let Some(s) = l.strip_prefix('[') {
            out.extend(lines.drain(..).map(|x| (section.clone(), level, x)));
            section = s.trim_end_matches(']').to_string();
            level = 0;
        } else if let Some((k, v)) = l.split_once(" = ") {
            if k.starts_with("log ") && k.ends_with(" pass") {
                lines.push(v.to_string());
            } else if k.trim() == "alert" {
                level = v.trim().parse().unwrap_or(0);
            }
        }
    }
    out
}
