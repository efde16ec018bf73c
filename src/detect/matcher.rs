//! Compiled Sigma detections: field matchers with Sigma's modifiers, keyword searches in the raw
//! line, and the condition over named selections. Evaluated directly over leaktrail's zero-copy
//! events (no conversion to JSON).

use super::view::View;
use crate::rules::pipeline::FieldMap;
use regex::bytes::Regex;
use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Modifier, Quantifier, SelectorPattern, SigmaRule,
    SigmaString, SigmaValue, SpecialChar, StringPart,
};
use std::net::IpAddr;

/// Why a rule cannot be compiled: the construct leaktrail does not support.
pub type CompileError = String;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Exact,
    Contains,
    Starts,
    Ends,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// One value test.
#[derive(Clone, Debug)]
pub(super) enum Pat {
    /// Plain text; `needle` is lower-cased unless `cased`. The searcher is built once.
    Text {
        needle: Vec<u8>,
        mode: Mode,
        cased: bool,
        finder: Box<memchr::memmem::Finder<'static>>,
        /// The needle as a whole number, when it is one spelled as numbers print (`404`):
        /// a numeric field is then compared without being printed.
        int: Option<i64>,
    },
    /// Wildcards or `re`.
    Regex(Regex),
    Cidr(IpAddr, u8),
    Num(Cmp, f64),
    /// Field absent or empty.
    Null,
    Exists(bool),
    FieldRef(String),
}

/// A field test: all or any of its patterns, possibly negated (`neq`).
#[derive(Clone, Debug)]
pub(super) struct Item {
    pub(super) field: String,
    pub(super) pats: Vec<Pat>,
    pub(super) all: bool,
    pub(super) negate: bool,
    /// For an "any of" item with several case-insensitive `contains` needles: one search for
    /// all of them over the lower-cased value (those patterns are then skipped one by one).
    any_contains: Option<aho_corasick::AhoCorasick>,
    /// The field is a request target ([`URL_FIELDS`]): a text or regex test that fails on the
    /// value as logged is tried on it percent-decoded.
    url: bool,
}

/// Request-target fields (Sigma's web and proxy names): their tests also match the target
/// percent-decoded, so `%24%7Bjndi%3A` meets a rule written for `${jndi:`, and double
/// encoding (`%2527`) does not hide a payload.
pub const URL_FIELDS: [&str; 7] = [
    "cs-uri-query",
    "cs-uri-stem",
    "cs-uri",
    "c-uri",
    "c-uri-query",
    "c-uri-stem",
    "c-uri-path",
];

/// How many `contains` needles make one combined search worth building.
const COMBINE_AT: usize = 3;

fn plain_contains(p: &Pat) -> Option<&[u8]> {
    match p {
        Pat::Text {
            needle,
            mode: Mode::Contains,
            cased: false,
            ..
        } => Some(needle),
        _ => None,
    }
}

fn combined_contains(pats: &[Pat], all: bool) -> Option<aho_corasick::AhoCorasick> {
    let needles: Vec<&[u8]> = pats.iter().filter_map(plain_contains).collect();
    if all || needles.len() < COMBINE_AT {
        return None;
    }
    aho_corasick::AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(needles)
        .ok()
}

#[derive(Clone, Debug)]
pub(super) enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Item(Item),
    Keywords(Vec<Pat>, bool),
}

#[derive(Clone, Debug)]
pub(super) enum Cond {
    Id(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Of(Quantifier, Vec<usize>),
}

/// A compiled detection.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub(super) named: Vec<Node>,
    pub(super) conds: Vec<Cond>,
    /// The selection, when the condition is that one selection alone (most rules): it is
    /// evaluated without the condition's bookkeeping.
    single: Option<usize>,
    /// Literal strings every match must contain somewhere in its raw line (lower case), when
    /// the rule says so: used to skip lines quickly.
    pub fields: Vec<String>,
}

/// What compiling a detection needs besides the detection: placeholder values and the
/// pipeline's field-name mapping for the rule's logsource.
struct Cx<'a> {
    ph: &'a Placeholders,
    map: &'a FieldMap,
}

