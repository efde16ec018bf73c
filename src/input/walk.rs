//! Discovery: the files under the paths given on the command line. Symbolic links are followed
//! (a loop is reported, not followed forever), the same file reached twice is read once, and
//! whatever is not read — FIFOs, sockets, devices, unreadable folders, files filtered out by
//! `--include/--exclude` — is listed with the reason. No ignore files: evidence is never
//! skipped silently.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A file to read.
#[derive(Clone, Debug)]
pub struct Found {
    /// The path as reached (root joined with the walk), for opening and for display.
    pub path: PathBuf,
    /// The path relative to the root it was found under (`/`-separated); the file name when
    /// the root itself is a file.
    pub rel: String,
    /// Index of the root in the list given.
    pub root: usize,
}

/// Something that was not read, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub path: String,
    /// Relative to its root, like [`Found::rel`].
    pub rel: String,
    /// Size when it could be read from the file system.
    pub size: u64,
    pub reason: String,
}

/// The result of discovery, both lists sorted by path.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<Found>,
    pub skipped: Vec<Skipped>,
}

/// `--include` / `--exclude` globs, matched against the path relative to its root.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

fn globset(globs: &[String]) -> Result<Option<GlobSet>, globset::Error> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g)?);
    }
    b.build().map(Some)
}

impl Filter {
    /// Builds the filter; a malformed glob is an error for the caller to report.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, globset::Error> {
        Ok(Filter {
            include: globset(include)?,
            exclude: globset(exclude)?,
        })
    }

    /// Why `rel` is filtered out, if it is.
    fn rejects(&self, rel: &str) -> Option<&'static str> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let hit = |s: &GlobSet| s.is_match(rel) || s.is_match(name);
        if let Some(ex) = &self.exclude
            && hit(ex)
        {
            return Some("excluded by --exclude");
        }
        match &self.include {
            Some(inc) if !hit(inc) => Some("not matched by --include"),
            _ => None,
        }
    }
}

/// Walks every root and classifies what it finds.
pub fn discover(roots: &[PathBuf], filter: &Filter) -> Walk {
    let mut walk = Walk::default();
    let mut seen: HashMap<(u64, u64), String> = HashMap::new();
    for (ri, root) in roots.iter().enumerate() {
        let it = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        for entry in it {
            match entry {
                Ok(e) => visit(root, ri, e.path(), &mut walk, &mut seen, filter),
                Err(err) => {
                    let p = err.path().unwrap_or(root);
                    let reason = if err.loop_ancestor().is_some() {
                        "symbolic link loop: not followed again".to_string()
                    } else {
                        format!("cannot read: {}", io_reason(&err))
                    };
                    walk.skipped.push(skipped(root, p, reason));
                }
            }
        }
    }
    walk.files.sort_by(|a, b| a.path.cmp(&b.path));
    walk.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    walk
}

fn io_reason(err: &walkdir::Error) -> String {
    err.io_error()
        .map_or_else(|| err.to_string(), |e| e.to_string())
}

fn skipped(root: &Path, path: &Path, reason: String) -> Skipped {
    let size = std::fs::symlink_metadata(path).map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    Skipped {
        path: path.display().to_string(),
        rel: relative(root, path),
        size,
        reason,
    }
}

fn visit(
    root: &Path,
    ri: usize,
    path: &Path,
    walk: &mut Walk,
    seen: &mut HashMap<(u64, u64), String>,
    filter: &Filter,
) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            walk.skipped
                .push(skipped(root, path, format!("cannot read: {e}")));
            return;
        }
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        return;
    }
    let special = if ft.is_fifo() {
        Some("named pipe (FIFO): not read")
    } else if ft.is_socket() {
        Some("socket: not read")
    } else if ft.is_block_device() || ft.is_char_device() {
        Some("device: not read")
    } else if !ft.is_file() {
        Some("not a regular file: not read")
    } else {
        None
    };
    if let Some(reason) = special {
        walk.skipped.push(skipped(root, path, reason.to_string()));
        return;
    }
    let rel = relative(root, path);
    if let Some(reason) = filter.rejects(&rel) {
        walk.skipped.push(skipped(root, path, reason.to_string()));
        return;
    }
    let shown = path.display().to_string();
    if let Some(first) = seen.get(&(meta.dev(), meta.ino())) {
        let reason =
            format!("same file as {first}, which is read (hard or symbolic link, or given twice)");
        walk.skipped.push(skipped(root, path, reason));
        return;
    }
    seen.insert((meta.dev(), meta.ino()), shown);
    walk.files.push(Found {
        path: path.to_path_buf(),
        rel,
        root: ri,
    });
}

/// `path` relative to `root`, `/`-separated; the file name when root is the file itself.
fn relative(root: &Path, path: &Path) -> String {
    let r = path
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty());
    let r = r.unwrap_or_else(|| Path::new(path.file_name().unwrap_or(path.as_os_str())));
    r.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_filters_dedups_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("web1")).unwrap();
        fs::write(d.join("web1/access.log"), "x\n").unwrap();
        fs::write(d.join("web1/access.log.1"), "x\n").unwrap();
        fs::write(d.join("notes.txt"), "x\n").unwrap();
        std::os::unix::fs::symlink(d.join("web1/access.log"), d.join("link.log")).unwrap();
        std::os::unix::fs::symlink(d, d.join("web1/loop")).unwrap();
        let fifo = d.join("pipe");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());

        let w = discover(&[d.to_path_buf()], &Filter::default());
        let rels: Vec<_> = w.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["link.log", "notes.txt", "web1/access.log.1"]);
        let reasons: Vec<_> = w.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons.iter().any(|r| r.contains("same file")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|r| r.contains("loop")), "{reasons:?}");
        if ok {
            assert!(reasons.iter().any(|r| r.contains("FIFO")), "{reasons:?}");
        }

        let f = Filter::new(&["*.log*".into()], &["*.1".into()]).unwrap();
        let w = discover(&[d.join("web1")], &f);
        let rels: Vec<_> = w.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["access.log"]);
        assert!(
            w.skipped
                .iter()
                .any(|s| s.reason == "excluded by --exclude")
        );

        let w = discover(&[d.join("notes.txt")], &Filter::default());
        assert_eq!(w.files[0].rel, "notes.txt");
        let w = discover(&[d.join("missing")], &Filter::default());
        assert!(w.files.is_empty() && w.skipped[0].reason.starts_with("cannot read"));
    }
}
