//! `leaktrail sources`: each evidence file with its format, compression, size, counts, time
//! range and problems, as a table or as JSON. Every line is parsed to get the counts.

use super::args::SourcesArgs;
use super::progress::Progress;
use super::say;
use crate::report::{manifest, sanitize::terminal};
use crate::scan::{self, ScanResult, Status, records::NullSink};
use std::io::Write;

/// Runs `leaktrail sources`.
pub fn run(args: SourcesArgs, quiet: bool) -> anyhow::Result<u8> {
    let opts = args.input.options()?;
    let progress = Progress::for_roots(&opts.roots, quiet);
    let result = scan::run(&opts, &NullSink, &mut |_, ()| {}, &|n| progress.inc(n));
    progress.finish();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut w, &manifest::manifest(&result))?;
        writeln!(w)?;
    } else {
        table(&mut w, &result)?;
    }
    w.flush()?;
    Ok(if super::nothing_read(&result, &opts.roots) {
        super::EXIT_USAGE
    } else {
        super::EXIT_OK
    })
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn table(w: &mut impl Write, r: &ScanResult) -> std::io::Result<()> {
    let rows: Vec<[String; 9]> = r
        .files
        .iter()
        .map(|f| {
            let s = &f.stats;
            let t =
                |x: Option<crate::parse::Timestamp>| x.map_or("-".into(), |t| t.to_utc_string());
            let fmt = match f.status {
                Status::Read => f.format.map_or("-", |x| x.name()).to_string(),
                other => other.name().to_string(),
            };
            [
                terminal(&f.path),
                fmt,
                f.compression.map_or("-", |c| c.name()).to_string(),
                human(f.size),
                s.lines.to_string(),
                s.parsed.to_string(),
                s.unparsed.to_string(),
                t(s.first),
                t(s.last),
            ]
        })
        .collect();
    let head = [
        "PATH", "FORMAT", "COMP", "SIZE", "LINES", "PARSED", "UNPARSED", "FIRST", "LAST",
    ];
    let mut width: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (k, c) in row.iter().enumerate() {
            width[k] = width[k].max(c.chars().count());
        }
    }
    let line = |w: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut s = String::new();
        for (k, c) in cells.iter().enumerate() {
            let pad = width[k].saturating_sub(c.chars().count());
            if (3..=6).contains(&k) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str("  ");
        }
        writeln!(w, "{}", s.trim_end())
    };
    line(w, &head)?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(w, &cells)?;
    }
    problems(w, r)
}

fn problems(w: &mut impl Write, r: &ScanResult) -> std::io::Result<()> {
    let with: Vec<_> = r.files.iter().filter(|f| !f.problems.is_empty()).collect();
    if with.is_empty() {
        return Ok(());
    }
    writeln!(w, "\nProblems ({} files):", with.len())?;
    for f in with {
        writeln!(w, "  {}", terminal(&f.path))?;
        for p in &f.problems {
            writeln!(w, "    - {}", terminal(p))?;
        }
        for e in &f.stats.examples {
            writeln!(
                w,
                "      line {}: {}: {}",
                e.line,
                terminal(&e.reason),
                terminal(&e.text)
            )?;
        }
    }
    Ok(())
}

/// After `events`: a short note on stderr of what could not be read (stdout holds events).
pub fn warn_summary(r: &ScanResult, quiet: bool) {
    if quiet {
        return;
    }
    let read = r.read_count();
    let unparsed: u64 = r.files.iter().map(|f| f.stats.unparsed).sum();
    let notread = r.files.len() - read;
    if unparsed > 0 || notread > 0 {
        say!(
            "leaktrail: {read} files read, {notread} not read, {unparsed} records unparsed (see `leaktrail sources`)"
        );
    }
}