impl Matcher {
    /// Compiles a rule's detection section.
    pub fn compile(
        rule: &SigmaRule,
        ph: &Placeholders,
        map: &FieldMap,
    ) -> Result<Matcher, CompileError> {
        Self::from_detections(&rule.detection, ph, map)
    }

    /// Compiles a detection section (a rule's or a filter's).
    pub fn from_detections(
        det: &rsigma_parser::Detections,
        ph: &Placeholders,
        map: &FieldMap,
    ) -> Result<Matcher, CompileError> {
        let cx = Cx { ph, map };
        let mut names: Vec<&String> = det.named.keys().collect();
        names.sort();
        let mut named = Vec::with_capacity(names.len());
        let mut fields = Vec::new();
        for n in &names {
            let compiled =
                node(&det.named[*n], &mut fields, &cx).map_err(|e| format!("{n}: {e}"))?;
            named.push(flatten(compiled));
        }
        let conds = det
            .conditions
            .iter()
            .map(|c| cond(c, &names))
            .collect::<Result<Vec<_>, _>>()?;
        if conds.is_empty() {
            return Err("no condition".into());
        }
        fields.sort();
        fields.dedup();
        let single = match conds.as_slice() {
            [Cond::Id(i)] => Some(*i),
            _ => None,
        };
        Ok(Matcher {
            named,
            conds,
            single,
            fields,
        })
    }

    /// True when the event matches (any of the rule's conditions).
    pub fn matches(&self, v: &mut View<'_, '_>) -> bool {
        if let Some(i) = self.single {
            return eval_node(&self.named[i], v);
        }
        // The selections' results, on the stack for the usual handful of selections.
        let mut small = [None; 16];
        let mut big;
        let cache: &mut [Option<bool>] = if self.named.len() <= small.len() {
            &mut small[..self.named.len()]
        } else {
            big = vec![None; self.named.len()];
            &mut big
        };
        self.conds.iter().any(|c| self.eval_cond(c, v, cache))
    }

    fn named(&self, i: usize, v: &mut View<'_, '_>, cache: &mut [Option<bool>]) -> bool {
        if let Some(r) = cache[i] {
            return r;
        }
        let r = eval_node(&self.named[i], v);
        cache[i] = Some(r);
        r
    }

    fn eval_cond(&self, c: &Cond, v: &mut View<'_, '_>, cache: &mut [Option<bool>]) -> bool {
        match c {
            Cond::Id(i) => self.named(*i, v, cache),
            Cond::And(cs) => cs.iter().all(|c| self.eval_cond(c, v, cache)),
            Cond::Or(cs) => cs.iter().any(|c| self.eval_cond(c, v, cache)),
            Cond::Not(c) => !self.eval_cond(c, v, cache),
            Cond::Of(q, ids) => {
                let n = ids.iter().filter(|&&i| self.named(i, v, cache)).count();
                match q {
                    Quantifier::Any => n >= 1,
                    Quantifier::All => n == ids.len(),
                    Quantifier::Count(k) => n as u64 >= *k,
                }
            }
        }
    }
}

/// An `and` or `or` of one operand is that operand (a selection of one field test, the usual
/// case): it is evaluated without the extra step.
fn flatten(n: Node) -> Node {
    match n {
        Node::And(ns) | Node::Or(ns) if ns.len() == 1 => flatten(ns.into_iter().next().unwrap()),
        Node::And(ns) => Node::And(ns.into_iter().map(flatten).collect()),
        Node::Or(ns) => Node::Or(ns.into_iter().map(flatten).collect()),
        other => other,
    }
}

fn cond(c: &ConditionExpr, names: &[&String]) -> Result<Cond, CompileError> {
    Ok(match c {
        ConditionExpr::Identifier(id) => Cond::Id(
            names
                .iter()
                .position(|n| *n == id)
                .ok_or_else(|| format!("condition names `{id}`, which is not defined"))?,
        ),
        ConditionExpr::And(cs) => Cond::And(
            cs.iter()
                .map(|c| cond(c, names))
                .collect::<Result<_, _>>()?,
        ),
        ConditionExpr::Or(cs) => Cond::Or(
            cs.iter()
                .map(|c| cond(c, names))
                .collect::<Result<_, _>>()?,
        ),
        ConditionExpr::Not(c) => Cond::Not(Box::new(cond(c, names)?)),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let ids: Vec<usize> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| match pattern {
                    SelectorPattern::Them => !n.starts_with('_'),
                    SelectorPattern::Pattern(p) => glob_name(p, n),
                })
                .map(|(i, _)| i)
                .collect();
            if ids.is_empty() {
                return Err(format!("`{quantifier} of {pattern}` matches no selection"));
            }
            Cond::Of(quantifier.clone(), ids)
        }
    })
}

