//! The prefilter (ripgrep's method): one Aho-Corasick search over the lower-cased bytes of a
//! whole chunk finds the records that hold any rule's required literal; only those records
//! are searched again, one by one, for which rules' literals they hold, and a rule with
//! literals is only evaluated on a record that holds one of them. Rules without usable
//! literals (numbers, regular expressions, negations) are evaluated on every record.

use super::Compiled;
use super::matcher::{Cond, Matcher, Node, Pat};
use super::view::View;
use rsigma_parser::Quantifier;
use std::collections::BTreeSet;

/// The prefilter of one log format: the literals of the rules its events can match.
pub(super) struct Prefilter {
    /// Rules selected by one field's value (CloudTrail's `eventName`), looked up per event
    /// instead of searched for.
    pub(super) key: Option<KeyIndex>,
    pub(super) ac: Option<aho_corasick::AhoCorasick>,
    /// Pattern id → rules that need it.
    pub(super) rules_of: Vec<Vec<usize>>,
    /// The rules evaluated on every record (in order): those neither keyed nor with literals
    /// when records are searched, every rule not keyed when they are not (JSON, W3C).
    pub(super) every_searched: Vec<usize>,
    pub(super) every_unsearched: Vec<usize>,
    /// The length of the longest literal.
    longest: usize,
    /// How far before a packed match a literal can start: the buffer is searched only for
    /// literals that hold no other literal (`/etc/passwd` needs no search when `/etc/` is
    /// one), and a literal left out starts at most this far before the one it holds.
    back: usize,
    /// The literals in groups small enough for the SIMD (Teddy) search, for whole buffers;
    /// empty when a group could not be built (the automaton searches then).
    packed: Vec<aho_corasick::packed::Searcher>,
    /// The literals that hold a space, and their index among all: all that can newly match
    /// once a query's `+` are spaces and nothing else changed.
    spaced: Option<(aho_corasick::AhoCorasick, Vec<usize>)>,
}

/// Literals per SIMD searcher. Each searcher is one pass over the buffer, and Teddy slows
/// down as its eight buckets fill: 24 keeps three literals to a bucket. Measured with the
/// built-in pack's 137 web literals then (callgrind, 20 MB of generated and of real Apache logs):
/// the passes cost a quarter fewer instructions than with 16 (six passes instead of nine);
/// 20, 28 and 32 were all slower than 24. With 147 searched web literals (Struts OGNL added),
/// 24 made a seventh pass: 25 keeps six, and the whole scan of 20 MB of generated access log
/// costs 0.7% more instructions than before the four literals (callgrind) instead of 2.1%.
/// With the metadata rule's nine (156), 26 keeps six: the 200 MB generated log's read and
/// match went 516–522 ms → 522–533 ms, where a seventh pass of 25 cost 555–580 ms. Which
/// literals share a group matters nearly as much as how many: the group holding `../` takes
/// three-byte fingerprints, and edits that moved one literal across a group boundary cost up
/// to 10% (measured; so were a separate pass for the short literals and groups sorted by
/// length: both slower). `union all select` made 157 searched literals, a seventh pass at 26
/// (+20% in the searchers): 27 keeps six (20 MB of generated log, callgrind: 2.38 → 2.32 G
/// instructions for the whole scan). Removing five percent-encoded sqli literals that
/// decoding now covers was slower at every group size from 25 to 28 (2.36–2.39 G).
const PACKED_GROUP: usize = 27;

