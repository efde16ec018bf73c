//! Reading records out of a buffer (a chunk of a mapped file, or a piece of a decoded stream):
//! framing, the line-length bound, UTF-8 accounting, the parser with its generic fallback, and
//! handing each event to a [`Sink`].

use super::stats::Stats;
use crate::input::chunk::count_newlines;
use crate::parse::{Event, Fields, Format, Framing, Outcome, ParseCtx, RecordParser, cloudtrail};

/// What a sink knows about the file an event came from.
#[derive(Clone, Debug)]
pub struct FileCtx {
    /// Index of the file in the scan.
    pub index: usize,
    /// The path as displayed and written in outputs.
    pub path: String,
    /// The file's format.
    pub format: Format,
    /// `--since`/`--until` (UTC nanoseconds): events outside are counted but not passed on.
    pub window: (Option<i64>, Option<i64>),
}

impl FileCtx {
    /// True when an event at `ts` is inside the window (untimed events are outside a set one).
    pub fn in_window(&self, ts: Option<crate::parse::Timestamp>) -> bool {
        match (self.window, ts) {
            ((None, None), _) => true,
            (_, None) => false,
            ((since, until), Some(t)) => {
                since.is_none_or(|s| t.nanos >= s) && until.is_none_or(|u| t.nanos < u)
            }
        }
    }
}

/// Receives events. One sink serves one work item; its output is collected in file order.
pub trait Sink: Send {
    type Out: Send;
    /// One event; `format` is the parser that produced it (the file's, or the generic fallback).
    fn event(&mut self, file: &FileCtx, format: Format, ev: &Event<'_, '_>);
    /// A buffer of records of the file's format is about to be parsed (its events follow;
    /// their raw records are slices of it). Lets a sink search the whole buffer at once.
    /// Returns true when the sink found every byte to be ASCII while at it (the buffer is
    /// then valid UTF-8, and is not checked again).
    fn buffer(&mut self, _data: &[u8], _format: Format) -> bool {
        false
    }
    /// The record about to be parsed is followed by `rest` (the buffer after it): lets a
    /// sink look ahead, to fetch what coming records will need before they are parsed.
    #[inline]
    fn ahead(&mut self, _rest: &[u8]) {}
    /// The sink's result for its work item.
    fn finish(self) -> Self::Out;
}

/// Makes a sink per work item.
pub trait SinkFactory: Sync {
    type Sink: Sink;
    fn make(&self) -> Self::Sink;
}

/// A sink that only lets the statistics be counted.
pub struct NullSink;

impl Sink for NullSink {
    type Out = ();
    #[inline]
    fn event(&mut self, _: &FileCtx, _: Format, _: &Event<'_, '_>) {}
    fn finish(self) {}
}

impl SinkFactory for NullSink {
    type Sink = NullSink;
    fn make(&self) -> NullSink {
        NullSink
    }
}

/// The parsers of one work item: the file's own, and the generic one for lines it rejects.
pub struct Parsers {
    main: Box<dyn RecordParser>,
    /// For an access log: the web servers' error-log parsers, for error lines mixed in (a
    /// container's stdout and stderr collected together, `docker logs httpd`).
    siblings: Vec<(Format, Box<dyn RecordParser>)>,
    fallback: Option<Box<dyn RecordParser>>,
    format: Format,
}

impl Parsers {
    pub fn new(format: Format, ctx: &ParseCtx) -> Self {
        // Line-oriented text formats fall back to the generic parser; structured formats
        // (JSON, CSV, W3C with its header, MySQL's inherited times) do not.
        let fallback = matches!(
            format,
            Format::Access
                | Format::Syslog
                | Format::Postgres
                | Format::ApacheError
                | Format::NginxError
                | Format::Alb
                | Format::Elb
                | Format::S3Access
                | Format::Squid
                | Format::W3c
                | Format::Zeek
        )
        .then(|| Format::Generic.parser(ctx));
        let siblings = match format {
            Format::Access => [Format::ApacheError, Format::NginxError]
                .into_iter()
                .map(|f| (f, f.parser(ctx)))
                .collect(),
            _ => Vec::new(),
        };
        Parsers {
            main: format.parser(ctx),
            siblings,
            fallback,
            format,
        }
    }
}

/// Limits that apply while reading.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Records longer than this are cut (and counted).
    pub max_record: usize,
}

/// Where a buffer sits in its file.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub offset: u64,
    pub first_line: u64,
}