/// `selection*` style name patterns.
fn glob_name(p: &str, n: &str) -> bool {
    match p.strip_suffix('*') {
        Some(prefix) => n.starts_with(prefix),
        None => p == n,
    }
}

fn node(d: &Detection, fields: &mut Vec<String>, cx: &Cx) -> Result<Node, CompileError> {
    Ok(match d {
        Detection::AllOf(items) => Node::And(
            items
                .iter()
                .map(|i| item(i, fields, cx))
                .collect::<Result<_, _>>()?,
        ),
        Detection::AnyOf(ds) => Node::Or(
            ds.iter()
                .map(|d| node(d, fields, cx))
                .collect::<Result<_, _>>()?,
        ),
        Detection::And(ds) => Node::And(
            ds.iter()
                .map(|d| node(d, fields, cx))
                .collect::<Result<_, _>>()?,
        ),
        Detection::Keywords(vals) => {
            let pats = vals
                .iter()
                .map(|v| value_pat(v, Mode::Contains, &Flags::default()))
                .collect::<Result<Vec<_>, _>>()?;
            Node::Keywords(pats.into_iter().flatten().collect(), false)
        }
        Detection::ArrayMatch { .. } => {
            return Err("array matching (`|any`/`|all` over arrays) is not supported yet".into());
        }
        Detection::Conditional { .. } => {
            return Err("nested conditional detections are not supported yet".into());
        }
    })
}

#[derive(Default, Clone)]
struct Flags {
    cased: bool,
    re: bool,
    re_i: bool,
    re_m: bool,
    re_s: bool,
    base64: bool,
    base64offset: bool,
    wide: bool,
    windash: bool,
}

/// Values for `|expand` placeholders (`%admin_users%`), from `--placeholder NAME=VALUE`.
pub type Placeholders = std::collections::BTreeMap<String, Vec<String>>;

/// Every expansion of `%name%` placeholders in `s` (the cartesian product of their values).
fn expand(s: &str, ph: &Placeholders) -> Result<Vec<String>, CompileError> {
    let Some(start) = s.find('%') else {
        return Ok(vec![s.to_string()]);
    };
    let Some(len) = s[start + 1..].find('%') else {
        return Ok(vec![s.to_string()]);
    };
    let name = &s[start + 1..start + 1 + len];
    let values = ph.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        format!("placeholder `%{name}%` has no values (give them with --placeholder {name}=VALUE)")
    })?;
    let rest = expand(&s[start + len + 2..], ph)?;
    let mut out = Vec::new();
    for v in values {
        for r in &rest {
            out.push(format!("{}{v}{r}", &s[..start]));
        }
    }
    Ok(out)
}

