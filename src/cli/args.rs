//! Argument definitions and their conversion into scan options.

use crate::input::Filter;
use crate::parse::{Format, Zone};
use crate::scan::Options;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Investigate customer-data leaks from logs.
#[derive(Parser, Debug)]
#[command(name = "leaktrail", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads (default: one per core).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// No progress bar and no summary on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan evidence and write the case directory (the main job).
    Scan(ScanArgs),
    /// Print every parsed event as one JSON object per line.
    Events(InputArgs),
    /// List each evidence file: format, compression, size, SHA-256, counts, time range, problems.
    Sources(SourcesArgs),
    /// The detection rules: list, validate, test.
    Rules(RulesArgs),
}

/// Which rules to use.
#[derive(Args, Debug, Clone)]
pub struct RuleArgs {
    /// A rule file or folder of YAML rules (Sigma; repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rule pack.
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// A value for a Sigma `|expand` placeholder, `%NAME%` in rules (repeatable: each adds a
    /// value).
    #[arg(long = "placeholder", value_name = "NAME=VALUE")]
    pub placeholders: Vec<String>,
    /// A processing pipeline (YAML, the shape of pipelines/leaktrail.yml) that adds logsources,
    /// fields and field-name mappings to the built-in one (repeatable).
    #[arg(long = "pipeline", value_name = "FILE")]
    pub pipelines: Vec<PathBuf>,
    /// Working hours for the rules that look at off-hours activity, in the logs' own local
    /// time: START-END in whole hours, e.g. 08-18 (default per rule; the built-in one 07-20).
    #[arg(long, value_name = "START-END", value_parser = parse_hours)]
    pub working_hours: Option<(u32, u32)>,
    /// Working days for those rules: mon-fri (the default), sun-thu, mon-sat, mon,wed,fri or all.
    #[arg(long, value_name = "DAYS", value_parser = parse_workdays)]
    pub workdays: Option<u8>,
}

fn parse_hours(s: &str) -> Result<(u32, u32), String> {
    crate::rules::OffHours::parse_hours(s)
}

fn parse_workdays(s: &str) -> Result<u8, String> {
    crate::rules::OffHours::parse_workdays(s)
}

/// `leaktrail rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: RulesAction,
}

#[derive(Subcommand, Debug)]
pub enum RulesAction {
    /// List the rules: id, level, tactic, logsource, source file.
    List(RuleArgs),
    /// Load a rule file or folder and report every rule that cannot be used.
    Validate {
        /// Rule files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run each rule's positive and negative examples.
    Test(RuleArgs),
    /// Report rules that can never fire: fields no format produces, logsources no format reads,
    /// and (given evidence) logsources no evidence file produces.
    Lint {
        #[command(flatten)]
        rules: RuleArgs,
        /// Evidence files and folders: also report rules that read no format found there.
        evidence: Vec<PathBuf>,
    },
}

/// Where the evidence is and how to read it.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Evidence files and folders (read recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only read files whose path (relative to the folder given) or name matches (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Do not read files whose relative path or name matches (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Force a format for matching files, e.g. `--format '*.log=syslog'` (repeatable).
    /// Formats: cloudtrail, cloudtrail-jsonl, json, access, alb, elb, s3-access, w3c,
    /// postgres-csv, postgres, mysql-general, syslog, apache-error, nginx-error, text.
    #[arg(long = "format", value_name = "GLOB=NAME")]
    pub formats: Vec<String>,
    /// Time zone for timestamps that carry none (IANA name such as Europe/Berlin).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    /// Year for year-less syslog timestamps (default: from each file's modification time).
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,
    /// Only events at or after this time (RFC 3339, or a date: 2026-10-13 is its midnight UTC).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// `--since`/`--until`: an RFC 3339 time (a zone-less one is UTC) or a date.
fn instant(arg: &str, what: &str) -> anyhow::Result<i64> {
    let text = if arg.len() == 10 {
        format!("{arg}T00:00:00Z")
    } else {
        arg.to_string()
    };
    let (c, off, _) = crate::parse::time::parse_iso(text.as_bytes())
        .filter(|(_, _, end)| *end == text.len())
        .with_context(|| {
            format!("{what} wants a time like 2026-10-13T09:00:00Z or a date, got {arg:?}")
        })?;
    let ts = crate::parse::LocalZone::new(Zone::Utc)
        .resolve(&c, Some(off.unwrap_or(0)))
        .with_context(|| format!("{what}: no such time {arg:?}"))?;
    Ok(ts.nanos)
}

/// `leaktrail scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The case directory to write (must not be inside the evidence).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Only report findings at or above this level.
    #[arg(long, value_name = "LEVEL", default_value = "informational", value_parser = ["informational", "low", "medium", "high", "critical"])]
    pub min_level: String,
    /// Exit with status 1 when a finding at or above this level is reported.
    #[arg(long, value_name = "LEVEL", value_parser = ["informational", "low", "medium", "high", "critical"])]
    pub fail_on: Option<String>,
}

