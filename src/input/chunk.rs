//! Cutting a mapped file into newline-aligned chunks that can be parsed in parallel. A chunk
//! never starts on a continuation line, so a multi-line record stays in one chunk.

/// One chunk: byte range and the 1-based number of its first line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub first_line: u64,
}

/// Splits `data` into chunks of about `target` bytes. `is_cont` says whether a line continues
/// the record before it (then the cut moves past it).
pub fn split(data: &[u8], target: usize, is_cont: Option<fn(&[u8]) -> bool>) -> Vec<Chunk> {
    let mut bounds = vec![0usize];
    let mut pos = 0;
    while pos + target < data.len() {
        let Some(mut cut) = next_line_start(data, pos + target) else {
            break;
        };
        if let Some(cont) = is_cont {
            while cut < data.len() && cont(line_at(data, cut)) {
                match next_line_start(data, cut) {
                    Some(n) => cut = n,
                    None => {
                        cut = data.len();
                        break;
                    }
                }
            }
        }
        if cut >= data.len() {
            break;
        }
        bounds.push(cut);
        pos = cut;
    }
    bounds.push(data.len());
    number(data, &bounds)
}

/// Counts lines per chunk (in parallel) to give each its first line number.
fn number(data: &[u8], bounds: &[usize]) -> Vec<Chunk> {
    use rayon::prelude::*;
    let counts: Vec<u64> = bounds
        .par_windows(2)
        .map(|w| count_newlines(&data[w[0]..w[1]]))
        .collect();
    let mut line = 1;
    bounds
        .windows(2)
        .zip(counts)
        .map(|(w, n)| {
            let c = Chunk {
                start: w[0],
                end: w[1],
                first_line: line,
            };
            line += n;
            c
        })
        .collect()
}

/// Number of `\n` bytes (SIMD, chosen at run time).
pub fn count_newlines(s: &[u8]) -> u64 {
    bytecount::count(s, b'\n') as u64
}

/// The start of the line after the one containing `at`.
fn next_line_start(data: &[u8], at: usize) -> Option<usize> {
    memchr::memchr(b'\n', &data[at..]).map(|p| at + p + 1)
}

fn line_at(data: &[u8], at: usize) -> &[u8] {
    let e = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |p| at + p);
    &data[at..e]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_line_aligned_and_numbered() {
        let data: Vec<u8> = (1..=1000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let chunks = split(&data, 100, None);
        assert!(chunks.len() > 10);
        assert_eq!(chunks[0].start, 0);
        assert_eq!(chunks.last().unwrap().end, data.len());
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(data[w[1].start - 1], b'\n');
            let first = std::str::from_utf8(line_at(&data, w[1].start)).unwrap();
            assert_eq!(first, format!("line {}", w[1].first_line));
        }
    }

    #[test]
    fn never_cuts_before_a_continuation() {
        let mut data = Vec::new();
        for i in 0..200 {
            data.extend(format!("2026-01-01 record {i}\n\tcontinued\n\tmore\n").into_bytes());
        }
        let chunks = split(&data, 50, Some(|l: &[u8]| l.first() == Some(&b'\t')));
        for c in &chunks[1..] {
            assert!(data[c.start..].starts_with(b"2026"));
        }
        assert_eq!(
            split(b"", 10, None),
            vec![Chunk {
                start: 0,
                end: 0,
                first_line: 1
            }]
        );
        let c = split(b"no newline at all", 4, None);
        assert_eq!(c.len(), 1);
    }
}