fn item(i: &DetectionItem, fields: &mut Vec<String>, cx: &Cx) -> Result<Node, CompileError> {
    let mut mode = Mode::Exact;
    let mut flags = Flags::default();
    let (mut all, mut negate) = (false, false);
    let mut special: Option<Pat> = None;
    let mut cmp: Option<Cmp> = None;
    let mut cidr = false;
    let mut fieldref = false;
    let mut expanding = false;
    for m in &i.field.modifiers {
        match m {
            Modifier::Expand => expanding = true,
            Modifier::Contains => mode = Mode::Contains,
            Modifier::StartsWith => mode = Mode::Starts,
            Modifier::EndsWith => mode = Mode::Ends,
            Modifier::All => all = true,
            Modifier::Cased => flags.cased = true,
            Modifier::Re => flags.re = true,
            Modifier::IgnoreCase => flags.re_i = true,
            Modifier::Multiline => flags.re_m = true,
            Modifier::DotAll => flags.re_s = true,
            Modifier::Cidr => cidr = true,
            Modifier::Neq => negate = true,
            Modifier::Gt => cmp = Some(Cmp::Gt),
            Modifier::Gte => cmp = Some(Cmp::Gte),
            Modifier::Lt => cmp = Some(Cmp::Lt),
            Modifier::Lte => cmp = Some(Cmp::Lte),
            Modifier::FieldRef => fieldref = true,
            Modifier::Base64 => flags.base64 = true,
            Modifier::Base64Offset => flags.base64offset = true,
            Modifier::Wide => flags.wide = true,
            Modifier::WindAsh => flags.windash = true,
            Modifier::Exists => {
                let b = matches!(i.values.first(), Some(SigmaValue::Bool(true)));
                special = Some(Pat::Exists(b));
            }
            other => {
                return Err(format!(
                    "modifier `{}` is not supported yet",
                    modifier_name(*other)
                ));
            }
        }
    }
    let field = match &i.field.name {
        Some(n) => cx.map.map(n).to_string(),
        None => {
            let pats = i
                .values
                .iter()
                .map(|v| value_pat(v, Mode::Contains, &flags))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Node::Keywords(pats.into_iter().flatten().collect(), all));
        }
    };
    if !fields.contains(&field) {
        fields.push(field.clone());
    }
    let expanded: Vec<SigmaValue>;
    let values = if expanding {
        let mut out = Vec::new();
        for v in &i.values {
            for s in expand(&text(v), cx.ph)? {
                out.push(SigmaValue::String(rsigma_parser::SigmaString::new(&s)));
            }
        }
        expanded = out;
        &expanded
    } else {
        &i.values
    };
    let pats = if let Some(p) = special {
        vec![p]
    } else {
        let mut pats = Vec::new();
        for v in values {
            if let Some(c) = cmp {
                pats.push(Pat::Num(
                    c,
                    number(v).ok_or("comparison with a non-number")?,
                ));
            } else if cidr {
                pats.push(cidr_pat(v)?);
            } else if fieldref {
                pats.push(Pat::FieldRef(cx.map.map(&text(v)).to_string()));
            } else {
                pats.extend(value_pat(v, mode, &flags)?);
            }
        }
        pats
    };
    let url = i
        .field
        .name
        .as_deref()
        .is_some_and(|n| URL_FIELDS.contains(&n))
        || URL_FIELDS.contains(&field.as_str());
    Ok(Node::Item(Item {
        field,
        any_contains: combined_contains(&pats, all),
        pats,
        all,
        negate,
        url,
    }))
}

fn modifier_name(m: Modifier) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{m:?}"))
}

fn text(v: &SigmaValue) -> String {
    match v {
        SigmaValue::String(s) => s.original.clone(),
        other => other.to_string(),
    }
}

fn number(v: &SigmaValue) -> Option<f64> {
    match v {
        SigmaValue::Integer(i) => Some(*i as f64),
        SigmaValue::Float(f) => Some(*f),
        SigmaValue::String(s) => s.original.parse().ok(),
        _ => None,
    }
}

fn cidr_pat(v: &SigmaValue) -> Result<Pat, CompileError> {
    let t = text(v);
    let (a, p) = t
        .split_once('/')
        .unwrap_or((&t, if t.contains(':') { "128" } else { "32" }));
    let ip: IpAddr = a.parse().map_err(|_| format!("bad CIDR `{t}`"))?;
    let p: u8 = p.parse().map_err(|_| format!("bad CIDR `{t}`"))?;
    Ok(Pat::Cidr(ip, p))
}

fn text_pat(needle: Vec<u8>, mode: Mode, cased: bool) -> Pat {
    let finder = Box::new(memchr::memmem::Finder::new(&needle).into_owned());
    let int = std::str::from_utf8(&needle)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| n.to_string().as_bytes() == needle.as_slice());
    Pat::Text {
        needle,
        mode,
        cased,
        finder,
        int,
    }
}

