//! `leaktrail scan`: the main job. Until detection lands it reads and summarises the evidence
//! and writes `case.json` with the run description and the evidence manifest.

use super::args::ScanArgs;
use super::progress::Progress;
use crate::detect::{self, Engine, finding::level_rank};
use crate::report::{manifest, sanitize::terminal};
use crate::scan;
use anyhow::{Context, bail};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Runs `leaktrail scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let opts = args.input.options()?;
    refuse_inside_evidence(&args.output, &opts.roots)?;
    let started = now();
    let set = args.rules.load();
    let engine = Engine::new(&set);
    let progress = Progress::for_roots(&opts.roots, quiet);
    let (result, state) = detect::scan(&opts, &engine, &|n| progress.inc(n));
    progress.finish();
    let paths = result.paths_by_index();
    let min = level_rank(&args.min_level);
    let sources: Vec<String> = result.by_index().into_iter().map(source_of).collect();
    let mut all = detect::findings(&engine, &state, &paths);
    all.extend(detect::gaps::gaps(&state.activity, &sources, &paths));
    let findings: Vec<detect::Finding> = all
        .into_iter()
        .filter(|f| level_rank(f.level) >= min)
        .collect();
    let finished = now();
    if super::nothing_read(&result, &opts.roots) {
        return Ok(super::EXIT_USAGE);
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let case = json!({
        "schema_version": 1,
        "tool": {"name": "leaktrail", "version": env!("CARGO_PKG_VERSION")},
        "run": {
            "started_at": started,
            "finished_at": finished,
            "args": std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>(),
            "timezone_assumed": opts.zone.name(),
            "rules": {"count": engine.rules.len() + engine.corrs.len(), "sha256": set.sha256()},
        },
        "evidence": manifest::manifest(&result),
        "findings": findings.iter().map(detect::Finding::to_json).collect::<Vec<_>>(),
        "incidents": [],
        "actors": [],
    });
    let path = args.output.join("case.json");
    let mut text = serde_json::to_string_pretty(&case)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    if !quiet {
        for p in &set.problems {
            eprintln!(
                "leaktrail: rule {}: {}",
                terminal(&p.origin),
                terminal(&p.message)
            );
        }
        for s in &engine.skipped {
            eprintln!(
                "leaktrail: rule {} ({}) skipped: {}",
                terminal(&s.id),
                terminal(&s.origin),
                terminal(&s.reason)
            );
        }
        print_findings(&findings);
        summary(&result, &path);
    }
    if result.read_count() == 0 {
        return Ok(super::EXIT_USAGE);
    }
    let fail = args.fail_on.as_deref().map(level_rank);
    Ok(match fail {
        Some(l) if findings.iter().any(|f| level_rank(f.level) >= l) => super::EXIT_FINDINGS,
        _ => super::EXIT_OK,
    })
}

/// The log source a file belongs to, for gaps: its format and the first folder under the
/// root it was found in (a web server's rotations, a CloudTrail bucket's dated folders).
fn source_of(f: &scan::FileReport) -> String {
    let fmt = f.format.map_or("-", |x| x.name());
    let top = f.rel.split_once('/').map_or("", |(first, _)| first);
    format!("{}:{}/{top}", fmt, f.root.unwrap_or(usize::MAX))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Evidence is never written to: an output directory inside an evidence folder is refused.
fn refuse_inside_evidence(out: &Path, roots: &[PathBuf]) -> anyhow::Result<()> {
    let out_abs = absolute(out);
    for r in roots {
        // A file given on the command line sits in an evidence folder too.
        let r_abs = absolute(r);
        let dir = if r_abs.is_dir() {
            Some(r_abs.as_path())
        } else {
            r_abs.parent()
        };
        if dir.is_some_and(|d| out_abs.starts_with(d)) {
            bail!(
                "the output directory {} is inside the evidence folder {}: choose a folder outside the evidence",
                out.display(),
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

/// Findings, most severe first (at most 40 lines; the case file has them all).
fn print_findings(findings: &[detect::Finding]) {
    let mut sorted: Vec<&detect::Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| {
        level_rank(b.level)
            .cmp(&level_rank(a.level))
            .then(a.first_seen.cmp(&b.first_seen))
    });
    let mut counts = [0usize; 5];
    for f in findings {
        counts[level_rank(f.level) as usize] += 1;
    }
    eprintln!(
        "leaktrail: {} findings: {} critical, {} high, {} medium, {} low, {} informational",
        findings.len(),
        counts[4],
        counts[3],
        counts[2],
        counts[1],
        counts[0]
    );
    for f in sorted.iter().take(40) {
        eprintln!("  {}", terminal(&f.summary()));
    }
    if sorted.len() > 40 {
        eprintln!("  ... and {} more in case.json", sorted.len() - 40);
    }
}

fn summary(r: &scan::ScanResult, case: &Path) {
    let read = r.read_count();
    let lines: u64 = r.files.iter().map(|f| f.stats.lines).sum();
    let parsed: u64 = r.files.iter().map(|f| f.stats.parsed).sum();
    let unparsed: u64 = r.files.iter().map(|f| f.stats.unparsed).sum();
    eprintln!(
        "leaktrail: {} files ({} read), {lines} lines, {parsed} events, {unparsed} unparsed records",
        r.files.len(),
        read
    );
    for f in r.files.iter().filter(|f| !f.problems.is_empty()) {
        eprintln!(
            "  {}: {}",
            terminal(&f.path),
            terminal(&f.problems.join("; "))
        );
    }
    eprintln!(
        "leaktrail: case written to {}",
        terminal(&case.display().to_string())
    );
}
