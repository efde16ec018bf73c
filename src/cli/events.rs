//! `leaktrail events`: every parsed event as one JSON object per line, in file and offset order:
//! `{"ts", "ts_local", "source": {"path", "line", "offset"}, "format", "fields", "raw"}`.

use super::args::InputArgs;
use super::progress::Progress;
use crate::parse::{Event, Format, Val};
use crate::report::jsonw;
use crate::scan::{
    self,
    records::{FileCtx, Sink, SinkFactory},
};
use std::io::Write;

/// Serialises events into a buffer per work item.
pub struct JsonSink {
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

/// Makes [`JsonSink`]s.
pub struct JsonFactory;

impl SinkFactory for JsonFactory {
    type Sink = JsonSink;
    fn make(&self) -> JsonSink {
        JsonSink {
            buf: Vec::with_capacity(1 << 20),
            scratch: Vec::new(),
        }
    }
}

impl Sink for JsonSink {
    type Out = Vec<u8>;

    fn event(&mut self, file: &FileCtx, format: Format, ev: &Event<'_, '_>) {
        write_event(&mut self.buf, &mut self.scratch, &file.path, format, ev);
    }

    fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Appends one event as a JSON line.
pub fn write_event(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    path: &str,
    format: Format,
    ev: &Event<'_, '_>,
) {
    out.extend_from_slice(b"{\"ts\":");
    match ev.ts {
        Some(ts) => {
            out.push(b'"');
            ts.write_utc(out);
            out.extend_from_slice(b"\",\"ts_local\":\"");
            ts.write_local(out);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"source\":{\"path\":");
    jsonw::string(out, path.as_bytes());
    out.extend_from_slice(b",\"line\":");
    jsonw::int(out, ev.line as i64);
    out.extend_from_slice(b",\"offset\":");
    jsonw::int(out, ev.offset as i64);
    out.extend_from_slice(b"},\"format\":");
    jsonw::string(out, format.name().as_bytes());
    out.extend_from_slice(b",\"fields\":{");
    let f = ev.fields;
    let mut first = true;
    for i in 0..f.len() {
        // A JSON log may hold both `{"a":{"b":1}}` and `"a.b"`: the first one is kept, so the
        // object never has a key twice.
        if (0..i).any(|j| f.name(j) == f.name(i)) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        jsonw::string(out, f.name(i));
        out.push(b':');
        match f.value(i) {
            Val::Num(n) => jsonw::int(out, n),
            Val::Json(raw)
                if jsonw::is_number(raw) || matches!(raw, b"true" | b"false" | b"null") =>
            {
                out.extend_from_slice(raw)
            }
            v => {
                scratch.clear();
                f.decode(v, scratch);
                jsonw::string(out, scratch);
            }
        }
    }
    out.extend_from_slice(b"},\"raw\":");
    jsonw::string(out, ev.raw);
    out.extend_from_slice(b"}\n");
}

/// Runs `leaktrail events`.
pub fn run(args: InputArgs, quiet: bool) -> anyhow::Result<u8> {
    let opts = args.options()?;
    let progress = Progress::for_roots(&opts.roots, quiet);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut err: Option<std::io::Error> = None;
    let mut emit = |_: &FileCtx, buf: Vec<u8>| {
        if err.is_none()
            && let Err(e) = w.write_all(&buf)
        {
            err = Some(e);
        }
    };
    let result = scan::run(&opts, &JsonFactory, &mut emit, &|n| progress.inc(n));
    progress.finish();
    if let Some(e) = err {
        return Err(e.into());
    }
    w.flush()?;
    super::sources::warn_summary(&result, quiet);
    Ok(if super::nothing_read(&result, &opts.roots) {
        super::EXIT_USAGE
    } else {
        super::EXIT_OK
    })
}