/// The end of the record starting at `pos`: (end of record bytes, start of next, lines).
fn next_record(data: &[u8], pos: usize, framing: Framing) -> (usize, usize, u64) {
    let line_end = |p: usize| memchr::memchr(b'\n', &data[p..]).map_or(data.len(), |e| p + e);
    match framing {
        Framing::Csv => csv_record_end(data, pos),
        Framing::Continued(is_cont) => {
            let mut end = line_end(pos);
            let mut lines = 1;
            while end < data.len() {
                let next = end + 1;
                if next >= data.len() {
                    break;
                }
                let ne = line_end(next);
                if !is_cont(&data[next..ne]) {
                    break;
                }
                end = ne;
                lines += 1;
            }
            (end, (end + 1).min(data.len()), lines)
        }
        _ => {
            let end = line_end(pos);
            (end, (end + 1).min(data.len()), 1)
        }
    }
}

/// A CSV record ends at the first newline outside quotes. A csvlog record always starts with
/// its timestamp, so a line that starts with one ends a record whose quote was never closed
/// (a crash-truncated write) instead of being swallowed by it.
fn csv_record_end(data: &[u8], pos: usize) -> (usize, usize, u64) {
    let mut inq = false;
    let mut i = pos;
    let mut lines = 1;
    while let Some(p) = memchr::memchr2(b'"', b'\n', &data[i..]) {
        let k = i + p;
        if data[k] == b'"' {
            inq = !inq;
        } else if inq && !starts_csv_record(&data[k + 1..]) {
            lines += 1;
        } else {
            return (k, k + 1, lines);
        }
        i = k + 1;
    }
    (data.len(), data.len(), lines)
}

fn starts_csv_record(rest: &[u8]) -> bool {
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    crate::parse::time::parse_iso(&rest[..rest.len().min(40)]).is_some()
}

/// Parses every record of `data`, feeding events to `sink` and counts to `stats`.
pub fn run_buffer<S: Sink>(
    data: &[u8],
    place: Place,
    file: &FileCtx,
    parsers: &mut Parsers,
    sink: &mut S,
    stats: &mut Stats,
    limits: Limits,
) {
    if !sink.buffer(data, parsers.format) {
        utf8_scan(data, place.first_line, stats);
    }
    let framing = parsers.format.framing();
    let mut fields = Fields::default();
    // A UTF-8 byte-order mark at the start of a file is not part of the first record.
    let mut pos = if place.offset == 0 && data.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let mut line = place.first_line;
    while pos < data.len() {
        let (end, next, nlines) = next_record(data, pos, framing);
        let mut rec = &data[pos..end];
        if rec.last() == Some(&b'\r') {
            rec = &rec[..rec.len() - 1];
        }
        stats.lines += nlines;
        if rec.iter().all(|c| *c == b' ' || *c == b'\t') {
            stats.blank += nlines;
        } else {
            if rec.len() > limits.max_record {
                stats.long_lines += 1;
                stats.first_long_line.get_or_insert(line);
                rec = &rec[..limits.max_record];
            }
            stats.records += 1;
            let offset = place.offset + pos as u64;
            sink.ahead(&data[next..]);
            parse_one(rec, line, offset, file, parsers, &mut fields, sink, stats);
        }
        line += nlines;
        pos = next;
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn parse_one<'a, S: Sink>(
    rec: &'a [u8],
    line: u64,
    offset: u64,
    file: &FileCtx,
    parsers: &mut Parsers,
    fields: &mut Fields<'a>,
    sink: &mut S,
    stats: &mut Stats,
) {
    fields.clear();
    let (res, fmt) = match parsers.main.parse(rec, fields) {
        Ok(o) => (Ok(o), parsers.format),
        Err(reason) => match sibling(parsers, rec, fields) {
            Some((o, f)) => {
                stats.mixed += 1;
                stats.first_mixed.get_or_insert(line);
                (Ok(o), f)
            }
            None => match parsers.fallback.as_mut() {
                Some(fb) => {
                    fields.clear();
                    match fb.parse(rec, fields) {
                        Ok(o) => {
                            stats.fallback += 1;
                            stats.first_fallback.get_or_insert(line);
                            (Ok(o), Format::Generic)
                        }
                        Err(_) => (Err(reason), parsers.format),
                    }
                }
                None => (Err(reason), parsers.format),
            },
        },
    };
    match res {
        Ok(Outcome::Event(ts)) => {
            stats.saw(ts);
            if file.in_window(ts) {
                let ev = Event {
                    ts,
                    line,
                    offset,
                    raw: rec,
                    fields,
                };
                sink.event(file, fields.inner_format().unwrap_or(fmt), &ev);
            }
        }
        Ok(Outcome::Meta) => stats.meta += 1,
        Err(reason) => stats.reject(line, reason, rec),
    }
}

/// A record the file's parser rejected, read by a sibling format's parser.
#[inline(never)]
fn sibling<'a>(
    parsers: &mut Parsers,
    rec: &'a [u8],
    fields: &mut Fields<'a>,
) -> Option<(Outcome, Format)> {
    for (f, p) in &mut parsers.siblings {
        fields.clear();
        if let Ok(o) = p.parse(rec, fields) {
            return Some((o, *f));
        }
    }
    None
}

