//! Opening one evidence file: memory-map it, recognise compression by magic bytes (never by
//! name), recognise binary content, and decode compressed streams.

use memmap2::Mmap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Compression recognised from the first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Zstd,
    Xz,
    /// The LZ4 frame format (`lz4` and logrotate's `compresscmd lz4`), not the raw blocks.
    Lz4,
    /// Not compression but a binary container read the same way: a systemd journal file,
    /// decoded to one syslog line per entry.
    Journal,
    /// Login records (wtmp, btmp, utmp), decoded to one syslog line per record.
    Utmp,
}

impl Compression {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
            Compression::Journal => "systemd-journal",
            Compression::Utmp => "utmp",
        }
    }
}

/// What a file holds, as far as its first bytes tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Empty file.
    Empty,
    /// Text, possibly compressed.
    Text(Compression),
    /// A container or compression leaktrail does not read (yet).
    Unsupported(&'static str),
    /// Binary data (NUL bytes near the start).
    Binary,
}

/// An opened file: its bytes (mapped) and what they are.
pub struct Opened {
    pub map: Option<Mmap>,
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: Option<i64>,
}

impl Opened {
    /// The file's bytes (empty for an empty file).
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}

/// Opens and maps a file.
pub fn open(path: &Path) -> io::Result<Opened> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let size = meta.len();
    let map = if size == 0 {
        None
    } else {
        // SAFETY: the map is read-only and private to this process. Evidence is expected to be
        // a copy at rest; if another process truncates the file while it is mapped, reading the
        // lost pages raises SIGBUS (the documented risk of mmap, shared with ripgrep). The
        // README tells investigators to work on copies, never on live logs.
        let m = unsafe { Mmap::map(&file)? };
        #[cfg(unix)]
        let _ = m.advise(memmap2::Advice::Sequential);
        Some(m)
    };
    Ok(Opened { map, size, mtime })
}

/// Recognises compression and binary content from a file's first bytes.
pub fn classify(head: &[u8]) -> Content {
    if head.is_empty() {
        return Content::Empty;
    }
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&[0x1f, 0x8b]) {
        return Content::Text(Compression::Gzip);
    }
    if starts(b"BZh") && head.get(3).is_some_and(|c| (b'1'..=b'9').contains(c)) {
        return Content::Text(Compression::Bzip2);
    }
    if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Content::Text(Compression::Zstd);
    }
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Content::Text(Compression::Xz);
    }
    if starts(&[0x04, 0x22, 0x4d, 0x18]) {
        return Content::Text(Compression::Lz4);
    }
    if super::journal::is_journal(head) {
        return Content::Text(Compression::Journal);
    }
    if let Some(what) = unsupported(head) {
        return Content::Unsupported(what);
    }
    if super::utmp::is_utmp(head) {
        return Content::Text(Compression::Utmp);
    }
    if looks_utf16(head) {
        return Content::Unsupported("UTF-16 text (convert it first: iconv -f UTF-16 -t UTF-8)");
    }
    if looks_binary(head) {
        return Content::Binary;
    }
    Content::Text(Compression::None)
}

/// Formats that are recognised but not read.
fn unsupported(head: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| head.starts_with(m);
    Some(if starts(b"PK\x03\x04") {
        "zip archive (extract it first)"
    } else if starts(b"7z\xbc\xaf\x27\x1c") {
        "7-Zip archive (extract it first)"
    } else if head.len() > 262 && &head[257..262] == b"ustar" {
        "tar archive (extract it first)"
    } else if starts(b"ElfFile\0") {
        "Windows event log (EVTX): use a Windows event-log tool"
    } else if starts(b"SQLite format 3\0") {
        "SQLite database"
    } else if starts(&[0xd4, 0xc3, 0xb2, 0xa1]) || starts(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        "packet capture"
    } else {
        return None;
    })
}

/// Binary when a NUL byte appears in the first 8 KiB (what git and ripgrep use too). A run of
/// NULs at the very start is skipped first: logrotate's copytruncate leaves one in front of the
/// text when the writer kept its old offset. Logs with NUL runs later are read as text.
pub fn looks_binary(head: &[u8]) -> bool {
    let start = head.iter().position(|&c| c != 0).unwrap_or(head.len());
    let rest = &head[start..];
    !head.is_empty()
        && (rest.is_empty() || memchr::memchr(0, &rest[..rest.len().min(8192)]).is_some())
}

/// UTF-16 text: a byte-order mark, or ASCII letters alternating with NULs.
fn looks_utf16(head: &[u8]) -> bool {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let h = &head[..head.len().min(512) & !1];
    if h.len() < 16 {
        return false;
    }
    let zero_odd = h.chunks(2).filter(|p| p[1] == 0 && p[0] != 0).count();
    let zero_even = h.chunks(2).filter(|p| p[0] == 0 && p[1] != 0).count();
    let pairs = h.len() / 2;
    zero_odd * 10 >= pairs * 9 || zero_even * 10 >= pairs * 9
}