/// The SIMD searchers for a whole buffer, `group` literals each, over the literals that hold
/// no other one (a record holding `union select` holds `select`: searching for the shorter
/// finds it, and every extra literal costs the search time), and how far before the start of
/// a match of those a literal can start. None when a searcher cannot be built.
///
/// Leaving out the 8 literals of the built-in web pack that hold another (151 → 143) made the
/// passes over 100 MB of generated access log 79 → 52 ms, and over 300 MB of real Apache logs
/// 216 → 174 ms: six passes instead of seven.
fn packed(pats: &[Vec<u8>], group: usize) -> (Option<Vec<aho_corasick::packed::Searcher>>, usize) {
    let within = |small: &[u8], big: &[u8]| -> Option<usize> {
        (small.len() <= big.len())
            .then(|| big.windows(small.len()).rposition(|w| w == small))
            .flatten()
    };
    let mut searched: Vec<&Vec<u8>> = Vec::new();
    let mut back = 0;
    for (i, p) in pats.iter().enumerate() {
        // The furthest into it that another literal it holds starts (for equal literals, the
        // first one is searched): None when it holds none.
        let held = pats
            .iter()
            .enumerate()
            .filter(|&(j, q)| j != i && (q.len() < p.len() || (q.len() == p.len() && j < i)))
            .filter_map(|(_, q)| within(q, p))
            .max();
        match held {
            // It starts at most that far before a match of the literal it holds.
            Some(at) => back = back.max(at),
            None => searched.push(p),
        }
    }
    let packed = searched
        .chunks(group)
        .map(|g| {
            aho_corasick::packed::Config::new()
                .builder()
                .extend(g)
                .build()
        })
        .collect();
    (packed, back)
}

impl Prefilter {
    /// The prefilter over `subset` (indices into `rules`).
    pub(super) fn new(rules: &[Compiled], subset: &[usize]) -> Prefilter {
        let key = KeyIndex::new(rules, subset);
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        // By rule index: rules that cannot be prefiltered (evaluated on every record).
        let mut always = vec![true; rules.len()];
        for &ri in subset {
            if key.as_ref().is_some_and(|k| k.keyed[ri]) {
                continue;
            }
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
        let (packed, back) = packed(&pats, PACKED_GROUP);
        let spaced_at: Vec<usize> = (0..pats.len())
            .filter(|&k| pats[k].contains(&b' '))
            .collect();
        let spaced = (!spaced_at.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::Standard)
                    .build(spaced_at.iter().map(|&k| &pats[k]))
                    .ok()
            })
            .flatten()
            .map(|ac| (ac, spaced_at));
        let keyed = |ri: usize| key.as_ref().is_some_and(|k| k.keyed[ri]);
        let every_unsearched: Vec<usize> =
            subset.iter().copied().filter(|&ri| !keyed(ri)).collect();
        let every_searched = every_unsearched
            .iter()
            .copied()
            .filter(|&ri| always[ri])
            .collect();
        Prefilter {
            key,
            ac,
            rules_of,
            every_searched,
            every_unsearched,
            longest: pats.iter().map(Vec::len).max().unwrap_or(0),
            back,
            packed: packed.unwrap_or_default(),
            spaced,
        }
    }

    /// Literal matches in a lower-cased chunk, (start, end) sorted by start: a record holds a
    /// literal only if a match starts inside it (a match never spans a newline, as no literal
    /// holds one).
    ///
    /// Each searcher reports leftmost matches that do not overlap, so an occurrence it skips
    /// starts inside a match it reported: every occurrence of every literal starts in
    /// `start..end` of some hit, and [`Prefilter::mark_hits`] only looks there.
    pub(super) fn chunk_hits(&self, lower: &[u8], out: &mut Vec<(u32, u32)>) {
        out.clear();
        if !self.packed.is_empty() {
            for p in &self.packed {
                out.extend(
                    p.find_iter(lower)
                        .map(|m| (m.start() as u32, m.end() as u32)),
                );
            }
            if self.packed.len() > 1 {
                out.sort_unstable();
            }
        } else if let Some(ac) = &self.ac {
            // The automaton's standard semantics report the match that ends first, which can
            // skip one that starts earlier: `mark_hits` then searches the whole record.
            out.extend(
                ac.find_iter(lower)
                    .map(|m| (m.start() as u32, m.end() as u32)),
            );
        }
    }

    /// Calls `each` with the rules of every literal holding a space in a lower-cased text.
    pub(super) fn mark_spaced(&self, lower: &[u8], mut each: impl FnMut(&[usize])) {
        if let Some((ac, at)) = &self.spaced {
            for m in ac.find_overlapping_iter(lower) {
                each(&self.rules_of[at[m.pattern().as_usize()]]);
            }
        }
    }

    /// Calls `each` with the rules of every literal in a lower-cased record.
    pub(super) fn mark_all(&self, lower: &[u8], mut each: impl FnMut(&[usize])) {
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(lower) {
                each(&self.rules_of[m.pattern().as_usize()]);
            }
        }
    }

    /// Calls `each` with the rules of every literal in the record at `at..at + len` of the
    /// lower-cased chunk, given the chunk's hits that start inside the record: the literals
    /// are looked for only from each hit's start to its end plus the longest literal.
    pub(super) fn mark_hits(
        &self,
        lower: &[u8],
        at: usize,
        len: usize,
        hits: &[(u32, u32)],
        mut each: impl FnMut(&[usize]),
    ) {
        let Some(ac) = &self.ac else {
            return;
        };
        let line_end = at + len;
        if self.packed.is_empty() {
            self.mark_all(&lower[at..line_end], each);
            return;
        }
        // Every occurrence starts in `s - back..e` of some hit. The hits come sorted by start,
        // so occurrences starting before `covered` were found by the earlier hits' searches.
        let mut covered = at;
        for &(s, e) in hits {
            let (s, e) = (s as usize, e as usize);
            let from = s.saturating_sub(self.back).max(covered);
            // An occurrence starting before `e` ends by `e - 1 + longest`.
            let to = (e + self.longest).saturating_sub(1).min(line_end);
            covered = covered.max(e);
            if from >= to {
                continue;
            }
            for m in ac.find_overlapping_iter(&lower[from..to]) {
                each(&self.rules_of[m.pattern().as_usize()]);
            }
        }
    }
}

