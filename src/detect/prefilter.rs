//! The per-record prefilter: one Aho-Corasick search over the lower-cased raw record finds
//! which rules' required literals occur; a rule with literals is only evaluated when one of
//! them does (ripgrep's trick, applied per record).

use super::Compiled;
use super::matcher::{Cond, Matcher, Node, Pat};
use rsigma_parser::Quantifier;

/// One combined search over the lower-cased raw record: a rule with required literals is only
/// evaluated when one of them occurs (ripgrep's trick, per record).
pub(super) struct Prefilter {
    pub(super) ac: Option<aho_corasick::AhoCorasick>,
    /// Pattern id → rules that need it.
    pub(super) rules_of: Vec<Vec<usize>>,
    /// Rules that cannot be prefiltered (always evaluated).
    pub(super) always: Vec<bool>,
}

impl Prefilter {
    pub(super) fn new(rules: &[Compiled]) -> Prefilter {
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        let mut always = vec![false; rules.len()];
        for (ri, r) in rules.iter().enumerate() {
            match r.matcher.literals() {
                Some(lits) if !lits.is_empty() => {
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
                _ => always[ri] = true,
            }
        }
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&pats)
            .ok();
        if ac.is_none() {
            always.iter_mut().for_each(|a| *a = true);
        }
        Prefilter {
            ac,
            rules_of,
            always,
        }
    }
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
        Some(all)
    }

    fn cond_lits(&self, c: &Cond) -> Option<Vec<Vec<u8>>> {
        match c {
            Cond::Id(i) => node_lits(&self.named[*i]),
            Cond::And(cs) => cs.iter().find_map(|c| self.cond_lits(c)),
            Cond::Or(cs) => union(cs.iter().map(|c| self.cond_lits(c))),
            Cond::Not(_) => None,
            Cond::Of(Quantifier::All, ids) => ids.iter().find_map(|&i| node_lits(&self.named[i])),
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
        Node::And(ns) => ns.iter().find_map(node_lits),
        Node::Or(ns) => union(ns.iter().map(node_lits)),
        Node::Keywords(pats, _) => pats_lits(pats),
        // `outcome` is derived by the parser, not written in the record.
        Node::Item(it) if !it.negate && !DERIVED.contains(&it.field.as_str()) => {
            pats_lits(&it.pats)
        }
        Node::Item(_) => None,
    }
}

/// A needle usable against the raw line: plain, lower-cased ASCII without quotes or
/// backslashes (those may be escaped in the raw record). A space may be written `+` (W3C).
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
        if needle.len() < 3
            || needle
                .iter()
                .any(|c| !c.is_ascii() || matches!(c, b'"' | b'\\'))
        {
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
        out.push(needle.clone());
    }
    Some(out)
}
