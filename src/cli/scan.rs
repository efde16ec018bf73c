//! `leaktrail scan`: the main job. Until detection lands it reads and summarises the evidence
//! and writes `case.json` with the run description and the evidence manifest.

use super::args::ScanArgs;
use super::progress::Progress;
use crate::report::{manifest, sanitize::terminal};
use crate::scan::{self, records::NullSink};
use anyhow::{Context, bail};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Runs `leaktrail scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let opts = args.input.options()?;
    refuse_inside_evidence(&args.output, &opts.roots)?;
    let started = now();
    let progress = Progress::for_roots(&opts.roots, quiet);
    let result = scan::run(&opts, &NullSink, &mut |_, ()| {}, &|n| progress.inc(n));
    progress.finish();
    let finished = now();
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let case = json!({
        "schema_version": 1,
        "tool": {"name": "leaktrail", "version": env!("CARGO_PKG_VERSION")},
        "run": {
            "started_at": started,
            "finished_at": finished,
            "args": std::env::args().skip(1).collect::<Vec<_>>(),
            "timezone_assumed": opts.zone.name(),
        },
        "evidence": manifest::manifest(&result),
        "findings": [],
        "incidents": [],
        "actors": [],
    });
    let path = args.output.join("case.json");
    let mut text = serde_json::to_string_pretty(&case)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    if !quiet {
        summary(&result, &path);
    }
    Ok(if result.read_count() == 0 {
        super::EXIT_USAGE
    } else {
        super::EXIT_OK
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Evidence is never written to: an output directory inside an evidence folder is refused.
fn refuse_inside_evidence(out: &Path, roots: &[PathBuf]) -> anyhow::Result<()> {
    let out_abs = absolute(out);
    for r in roots {
        let r_abs = absolute(r);
        if r_abs.is_dir() && out_abs.starts_with(&r_abs) {
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
