//! systemd journal files (`system.journal`, `user-1000@....journal~`): read in place, one
//! syslog line per entry, as `journalctl -o short-iso` would print it:
//! `2026-10-13T09:50:00.123456Z bastion sshd[4100]: Failed password for root ...`.
//!
//! The file is a header and a run of 8-byte-aligned objects; entries are visited in the order
//! they were written (their sequence numbers), each naming its fields by the offsets of data
//! objects (`MESSAGE=...`, `_HOSTNAME=...`). Data objects may be compressed on their own (xz,
//! LZ4 or zstd, by a flag of the object). The format is systemd's JOURNAL_FILE_FORMAT
//! document; the header fields read here have existed since the format's first version, and
//! the compact layout (systemd 252) is told apart by its header flag.
//!
//! An entry's place in the decoded text is its line: line N is the file's Nth entry. A damaged
//! object ends the stream with an error, after every entry before it.

use std::io::{self, Read};

const SIGNATURE: &[u8; 8] = b"LPKSHHRH";
/// Header flags (incompatible): compressed objects may occur, and the compact layout.
const COMPACT: u32 = 1 << 4;
const OBJECT_HEADER: usize = 16;
const DATA: u8 = 1;
const ENTRY: u8 = 3;
/// Object flags of a compressed data object.
const XZ: u8 = 1;
const LZ4: u8 = 2;
const ZSTD: u8 = 4;
/// A data object's payload is at most this large once decompressed (journald caps a field at
/// 768 MiB; a line this long is cut later anyway).
const MAX_FIELD: usize = 64 << 20;

/// True when `head` starts a journal file.
pub fn is_journal(head: &[u8]) -> bool {
    head.starts_with(SIGNATURE)
}

/// Decodes a journal file to syslog lines.
pub struct Reader<'a> {
    data: &'a [u8],
    compact: bool,
    /// The next object to look at, and the last object's offset.
    pos: usize,
    tail: usize,
    line: Vec<u8>,
    sent: usize,
    field: Vec<u8>,
}

