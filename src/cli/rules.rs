//! `leaktrail rules list | validate PATH | test`.

use super::args::{RuleArgs, RulesAction, RulesArgs};
use super::say;
use crate::detect::{self, DetectFactory, Engine};
use crate::parse::{Event, Fields, Format, Outcome, ParseCtx, Timestamp, YearRef, Zone};
use crate::report::sanitize::terminal;
use crate::rules::{Origin, RuleSet};
use crate::scan::records::{FileCtx, Sink, SinkFactory};
use serde_json::Value as Json;

/// Runs a `rules` subcommand.
pub fn run(a: RulesArgs) -> anyhow::Result<u8> {
    match a.action {
        RulesAction::List(r) => list(&r),
        RulesAction::Validate { paths } => validate(&paths),
        RulesAction::Test(r) => test(&r),
        RulesAction::Lint { rules, evidence } => lint(&rules, &evidence),
    }
}

fn origin_of(set: &RuleSet, id: &str) -> String {
    set.rules
        .iter()
        .find(|r| r.id() == id)
        .map(|r| r.origin.display())
        .or_else(|| {
            set.correlations
                .iter()
                .find(|c| c.id() == id)
                .map(|c| c.origin.display())
        })
        .unwrap_or_default()
}

fn list(r: &RuleArgs) -> anyhow::Result<u8> {
    r.check_paths()?;
    let set = r.load();
    let engine = Engine::new(&set);
    println!(
        "{:<38} {:<13} {:<22} {:<32} {:<44} TITLE",
        "ID", "LEVEL", "TACTIC", "LOGSOURCE", "SOURCE"
    );
    for c in &engine.rules {
        let ls = &c.logsource;
        let src = [&ls.category, &ls.product, &ls.service]
            .iter()
            .filter_map(|x| x.as_deref())
            .collect::<Vec<_>>()
            .join("/");
        let tactic = c.tactics.first().copied().unwrap_or("-");
        println!(
            "{:<38} {:<13} {:<22} {:<32} {:<44} {}",
            terminal(&c.id),
            c.level,
            tactic,
            terminal(&src),
            terminal(&origin_of(&set, &c.id)),
            terminal(&c.title)
        );
    }
    for c in &engine.corrs {
        let tactic = c.tactics.first().copied().unwrap_or("-");
        let src = format!("correlation:{}", c.kind.as_str());
        println!(
            "{:<38} {:<13} {:<22} {:<32} {:<44} {}",
            terminal(&c.id),
            c.level,
            tactic,
            src,
            terminal(&origin_of(&set, &c.id)),
            terminal(&c.title)
        );
    }
    report_problems(&set, &engine);
    Ok(super::EXIT_OK)
}

/// Prints what could not be loaded; returns how many problems there were.
fn report_problems(set: &RuleSet, engine: &Engine) -> usize {
    for p in &set.problems {
        say!("{}: {}", terminal(&p.origin), terminal(&p.message));
    }
    for s in &engine.skipped {
        say!(
            "{}: rule {}: {}",
            terminal(&s.origin),
            terminal(&s.id),
            terminal(&s.reason)
        );
    }
    set.problems.len() + engine.skipped.len()
}

fn validate(paths: &[std::path::PathBuf]) -> anyhow::Result<u8> {
    let mut set = RuleSet::default();
    for p in paths {
        set.add_path(p);
    }
    let engine = Engine::new(&set);
    let mut bad: std::collections::BTreeSet<String> =
        set.problems.iter().map(|p| p.origin.clone()).collect();
    bad.extend(engine.skipped.iter().map(|s| s.origin.clone()));
    for p in &set.problems {
        let line = locate(&p.origin, &p.message).map_or(String::new(), |l| format!(":{l}"));
        println!(
            "{}{line}: {}",
            terminal(&p.origin),
            terminal(&one_line(&p.message))
        );
    }
    for s in &engine.skipped {
        let line = locate(&s.origin, &s.reason).map_or(String::new(), |l| format!(":{l}"));
        println!(
            "{}{line}: rule {}: {}",
            terminal(&s.origin),
            terminal(&s.id),
            terminal(&one_line(&s.reason))
        );
    }
    let total = set.files;
    println!(
        "loaded {} of {} rule files ({} rules, {} correlations, {} filters)",
        total.saturating_sub(bad.len()),
        total,
        engine.rules.len(),
        engine.corrs.len(),
        set.filters.len()
    );
    Ok(if bad.is_empty() {
        super::EXIT_OK
    } else {
        super::EXIT_FINDINGS
    })
}