/// A streaming decoder over compressed bytes. Every gzip member, zstd frame and xz stream is
/// read (rotated and concatenated files are multi-member).
pub fn decoder<'a>(c: Compression, data: &'a [u8]) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match c {
        Compression::None => Box::new(data),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(data)?),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
        Compression::Lz4 => Box::new(Lz4Frames::new(data)),
        Compression::Journal => Box::new(super::journal::Reader::new(data)?),
        Compression::Utmp => Box::new(super::utmp::Reader::new(data)),
    })
}

/// Every LZ4 frame of a file, one after the other (the frame decoder stops at the end of the
/// first: files appended to by rotation hold several). Skippable frames are stepped over.
struct Lz4Frames<'a> {
    frame: lz4_flex::frame::FrameDecoder<&'a [u8]>,
}

impl<'a> Lz4Frames<'a> {
    fn new(data: &'a [u8]) -> Self {
        Lz4Frames {
            frame: lz4_flex::frame::FrameDecoder::new(skip_skippable(data)),
        }
    }
}

/// `data` past any skippable frames at its start (magic 0x184D2A50..5F, then a length).
fn skip_skippable(mut data: &[u8]) -> &[u8] {
    while data.len() >= 8 && data[0] & 0xf0 == 0x50 && data[1..4] == [0x2a, 0x4d, 0x18] {
        let n = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
        data = &data[(8 + n).min(data.len())..];
    }
    data
}

impl Read for Lz4Frames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.frame.read(buf)?;
            let rest = skip_skippable(self.frame.get_ref());
            if n > 0 || buf.is_empty() || rest.is_empty() {
                return Ok(n);
            }
            // The frame ended and another follows.
            self.frame = lz4_flex::frame::FrameDecoder::new(rest);
        }
    }
}

/// Decodes up to `n` bytes from the start of a compressed stream (for format detection).
pub fn decode_head(c: Compression, data: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    if let Ok(mut d) = decoder(c, data) {
        let mut buf = vec![0u8; 64 * 1024];
        while out.len() < n {
            match d.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => out.extend_from_slice(&buf[..k]),
            }
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// `data` gzipped (for tests).
    pub(crate) fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn classifies_by_magic() {
        assert_eq!(classify(b""), Content::Empty);
        assert_eq!(classify(&gz(b"x")), Content::Text(Compression::Gzip));
        assert_eq!(classify(b"BZh91AY&SY"), Content::Text(Compression::Bzip2));
        assert_eq!(
            classify(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Content::Text(Compression::Zstd)
        );
        assert_eq!(classify(b"hello\n"), Content::Text(Compression::None));
        assert_eq!(classify(b"\x7fELF\x02\x01\x01\0\0"), Content::Binary);
        assert!(matches!(
            classify(b"PK\x03\x04rest"),
            Content::Unsupported(_)
        ));
    }

    /// Everything a decoder yields, as text.
    fn decoded(c: Compression, data: &[u8]) -> String {
        let mut out = String::new();
        decoder(c, data).unwrap().read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn multi_member_gzip_zstd_and_xz_streams() {
        let mut two = gz(b"line one\n");
        two.extend(gz(b"line two\n"));
        assert_eq!(decoded(Compression::Gzip, &two), "line one\nline two\n");
        let mut z = zstd::encode_all(&b"a\n"[..], 3).unwrap();
        z.extend(zstd::encode_all(&b"b\n"[..], 3).unwrap());
        assert_eq!(decoded(Compression::Zstd, &z), "a\nb\n");
        assert_eq!(decode_head(Compression::Gzip, &two, 4), b"line");
        let xz = |d: &[u8]| {
            let mut out = Vec::new();
            liblzma::read::XzEncoder::new(d, 6)
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        let mut x = xz(b"first stream\n");
        x.extend(xz(b"second stream\n"));
        assert_eq!(classify(&x), Content::Text(Compression::Xz));
        assert_eq!(
            decoded(Compression::Xz, &x),
            "first stream\nsecond stream\n"
        );
        // lz4 frames, two back to back (a rotated file appended to), and one cut short.
        let lz4 = |d: &[u8]| {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            std::io::Write::write_all(&mut e, d).unwrap();
            e.finish().unwrap()
        };
        let mut l = lz4(b"frame one\n");
        l.extend([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, b'x', b'y', b'z']);
        l.extend(lz4(b"frame two\n"));
        assert_eq!(classify(&l), Content::Text(Compression::Lz4));
        assert_eq!(decoded(Compression::Lz4, &l), "frame one\nframe two\n");
        let one = lz4(&b"0123456789abcdef\n".repeat(1000));
        let mut out = Vec::new();
        let cut = decoder(Compression::Lz4, &one[..one.len() / 2])
            .unwrap()
            .read_to_end(&mut out);
        assert!(cut.is_err(), "a truncated frame reads as an error");
    }

    #[test]
    fn truncated_gzip_keeps_decoded_prefix() {
        let data: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let z = gz(&data);
        let cut = &z[..z.len() / 2];
        let mut d = decoder(Compression::Gzip, cut).unwrap();
        let mut out = Vec::new();
        let err = d.read_to_end(&mut out);
        assert!(err.is_err());
        assert!(!out.is_empty() && data.starts_with(&out));
    }
}