/// Patterns for one value (several when an encoding modifier yields variants).
fn value_pat(v: &SigmaValue, mode: Mode, f: &Flags) -> Result<Vec<Pat>, CompileError> {
    let s = match v {
        SigmaValue::Null => return Ok(vec![Pat::Null]),
        SigmaValue::String(s) => s,
        SigmaValue::Integer(_) | SigmaValue::Float(_) | SigmaValue::Bool(_) => {
            return Ok(vec![text_pat(v.to_string().into_bytes(), mode, true)]);
        }
    };
    if f.re {
        let mut flags = String::new();
        for (on, c) in [(f.re_i, 'i'), (f.re_m, 'm'), (f.re_s, 's')] {
            if on {
                flags.push(c);
            }
        }
        let src = if flags.is_empty() {
            s.original.clone()
        } else {
            format!("(?{flags}){}", s.original)
        };
        return Ok(vec![Pat::Regex(
            Regex::new(&src).map_err(|e| format!("bad regex `{}`: {e}", s.original))?,
        )]);
    }
    let variants = encodings(s, f);
    let mut out = Vec::new();
    for (parts, mode2) in variants {
        let mode = mode2.unwrap_or(mode);
        if parts.iter().any(|p| matches!(p, StringPart::Special(_))) {
            out.push(Pat::Regex(wildcard_regex(&parts, mode, f.cased)?));
        } else {
            let plain: String = parts
                .iter()
                .filter_map(|p| {
                    if let StringPart::Plain(t) = p {
                        Some(t.as_str())
                    } else {
                        None
                    }
                })
                .collect();
            let needle = if f.cased {
                plain.into_bytes()
            } else {
                plain.to_lowercase().into_bytes()
            };
            out.push(text_pat(needle, mode, f.cased));
        }
    }
    Ok(out)
}

/// The value as written, or its encoded forms (base64, base64 at three offsets, UTF-16LE, and
/// Windows dash variants).
const DASHES: [char; 4] = ['/', '–', '—', '―'];

fn encodings(s: &SigmaString, f: &Flags) -> Vec<(Vec<StringPart>, Option<Mode>)> {
    let plain = || s.as_plain().unwrap_or_else(|| s.original.clone());
    if f.base64 || f.base64offset || f.wide {
        // The text (and its windash variants), as UTF-16LE when `wide`, then base64-encoded
        // when asked: `wide|base64offset` is how rules find PowerShell's -EncodedCommand.
        let mut texts = vec![plain()];
        if f.windash {
            texts.extend(DASHES.iter().map(|d| plain().replace('-', &d.to_string())));
        }
        let mut out = Vec::new();
        for t in texts {
            let bytes: Vec<u8> = if f.wide {
                t.encode_utf16().flat_map(u16::to_le_bytes).collect()
            } else {
                t.into_bytes()
            };
            if f.base64 {
                out.push((vec![StringPart::Plain(b64(&bytes))], None));
            } else if f.base64offset {
                out.extend(
                    base64_offsets(&bytes)
                        .into_iter()
                        .map(|v| (vec![StringPart::Plain(v)], Some(Mode::Contains))),
                );
            } else if let Ok(w) = String::from_utf8(bytes) {
                out.push((vec![StringPart::Plain(w)], None));
            }
        }
        return out;
    }
    let mut out = vec![(s.parts.clone(), None)];
    if f.windash {
        for dash in DASHES {
            let parts = s
                .parts
                .iter()
                .map(|p| match p {
                    StringPart::Plain(t) => StringPart::Plain(t.replace('-', &dash.to_string())),
                    other => other.clone(),
                })
                .collect();
            out.push((parts, None));
        }
    }
    out
}

fn wildcard_regex(parts: &[StringPart], mode: Mode, cased: bool) -> Result<Regex, CompileError> {
    let mut re = String::from(if cased { "(?s-u)" } else { "(?is-u)" });
    if matches!(mode, Mode::Exact | Mode::Starts) {
        re.push('^');
    }
    for p in parts {
        match p {
            StringPart::Plain(t) => {
                for b in t.bytes() {
                    if b.is_ascii_alphanumeric() {
                        re.push(b as char);
                    } else {
                        re.push_str(&format!("\\x{b:02x}"));
                    }
                }
            }
            StringPart::Special(SpecialChar::WildcardMulti) => re.push_str(".*"),
            StringPart::Special(SpecialChar::WildcardSingle) => re.push('.'),
        }
    }
    if matches!(mode, Mode::Exact | Mode::Ends) {
        re.push('$');
    }
    Regex::new(&re).map_err(|e| format!("bad wildcard pattern: {e}"))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn b64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The three substrings that appear in base64 text containing `data` at any byte offset
/// (Sigma's `base64offset`).
fn base64_offsets(data: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .filter_map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(data);
            let enc = b64(&padded);
            let end = enc.len() - END_TRIM[(data.len() + i) % 3];
            (START[i] < end).then(|| enc[START[i]..end].to_string())
        })
        .collect()
}