/// `rules lint`: every rule that can never fire, and why.
fn lint(r: &RuleArgs, evidence: &[std::path::PathBuf]) -> anyhow::Result<u8> {
    r.check_paths()?;
    if let Some(p) = evidence.iter().find(|p| !p.exists()) {
        anyhow::bail!("{}: no such file or folder", p.display());
    }
    let set = r.load();
    let engine = Engine::new(&set);
    report_problems(&set, &engine);
    let present: Option<std::collections::BTreeMap<Format, usize>> =
        (!evidence.is_empty()).then(|| {
            let opts = crate::scan::Options::new(evidence.to_vec());
            let mut m = std::collections::BTreeMap::new();
            for (_, f) in crate::scan::formats_present(&opts) {
                *m.entry(f).or_insert(0) += 1;
            }
            m
        });
    let p = &set.pipeline;
    // Fields each compiled rule reads: its detection's, its filters', its correlations'.
    let mut reads: Vec<Vec<&String>> = engine
        .rules
        .iter()
        .map(|c| {
            c.matcher
                .fields
                .iter()
                .chain(c.filters.iter().flat_map(|f| f.fields.iter()))
                .collect()
        })
        .collect();
    for c in &engine.corrs {
        for (b, f) in c.fields_read() {
            reads[b].push(f);
        }
    }
    let (mut no_source, mut no_field, mut absent, mut ok) = (0, 0, 0, 0);
    for (c, fields) in engine.rules.iter().zip(&mut reads) {
        fields.sort();
        fields.dedup();
        let origin = origin_of(&set, &c.id);
        let say = |what: String| {
            println!(
                "{}: rule {}: {}",
                terminal(&origin),
                terminal(&c.id),
                terminal(&what)
            );
        };
        let formats: Vec<Format> = c.route.format_list().collect();
        if formats.is_empty() {
            no_source += 1;
            say(format!(
                "logsource `{}`: no format leaktrail reads produces it",
                c.logsource.display()
            ));
            continue;
        }
        let derived = |f: &str| c.extract.iter().any(|(n, _, _)| n == f);
        let missing: Vec<&str> = fields
            .iter()
            .map(|f| f.as_str())
            .filter(|f| !derived(f) && !formats.iter().any(|&x| p.spec(x).has_field(f)))
            .collect();
        let names = formats
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ");
        let mut bad = false;
        if !missing.is_empty() {
            no_field += 1;
            bad = true;
            say(format!(
                "field(s) {} (names after the pipeline's mapping) produced by none of the formats it reads ({names})",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(present) = &present
            && !formats.iter().any(|f| present.contains_key(f))
        {
            absent += 1;
            bad = true;
            say(format!(
                "logsource `{}` reads {names}: no file in the evidence is one of those",
                c.logsource.display()
            ));
        }
        ok += usize::from(!bad);
    }
    if let Some(present) = &present {
        let found = present
            .iter()
            .map(|(f, n)| format!("{} {n}", f.name()))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "evidence formats: {}",
            if found.is_empty() { "none" } else { &found }
        );
    }
    println!(
        "{} rules: {ok} can fire, {no_field} test fields no format produces, {no_source} have a logsource no format produces{}",
        engine.rules.len(),
        if present.is_some() {
            format!(", {absent} read no format present in the evidence")
        } else {
            String::new()
        }
    );
    Ok(if no_field + no_source + absent > 0 {
        super::EXIT_FINDINGS
    } else {
        super::EXIT_OK
    })
}

/// A parser's multi-line message (a caret under the position) on one line.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "|")
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The line of a rule file where the construct named in `reason` (between backticks or single
/// quotes) appears.
fn locate(path: &str, reason: &str) -> Option<usize> {
    let construct = reason
        .split('`')
        .nth(1)
        .or_else(|| reason.split('\'').nth(1))
        .filter(|c| !c.trim().is_empty())?;
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .position(|l| l.contains(construct))
        .map(|i| i + 1)
}

fn test(r: &RuleArgs) -> anyhow::Result<u8> {
    r.check_paths()?;
    let set = r.load();
    let engine = Engine::new(&set);
    let problems = report_problems(&set, &engine);
    let (mut pass, mut fail, mut untested) = (0, 0, 0);
    // A correlation's examples are read in its first base rule's format.
    let base_ls = |c: &crate::rules::Correlation| {
        c.sigma
            .rules
            .first()
            .and_then(|n| {
                set.rules.iter().find(|r| {
                    r.sigma.name.as_deref() == Some(n) || r.sigma.id.as_deref() == Some(n)
                })
            })
            .map_or(&*DEFAULT_LS, |r| &r.sigma.logsource)
    };
    let examples = set
        .rules
        .iter()
        .map(|x| (x.id(), &x.ext, &x.sigma.logsource, &x.origin))
        .chain(
            set.correlations
                .iter()
                .map(|c| (c.id(), &c.ext, base_ls(c), &c.origin)),
        );
    for (id, ext, ls, origin) in examples {
        if ext.positive.is_empty() && ext.negative.is_empty() {
            untested += usize::from(matches!(origin, Origin::Builtin(_)));
            continue;
        }
        let fmt = set
            .pipeline
            .route(&crate::detect::route::Logsource::from_sigma(ls))
            .format_list()
            .next()
            .unwrap_or(Format::Generic);
        for (want, list) in [(true, &ext.positive), (false, &ext.negative)] {
            for (k, ex) in list.iter().enumerate() {
                let got = fires(&engine, &id, ex, fmt);
                if got == want {
                    pass += 1;
                } else {
                    fail += 1;
                    let kind = if want { "positive" } else { "negative" };
                    println!(
                        "FAIL {} {kind} example {}: {}",
                        terminal(&id),
                        k + 1,
                        terminal(&ex.to_string())
                    );
                }
            }
        }
    }
    println!("{pass} passed, {fail} failed");
    if pass + fail == 0 {
        // An empty pack (a broken build, a wrong --rules path) must not read as a pass.
        println!("no rule has examples: nothing was tested");
    }
    if untested > 0 {
        println!("{untested} built-in rules have no examples");
    }
    Ok(
        if fail > 0 || problems > 0 || untested > 0 || pass + fail == 0 {
            super::EXIT_FINDINGS
        } else {
            super::EXIT_OK
        },
    )
}

static DEFAULT_LS: std::sync::LazyLock<rsigma_parser::LogSource> =
    std::sync::LazyLock::new(Default::default);

/// One example event after `repeat` expansion: its format and a line or a field map.
struct ExampleEvent {
    format: Format,
    line: Option<String>,
    fields: Vec<(String, String)>,
}

/// Expands an example (one event, or a list for correlations; `{"repeat": N, ...}` stands for
/// N copies with `{i}` replaced by 0..N) into events.
fn expand(example: &Json, default: Format) -> Vec<ExampleEvent> {
    let items: Vec<&Json> = match example {
        Json::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut out = Vec::new();
    for e in items {
        let n = e.get("repeat").and_then(Json::as_u64).unwrap_or(1);
        let format = e
            .get("format")
            .and_then(Json::as_str)
            .and_then(Format::from_name)
            .unwrap_or(default);
        for i in 0..n {
            let sub = |t: &str| t.replace("{i}", &i.to_string());
            let line = e
                .as_str()
                .or_else(|| e.get("line").and_then(Json::as_str))
                .map(sub);
            let fields = match (&line, e.get("fields").or(Some(e)).and_then(Json::as_object)) {
                (None, Some(obj)) => obj
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "repeat" | "format"))
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            sub(&v.as_str().map_or_else(|| v.to_string(), str::to_string)),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            out.push(ExampleEvent {
                format,
                line,
                fields,
            });
        }
    }
    out
}

/// Runs one example through the engine. A rule that only feeds correlations "fires" when it
/// matches an event; any other rule when it produces a finding.
pub fn fires(engine: &Engine, id: &str, example: &Json, default: Format) -> bool {
    let factory = DetectFactory::new(engine);
    let mut sink = factory.make();
    let ctx = ParseCtx {
        zone: Zone::Utc,
        year: YearRef::fixed(2026),
    };
    let base = 1_791_849_600_000_000_000i64; // 2026-10-13T00:00:00Z
    let feeder = engine
        .rules
        .iter()
        .find(|r| r.id == id)
        .filter(|r| !r.generate && r.first_seen.is_none());
    let mut matched = false;
    for (i, e) in expand(example, default).iter().enumerate() {
        let file = FileCtx {
            index: 0,
            path: "example".into(),
            format: e.format,
            window: (None, None),
        };
        // A field-map example's raw record is its values, so keyword rules and the literal
        // prefilter see what a real line would hold.
        let joined: String = e
            .fields
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut fields = Fields::default();
        let (raw, ts) = match &e.line {
            Some(line) => {
                let mut p = e.format.parser(&ctx);
                match p.parse(line.as_bytes(), &mut fields) {
                    Ok(Outcome::Event(ts)) => (line.as_bytes(), ts),
                    _ => return false,
                }
            }
            None => {
                for (k, v) in &e.fields {
                    let val = fields.build(&[v.as_bytes()]);
                    fields.put_path(b"", k.as_bytes(), val);
                }
                (joined.as_bytes(), None)
            }
        };
        let ts = ts.or(Some(Timestamp {
            nanos: base + i as i64 * 1_000_000_000,
            offset: 0,
            assumed: false,
        }));
        let ev = Event {
            ts,
            line: i as u64 + 1,
            offset: 0,
            raw,
            fields: &fields,
        };
        if let Some(rule) = feeder {
            let mut scratch = crate::detect::view::Scratch::default();
            let mut v = crate::detect::view::View::new(&ev, &mut scratch);
            let hours_ok = match (&rule.off_hours, ts) {
                (Some(h), Some(t)) => h.is_off(t.nanos, t.offset),
                _ => true,
            };
            matched |= hours_ok
                && crate::detect::route::applies(&rule.route, e.format, &mut v)
                && rule.matcher.matches(&mut v);
        }
        sink.event(&file, e.format, &ev);
    }
    if feeder.is_some() {
        return matched;
    }
    sink.finish();
    let state = factory.into_state();
    detect::findings(engine, &state, &["example".to_string()])
        .iter()
        .any(|f| f.rule_id == id)
}
