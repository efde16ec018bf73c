//! Compressed files: a decoder thread fills buffers cut at record boundaries while the calling
//! thread parses the previous one (decoding and parsing overlap, as PERFORMANCE.md §8 asks).
//! A decoding error ends the stream; everything decoded before it is parsed and the damage is
//! reported.

use super::records::{self, FileCtx, Limits, Parsers, Place, Sink};
use super::stats::Stats;
use crate::input::{self, Compression, chunk::count_newlines};
use crate::parse::{Format, Framing};
use std::borrow::Cow;
use std::io::Read;
use std::sync::mpsc;

/// Target size of one decoded buffer.
const BUF: usize = 4 << 20;

/// The problem line for a damaged stream.
pub fn damage(comp: Compression, at: u64, e: &std::io::Error) -> String {
    format!(
        "{} data damaged or truncated after {at} decompressed bytes ({e}); everything before it was read",
        comp.name()
    )
}

/// Decodes a whole (small) document; a decoding error is returned as a problem and what was
/// decoded before it is kept.
pub fn decode_all(comp: Compression, data: &[u8]) -> (Cow<'_, [u8]>, Option<String>) {
    if comp == Compression::None {
        return (Cow::Borrowed(data), None);
    }
    let mut out = Vec::new();
    let err = match input::open::decoder(comp, data).and_then(|mut d| d.read_to_end(&mut out)) {
        Ok(_) => None,
        Err(e) => Some(damage(comp, out.len() as u64, &e)),
    };
    (Cow::Owned(out), err)
}

/// Parses a compressed file: decoding on a helper thread, parsing here. The parser keeps its
/// state across buffers.
pub fn stream<S: Sink>(
    comp: Compression,
    data: &[u8],
    file: &FileCtx,
    parsers: &mut Parsers,
    sink: &mut S,
    stats: &mut Stats,
    limits: Limits,
) -> Option<String> {
    let (tx, rx) = mpsc::sync_channel::<(Vec<u8>, Place)>(1);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let format = file.format;
    std::thread::scope(|s| {
        let max = limits.max_record;
        let decoder = s.spawn(move || decode(comp, data, format, max, &tx, &back_rx));
        for (buf, place) in rx {
            records::run_buffer(&buf, place, file, parsers, sink, stats, limits);
            let _ = back_tx.send(buf);
        }
        decoder
            .join()
            .unwrap_or_else(|_| Some(format!("{} decoder failed", comp.name())))
    })
}