fn eval_node(n: &Node, v: &mut View<'_, '_>) -> bool {
    match n {
        Node::And(ns) => ns.iter().all(|n| eval_node(n, v)),
        Node::Or(ns) => ns.iter().any(|n| eval_node(n, v)),
        Node::Keywords(pats, all) => {
            let raw = v.raw_lower();
            let hit = |p: &Pat| match_bytes(p, raw, raw);
            if *all {
                pats.iter().all(hit)
            } else {
                pats.iter().any(hit)
            }
        }
        Node::Item(it) => eval_item(it, v),
    }
}

fn eval_item(it: &Item, v: &mut View<'_, '_>) -> bool {
    let mut r = eval_item_raw(it, v);
    if !r && it.url {
        r = eval_item_decoded(it, v);
    }
    r != it.negate
}

/// An item's patterns on its field percent-decoded (false when decoding changes nothing). A
/// text or regex test passes on the value as logged or decoded (for `all`, each on its own:
/// `%0d%0a` as logged and `<script` decoded); the others keep their result as logged.
fn eval_item_decoded(it: &Item, v: &mut View<'_, '_>) -> bool {
    // Most records hold no escape: nothing to redo. When decoding turns a query's `+` into
    // spaces and changes nothing else, only a test that reads a space can newly pass.
    match v.escapes() {
        super::view::Escapes::None => return false,
        super::view::Escapes::Plus
            if !it.pats.iter().any(|p| match p {
                Pat::Text { needle, .. } => needle.contains(&b' '),
                Pat::Regex(_) => true,
                _ => false,
            }) =>
        {
            return false;
        }
        _ => {}
    }
    let reads_text = |p: &Pat| matches!(p, Pat::Text { .. } | Pat::Regex(_));
    if it.all {
        // Results as logged first (a handful of patterns), then each failing text test on the
        // decoded value.
        let raw: Vec<bool> = it.pats.iter().map(|p| eval_pat(p, &it.field, v)).collect();
        if raw.iter().zip(&it.pats).any(|(&r, p)| !r && !reads_text(p)) {
            return false;
        }
        let Some((orig, lower)) = v.url_decoded(&it.field) else {
            return false;
        };
        return it
            .pats
            .iter()
            .zip(raw)
            .all(|(p, r)| r || on_decoded(p, orig, lower));
    }
    let Some((orig, lower)) = v.url_decoded(&it.field) else {
        return false;
    };
    it.any_contains
        .as_ref()
        .is_some_and(|ac| ac.is_match(lower))
        || it
            .pats
            .iter()
            .filter(|p| reads_text(p))
            .any(|p| on_decoded(p, orig, lower))
}

/// A text or regex test on a decoded value: case-insensitive text on its lower case.
fn on_decoded(p: &Pat, orig: &[u8], lower: &[u8]) -> bool {
    match p {
        Pat::Text { cased: false, .. } => match_bytes(p, lower, lower),
        _ => match_bytes(p, orig, lower),
    }
}

/// An item's patterns on its field as logged (before `neq`).
fn eval_item_raw(it: &Item, v: &mut View<'_, '_>) -> bool {
    if it.all {
        it.pats.iter().all(|p| eval_pat(p, &it.field, v))
    } else if let Some(ac) = &it.any_contains {
        v.value_lower(&it.field).is_some_and(|s| ac.is_match(s))
            || it
                .pats
                .iter()
                .filter(|p| plain_contains(p).is_none())
                .any(|p| eval_pat(p, &it.field, v))
    } else {
        it.pats.iter().any(|p| eval_pat(p, &it.field, v))
    }
}

