//! The reading pipeline: discover → open → detect → cut into work items → parse in parallel →
//! merge per-file statistics in file order. Sinks receive the events; the caller receives each
//! work item's sink output in file and offset order, so outputs are deterministic.

mod copies;
pub mod records;
pub mod stats;
mod stream;

use crate::input::{self, Compression, Content, Filter, Found, chunk::Chunk};
use crate::parse::{Format, ParseCtx, YearRef, Zone, sniff};
use globset::GlobMatcher;
use rayon::prelude::*;
use records::{FileCtx, Limits, Parsers, Place, Sink, SinkFactory};
pub use stats::Stats;
use std::path::PathBuf;

/// How to read the evidence.
#[derive(Clone, Debug)]
pub struct Options {
    pub roots: Vec<PathBuf>,
    pub filter: Filter,
    /// `--format GLOB=NAME` overrides, first match wins.
    pub overrides: Vec<(GlobMatcher, Format)>,
    /// Zone for timestamps without one.
    pub zone: Zone,
    /// `--year` for year-less timestamps (else each file's modification time).
    pub year: Option<i32>,
    /// Target chunk size for splitting plain files.
    pub chunk_size: usize,
    /// Records longer than this are cut.
    pub max_record: usize,
    /// Only events in [since, until) (UTC nanoseconds) reach the sinks.
    pub window: (Option<i64>, Option<i64>),
}

impl Options {
    /// Defaults for the given roots.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Options {
            roots,
            filter: Filter::default(),
            overrides: Vec::new(),
            zone: Zone::Utc,
            year: None,
            chunk_size: 1 << 20,
            max_record: 1 << 20,
            window: (None, None),
        }
    }
}

/// What happened to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Read and parsed.
    Read,
    /// Empty file.
    Empty,
    /// Binary content: recognised, not parsed.
    Binary,
    /// A container or compression that is not read.
    Unsupported,
    /// Could not be opened or read.
    Unreadable,
    /// Not read on purpose (special file, filtered, duplicate, symlink loop).
    Skipped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Read => "read",
            Status::Empty => "empty",
            Status::Binary => "binary",
            Status::Unsupported => "unsupported",
            Status::Unreadable => "unreadable",
            Status::Skipped => "skipped",
        }
    }
}

/// Everything known about one file after the scan.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The path as reached (root joined with the walk).
    pub path: String,
    /// Relative to its root.
    pub rel: String,
    pub root: Option<usize>,
    pub status: Status,
    pub size: u64,
    pub sha256: Option<String>,
    pub compression: Option<Compression>,
    pub format: Option<Format>,
    pub stats: Stats,
    pub problems: Vec<String>,
    /// The file's index in the scan (`FileCtx::index`, the `file` of evidence references);
    /// None for files that were not opened (skipped).
    pub index: Option<usize>,
}

impl FileReport {
    fn new(path: String, rel: String, root: Option<usize>, status: Status) -> Self {
        FileReport {
            path,
            rel,
            root,
            status,
            size: 0,
            sha256: None,
            compression: None,
            format: None,
            stats: Stats::default(),
            problems: Vec::new(),
            index: None,
        }
    }
}

/// The result of a scan: every file, read or not, sorted by path.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub files: Vec<FileReport>,
    /// The time window events were read in (`--since`, `--until`; UTC ns).
    pub window: (Option<i64>, Option<i64>),
}

impl ScanResult {
    /// The files that have an index, in index order: `by_index()[r.file]` is the file an
    /// evidence reference `r` points into.
    pub fn by_index(&self) -> Vec<&FileReport> {
        let mut v: Vec<&FileReport> = self.files.iter().filter(|f| f.index.is_some()).collect();
        v.sort_by_key(|f| f.index);
        v
    }

    /// Paths in index order (for evidence references).
    pub fn paths_by_index(&self) -> Vec<String> {
        self.by_index()
            .into_iter()
            .map(|f| f.path.clone())
            .collect()
    }

    /// Number of files that were read.
    pub fn read_count(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.status == Status::Read)
            .count()
    }
}

/// How a file's bytes are turned into records.
enum Plan {
    Nothing,
    Chunks(Vec<Chunk>),
    Stream(Compression),
    Delivery(Compression),
}

struct Prepared {
    report: FileReport,
    path: PathBuf,
    /// The mapping, kept only for files cut into several chunks; other files are mapped again
    /// by their one work item and unmapped when it ends, so a scan of a hundred thousand small
    /// files never holds more maps than it has threads (the kernel limits maps per process).
    opened: Option<input::Opened>,
    ctx: ParseCtx,
    plan: Plan,
    /// The length of the file's content when it is known without decoding it (see
    /// [`copies`]).
    content_len: Option<u64>,
}

