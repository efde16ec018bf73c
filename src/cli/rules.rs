//! `leaktrail rules list | validate PATH | test`.

use super::args::{RuleArgs, RulesAction, RulesArgs};
use crate::detect::{self, DetectFactory, Engine};
use crate::parse::{Esc, Event, Fields, Format, Outcome, ParseCtx, Timestamp, Val, YearRef, Zone};
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
    let set = r.load();
    let engine = Engine::new(&set);
    println!(
        "{:<38} {:<13} {:<22} {:<32} SOURCE",
        "ID", "LEVEL", "TACTIC", "LOGSOURCE"
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
            "{:<38} {:<13} {:<22} {:<32} {}",
            terminal(&c.id),
            c.level,
            tactic,
            terminal(&src),
            terminal(&origin_of(&set, &c.id))
        );
    }
    for c in &engine.corrs {
        let tactic = c.tactics.first().copied().unwrap_or("-");
        let src = format!("correlation:{}", c.kind.as_str());
        println!(
            "{:<38} {:<13} {:<22} {:<32} {}",
            terminal(&c.id),
            c.level,
            tactic,
            src,
            terminal(&origin_of(&set, &c.id))
        );
    }
    report_problems(&set, &engine);
    Ok(super::EXIT_OK)
}

/// Prints what could not be loaded; returns how many problems there were.
fn report_problems(set: &RuleSet, engine: &Engine) -> usize {
    for p in &set.problems {
        eprintln!("{}: {}", terminal(&p.origin), terminal(&p.message));
    }
    for s in &engine.skipped {
        eprintln!(
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
        println!("{}: {}", terminal(&p.origin), terminal(&p.message));
    }
    for s in &engine.skipped {
        let line = locate(&s.origin, &s.reason).map_or(String::new(), |l| format!(":{l}"));
        println!(
            "{}{line}: rule {}: {}",
            terminal(&s.origin),
            terminal(&s.id),
            terminal(&s.reason)
        );
    }
    let total = set.files;
    println!(
        "loaded {} of {} rule files ({} rules, {} correlations)",
        total - bad.len(),
        total,
        engine.rules.len(),
        engine.corrs.len()
    );
    Ok(if bad.is_empty() {
        super::EXIT_OK
    } else {
        super::EXIT_FINDINGS
    })
}

/// The line of a rule file where the construct named in `reason` (between backticks) appears.
fn locate(path: &str, reason: &str) -> Option<usize> {
    let construct = reason.split('`').nth(1)?;
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .position(|l| l.contains(construct))
        .map(|i| i + 1)
}

fn test(r: &RuleArgs) -> anyhow::Result<u8> {
    let set = r.load();
    let engine = Engine::new(&set);
    let problems = report_problems(&set, &engine);
    let (mut pass, mut fail, mut untested) = (0, 0, 0);
    let examples = set
        .rules
        .iter()
        .map(|x| (x.id(), &x.ext, &x.sigma.logsource, &x.origin))
        .chain(
            set.correlations
                .iter()
                .map(|c| (c.id(), &c.ext, &*DEFAULT_LS, &c.origin)),
        );
    for (id, ext, ls, origin) in examples {
        if ext.positive.is_empty() && ext.negative.is_empty() {
            untested += usize::from(matches!(origin, Origin::Builtin(_)));
            continue;
        }
        let fmt =
            crate::detect::route::formats_for(&crate::detect::route::Logsource::from_sigma(ls))
                .first()
                .copied()
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
    if untested > 0 {
        println!("{untested} built-in rules have no examples");
    }
    Ok(if fail > 0 || problems > 0 || untested > 0 {
        super::EXIT_FINDINGS
    } else {
        super::EXIT_OK
    })
}

static DEFAULT_LS: std::sync::LazyLock<rsigma_parser::LogSource> =
    std::sync::LazyLock::new(Default::default);

/// Runs one example (an event, or a list of events for correlations) through the engine and
/// says whether the rule produced a finding.
pub fn fires(engine: &Engine, id: &str, example: &Json, default: Format) -> bool {
    let events: Vec<&Json> = match example {
        Json::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let factory = DetectFactory(engine);
    let mut sink = factory.make();
    let ctx = ParseCtx {
        zone: Zone::Utc,
        year: YearRef::fixed(2026),
    };
    let base = 1_791_849_600_000_000_000i64; // 2026-10-13T00:00:00Z
    for (i, e) in events.iter().enumerate() {
        let fmt = e
            .get("format")
            .and_then(Json::as_str)
            .and_then(Format::from_name)
            .unwrap_or(default);
        let file = FileCtx {
            index: 0,
            path: "example".into(),
            format: fmt,
        };
        let line_text;
        let mut fields = Fields::default();
        let (raw, ts) =
            if let Some(line) = e.as_str().or_else(|| e.get("line").and_then(Json::as_str)) {
                line_text = line.to_string();
                let mut p = fmt.parser(&ctx);
                match p.parse(line_text.as_bytes(), &mut fields) {
                    Ok(Outcome::Event(ts)) => (line_text.as_bytes(), ts),
                    _ => return false,
                }
            } else {
                let obj = e.get("fields").unwrap_or(e);
                for (k, v) in obj.as_object().into_iter().flatten() {
                    let text = match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let val = fields.build(&[text.as_bytes()]);
                    let key = fields.build(&[k.as_bytes()]);
                    let Val::Built(a, b) = key else { continue };
                    let name = fields.built(a, b).to_vec();
                    fields.put_path(b"", &name, val);
                }
                (&b""[..], None)
            };
        let _ = Esc::None;
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
        sink.event(&file, fmt, &ev);
    }
    let state = sink.finish();
    detect::findings(engine, &state, &["example".to_string()])
        .iter()
        .any(|f| f.rule_id == id)
}