/// Rules that can only match when a field equals one of a few values, found by looking the
/// event's values up (Hayabusa-style routing by `eventName`): a necessary condition, so a keyed
/// rule is evaluated only on events whose value it names.
pub(super) struct KeyIndex {
    /// (field, lower-cased value → rules that name it), most-used field first.
    pub(super) fields: Vec<(String, ValueRules)>,
    /// By field, as in `fields`: the values that are whole numbers, as numbers (a status
    /// code the parser read as a number is looked up without being printed).
    pub(super) numbers: Vec<Vec<(i64, Vec<usize>)>>,
    /// By rule index: selected by this index.
    pub(super) keyed: Vec<bool>,
}

/// Lower-cased value → the rules that name it.
pub(super) type ValueRules = std::collections::HashMap<Vec<u8>, Vec<usize>, super::HashState>;

/// A key index pays off from this many rules keyed on its main field.
const KEY_MIN_RULES: usize = 4;

/// A field is selective when the rules name this many distinct values of it (`eventName`, not
/// `sc-status`): keying on it beats any literal.
const SELECTIVE_VALUES: usize = 8;

impl KeyIndex {
    fn new(rules: &[Compiled], subset: &[usize]) -> Option<KeyIndex> {
        let reqs: Vec<(usize, Vec<Req>)> = subset
            .iter()
            .map(|&ri| (ri, rules[ri].matcher.requirements()))
            .collect();
        // Fields by how many rules require them, and how many values they name.
        let mut count: std::collections::BTreeMap<&str, (usize, BTreeSet<&[u8]>)> =
            Default::default();
        for (_, rs) in &reqs {
            let mut fields: Vec<&str> = rs.iter().map(|r| r.0.as_str()).collect();
            fields.sort_unstable();
            fields.dedup();
            for f in fields {
                count.entry(f).or_default().0 += 1;
            }
            for (f, vals) in rs {
                let e = count.entry(f.as_str()).or_default();
                e.1.extend(vals.iter().map(Vec::as_slice));
            }
        }
        let mut order: Vec<(&str, usize, bool)> = count
            .iter()
            .map(|(f, (n, vals))| (*f, *n, vals.len() >= SELECTIVE_VALUES))
            .collect();
        // Selective fields first, then by how many rules need them.
        order.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
        if order.iter().map(|o| o.1).max().unwrap_or(0) < KEY_MIN_RULES {
            return None;
        }
        let mut keyed = vec![false; rules.len()];
        let mut fields = Vec::new();
        for (field, _, selective) in order {
            let mut map = ValueRules::default();
            for (ri, rs) in &reqs {
                if keyed[*ri] {
                    continue;
                }
                // The smallest value set the rule requires of that field.
                let Some(best) = rs.iter().filter(|r| r.0 == field).min_by_key(|r| r.1.len())
                else {
                    continue;
                };
                // On a field of few values (`sc-status: 200`), a rule keeps its literals
                // (`/.env`) unless they are nothing but those values (or it has none).
                if !selective
                    && rules[*ri]
                        .matcher
                        .literals()
                        .is_some_and(|lits| lits.iter().any(|l| !best.1.contains(l)))
                {
                    continue;
                }
                keyed[*ri] = true;
                for v in &best.1 {
                    let list = map.entry(v.clone()).or_default();
                    if !list.contains(ri) {
                        list.push(*ri);
                    }
                }
            }
            if !map.is_empty() {
                fields.push((field.to_string(), map));
            }
        }
        let numbers = fields.iter().map(|(_, map)| numbers(map)).collect();
        (!fields.is_empty()).then_some(KeyIndex {
            fields,
            numbers,
            keyed,
        })
    }

