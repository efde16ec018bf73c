//! Outputs: the case file, the timelines and the reports, and the escaping that keeps
//! log-derived text inert in each (JSON, terminal, CSV, Markdown, HTML). Everything that comes
//! from evidence is attacker-controlled and is escaped on the way out.

pub mod case;
pub mod html;
pub mod jsonw;
pub mod manifest;
pub mod markdown;
pub mod sanitize;
pub mod svg;
pub mod timeline;

use crate::scan::FileReport;
use crate::timeline::Story;
use std::collections::HashMap;

/// How the run was made, as the reports tell it.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub started: String,
    pub finished: String,
    pub args: Vec<String>,
    pub zone: String,
    pub rules: usize,
    pub rules_sha256: String,
    pub version: &'static str,
}

/// What the reports say when there is no incident: why, when nothing could be read.
pub fn no_incident(files: &[FileReport]) -> String {
    if files.iter().any(|f| f.status == crate::scan::Status::Read) {
        "No incident: no finding at level low or above names an actor.".to_string()
    } else {
        let n = match files.len() {
            1 => "the 1 file".to_string(),
            n => format!("the {n} files"),
        };
        format!(
            "Nothing could be read: none of {n} examined is a log leaktrail can read, so nothing was searched; the evidence list says why for each."
        )
    }
}

/// Everything a report is made from.
pub struct ReportInput<'a> {
    pub story: &'a Story,
    /// Every input file, in path order (the manifest).
    pub files: &'a [FileReport],
    pub run: &'a RunInfo,
    /// (location, offset) → the evidence line there.
    pub excerpts: &'a HashMap<(String, u64), Vec<u8>>,
}
