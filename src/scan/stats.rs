//! Per-file reading statistics: lines, records, parsed and unparsed counts, time range, and the
//! first few examples of lines that could not be parsed. Partial statistics of chunks merge
//! associatively.

use crate::parse::Timestamp;
use serde::Serialize;

/// How many unparsed examples a file keeps.
pub const MAX_EXAMPLES: usize = 5;

/// A line that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    pub line: u64,
    pub reason: String,
    /// The line's start, lossily decoded (at most 200 characters).
    pub text: String,
}

/// Counters of one file (or chunk).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Physical lines (a last line without newline counts).
    pub lines: u64,
    /// Logical records (a multi-line record counts once); blank lines are not records.
    pub records: u64,
    /// Records that became events.
    pub parsed: u64,
    /// Records that could not be parsed.
    pub unparsed: u64,
    /// Header and comment records (W3C `#Fields`, MySQL banners).
    pub meta: u64,
    /// Blank lines.
    pub blank: u64,
    /// Events without a timestamp.
    pub untimed: u64,
    /// Events the generic text parser read after the file's own parser failed.
    pub fallback: u64,
    pub first_fallback: Option<u64>,
    /// Events of a sibling format mixed into the file (web server error lines in an access
    /// log), read by that format's parser.
    pub mixed: u64,
    pub first_mixed: Option<u64>,
    /// Lines cut at the length bound.
    pub long_lines: u64,
    pub first_long_line: Option<u64>,
    /// Lines with invalid UTF-8.
    pub invalid_utf8: u64,
    pub first_invalid_utf8: Option<u64>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub examples: Vec<Example>,
}

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Stats {
    /// Adds another part of the same file.
    pub fn merge(&mut self, o: &Stats) {
        self.lines += o.lines;
        self.records += o.records;
        self.parsed += o.parsed;
        self.unparsed += o.unparsed;
        self.meta += o.meta;
        self.blank += o.blank;
        self.untimed += o.untimed;
        self.fallback += o.fallback;
        self.first_fallback = min_opt(self.first_fallback, o.first_fallback);
        self.mixed += o.mixed;
        self.first_mixed = min_opt(self.first_mixed, o.first_mixed);
        self.long_lines += o.long_lines;
        self.first_long_line = min_opt(self.first_long_line, o.first_long_line);
        self.invalid_utf8 += o.invalid_utf8;
        self.first_invalid_utf8 = min_opt(self.first_invalid_utf8, o.first_invalid_utf8);
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        self.examples.extend(o.examples.iter().cloned());
        self.examples.sort_by_key(|e| e.line);
        self.examples.truncate(MAX_EXAMPLES);
    }

    /// Records an event's time.
    #[inline]
    pub fn saw(&mut self, ts: Option<Timestamp>) {
        self.parsed += 1;
        match ts {
            Some(t) => {
                if self.first.is_none_or(|f| t < f) {
                    self.first = Some(t);
                }
                if self.last.is_none_or(|l| t > l) {
                    self.last = Some(t);
                }
            }
            None => self.untimed += 1,
        }
    }

    /// Records an unparsed record.
    pub fn reject(&mut self, line: u64, reason: &str, raw: &[u8]) {
        self.unparsed += 1;
        if self.examples.len() < MAX_EXAMPLES {
            let text: String = String::from_utf8_lossy(&raw[..raw.len().min(800)])
                .chars()
                .take(200)
                .collect();
            self.examples.push(Example {
                line,
                reason: reason.to_string(),
                text,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp {
            nanos: s * 1_000_000_000,
            offset: 0,
            assumed: false,
        }
    }

    #[test]
    fn merge_is_associative_for_counts_and_ranges() {
        let mut a = Stats {
            lines: 3,
            ..Default::default()
        };
        a.saw(Some(ts(10)));
        a.reject(3, "bad", b"junk");
        let mut b = Stats {
            lines: 2,
            ..Default::default()
        };
        b.saw(Some(ts(5)));
        b.saw(None);
        b.reject(1, "bad", b"x");
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!((ab.parsed, ab.unparsed, ab.untimed, ab.lines), (3, 2, 1, 5));
        assert_eq!((ab.first, ab.last), (Some(ts(5)), Some(ts(10))));
        assert_eq!(ab.examples[0].line, 1);
    }
}