    /// The rules keyed on field `k` (an index into `fields`) that the event's value names.
    pub(super) fn rules(&self, k: usize, v: &mut View<'_, '_>) -> Option<&[usize]> {
        let (field, map) = &self.fields[k];
        match v.int(field) {
            Some(n) => self.numbers[k]
                .iter()
                .find(|(x, _)| *x == n)
                .map(|(_, r)| r.as_slice()),
            None => v
                .value_lower(field)
                .and_then(|val| map.get(val))
                .map(Vec::as_slice),
        }
    }
}

/// The values of a key field that a number prints as (`200`, not `0200` or `+200`: those never
/// equal a number the parser read), with their rules.
fn numbers(map: &ValueRules) -> Vec<(i64, Vec<usize>)> {
    let mut out: Vec<(i64, Vec<usize>)> = map
        .iter()
        .filter_map(|(val, rules)| {
            let n: i64 = std::str::from_utf8(val).ok()?.parse().ok()?;
            (n.to_string().as_bytes() == val.as_slice()).then(|| (n, rules.clone()))
        })
        .collect();
    out.sort_unstable();
    out
}

/// A requirement: the field must equal (case-insensitively) one of the values (lower case).
type Req = (String, Vec<Vec<u8>>);

impl Matcher {
    /// Every field-equality requirement the rule's match implies: for each, an event the rule
    /// matches has that field equal to one of the values.
    pub(super) fn requirements(&self) -> Vec<Req> {
        let per: Vec<Vec<Req>> = self.conds.iter().map(|c| self.cond_reqs(c)).collect();
        union_reqs(per)
    }

    fn cond_reqs(&self, c: &Cond) -> Vec<Req> {
        match c {
            Cond::Id(i) => node_reqs(&self.named[*i]),
            Cond::And(cs) => cs.iter().flat_map(|c| self.cond_reqs(c)).collect(),
            Cond::Or(cs) => union_reqs(cs.iter().map(|c| self.cond_reqs(c)).collect()),
            Cond::Not(_) => Vec::new(),
            Cond::Of(Quantifier::All, ids) => ids
                .iter()
                .flat_map(|&i| node_reqs(&self.named[i]))
                .collect(),
            Cond::Of(_, ids) => {
                union_reqs(ids.iter().map(|&i| node_reqs(&self.named[i])).collect())
            }
        }
    }
}

