//! Reading back the lines that evidence references point to (for the reports): each file is
//! opened once, compressed ones decoded from the start up to the last offset needed.

use super::open::{Compression, Content, classify, decoder, open};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The longest excerpt kept, in bytes (the rest is cut and marked).
pub const MAX_EXCERPT: usize = 2048;

/// The end of the JSON object starting at `b[0]` (strings and escapes respected).
fn json_end(b: &[u8]) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            match c {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

fn cut(line: &[u8]) -> Vec<u8> {
    // A record inside a JSON document (a CloudTrail delivery file is one line) ends with its
    // object, not with the line.
    let end = match line.first() {
        Some(b'{') => json_end(line),
        _ => None,
    }
    .or_else(|| memchr::memchr(b'\n', line))
    .unwrap_or(line.len());
    let mut l = &line[..end.min(MAX_EXCERPT)];
    if l.last() == Some(&b'\r') {
        l = &l[..l.len() - 1];
    }
    l.to_vec()
}

/// The lines starting at `offsets` (in the decoded stream) of one file; offsets that cannot be
/// read are missing from the result.
pub fn lines_at(path: &Path, offsets: &[u64]) -> BTreeMap<u64, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(opened) = open(path) else {
        return out;
    };
    let data = opened.bytes();
    let compression = match classify(&data[..data.len().min(4096)]) {
        Content::Text(c) => c,
        _ => Compression::None,
    };
    let mut wanted: Vec<u64> = offsets.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if compression == Compression::None {
        for o in wanted {
            if let Some(rest) = usize::try_from(o).ok().and_then(|o| data.get(o..)) {
                out.insert(o, cut(rest));
            }
        }
        return out;
    }
    let Ok(mut d) = decoder(compression, data) else {
        return out;
    };
    // Decode in blocks, keeping the bytes from the next wanted offset on.
    let mut pos: u64 = 0;
    let mut keep: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut next = 0;
    while next < wanted.len() {
        let n = match d.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let block = &buf[..n];
        let start = pos;
        pos += n as u64;
        keep.extend_from_slice(block);
        let keep_from = pos - keep.len() as u64;
        while next < wanted.len() && wanted[next] < pos {
            let at = (wanted[next].max(keep_from) - keep_from) as usize;
            let rest = &keep[at..];
            if memchr::memchr(b'\n', rest).is_some() || rest.len() >= MAX_EXCERPT {
                out.insert(wanted[next], cut(rest));
                next += 1;
            } else {
                break;
            }
        }
        // Keep only what a pending line may still need.
        let from = wanted.get(next).map_or(pos, |&w| w.max(start).min(pos));
        let drop = (from - keep_from) as usize;
        keep.drain(..drop.min(keep.len()));
    }
    if let Some(&w) = wanted.get(next) {
        let keep_from = pos - keep.len() as u64;
        if w >= keep_from && w < pos {
            out.insert(w, cut(&keep[(w - keep_from) as usize..]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_lines_of_plain_and_gzip_files() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..5000).map(|i| format!("line number {i}\n")).collect();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("a.log.gz");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let at = |i: usize| text.find(&format!("line number {i}\n")).unwrap() as u64;
        let offs = [at(0), at(4999), at(1234), at(20000 / 7)];
        for p in [&plain, &gz] {
            let got = lines_at(p, &offs);
            assert_eq!(got[&at(0)], b"line number 0");
            assert_eq!(got[&at(1234)], b"line number 1234");
            assert_eq!(got[&at(4999)], b"line number 4999");
            assert_eq!(got.len(), 4);
        }
    }
}
