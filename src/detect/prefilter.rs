//! The prefilter (ripgrep's method): one Aho-Corasick search over the lower-cased bytes of a
//! whole chunk finds the records that hold any rule's required literal; only those records
//! are searched again, one by one, for which rules' literals they hold, and a rule with
//! literals is only evaluated on a record that holds one of them. Rules without usable
//! literals (numbers, regular expressions, negations) are evaluated on every record.

use super::Compiled;
use super::matcher::{Cond, Matcher, Node, Pat};
use rsigma_parser::Quantifier;

/// The prefilter of one log format: the literals of the rules its events can match.
pub(super) struct Prefilter {
    pub(super) ac: Option<aho_corasick::AhoCorasick>,
    /// Pattern id → rules that need it.
    pub(super) rules_of: Vec<Vec<usize>>,
    /// By rule index: rules that cannot be prefiltered (always evaluated).
    pub(super) always: Vec<bool>,
    /// The literals in groups small enough for the SIMD (Teddy) search, for whole buffers;
    /// empty when a group could not be built (the automaton searches then).
    packed: Vec<aho_corasick::packed::Searcher>,
}

/// Literals per SIMD searcher: Teddy slows down as its buckets fill.
const PACKED_GROUP: usize = 16;

impl Prefilter {
    /// The prefilter over `subset` (indices into `rules`).
    pub(super) fn new(rules: &[Compiled], subset: &[usize]) -> Prefilter {
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        let mut always = vec![true; rules.len()];
        for &ri in subset {
            let Some(lits) = rules[ri].matcher.literals() else {
                continue;
            };
            always[ri] = false;
            for l in lits {
                match pats.iter().position(|p| *p == l) {
                    Some(k) => rules_of[k].push(ri),
                    None => {
                        pats.push(l);
                        rules_of.push(vec![ri]);
                    }
                }
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::Standard)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&pats)
                .ok()
        };
        if ac.is_none() {
            always.iter_mut().for_each(|a| *a = true);
        }
        let packed: Option<Vec<_>> = pats
            .chunks(PACKED_GROUP)
            .map(|g| {
                aho_corasick::packed::Config::new()
                    .builder()
                    .extend(g)
                    .build()
            })
            .collect();
        Prefilter {
            ac,
            rules_of,
            always,
            packed: packed.unwrap_or_default(),
        }
    }

    /// Sorted start positions of literal matches in a lower-cased chunk: a record holds a
    /// literal only if a position falls inside it (a match never spans a newline, as no
    /// literal holds one).
    pub(super) fn chunk_hits(&self, lower: &[u8], out: &mut Vec<u32>) {
        out.clear();
        if !self.packed.is_empty() {
            for p in &self.packed {
                out.extend(p.find_iter(lower).map(|m| m.start() as u32));
            }
            if self.packed.len() > 1 {
                out.sort_unstable();
            }
        } else if let Some(ac) = &self.ac {
            out.extend(ac.find_iter(lower).map(|m| m.start() as u32));
        }
    }
}

/// Literals that occur in most records of some log (methods, protocol names): a rule whose
/// only literals are these is cheaper to evaluate on every record than to let it make every
/// record a candidate.
const COMMON: &[&[u8]] = &[
    b"get",
    b"post",
    b"put",
    b"head",
    b"delete",
    b"patch",
    b"options",
    b"http",
    b"https",
    b"http/1.1",
    b"http/1.0",
    b"http/2",
    b"mozilla",
    b"mozilla/5.0",
    b"true",
    b"false",
    b"null",
];

/// How selective a literal set is: the length of its shortest literal, 0 when any is common.
fn quality(lits: &[Vec<u8>]) -> usize {
    if lits.iter().any(|l| COMMON.contains(&l.as_slice())) {
        return 0;
    }
    lits.iter().map(Vec::len).min().unwrap_or(0)
}

/// The most selective of the conjuncts' literal sets.
fn best(sets: impl Iterator<Item = Option<Vec<Vec<u8>>>>) -> Option<Vec<Vec<u8>>> {
    sets.flatten()
        .filter(|s| quality(s) >= 3)
        .max_by_key(|s| quality(s))
}

/// Literal strings (lower case) one of which the raw record must contain for the rule to
/// match, when that can be known from the detection; None when it cannot (numbers, regular
/// expressions, negations, cased or escaped text). Used by the per-record prefilter.
impl Matcher {
    pub fn literals(&self) -> Option<Vec<Vec<u8>>> {
        let mut all = Vec::new();
        for c in &self.conds {
            all.extend(self.cond_lits(c)?);
        }
        all.sort();
        all.dedup();
        (quality(&all) >= 3).then_some(all)
    }

    fn cond_lits(&self, c: &Cond) -> Option<Vec<Vec<u8>>> {
        match c {
            Cond::Id(i) => node_lits(&self.named[*i]),
            Cond::And(cs) => best(cs.iter().map(|c| self.cond_lits(c))),
            Cond::Or(cs) => union(cs.iter().map(|c| self.cond_lits(c))),
            Cond::Not(_) => None,
            Cond::Of(Quantifier::All, ids) => best(ids.iter().map(|&i| node_lits(&self.named[i]))),
            Cond::Of(_, ids) => union(ids.iter().map(|&i| node_lits(&self.named[i]))),
        }
    }
}

/// Fields whose values the parsers compute rather than copy from the record.
const DERIVED: &[&str] = &[
    "outcome",
    "sc-status",
    "sc-bytes",
    "s-port",
    "src_port",
    "pid",
];

fn union(parts: impl Iterator<Item = Option<Vec<Vec<u8>>>>) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for p in parts {
        out.extend(p?);
    }
    Some(out)
}

fn node_lits(n: &Node) -> Option<Vec<Vec<u8>>> {
    match n {
        Node::And(ns) => best(ns.iter().map(node_lits)),
        Node::Or(ns) => union(ns.iter().map(node_lits)),
        Node::Keywords(pats, _) => pats_lits(pats),
        // `outcome` is derived by the parser, not written in the record.
        Node::Item(it) if !it.negate && !DERIVED.contains(&it.field.as_str()) => {
            pats_lits(&it.pats)
        }
        Node::Item(_) => None,
    }
}

/// A needle usable against the raw line: plain, lower-cased ASCII. A quote or backslash may
/// be escaped in the raw record (`\"`, `\x22`, `\\`, `\x5c`), so the needle is cut before a
/// quote and just after a backslash (every escape of it starts with one). A space may be
/// written `+` (W3C).
fn pats_lits(pats: &[Pat]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for p in pats {
        let Pat::Text {
            needle,
            cased: false,
            ..
        } = p
        else {
            return None;
        };
        let cut = needle
            .iter()
            .position(|&c| c == b'"' || c == b'\\')
            .map_or(needle.len(), |i| i + usize::from(needle[i] == b'\\'));
        let needle = &needle[..cut];
        if needle.len() < 3 || !needle.is_ascii() {
            return None;
        }
        if needle.contains(&b' ') {
            out.push(
                needle
                    .iter()
                    .map(|&c| if c == b' ' { b'+' } else { c })
                    .collect(),
            );
        }
        out.push(needle.to_vec());
    }
    Some(out)
}