/// What every alternative requires: fields required by all of them, with their values joined.
fn union_reqs(alts: Vec<Vec<Req>>) -> Vec<Req> {
    let mut it = alts.into_iter();
    let Some(first) = it.next() else {
        return Vec::new();
    };
    let mut out: Vec<Req> = first;
    for alt in it {
        out = out
            .into_iter()
            .filter_map(|(f, mut vals)| {
                let mut found = false;
                for (g, w) in &alt {
                    if *g == f {
                        found = true;
                        vals.extend(w.iter().cloned());
                    }
                }
                found.then_some((f, vals))
            })
            .collect();
    }
    for (_, v) in &mut out {
        v.sort();
        v.dedup();
    }
    out
}

fn node_reqs(n: &Node) -> Vec<Req> {
    match n {
        Node::And(ns) => ns.iter().flat_map(node_reqs).collect(),
        Node::Or(ns) => union_reqs(ns.iter().map(node_reqs).collect()),
        Node::Keywords(..) => Vec::new(),
        Node::Item(it) if !it.negate && !it.pats.is_empty() => {
            let mut vals = Vec::new();
            for p in &it.pats {
                match p {
                    Pat::Text {
                        needle,
                        mode: super::matcher::Mode::Exact,
                        ..
                    } if !needle.is_empty() => vals.push(needle.to_ascii_lowercase()),
                    _ => return Vec::new(),
                }
            }
            vec![(it.field.clone(), vals)]
        }
        Node::Item(_) => Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::super::matcher::Matcher;
    use crate::rules::pipeline::FieldMap;

    fn reqs(detection: &str) -> Vec<(String, Vec<String>)> {
        let y = format!(
            "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}"
        );
        let c = rsigma_parser::parse_sigma_yaml(&y).unwrap();
        let m = Matcher::compile(&c.rules[0], &Default::default(), &FieldMap::default()).unwrap();
        let mut out: Vec<(String, Vec<String>)> = m
            .requirements()
            .into_iter()
            .map(|(f, v)| {
                let v = v
                    .into_iter()
                    .map(|x| String::from_utf8(x).unwrap())
                    .collect();
                (f, v)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn field_requirements_are_necessary_conditions() {
        // AND with a negated filter: both equalities are required, the filter adds nothing.
        let r = reqs(
            "  sel:\n    eventSource: iam.amazonaws.com\n    eventName:\n      - CreateUser\n      - CreateAccessKey\n  filter:\n    userIdentity.type: Root\n  condition: sel and not filter\n",
        );
        assert_eq!(
            r,
            [
                (
                    "eventName".into(),
                    vec!["createaccesskey".into(), "createuser".into()]
                ),
                ("eventSource".into(), vec!["iam.amazonaws.com".to_string()]),
            ]
        );
        // OR: only a field every branch requires, with the values joined.
        let r = reqs(
            "  a:\n    eventName: StopLogging\n    eventSource: cloudtrail.amazonaws.com\n  b:\n    eventName: DeleteTrail\n  condition: a or b\n",
        );
        assert_eq!(
            r,
            [(
                "eventName".into(),
                vec!["deletetrail".into(), "stoplogging".into()]
            )]
        );
        // A branch without it, a wildcard or a contains: no requirement on that field.
        assert!(
            reqs("  a:\n    eventName: A\n  b:\n    errorCode: x\n  condition: 1 of them\n")
                .is_empty()
        );
        assert!(reqs("  a:\n    eventName: Create*\n  condition: a\n").is_empty());
        assert!(reqs("  a:\n    eventName|contains: Create\n  condition: a\n").is_empty());
        assert!(reqs("  a:\n    eventName: ''\n  condition: a\n").is_empty());
        assert!(reqs("  a:\n    eventName: X\n  condition: not a\n").is_empty());
    }

    #[test]
    fn a_number_finds_the_rules_of_its_canonical_spelling_only() {
        use super::{KeyIndex, ValueRules};
        use crate::detect::view::{Scratch, View};
        use crate::parse::{Esc, Event, Fields, Val};
        let mut map = ValueRules::default();
        for (k, r) in [("404", 1), ("0200", 2), ("200", 3), ("-1", 4), ("abc", 5)] {
            map.insert(k.as_bytes().to_vec(), vec![r]);
        }
        let numbers = super::numbers(&map);
        assert_eq!(numbers, [(-1, vec![4]), (200, vec![3]), (404, vec![1])]);
        let index = KeyIndex {
            fields: vec![("sc-status".into(), map)],
            numbers: vec![numbers],
            keyed: vec![true; 6],
        };
        let found = |v: Val<'_>| {
            let mut f = Fields::default();
            f.put("sc-status", v);
            let ev = Event::of(&f);
            let mut s = Scratch::default();
            let mut view = View::new(&ev, &mut s);
            index.rules(0, &mut view).map(<[usize]>::to_vec)
        };
        assert_eq!(found(Val::Num(200)), Some(vec![3]));
        assert_eq!(found(Val::Num(404)), Some(vec![1]));
        assert_eq!(found(Val::Num(-1)), Some(vec![4]));
        assert_eq!(found(Val::Num(500)), None);
        // Text is looked up as written, lower-cased.
        assert_eq!(found(Val::Str(b"0200", Esc::None)), Some(vec![2]));
        assert_eq!(found(Val::Str(b"ABC", Esc::None)), Some(vec![5]));
    }

    #[test]
    fn marking_near_the_hits_finds_every_literal_of_a_record() {
        use super::Prefilter;
        let lits: Vec<&[u8]> = vec![
            b"abcd",
            b"bc",
            b"cde",
            b"../",
            b"..%2f",
            b"%2e%2e",
            b"union",
            b"union select",
            b"select",
            b"/etc/passwd",
            b"passwd",
            b"c",
            b"dd",
            b"sel",
            b"lect u",
        ];
        let pats: Vec<Vec<u8>> = lits.iter().map(|l| l.to_vec()).collect();
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&pats)
            .unwrap();
        // Small groups, so that the searchers' matches overlap each other too.
        let (packed, back) = super::packed(&pats, 4);
        assert!(back > 0, "the literals hold each other");
        let pf = Prefilter {
            key: None,
            ac: Some(ac.clone()),
            rules_of: (0..pats.len()).map(|k| vec![k]).collect(),
            every_searched: Vec::new(),
            every_unsearched: Vec::new(),
            longest: pats.iter().map(Vec::len).max().unwrap(),
            back,
            packed: packed.unwrap(),
            spaced: None,
        };
        let pieces: &[&[u8]] = &[
            b"abcde",
            b"union select",
            b"..%2f..",
            b"/etc/passwd",
            b"%2e%2e%2e",
            b"x",
            b"a",
            b"b",
            b"c",
            b"d",
            b"e",
            b" ",
            b"/",
            b".",
            b"%",
            b"2",
            b"f",
            b"select",
            b"lect",
            b"u",
            b"n",
            b"cdd",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut checked = 0;
        for _ in 0..300 {
            let mut chunk = Vec::new();
            let mut lines = Vec::new();
            for _ in 0..(1 + next() % 8) {
                let start = chunk.len();
                for _ in 0..(next() % 20) {
                    chunk.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                }
                lines.push((start, chunk.len() - start));
                chunk.push(b'\n');
            }
            let mut hits = Vec::new();
            pf.chunk_hits(&chunk, &mut hits);
            for &(at, len) in &lines {
                let mut want: Vec<usize> = ac
                    .find_overlapping_iter(&chunk[at..at + len])
                    .map(|m| m.pattern().as_usize())
                    .collect();
                want.sort_unstable();
                want.dedup();
                let i = hits.partition_point(|&(h, _)| (h as usize) < at);
                let n = hits[i..].partition_point(|&(h, _)| (h as usize) < at + len);
                let mut got = Vec::new();
                pf.mark_hits(&chunk, at, len, &hits[i..i + n], |r| {
                    got.extend_from_slice(r)
                });
                got.sort_unstable();
                got.dedup();
                assert_eq!(
                    got,
                    want,
                    "{}",
                    String::from_utf8_lossy(&chunk[at..at + len])
                );
                checked += want.len();
            }
        }
        assert!(
            checked > 1000,
            "too few literals in the generated records: {checked}"
        );
    }
}