/// The decoder side: fills buffers, cuts them after the last complete record, sends them on.
fn decode(
    comp: Compression,
    data: &[u8],
    format: Format,
    max_record: usize,
    tx: &mpsc::SyncSender<(Vec<u8>, Place)>,
    back: &mpsc::Receiver<Vec<u8>>,
) -> Option<String> {
    let mut dec = match input::open::decoder(comp, data) {
        Ok(d) => d,
        Err(e) => return Some(damage(comp, 0, &e)),
    };
    let mut place = Place {
        offset: 0,
        first_line: 1,
    };
    let mut carry: Vec<u8> = Vec::new();
    let mut problem = None;
    let mut eof = false;
    while !eof {
        let mut buf = back
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BUF + (256 << 10)));
        buf.clear();
        buf.extend_from_slice(&carry);
        while buf.len() < BUF {
            let start = buf.len();
            buf.resize(start + (256 << 10), 0);
            match dec.read(&mut buf[start..]) {
                Ok(0) => {
                    buf.truncate(start);
                    eof = true;
                    break;
                }
                Ok(n) => buf.truncate(start + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(start),
                Err(e) => {
                    buf.truncate(start);
                    problem = Some(damage(comp, place.offset + start as u64, &e));
                    eof = true;
                    break;
                }
            }
        }
        if !eof && memchr::memchr(b'\n', &buf).is_none() {
            // One line fills the whole buffer: keep its start (one byte over the bound, so the
            // parser counts and cuts it), skip the rest of it, and go on after its newline.
            let filled = buf.len();
            buf.truncate((max_record + 1).min(filled));
            let (skipped, rest, err) = skip_line(&mut *dec);
            if let Some(e) = err {
                problem = Some(damage(comp, place.offset + (filled + skipped) as u64, &e));
                eof = true;
            }
            eof |= rest.is_none();
            let consumed = filled + skipped + usize::from(rest.is_some());
            carry = rest.unwrap_or_default();
            buf.push(b'\n');
            let next = Place {
                offset: place.offset + consumed as u64,
                first_line: place.first_line + 1,
            };
            if tx.send((buf, place)).is_err() {
                break;
            }
            place = next;
            continue;
        }
        // At a clean end the last record is whole, newline or not; where compressed text is
        // damaged, the record the damage cut is not read as one (a cut `200 3476` would read
        // as `200 34`): it is named in the problem instead. A journal or utmp reader gives
        // whole entries only.
        let whole_entries = matches!(comp, Compression::Journal | Compression::Utmp);
        let cut = if eof && (problem.is_none() || whole_entries) {
            buf.len()
        } else if problem.is_some() {
            // Damaged: the last record is cut unless a newline ends it, even when it is all
            // the buffer holds.
            match cut_point(&buf, format) {
                c if c == buf.len() && !buf.ends_with(b"\n") => 0,
                c => c,
            }
        } else {
            cut_point(&buf, format)
        };
        carry.clear();
        carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let next = Place {
            offset: place.offset + cut as u64,
            first_line: place.first_line + count_newlines(&buf),
        };
        if let Some(p) = problem.as_mut()
            && !carry.is_empty()
        {
            p.push_str(&format!(
                "; the record it cut (line {}, {} bytes) was not read",
                next.first_line,
                carry.len()
            ));
            carry.clear();
        }
        if !buf.is_empty() && tx.send((buf, place)).is_err() {
            break;
        }
        place = next;
    }
    problem
}

/// Reads past the rest of an over-long line: (bytes skipped before its newline, what follows
/// the newline or None at the end of the stream, a read error).
fn skip_line(dec: &mut dyn Read) -> (usize, Option<Vec<u8>>, Option<std::io::Error>) {
    let mut skipped = 0;
    let mut tmp = vec![0u8; 256 << 10];
    loop {
        match dec.read(&mut tmp) {
            Ok(0) => return (skipped, None, None),
            Ok(n) => match memchr::memchr(b'\n', &tmp[..n]) {
                Some(p) => return (skipped + p, Some(tmp[p + 1..n].to_vec()), None),
                None => skipped += n,
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (skipped, None, Some(e)),
        }
    }
}

/// Where to cut a buffer: after the last complete record. Records with continuation lines
/// and CSV records may not be complete yet, so those cut before the last record's start.
fn cut_point(buf: &[u8], format: Format) -> usize {
    let Some(last_nl) = memchr::memrchr(b'\n', buf) else {
        return buf.len();
    };
    match format.framing() {
        Framing::Continued(cont) => {
            let mut end = last_nl;
            while let Some(prev) = memchr::memrchr(b'\n', &buf[..end]) {
                if !cont(&buf[prev + 1..end]) {
                    return prev + 1;
                }
                end = prev;
            }
            last_nl + 1
        }
        Framing::Csv => {
            let mut inq = false;
            let mut best = 0;
            for (i, &c) in buf.iter().enumerate() {
                if c == b'"' {
                    inq = !inq;
                } else if c == b'\n' && !inq {
                    best = i + 1;
                }
            }
            if best == 0 { buf.len() } else { best }
        }
        _ => last_nl + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_after_complete_records() {
        let b = b"a 1\nb 2\npartial";
        assert_eq!(cut_point(b, Format::Access), 8);
        let pg = b"2026-01-01 x\n\tcont\n2026-01-02 y\n\tcont\n";
        assert_eq!(cut_point(pg, Format::Postgres), 19);
        let csv = b"1,\"a\nb\",2\n3,\"open\n";
        assert_eq!(cut_point(csv, Format::PostgresCsv), 10);
    }
}
