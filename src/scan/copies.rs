//! Evidence collected twice: the same log copied into two folders, or kept both plain and
//! gzipped. Reading both would count every request, login and byte twice (an actor's 69 MB
//! out would read as 138 MB), so a file whose content another file already holds is set aside
//! and says which file it repeats; the manifest keeps it, with its own SHA-256.
//!
//! Only files whose content has the same length can hold the same content: a plain file's
//! length is its size, a gzip file's is in its trailer (ISIZE, the length modulo 2³²). Those
//! are compared on their first 4 KiB of content, and only those that still agree are hashed
//! whole (a gzip file decoded), so evidence without copies costs a look at sizes.

use crate::input::{self, Compression};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Read;

/// How much content is compared before hashing the rest.
const HEAD: usize = 4096;

/// A file that may be a copy: its position among the prepared files, its compression and
/// the length of its content.
pub(super) struct Candidate {
    pub index: usize,
    pub comp: Compression,
    pub len: u64,
}

/// The length of a file's content modulo 2³², when it can be known without decoding: a plain
/// file's size, a gzip file's ISIZE trailer (which holds the length modulo 2³², so a 5 GiB log
/// and its gzip still pair). A gzip of several members records only its last member's length:
/// such a copy is not recognised. None for other compressions and for empty content.
pub(super) fn content_len(comp: Compression, bytes: &[u8]) -> Option<u64> {
    let len = match comp {
        Compression::None => bytes.len() as u64 % (1 << 32),
        Compression::Gzip if bytes.len() >= 18 => {
            let t = &bytes[bytes.len() - 4..];
            u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
        }
        _ => return None,
    };
    (len > 0).then_some(len)
}

/// Up to `limit` bytes of a file's content (decoded), or None when it cannot be decoded.
fn content(comp: Compression, bytes: &[u8], limit: Option<usize>) -> Option<Vec<u8>> {
    let dec = input::open::decoder(comp, bytes).ok()?;
    let mut out = Vec::new();
    match limit {
        Some(n) => dec.take(n as u64).read_to_end(&mut out).ok()?,
        None => {
            let mut dec = dec;
            dec.read_to_end(&mut out).ok()?
        }
    };
    Some(out)
}

/// SHA-256 of a file's whole content, decoded.
fn content_hash(comp: Compression, bytes: &[u8]) -> Option<String> {
    match comp {
        Compression::None => Some(input::sha256_hex(bytes)),
        _ => content(comp, bytes, None).map(|c| input::sha256_hex(&c)),
    }
}

/// For each candidate that repeats an earlier one (by position), the earlier one's position:
/// (copy, original). `read` opens a candidate's bytes; a file that cannot be read again or
/// decoded is never a copy.
pub(super) fn find(
    candidates: &[Candidate],
    read: &(dyn Fn(usize) -> Option<input::Opened> + Sync),
) -> Vec<(usize, usize)> {
    let mut by_len: BTreeMap<u64, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        by_len.entry(c.len).or_default().push(c);
    }
    let groups: Vec<Vec<&Candidate>> = by_len.into_values().filter(|g| g.len() > 1).collect();
    if groups.is_empty() {
        return Vec::new();
    }
    groups
        .par_iter()
        .flat_map_iter(|g| {
            // Content heads first: files of the same length are rarely copies.
            let heads: Vec<Option<Vec<u8>>> = g
                .iter()
                .map(|c| {
                    let o = read(c.index)?;
                    content(c.comp, o.bytes(), Some(HEAD))
                })
                .collect();
            let mut same_head: BTreeMap<&[u8], Vec<&Candidate>> = BTreeMap::new();
            for (c, h) in g.iter().zip(&heads) {
                // Blank content holds no record to count twice: an empty rotation (a newline)
                // is not called a copy of another.
                if let Some(h) = h
                    .as_ref()
                    .filter(|h| !h.iter().all(u8::is_ascii_whitespace))
                {
                    same_head.entry(h.as_slice()).or_default().push(c);
                }
            }
            let mut out = Vec::new();
            for (_, g) in same_head.into_iter().filter(|(_, g)| g.len() > 1) {
                let mut first: BTreeMap<String, usize> = BTreeMap::new();
                let mut g = g;
                g.sort_by_key(|c| c.index);
                for c in g {
                    let Some(h) = read(c.index).and_then(|o| content_hash(c.comp, o.bytes()))
                    else {
                        continue;
                    };
                    match first.get(&h) {
                        Some(&orig) => out.push((c.index, orig)),
                        None => {
                            first.insert(h, c.index);
                        }
                    }
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::open::tests::gz;

    #[test]
    fn content_length_of_plain_and_gzip() {
        let text = b"line one\nline two\n";
        assert_eq!(content_len(Compression::None, text), Some(18));
        assert_eq!(content_len(Compression::Gzip, &gz(text)), Some(18));
        assert_eq!(content_len(Compression::None, b""), None);
        assert_eq!(content_len(Compression::Bzip2, text), None);
    }

    #[test]
    fn copies_plain_or_gzipped_are_found_and_lookalikes_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let log: Vec<u8> = (0..2000)
            .flat_map(|i| format!("10.0.0.{} GET /item/{i}\n", i % 7).into_bytes())
            .collect();
        // Same length and same first 4 KiB, different end.
        let mut other = log.clone();
        let n = other.len();
        other[n - 2] = b'X';
        let files: Vec<(Vec<u8>, Compression)> = vec![
            (log.clone(), Compression::None),
            (gz(&log), Compression::Gzip),
            (other.clone(), Compression::None),
            (log.clone(), Compression::None),
            (gz(&other), Compression::Gzip),
            (gz(&log)[..40].to_vec(), Compression::Gzip),
            (b"\n".to_vec(), Compression::None),
            (gz(b"\n"), Compression::Gzip),
        ];
        let paths: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, (b, _))| {
                let p = dir.path().join(format!("f{i}"));
                std::fs::write(&p, b).unwrap();
                p
            })
            .collect();
        let candidates: Vec<Candidate> = files
            .iter()
            .enumerate()
            .filter_map(|(i, (b, c))| {
                Some(Candidate {
                    index: i,
                    comp: *c,
                    len: content_len(*c, b)?,
                })
            })
            .collect();
        let read = |i: usize| input::open::open(&paths[i]).ok();
        let mut found = find(&candidates, &read);
        found.sort();
        // The gzipped and the plain copy repeat file 0; file 4 repeats file 2; the damaged
        // gzip (cut) is no one's copy, nor is blank content.
        assert_eq!(found, vec![(1, 0), (3, 0), (4, 2)]);
    }
}