/// Counts lines holding invalid UTF-8 (a whole-buffer check first: valid text costs one pass).
fn utf8_scan(data: &[u8], first_line: u64, stats: &mut Stats) {
    let mut pos = 0;
    let mut counted = 0;
    let mut line = first_line;
    while pos < data.len() {
        let Err(e) = std::str::from_utf8(&data[pos..]) else {
            return;
        };
        let bad = pos + e.valid_up_to();
        line += count_newlines(&data[counted..bad]);
        stats.invalid_utf8 += 1;
        stats.first_invalid_utf8.get_or_insert(line);
        match memchr::memchr(b'\n', &data[bad..]) {
            Some(p) => {
                pos = bad + p + 1;
                line += 1;
                counted = pos;
            }
            None => return,
        }
    }
}

/// Reads a CloudTrail delivery document: one event per element of `Records`. Returns a problem
/// when the document is damaged (the records before the damage are kept).
pub fn run_delivery<S: Sink>(
    doc: &[u8],
    file: &FileCtx,
    parsers: &mut Parsers,
    sink: &mut S,
    stats: &mut Stats,
) -> Option<String> {
    utf8_scan(doc, 1, stats);
    stats.lines += count_newlines(doc) + u64::from(doc.last().is_some_and(|c| *c != b'\n'));
    let (spans, err) = cloudtrail::record_spans(doc);
    let mut fields = Fields::default();
    let mut line = 1;
    let mut counted = 0;
    for (s, e) in spans {
        line += count_newlines(&doc[counted..s]);
        counted = s;
        stats.records += 1;
        parse_one(
            &doc[s..e],
            line,
            s as u64,
            file,
            parsers,
            &mut fields,
            sink,
            stats,
        );
    }
    err.map(|e| {
        stats.unparsed += 1;
        format!(
            "CloudTrail document damaged at byte {}: {}; the {} records before it were read",
            e.offset, e.reason, stats.records
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{YearRef, Zone};

    struct Collect(Vec<(u64, u64, String)>);
    impl Sink for Collect {
        type Out = Vec<(u64, u64, String)>;
        fn event(&mut self, _: &FileCtx, f: Format, ev: &Event<'_, '_>) {
            self.0.push((
                ev.line,
                ev.offset,
                format!("{}:{}", f.name(), String::from_utf8_lossy(ev.raw)),
            ));
        }
        fn finish(self) -> Self::Out {
            self.0
        }
    }

    fn run(fmt: Format, data: &[u8], max: usize) -> (Stats, Vec<(u64, u64, String)>) {
        let ctx = ParseCtx {
            zone: Zone::Utc,
            year: YearRef::fixed(2026),
        };
        let file = FileCtx {
            index: 0,
            path: "t".into(),
            format: fmt,
            window: (None, None),
        };
        let mut p = Parsers::new(fmt, &ctx);
        let mut sink = Collect(Vec::new());
        let mut st = Stats::default();
        let place = Place {
            offset: 100,
            first_line: 10,
        };
        run_buffer(
            data,
            place,
            &file,
            &mut p,
            &mut sink,
            &mut st,
            Limits { max_record: max },
        );
        (st, sink.finish())
    }

    #[test]
    fn error_lines_in_an_access_log_are_read_as_error_lines() {
        // `docker logs` of a web server: its access and error streams in one file.
        let data = concat!(
            "172.17.0.1 - - [11/Oct/2021:06:40:52 +0000] \"GET / HTTP/1.1\" 200 7\n",
            "[Fri Oct 08 17:08:41.203277 2021] [core:error] [pid 7005:tid 1] [client 192.0.2.87:14532] AH00126: Invalid URI in request GET /x HTTP/1.1\n",
            "2021/10/13 10:00:00 [error] 1234#0: *5 open() failed, client: 192.0.2.9, server: x, request: \"GET /y HTTP/1.1\"\n",
            "Oct 13 09:00:00 host prog: something else\n",
        );
        let (st, ev) = run(Format::Access, data.as_bytes(), 1 << 20);
        assert_eq!(
            (st.parsed, st.mixed, st.fallback, st.unparsed),
            (4, 2, 1, 0)
        );
        // The report names the first line of each kind.
        assert_eq!((st.first_mixed, st.first_fallback), (Some(11), Some(13)));
        let formats: Vec<&str> = ev.iter().map(|e| e.2.split(':').next().unwrap()).collect();
        assert_eq!(formats, ["access", "apache-error", "nginx-error", "text"]);
        // Other formats have no siblings: an error line in syslog is text.
        let (st, _) = run(Format::Syslog, data.as_bytes(), 1 << 20);
        assert_eq!(st.mixed, 0);
    }

    #[test]
    fn counts_lines_records_fallback_and_problems() {
        let data = b"1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5\r\n\nOct 13 09:00:00 host prog: fell back\ngarbage \xff\xfe line\n1.2.3.4 - - [13/Oct/2026:09:14:03 +0000] \"GET /x HTTP/1.1\" 200 5";
        let (st, ev) = run(Format::Access, data, 1 << 20);
        assert_eq!((st.lines, st.records, st.blank), (5, 4, 1));
        assert_eq!((st.parsed, st.unparsed, st.fallback), (3, 1, 1));
        assert_eq!(st.first_fallback, Some(12));
        assert_eq!((st.invalid_utf8, st.first_invalid_utf8), (1, Some(13)));
        assert_eq!(st.examples[0].line, 13);
        assert_eq!(
            ev[0],
            (
                10,
                100,
                "access:1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5"
                    .to_string()
            )
        );
        assert_eq!(ev[1].0, 12);
        assert!(ev[1].2.starts_with("text:Oct 13"));
        assert_eq!(ev[2].0, 14);
    }

    #[test]
    fn multi_line_records_and_long_lines() {
        let data = b"2026-10-13 10:21:07 UTC [1] a@b LOG:  statement: SELECT 1,\n\t2\n2026-10-13 10:21:08 UTC [1] a@b LOG:  x\n";
        let (st, ev) = run(Format::Postgres, data, 1 << 20);
        assert_eq!((st.lines, st.records, st.parsed), (3, 2, 2));
        assert_eq!((ev[0].0, ev[1].0), (10, 12));
        // macOS syslog: a notice's detail lines are tab-indented under it.
        let data = b"Aug 16 00:32:15 air syslogd[314]: Configuration Notice:\n\tASL Module \"com.apple.install\" claims selected messages.\n\tThose messages may not appear.\nAug 16 00:32:16 air sshd[9]: Accepted publickey for tim from 192.0.2.4 port 5 ssh2\n";
        let (st, ev) = run(Format::Syslog, data, 1 << 20);
        assert_eq!((st.lines, st.records, st.parsed, st.unparsed), (4, 2, 2, 0));
        assert!(ev[0].2.ends_with("may not appear."), "{:?}", ev[0].2);
        assert!(ev[1].2.starts_with("syslog:Aug 16 00:32:16"));
        let long = format!("2026-10-13 10:21:07 x {}\n", "a".repeat(5000));
        let (st, _) = run(Format::Generic, long.as_bytes(), 1000);
        assert_eq!((st.long_lines, st.parsed), (1, 1));
    }

    #[test]
    fn an_unclosed_csv_quote_does_not_swallow_the_file() {
        let good = "2026-10-13 10:21:07.311 UTC,\"u\",\"d\",1,\"10.0.0.1:5\",s,1,\"\",2026-10-13 10:00:00 UTC,1/1,0,LOG,00000,\"statement: SELECT 1\",,,,,,,,,\"psql\"\n";
        let broken = "2026-10-13 10:21:08.000 UTC,\"u\",\"d\",1,\"10.0.0.1:5\",s,2,\"\",2026-10-13 10:00:00 UTC,1/1,0,LOG,00000,\"statement: SELECT 2\n";
        let data = format!("{good}{broken}{good}{good}");
        let (st, _) = run(Format::PostgresCsv, data.as_bytes(), 1 << 20);
        // The broken record is read as far as it goes; the records after it are intact.
        assert_eq!((st.lines, st.records, st.parsed, st.unparsed), (4, 4, 4, 0));
    }

    #[test]
    fn csv_records_span_lines() {
        let data = b"2026-10-13 10:21:07.311 UTC,\"u\",\"d\",1,\"10.0.0.1:5\",s,1,\"\",2026-10-13 10:00:00 UTC,1/1,0,LOG,00000,\"statement: SELECT\n  1\",,,,,,,,,\"psql\"\n";
        let (st, _) = run(Format::PostgresCsv, data, 1 << 20);
        assert_eq!((st.lines, st.records, st.parsed), (2, 1, 1));
    }
}