/// What the work items of one file add up to.
#[derive(Clone, Default)]
struct FilePart {
    stats: Stats,
    problems: Vec<String>,
    sha256: Option<String>,
    /// Its data could not be decoded at all (see `run_item`).
    undecodable: bool,
}

/// One unit of parallel work.
struct Item {
    file: usize,
    chunk: Option<Chunk>,
    bytes: u64,
}

/// A window of work items runs in parallel, then its outputs are merged in order. Small
/// windows keep few partial states alive at once (they can be large for detection); four
/// items per thread keep the threads busy.
const WINDOW_BYTES: u64 = 64 << 20;
const ITEMS_PER_THREAD: usize = 4;
const SNIFF_BYTES: usize = 64 * 1024;

/// Reads all evidence. `emit` receives each work item's sink output in order; `progress`
/// receives byte counts as work completes.
pub fn run<F: SinkFactory>(
    opts: &Options,
    factory: &F,
    emit: &mut dyn FnMut(&FileCtx, <F::Sink as Sink>::Out),
    progress: &(dyn Fn(u64) + Sync),
) -> ScanResult {
    let walk = input::discover(&opts.roots, &opts.filter);
    let mut prepared: Vec<Prepared> = walk.files.par_iter().map(|f| prepare(f, opts)).collect();
    set_aside_copies(&mut prepared);
    let ctxs: Vec<FileCtx> = prepared
        .iter()
        .enumerate()
        .map(|(i, p)| FileCtx {
            index: i,
            path: p.report.path.clone(),
            format: p.report.format.unwrap_or(Format::Generic),
            window: opts.window,
        })
        .collect();
    let items = plan_items(&prepared);
    // Hashing runs beside parsing (one more read of mapped pages, no second pass from disk).
    let hashes = std::sync::Mutex::new(Vec::new());
    let parts = rayon::in_place_scope(|s| {
        s.spawn(|_| {
            let h: Vec<Option<String>> = prepared
                .par_iter()
                .map(|p| p.opened.as_ref().map(|o| input::sha256_hex(o.bytes())))
                .collect();
            *hashes.lock().unwrap_or_else(|e| e.into_inner()) = h;
        });
        run_items(&items, &prepared, &ctxs, opts, factory, emit, progress)
    });
    let hashes = hashes.into_inner().unwrap_or_else(|e| e.into_inner());
    for (i, part) in parts.into_iter().enumerate() {
        let r = &mut prepared[i].report;
        r.index = Some(i);
        r.stats = part.stats;
        r.problems.extend(part.problems);
        if part.undecodable && r.status == Status::Read {
            r.status = Status::Unreadable;
        }
        let early = r.sha256.take();
        r.sha256 = hashes.get(i).cloned().flatten().or(part.sha256).or(early);
        describe_problems(r);
        dst_problems(r, &opts.zone);
    }
    let mut files: Vec<FileReport> = prepared.into_iter().map(|p| p.report).collect();
    for s in walk.skipped {
        let mut r = FileReport::new(s.path, s.rel, None, Status::Skipped);
        r.size = s.size;
        r.problems.push(s.reason);
        files.push(r);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    disambiguate(&mut files);
    ScanResult {
        files,
        window: opts.window,
    }
}

/// Files whose content an earlier file holds are not read again (see [`copies`]): each says
/// which file it repeats, and keeps its own SHA-256.
fn set_aside_copies(prepared: &mut [Prepared]) {
    let candidates: Vec<copies::Candidate> = prepared
        .iter()
        .enumerate()
        .filter_map(|(index, p)| {
            Some(copies::Candidate {
                index,
                comp: p.report.compression?,
                len: p.content_len?,
            })
        })
        .collect();
    let paths: Vec<PathBuf> = prepared.iter().map(|p| p.path.clone()).collect();
    let read = |i: usize| input::open::open(&paths[i]).ok();
    let found = copies::find(&candidates, &read);
    for (copy, orig) in found {
        let sha = read(copy).map(|o| input::sha256_hex(o.bytes()));
        let what = if prepared[copy].report.compression == prepared[orig].report.compression {
            "the same content"
        } else {
            "the same content, decompressed,"
        };
        let msg = format!(
            "not read: {what} as {}, which is read (a copy: its records are counted once)",
            prepared[orig].report.path
        );
        let p = &mut prepared[copy];
        p.report.status = Status::Skipped;
        p.report.problems.push(msg);
        p.report.sha256 = sha;
        p.plan = Plan::Nothing;
        p.opened = None;
    }
}

/// Two roots can hold the same relative path (`web1/` and `web2/` each with `access.log`): a
/// reference to `access.log:1822` would not say which server. Such files are named by their
/// location instead.
fn disambiguate(files: &mut [FileReport]) {
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in files.iter() {
        *count.entry(f.rel.clone()).or_default() += 1;
    }
    for f in files.iter_mut().filter(|f| count[&f.rel] > 1) {
        f.rel = f.path.clone();
    }
}

fn plan_items(prepared: &[Prepared]) -> Vec<Item> {
    let mut items = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        match &p.plan {
            Plan::Nothing => {}
            Plan::Chunks(chunks) => items.extend(chunks.iter().map(|c| Item {
                file: i,
                chunk: Some(*c),
                bytes: (c.end - c.start) as u64,
            })),
            Plan::Stream(_) | Plan::Delivery(_) => items.push(Item {
                file: i,
                chunk: None,
                bytes: p.report.size,
            }),
        }
    }
    items
}