/// `leaktrail sources`.
#[derive(Args, Debug)]
pub struct SourcesArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl RuleArgs {
    /// A `--rules` or `--pipeline` path that does not exist is a usage error: a typo must not
    /// give a scan with fewer rules than asked for.
    pub fn check_paths(&self) -> anyhow::Result<()> {
        for (opt, p) in self
            .rules
            .iter()
            .map(|p| ("--rules", p))
            .chain(self.pipelines.iter().map(|p| ("--pipeline", p)))
        {
            if !p.exists() {
                anyhow::bail!("{opt} {}: no such file or folder", p.display());
            }
        }
        Ok(())
    }

    /// Loads the built-in pack (unless disabled) and the user's rules.
    pub fn load(&self) -> crate::rules::RuleSet {
        let mut set = crate::rules::RuleSet::default();
        if !self.no_builtin_rules {
            crate::rules::builtin::load(&mut set);
        }
        set.working_hours = self.working_hours;
        set.off_days = self.workdays;
        for p in &self.pipelines {
            if let Err(message) = set.pipeline.add_path(p) {
                set.problems.push(crate::rules::Problem {
                    origin: p.display().to_string(),
                    message: format!("pipeline not used: {message}"),
                });
            }
        }
        for p in &self.rules {
            set.add_path(p);
        }
        for p in &self.placeholders {
            match p.split_once('=') {
                Some((name, value)) if !name.is_empty() => set
                    .placeholders
                    .entry(name.trim_matches('%').to_string())
                    .or_default()
                    .push(value.to_string()),
                _ => set.problems.push(crate::rules::Problem {
                    origin: "--placeholder".into(),
                    message: format!("{p:?} is not NAME=VALUE"),
                }),
            }
        }
        set
    }
}

impl InputArgs {
    /// Scan options from the arguments; bad globs, formats or zones are usage errors.
    pub fn options(&self) -> anyhow::Result<Options> {
        let mut o = Options::new(self.paths.clone());
        o.filter =
            Filter::new(&self.include, &self.exclude).context("bad --include/--exclude glob")?;
        o.zone = Zone::parse(&self.tz).with_context(|| {
            format!(
                "unknown time zone {:?} (use an IANA name such as Europe/Berlin)",
                self.tz
            )
        })?;
        o.year = self.year;
        o.window = (
            self.since
                .as_deref()
                .map(|s| instant(s, "--since"))
                .transpose()?,
            self.until
                .as_deref()
                .map(|s| instant(s, "--until"))
                .transpose()?,
        );
        if let (Some(a), Some(b)) = o.window
            && a >= b
        {
            bail!(
                "--since {} is not before --until {}: no event could be read",
                self.since.as_deref().unwrap_or_default(),
                self.until.as_deref().unwrap_or_default()
            );
        }
        for spec in &self.formats {
            let Some((glob, name)) = spec.rsplit_once('=') else {
                bail!("--format wants GLOB=NAME, got {spec:?}");
            };
            let Some(fmt) = Format::from_name(name) else {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                bail!("unknown format {name:?}; known: {}", names.join(", "));
            };
            let g = globset::Glob::new(glob)
                .with_context(|| format!("bad glob in --format {spec:?}"))?
                .compile_matcher();
            o.overrides.push((g, fmt));
        }
        Ok(o)
    }
}
