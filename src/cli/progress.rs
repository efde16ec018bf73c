//! The progress bar: bytes done of total, files, rate — on stderr, only when stderr is a
//! terminal and `--quiet` is not given.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Shows a bar over the evidence under `roots` when stderr is a terminal (only then are
    /// the sizes summed).
    pub fn for_roots(roots: &[std::path::PathBuf], quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let (total, files) = total_bytes(roots);
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(format!("{files} files"));
        Progress { bar: Some(bar) }
    }

    /// Adds finished bytes.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Total bytes under the roots, for the bar (a cheap pre-walk of sizes).
fn total_bytes(roots: &[std::path::PathBuf]) -> (u64, usize) {
    let mut total = 0;
    let mut n = 0;
    for r in roots {
        for e in walkdir::WalkDir::new(r)
            .follow_links(true)
            .into_iter()
            .flatten()
        {
            if let Ok(m) = e.metadata()
                && m.is_file()
            {
                total += m.len();
                n += 1;
            }
        }
    }
    (total, n)
}