fn eval_pat(p: &Pat, field: &str, v: &mut View<'_, '_>) -> bool {
    match p {
        Pat::Exists(want) => v.has(field) == *want,
        Pat::Null => v.value(field).is_none_or(|s| s.is_empty()),
        Pat::FieldRef(other) => {
            let Some(b) = v.value(other).map(|s| s.to_vec()) else {
                return false;
            };
            v.value(field).is_some_and(|a| a == b.as_slice())
        }
        Pat::Num(c, n) => v.number(field).is_some_and(|x| match c {
            Cmp::Gt => x > *n,
            Cmp::Gte => x >= *n,
            Cmp::Lt => x < *n,
            Cmp::Lte => x <= *n,
        }),
        Pat::Cidr(net, bits) => v
            .value(field)
            .and_then(|s| std::str::from_utf8(s).ok()?.parse::<IpAddr>().ok())
            .is_some_and(|ip| in_cidr(ip, *net, *bits)),
        // A numeric field printed is a number's canonical spelling: equal to the needle only
        // when the needle is that number.
        Pat::Text {
            mode: Mode::Exact,
            int,
            ..
        } if let Some(n) = v.int(field) => *int == Some(n),
        // Whole-value and prefix/suffix tests compare without copying; only `contains` needs a
        // lower-cased copy of the value.
        Pat::Text {
            cased: false,
            needle,
            mode,
            ..
        } if *mode != Mode::Contains => v.value(field).is_some_and(|s| match mode {
            Mode::Exact => s.eq_ignore_ascii_case(needle),
            Mode::Starts => {
                s.len() >= needle.len() && s[..needle.len()].eq_ignore_ascii_case(needle)
            }
            _ => {
                s.len() >= needle.len() && s[s.len() - needle.len()..].eq_ignore_ascii_case(needle)
            }
        }),
        Pat::Text { cased: false, .. } => match v.value_lower(field) {
            Some(s) => match_bytes(p, s, s),
            None => false,
        },
        _ => match v.value(field) {
            Some(s) => match_bytes(p, s, s),
            None => false,
        },
    }
}

fn match_bytes(p: &Pat, s: &[u8], _lower: &[u8]) -> bool {
    match p {
        Pat::Text {
            needle,
            mode,
            finder,
            ..
        } => match mode {
            Mode::Exact => s == needle.as_slice(),
            Mode::Contains => finder.find(s).is_some(),
            Mode::Starts => s.starts_with(needle),
            Mode::Ends => s.ends_with(needle),
        },
        Pat::Regex(re) => re.is_match(s),
        _ => false,
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits.min(32) as u32)
            };
            u32::from(a) & m == u32::from(b) & m
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits.min(128) as u32)
            };
            u128::from(a) & m == u128::from(b) & m
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand_to_every_combination() {
        let mut ph = Placeholders::new();
        ph.insert("admins".into(), vec!["root".into(), "admin".into()]);
        ph.insert("dom".into(), vec!["corp".into()]);
        assert_eq!(expand("%admins%", &ph).unwrap(), ["root", "admin"]);
        assert_eq!(
            expand("%dom%\\%admins%", &ph).unwrap(),
            ["corp\\root", "corp\\admin"]
        );
        assert_eq!(
            expand("no placeholder 100%", &ph).unwrap(),
            ["no placeholder 100%"]
        );
        let err = expand("%missing%", &ph).unwrap_err();
        assert!(err.contains("--placeholder missing=VALUE"), "{err}");
    }

    #[test]
    fn base64_helpers() {
        assert_eq!(b64(b"abc"), "YWJj");
        assert_eq!(b64(b"ab"), "YWI=");
        // "http" at offsets 0, 1, 2 inside base64 text.
        assert_eq!(base64_offsets(b"http"), ["aHR0c", "h0dH", "odHRw"]);
    }

    #[test]
    fn cidr() {
        assert!(in_cidr(
            "10.1.2.3".parse().unwrap(),
            "10.0.0.0".parse().unwrap(),
            8
        ));
        assert!(!in_cidr(
            "11.1.2.3".parse().unwrap(),
            "10.0.0.0".parse().unwrap(),
            8
        ));
        assert!(in_cidr(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::".parse().unwrap(),
            32
        ));
    }
}