/// Runs the items window by window (each window in parallel), merging results in order.
fn run_items<F: SinkFactory>(
    items: &[Item],
    prepared: &[Prepared],
    ctxs: &[FileCtx],
    opts: &Options,
    factory: &F,
    emit: &mut dyn FnMut(&FileCtx, <F::Sink as Sink>::Out),
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<FilePart> {
    let mut per_file: Vec<FilePart> = vec![FilePart::default(); prepared.len()];
    let window_items = rayon::current_num_threads().max(1) * ITEMS_PER_THREAD;
    let mut i = 0;
    while i < items.len() {
        let mut j = i;
        let mut bytes = 0;
        while j < items.len() && (j == i || (bytes < WINDOW_BYTES && j - i < window_items)) {
            bytes += items[j].bytes;
            j += 1;
        }
        let outs: Vec<_> = items[i..j]
            .par_iter()
            .map(|it| {
                let r = run_item(it, &prepared[it.file], &ctxs[it.file], opts, factory);
                progress(it.bytes);
                r
            })
            .collect();
        for (it, (part, out)) in items[i..j].iter().zip(outs) {
            let slot = &mut per_file[it.file];
            slot.stats.merge(&part.stats);
            slot.problems.extend(part.problems);
            slot.sha256 = slot.sha256.take().or(part.sha256);
            slot.undecodable |= part.undecodable;
            emit(&ctxs[it.file], out);
        }
        i = j;
    }
    per_file
}

type ItemOut<F> = (FilePart, <<F as SinkFactory>::Sink as Sink>::Out);

fn run_item<F: SinkFactory>(
    it: &Item,
    p: &Prepared,
    file: &FileCtx,
    opts: &Options,
    factory: &F,
) -> ItemOut<F> {
    let mut sink = factory.make();
    let mut stats = Stats::default();
    let mut parsers = Parsers::new(file.format, &p.ctx);
    let limits = Limits {
        max_record: opts.max_record,
    };
    let mut part = FilePart::default();
    let reopened = match &p.opened {
        Some(_) => None,
        None => match input::open::open(&p.path) {
            Ok(o) => Some(o),
            Err(e) => {
                part.problems.push(format!("cannot read any more: {e}"));
                return (part, sink.finish());
            }
        },
    };
    let data = p
        .opened
        .as_ref()
        .or(reopened.as_ref())
        .map_or(&[][..], |o| o.bytes());
    if reopened.is_some() {
        if data.len() as u64 != p.report.size {
            part.problems.push(format!(
                "the file changed while it was read (size {} then {})",
                p.report.size,
                data.len()
            ));
        }
        part.sha256 = Some(input::sha256_hex(data));
    }
    // Plain bytes are parsed in place: a chunk, or a whole file of a stateful format.
    let in_place = match (&p.plan, it.chunk) {
        (Plan::Chunks(_), Some(c)) => Some((&data[c.start..c.end], c.start, c.first_line)),
        (Plan::Stream(Compression::None), _) => Some((data, 0, 1)),
        _ => None,
    };
    if let Some((buf, offset, first_line)) = in_place {
        let place = Place {
            offset: offset as u64,
            first_line,
        };
        records::run_buffer(
            buf,
            place,
            file,
            &mut parsers,
            &mut sink,
            &mut stats,
            limits,
        );
        part.stats = stats;
        return (part, sink.finish());
    }
    let problem = match &p.plan {
        Plan::Stream(comp) => stream::stream(
            *comp,
            data,
            file,
            &mut parsers,
            &mut sink,
            &mut stats,
            limits,
        ),
        Plan::Delivery(comp) => {
            let (doc, err) = stream::decode_all(*comp, data);
            let p2 = records::run_delivery(&doc, file, &mut parsers, &mut sink, &mut stats);
            err.or(p2)
        }
        _ => None,
    };
    // A compressed file whose damage left nothing to read is unreadable, not read.
    part.undecodable = problem.is_some() && stats.lines == 0;
    part.stats = stats;
    part.problems.extend(problem);
    (part, sink.finish())
}

/// Opens, classifies and plans one file.
fn prepare(f: &Found, opts: &Options) -> Prepared {
    let path = f.path.display().to_string();
    let mut report = FileReport::new(path, f.rel.clone(), Some(f.root), Status::Read);
    let mut ctx = ParseCtx {
        zone: opts.zone.clone(),
        year: YearRef::fixed(opts.year.unwrap_or(1970)),
    };
    let opened = match input::open::open(&f.path) {
        Ok(o) => o,
        Err(e) => {
            report.status = Status::Unreadable;
            report.problems.push(format!("cannot read: {e}"));
            return Prepared {
                report,
                path: f.path.clone(),
                opened: None,
                ctx,
                plan: Plan::Nothing,
                content_len: None,
            };
        }
    };
    report.size = opened.size;
    ctx.year = match (opts.year, opened.mtime) {
        (Some(y), _) => YearRef::fixed(y),
        (None, Some(m)) => YearRef::from_mtime(m),
        (None, None) => YearRef::fixed(1970),
    };
    let bytes = opened.bytes();
    let (status, comp, plan_fmt) = classify(bytes, &f.rel, opts, &ctx, &mut report.problems);
    report.status = status;
    report.compression = comp;
    report.format = plan_fmt;
    let plan = match (status, comp, plan_fmt) {
        (Status::Read, Some(c), Some(Format::CloudTrailDelivery)) => Plan::Delivery(c),
        (Status::Read, Some(Compression::None), Some(fmt)) if fmt.splittable() => {
            let cont = match fmt.framing() {
                crate::parse::Framing::Continued(c) => Some(c),
                _ => None,
            };
            Plan::Chunks(input::chunk::split(bytes, opts.chunk_size, cont))
        }
        (Status::Read, Some(c), Some(_)) => Plan::Stream(c),
        _ => Plan::Nothing,
    };
    // Keep the mapping only when several work items share it; read-nothing files are hashed
    // here, others by their work item.
    let keep = matches!(&plan, Plan::Chunks(c) if c.len() > 1);
    if matches!(plan, Plan::Nothing) {
        report.sha256 = Some(input::sha256_hex(opened.bytes()));
    }
    let content_len = match (&plan, comp) {
        (Plan::Nothing, _) | (_, None) => None,
        (_, Some(c)) => copies::content_len(c, bytes),
    };
    Prepared {
        report,
        path: f.path.clone(),
        opened: keep.then_some(opened),
        ctx,
        plan,
        content_len,
    }
}

/// The format of every readable file under the roots, from its first bytes only (no parse):
/// (relative path, format). Files that are empty, binary or unreadable are left out.
pub fn formats_present(opts: &Options) -> Vec<(String, Format)> {
    let walk = input::walk::discover(&opts.roots, &opts.filter);
    let ctx = ParseCtx {
        zone: opts.zone.clone(),
        year: YearRef::fixed(opts.year.unwrap_or(1970)),
    };
    let mut out = Vec::new();
    for f in &walk.files {
        let Ok(opened) = input::open::open(&f.path) else {
            continue;
        };
        let mut problems = Vec::new();
        if let (Status::Read, _, Some(fmt)) =
            classify(opened.bytes(), &f.rel, opts, &ctx, &mut problems)
        {
            out.push((f.rel.clone(), fmt));
        }
    }
    out
}

/// Compression, content and format of a file.
fn classify(
    bytes: &[u8],
    rel: &str,
    opts: &Options,
    ctx: &ParseCtx,
    problems: &mut Vec<String>,
) -> (Status, Option<Compression>, Option<Format>) {
    let comp = match input::open::classify(&bytes[..bytes.len().min(SNIFF_BYTES)]) {
        Content::Empty => return (Status::Empty, None, None),
        Content::Binary => {
            problems.push("binary file (NUL bytes near the start): not parsed".into());
            return (Status::Binary, Some(Compression::None), None);
        }
        Content::Unsupported(what) => {
            problems.push(format!("{what}: not parsed"));
            return (Status::Unsupported, None, None);
        }
        Content::Text(c) => c,
    };
    let head: std::borrow::Cow<[u8]> = match comp {
        Compression::None => bytes[..bytes.len().min(SNIFF_BYTES)].into(),
        c => input::open::decode_head(c, bytes, SNIFF_BYTES).into(),
    };
    if comp != Compression::None {
        if let Content::Unsupported(what) = input::open::classify(&head) {
            problems.push(format!("{} holding a {what}: not parsed", comp.name()));
            return (Status::Unsupported, Some(comp), None);
        }
        if input::open::looks_binary(&head) {
            problems.push(format!(
                "{}-compressed binary data: not parsed",
                comp.name()
            ));
            return (Status::Binary, Some(comp), None);
        }
        if head.is_empty() && bytes.len() > 32 {
            problems.push(format!("{} stream yields no data (damaged?)", comp.name()));
        }
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let fmt = opts
        .overrides
        .iter()
        .find(|(g, _)| g.is_match(rel) || g.is_match(name))
        .map(|(_, f)| *f)
        .unwrap_or_else(|| sniff::detect(&head, ctx));
    (Status::Read, Some(comp), Some(fmt))
}

/// Turns counters into readable problem lines for the report.
/// A file whose times carry no zone, read in a zone whose clocks changed while it was written:
/// an hour repeats (times in it are read as its first pass) or is skipped (times in it do not
/// exist, and take the offset before). Events there may be out of order by an hour: said so.
fn dst_problems(r: &mut FileReport, zone: &crate::parse::Zone) {
    let (Some(first), Some(last)) = (r.stats.first, r.stats.last) else {
        return;
    };
    if !first.assumed && !last.assumed {
        return;
    }
    let wall = |secs: i64| {
        let t = crate::timeline::utc(secs * 1_000_000_000);
        t.get(..16).unwrap_or(&t).replace('T', " ")
    };
    // Times in a repeated hour are read as its first pass, before the change instant: the
    // range is widened by an hour on each side so that a file ending in that hour is seen.
    const HOUR: i64 = 3_600_000_000_000;
    for (at, before, after) in zone.changes(first.nanos - HOUR, last.nanos + HOUR, 4) {
        let to = wall(at + i64::from(after));
        let what = if after < before {
            "the hour before repeats: a time in it is read as its first pass"
        } else {
            "the hour skipped does not exist: a time in it takes the offset before"
        };
        r.problems.push(format!(
            "its times carry no zone and are read as {}, whose clocks went from {} to {} local time ({what}); if any of its times fall in that hour, events around it may be out of order by up to an hour",
            zone.name(),
            wall(at + i64::from(before)),
            to.get(11..).unwrap_or(&to)
        ));
    }
}

fn describe_problems(r: &mut FileReport) {
    let s = &r.stats;
    let mut out = Vec::new();
    if s.unparsed > 0 {
        let first = s.examples.first().map_or(String::new(), |e| {
            format!(" (first: line {}: {})", e.line, e.reason)
        });
        out.push(format!(
            "{} record(s) could not be parsed{first}",
            s.unparsed
        ));
    }
    if s.fallback > 0 {
        let fmt = r.format.map_or("its", |f| f.name());
        out.push(format!(
            "{} line(s) did not match the {fmt} format and were read by the generic text parser (first: line {})",
            s.fallback,
            s.first_fallback.unwrap_or(0)
        ));
    }
    if s.mixed > 0 {
        out.push(format!(
            "{} line(s) are web server error-log lines mixed into the access log (first: line {}); read as such",
            s.mixed,
            s.first_mixed.unwrap_or(0)
        ));
    }
    if s.long_lines > 0 {
        out.push(format!(
            "{} record(s) longer than the limit were cut (first: line {})",
            s.long_lines,
            s.first_long_line.unwrap_or(0)
        ));
    }
    if s.invalid_utf8 > 0 {
        out.push(format!(
            "{} line(s) are not valid UTF-8 (first: line {}); kept as bytes, shown with U+FFFD",
            s.invalid_utf8,
            s.first_invalid_utf8.unwrap_or(0)
        ));
    }
    if s.untimed > 0 {
        out.push(format!("{} event(s) carry no timestamp", s.untimed));
    }
    r.problems.extend(out);
}
