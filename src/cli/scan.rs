//! `leaktrail scan`: the main job. Reads the evidence, runs the rules, builds the story
//! (actors, incidents, timeline) and writes the case directory.

use super::args::ScanArgs;
use super::progress::Progress;
use super::say;
use crate::detect::{self, Engine, finding::level_rank};
use crate::input::excerpt;
use crate::report::{self, ReportInput, RunInfo, manifest, sanitize::terminal};
use crate::scan;
use crate::timeline::{self, SourceInfo};
use anyhow::{Context, bail};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Runs `leaktrail scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let opts = args.input.options()?;
    refuse_inside_evidence(&args.output, &opts.roots)?;
    args.rules.check_paths()?;
    let started = now();
    let set = args.rules.load();
    let engine = Engine::new(&set);
    let progress = Progress::for_roots(&opts.roots, quiet);
    let t0 = std::time::Instant::now();
    let (result, state) = detect::scan(&opts, &engine, &|n| progress.inc(n));
    progress.finish();
    detect::timing(&format!("scanned at {:?}", t0.elapsed()));
    // When files were opened but none could be read as logs, the case is still written: its
    // manifest records what was examined, why each file was not read, and its SHA-256. A
    // command naming only missing paths gets no case.
    if super::nothing_read(&result, &opts.roots) && result.files.iter().all(|f| f.sha256.is_none())
    {
        return Ok(super::EXIT_USAGE);
    }
    let story = story(&engine, &state, &result, level_rank(&args.min_level));
    detect::timing(&format!("story at {:?}", t0.elapsed()));
    let finished = now();
    let run = RunInfo {
        started,
        finished,
        args: std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        zone: opts.zone.name().to_string(),
        rules: engine.rules.len() + engine.corrs.len(),
        rules_sha256: set.sha256(),
        version: env!("CARGO_PKG_VERSION"),
    };
    let case_path = write_case(&args.output, &run, &result, &story)?;
    detect::timing(&format!("case written at {:?}", t0.elapsed()));
    if !quiet {
        for p in &set.problems {
            say!(
                "leaktrail: {}: {}",
                terminal(&p.origin),
                terminal(&p.message)
            );
        }
        for s in &engine.skipped {
            say!(
                "leaktrail: rule {} ({}) skipped: {}",
                terminal(&s.id),
                terminal(&s.origin),
                terminal(&s.reason)
            );
        }
        print_incidents(&story);
        if state.notable.total > state.notable.kept.len() as u64 {
            say!(
                "leaktrail: {} notable events; the timeline holds the first {}",
                state.notable.total,
                state.notable.kept.len()
            );
        }
        print_findings(&story.findings);
        summary(&result, &case_path);
    }
    if result.read_count() == 0 {
        return Ok(super::EXIT_USAGE);
    }
    let fail = args.fail_on.as_deref().map(level_rank);
    let code = match fail {
        Some(l) if story.findings.iter().any(|f| level_rank(f.level) >= l) => super::EXIT_FINDINGS,
        _ => super::EXIT_OK,
    };
    // The process ends here: freeing millions of buckets one by one would take a second on a
    // large scan, for nothing.
    std::mem::forget((state, story, result));
    Ok(code)
}

/// Findings (rules, correlations, convergence, silent logs) at or above `min` level, turned
/// into the story: actors, incidents, timeline rows.
pub fn story(
    engine: &Engine,
    state: &detect::Partial,
    result: &scan::ScanResult,
    min: u8,
) -> timeline::Story {
    let paths = result.paths_by_index();
    let gap_sources: Vec<String> = result.by_index().into_iter().map(source_of).collect();
    let t0 = std::time::Instant::now();
    let mut all = detect::findings(engine, state, &paths);
    detect::timing(&format!("findings in {:?}", t0.elapsed()));
    all.extend(detect::gaps::gaps(&state.activity, &gap_sources, &paths));
    detect::timing(&format!("gaps at {:?}", t0.elapsed()));
    let mut findings: Vec<detect::Finding> = all
        .into_iter()
        .filter(|f| level_rank(f.level) >= min)
        .collect();
    findings
        .sort_by(|a, b| (a.first_seen, &a.rule_id, &a.id).cmp(&(b.first_seen, &b.rule_id, &b.id)));
    let notable = notable_events(engine, &state.notable);
    timeline::build(
        findings,
        &notable,
        &state.seen,
        &source_infos(result),
        evidence_end(result),
        result.window,
    )
}

/// The files of the case directory, by name: case.json, timeline.jsonl, timeline.csv,
/// report.md, report.html.
pub fn outputs(
    run: &RunInfo,
    result: &scan::ScanResult,
    story: &timeline::Story,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let sources = source_infos(result);
    let excerpts = excerpts(story);
    let run_json = json!({
        "started_at": run.started,
        "finished_at": run.finished,
        "args": run.args,
        "timezone_assumed": run.zone,
        "rules": {"count": run.rules, "sha256": run.rules_sha256},
    });
    let case = report::case::case(run_json, manifest::manifest(result), story, &sources);
    let mut text = serde_json::to_string_pretty(&case)?;
    text.push('\n');
    let input = ReportInput {
        story,
        files: &result.files,
        run,
        excerpts: &excerpts,
    };
    Ok(vec![
        ("case.json", text),
        ("timeline.jsonl", report::timeline::jsonl(&story.rows)),
        ("timeline.csv", report::timeline::csv(&story.rows)),
        ("report.md", report::markdown::render(&input)),
        ("report.html", report::html::render(&input)),
    ])
}

/// Writes the case directory. Returns the case file's path.
fn write_case(
    dir: &Path,
    run: &RunInfo,
    result: &scan::ScanResult,
    story: &timeline::Story,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, body) in outputs(run, result, story)? {
        let path = dir.join(name);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(dir.join("case.json"))
}

/// What the story needs of each scanned file, by scan index.
fn source_infos(result: &scan::ScanResult) -> Vec<SourceInfo> {
    result
        .by_index()
        .into_iter()
        .map(|f| SourceInfo {
            path: f.path.clone(),
            rel: f.rel.clone(),
            sha256: f.sha256.clone(),
            data_type: f.format.map_or("text:line", |x| x.data_type()),
        })
        .collect()
}

/// The notable events, with their rules' names.
fn notable_events(engine: &Engine, n: &detect::Notables) -> Vec<timeline::NotableEvent> {
    n.kept
        .iter()
        .map(|e| {
            let r = &engine.rules[e.rule];
            timeline::NotableEvent {
                time: e.ts,
                file: e.at.file,
                line: e.at.line,
                offset: e.at.offset,
                rule_id: r.id.clone(),
                title: r.title.clone(),
                level: r.level,
                tactic: r.tactics.first().copied(),
                ip: e.ip.clone(),
                user: e.user.clone(),
                key: e.key.clone(),
            }
        })
        .collect()
}

/// The latest event time in the evidence, or the end of the window read (`--until`) when
/// the evidence goes on after it: activity just before that end is what the investigator
/// looked at last.
fn evidence_end(result: &scan::ScanResult) -> Option<i64> {
    let last = result
        .files
        .iter()
        .filter_map(|f| f.stats.last.map(|t| t.nanos))
        .max()?;
    Some(result.window.1.map_or(last, |until| last.min(until)))
}

/// The evidence lines the findings point to, read back from the files.
fn excerpts(story: &timeline::Story) -> HashMap<(String, u64), Vec<u8>> {
    let mut by_file: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for f in &story.findings {
        for (p, _, o) in &f.evidence {
            by_file.entry(p.as_str()).or_default().push(*o);
        }
    }
    let mut out = HashMap::new();
    for (path, offsets) in by_file {
        for (o, line) in excerpt::lines_at(Path::new(path), &offsets) {
            out.insert((path.to_string(), o), line);
        }
    }
    out
}

/// Incidents, most important first.
fn print_incidents(story: &timeline::Story) {
    if story.incidents.is_empty() {
        say!("leaktrail: no incident");
        return;
    }
    say!(
        "leaktrail: {}, most important first",
        timeline::counted(story.incidents.len() as u64, "incident")
    );
    for inc in story.incidents.iter().take(10) {
        say!(
            "  {} [{}] score {}: {}",
            inc.id,
            inc.level,
            inc.score,
            terminal(&inc.summary)
        );
    }
    if story.incidents.len() > 10 {
        say!(
            "  ... and {} more in report.html",
            story.incidents.len() - 10
        );
    }
}

/// The log source a file belongs to, for gaps: its format and the first folder under the
/// root it was found in (a web server's rotations, a CloudTrail bucket's dated folders).
fn source_of(f: &scan::FileReport) -> String {
    let fmt = f.format.map_or("-", |x| x.name());
    // A file directly under its root, or named by its location (the same relative path
    // under two roots): the name of its folder.
    let folder = || {
        Path::new(&f.path)
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or(".")
    };
    let top = match f.rel.split_once('/') {
        Some((first, _)) if f.rel != f.path => first,
        _ => folder(),
    };
    let root = f
        .root
        .filter(|&r| r > 0)
        .map_or(String::new(), |r| format!(" of root {}", r + 1));
    format!("{top} ({fmt}{root})")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Evidence is never written to: an output directory inside an evidence folder is refused.
fn refuse_inside_evidence(out: &Path, roots: &[PathBuf]) -> anyhow::Result<()> {
    let out_abs = absolute(out);
    // A root that does not exist holds nothing to protect (it is reported as unreadable).
    for r in roots.iter().filter(|r| r.exists()) {
        // A file given on the command line sits in an evidence folder too.
        let r_abs = absolute(r);
        let dir = if r_abs.is_dir() {
            Some(r_abs.as_path())
        } else {
            r_abs.parent()
        };
        if let Some(d) = dir.filter(|d| out_abs.starts_with(d)) {
            if r_abs.is_dir() {
                bail!(
                    "the output directory {} is inside the evidence folder {}: choose a folder outside the evidence",
                    out.display(),
                    r.display()
                );
            }
            bail!(
                "the output directory {} is inside {}, the folder of evidence file {}: choose a folder outside it",
                out.display(),
                d.display(),
                r.display()
            );
        }
    }
    Ok(())
}

/// Canonical path of `p`, or of its nearest existing ancestor joined with the rest.
fn absolute(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            return rest
                .into_iter()
                .rev()
                .fold(c, |acc: PathBuf, part| acc.join(part));
        }
        match (
            existing.file_name().map(|s| s.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// Findings, most severe first (at most 15 lines; the reports have them all).
fn print_findings(findings: &[detect::Finding]) {
    let mut sorted: Vec<&detect::Finding> = findings.iter().collect();
    // Most severe first; at one level, what happened before what was only tried.
    sorted.sort_by(|a, b| {
        level_rank(b.level)
            .cmp(&level_rank(a.level))
            .then(a.attempt_only().cmp(&b.attempt_only()))
            .then(a.first_seen.cmp(&b.first_seen))
    });
    say!("leaktrail: {}", detect::finding::tally_words(findings));
    for f in sorted.iter().take(15) {
        say!("  {}", terminal(&f.summary()));
    }
    if sorted.len() > 15 {
        say!(
            "  ... and {} more in report.html and case.json",
            sorted.len() - 15
        );
    }
}

fn summary(r: &scan::ScanResult, case: &Path) {
    let read = r.read_count();
    let lines: u64 = r.files.iter().map(|f| f.stats.lines).sum();
    let parsed: u64 = r.files.iter().map(|f| f.stats.parsed).sum();
    let unparsed: u64 = r.files.iter().map(|f| f.stats.unparsed).sum();
    say!(
        "leaktrail: {} ({} read), {lines} lines, {parsed} events, {unparsed} unparsed records",
        timeline::counted(r.files.len() as u64, "file"),
        read
    );
    for f in r.files.iter().filter(|f| !f.problems.is_empty()) {
        say!(
            "  {}: {}",
            terminal(&f.path),
            terminal(&f.problems.join("; "))
        );
    }
    say!(
        "leaktrail: case written to {}",
        terminal(&case.display().to_string())
    );
}