fn damaged(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// An entry's fields that make its line.
#[derive(Default)]
struct Line<'f> {
    host: Option<&'f [u8]>,
    ident: Option<&'f [u8]>,
    comm: Option<&'f [u8]>,
    pid: Option<&'f [u8]>,
    message: Option<&'f [u8]>,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> io::Result<Reader<'a>> {
        if !is_journal(data) {
            return Err(damaged("not a journal file".into()));
        }
        let bad = || damaged("journal header cut short".into());
        let flags = u32_at(data, 12).ok_or_else(bad)?;
        let header = u64_at(data, 88).ok_or_else(bad)? as usize;
        let tail = u64_at(data, 136).ok_or_else(bad)? as usize;
        Ok(Reader {
            data,
            compact: flags & COMPACT != 0,
            pos: header,
            tail,
            line: Vec::new(),
            sent: 0,
            field: Vec::new(),
        })
    }

    /// The object at `at`: (type, flags, size), checked to lie inside the file.
    fn object(&self, at: usize) -> io::Result<(u8, u8, usize)> {
        let cut = || damaged(format!("object at byte {at} is cut short or malformed"));
        let size = u64_at(self.data, at + 8).ok_or_else(cut)? as usize;
        if !at.is_multiple_of(8)
            || size < OBJECT_HEADER
            || at.saturating_add(size) > self.data.len()
        {
            return Err(cut());
        }
        Ok((self.data[at], self.data[at + 1], size))
    }

    /// Moves to the next entry and writes its line; false at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        while self.pos != 0 && self.pos < self.data.len() {
            let at = self.pos;
            // A file copied while journald wrote to it may hold objects past the header's
            // tail: they are read while they look whole (the unused arena is zeros).
            let (kind, _, size) = match self.object(at) {
                Ok(o) => o,
                Err(_) if at > self.tail => return Ok(false),
                Err(e) => return Err(e),
            };
            if at > self.tail && !(DATA..=7).contains(&kind) {
                return Ok(false);
            }
            self.pos = at + size.div_ceil(8) * 8;
            if kind == ENTRY {
                self.entry(at, size)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes the line of the entry object at `at`.
    fn entry(&mut self, at: usize, size: usize) -> io::Result<()> {
        // Entry: seqnum, realtime (µs), monotonic, boot id (16), xor hash; then its items.
        let realtime = u64_at(self.data, at + 24).unwrap_or(0);
        let items = at + OBJECT_HEADER + 48;
        let step = if self.compact { 4 } else { 16 };
        let mut fields = Vec::new();
        let mut i = items;
        while i + step <= at + size {
            let off = if self.compact {
                u32_at(self.data, i).map(u64::from)
            } else {
                u64_at(self.data, i)
            };
            fields.push(off.unwrap_or(0) as usize);
            i += step;
        }
        let mut owned: Vec<Vec<u8>> = Vec::new();
        let mut plain: Vec<&[u8]> = Vec::new();
        for off in fields {
            match self.payload(off)? {
                Payload::Plain(p) => plain.push(p),
                Payload::Owned(p) => owned.push(p),
            }
        }
        let mut l = Line::default();
        for p in plain.iter().copied().chain(owned.iter().map(Vec::as_slice)) {
            let Some(eq) = memchr::memchr(b'=', p) else {
                continue;
            };
            let v = &p[eq + 1..];
            match &p[..eq] {
                b"_HOSTNAME" => l.host = Some(v),
                b"SYSLOG_IDENTIFIER" => l.ident = Some(v),
                b"_COMM" => l.comm = Some(v),
                b"_PID" => l.pid = Some(v),
                b"SYSLOG_PID" => l.pid = l.pid.or(Some(v)),
                b"MESSAGE" => l.message = Some(v),
                _ => {}
            }
        }
        self.write(realtime, &l);
        Ok(())
    }

    /// The payload (`NAME=value`) of the data object at `at`, decompressed when it is.
    fn payload(&mut self, at: usize) -> io::Result<Payload<'a>> {
        let (kind, flags, size) = self.object(at)?;
        if kind != DATA {
            return Err(damaged(format!(
                "entry names object at byte {at}, which is not a data object"
            )));
        }
        // Data: hash, next hash, next field, entry, entry array, entry count (6 × 8), then in
        // the compact layout the tail entry array's offset and count (2 × 4).
        let start = at + OBJECT_HEADER + 48 + if self.compact { 8 } else { 0 };
        let data: &'a [u8] = self.data;
        let raw = data.get(start..at + size).unwrap_or_default();
        if flags & (XZ | LZ4 | ZSTD) == 0 {
            return Ok(Payload::Plain(raw));
        }
        self.field.clear();
        let ok = match flags {
            XZ => liblzma::read::XzDecoder::new(raw)
                .take(MAX_FIELD as u64)
                .read_to_end(&mut self.field)
                .is_ok(),
            ZSTD => zstd::stream::read::Decoder::new(raw)
                .and_then(|d| d.take(MAX_FIELD as u64).read_to_end(&mut self.field))
                .is_ok(),
            _ => lz4(raw, &mut self.field),
        };
        if !ok {
            return Err(damaged(format!(
                "compressed data object at byte {at} does not decompress"
            )));
        }
        Ok(Payload::Owned(std::mem::take(&mut self.field)))
    }

    fn write(&mut self, realtime: u64, l: &Line<'_>) {
        let out = &mut self.line;
        out.clear();
        let ts = crate::parse::Timestamp {
            nanos: (realtime as i64).saturating_mul(1000),
            offset: 0,
            assumed: false,
        };
        ts.write_utc(out);
        out.push(b' ');
        out.extend_from_slice(l.host.unwrap_or(b"localhost"));
        out.push(b' ');
        out.extend_from_slice(l.ident.or(l.comm).unwrap_or(b"journal"));
        if let Some(pid) = l.pid {
            out.push(b'[');
            out.extend_from_slice(pid);
            out.push(b']');
        }
        out.extend_from_slice(b": ");
        // Line breaks inside a message are written as rsyslog does (`#012`), so an entry
        // stays one line.
        for &c in l.message.unwrap_or_default() {
            match c {
                b'\n' => out.extend_from_slice(b"#012"),
                b'\r' => out.extend_from_slice(b"#015"),
                0 => out.extend_from_slice(b"#000"),
                _ => out.push(c),
            }
        }
        out.push(b'\n');
        self.sent = 0;
    }
}

enum Payload<'a> {
    Plain(&'a [u8]),
    Owned(Vec<u8>),
}

/// systemd's LZ4 objects: the decompressed size (64-bit little-endian), then an LZ4 block.
fn lz4(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(n) = u64_at(raw, 0)
        .map(|n| n as usize)
        .filter(|n| *n <= MAX_FIELD)
    else {
        return false;
    };
    out.resize(n, 0);
    matches!(lz4_flex::block::decompress_into(&raw[8..], out), Ok(m) if m == n)
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.sent == self.line.len() && !self.next_line()? {
            return Ok(0);
        }
        let n = buf.len().min(self.line.len() - self.sent);
        buf[..n].copy_from_slice(&self.line[self.sent..self.sent + n]);
        self.sent += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_objects_carry_their_size_first() {
        let text = b"MESSAGE="
            .iter()
            .chain(&[b'a'; 900])
            .copied()
            .collect::<Vec<u8>>();
        let mut raw = (text.len() as u64).to_le_bytes().to_vec();
        raw.extend(lz4_flex::block::compress(&text));
        let mut out = Vec::new();
        assert!(lz4(&raw, &mut out));
        assert_eq!(out, text);
        // A size that does not match the block is damage, not a short field.
        raw[..8].copy_from_slice(&(text.len() as u64 + 1).to_le_bytes());
        assert!(!lz4(&raw, &mut out));
        assert!(!lz4(&raw[..5], &mut out));
    }

    #[test]
    fn only_a_whole_header_starts_a_reader() {
        assert!(Reader::new(b"not a journal").is_err());
        let cut = Reader::new(b"LPKSHHRH\0\0\0\0\0\0\0\0").err().unwrap();
        assert!(cut.to_string().contains("header cut short"), "{cut}");
    }
}
