//! What correlations keep during a scan: for each part (a worker thread's share of the work),
//! per correlation state a compact log of the events its base rules matched (group, time,
//! reference, value, bytes: about ten bytes each, delta coded). Group ids are ids of the
//! part's [`Interner`], shared with the entities (a client address is probed once per event).
//!
//! Windows are slid only at the end, and only for the groups whose totals over the whole
//! scan could meet a condition at all (`gte 50 MB` cannot hold in any window of a client that
//! received 3 MB in all). A busy web log has tens of thousands of clients and one correlation
//! bucket per request for most of them; building those buckets while scanning cost more than
//! parsing. The log is exact: the groups that may fire get every event back, sorted, and are
//! evaluated as before.

use super::correlate::{CorrSpec, Group, Value};
use super::{Entities, HashState, Ref};
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

/// Bytes per log page (a page is never reallocated: the log grows without copying).
const PAGE: usize = 1 << 20;
/// The most bytes one record takes (group, context, deltas, bytes and value).
const MAX_RECORD: usize = 96;
/// How many events of a group (of each base rule, for temporal correlations) have their
/// entities kept: the earliest, by reference.
const ENTITY_EVENTS: usize = 2;

/// A group key: the group-by values' bytes joined by [`KEY_SEP_BYTE`]; short keys (addresses)
/// are stored inline so a lookup touches one cache line.
#[derive(Clone)]
pub(crate) enum Key {
    Inline(u8, [u8; 30]),
    Heap(Box<[u8]>),
}

/// The byte that joins the values of a multi-field key (U+001F, as in the findings).
pub const KEY_SEP_BYTE: u8 = 0x1f;

impl Key {
    pub(crate) fn new(b: &[u8]) -> Key {
        if b.len() <= 30 {
            let mut a = [0; 30];
            a[..b.len()].copy_from_slice(b);
            Key::Inline(b.len() as u8, a)
        } else {
            Key::Heap(b.into())
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Key::Inline(n, a) => &a[..*n as usize],
            Key::Heap(b) => b,
        }
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.bytes().hash(h)
    }
}

impl PartialEq for Key {
    fn eq(&self, o: &Key) -> bool {
        self.bytes() == o.bytes()
    }
}

impl Eq for Key {}

/// The canonical dotted-quad IPv4 address a whole slice spells (no leading zeros, so one
/// number has one spelling), as a number.
pub(crate) fn ipv4(b: &[u8]) -> Option<u32> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let digit = |i: usize| b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9);
    let (mut n, mut i) = (0u32, 0);
    for k in 0..4 {
        // One to three digits, no leading zero, at most 255.
        let first = digit(i)?;
        let mut part = u32::from(first);
        i += 1;
        for _ in 0..2 {
            match digit(i) {
                Some(d) if first != 0 => {
                    part = part * 10 + u32::from(d);
                    i += 1;
                }
                Some(_) => return None,
                None => break,
            }
        }
        if part > 255 {
            return None;
        }
        n = (n << 8) | part;
        if k < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    (i == b.len()).then_some(n)
}

/// Keys (a tag byte and a value) numbered in order of arrival: a part's entities and
/// correlation groups. An IPv4 address under tag 0 is looked up as a number, in a table a
/// quarter the size: a busy web log's clients are probed once per event.
#[derive(Default)]
pub struct Interner {
    v4: V4,
    other: HashMap<Key, u32, HashState>,
    /// By id: the tag and the value.
    keys: Vec<Key>,
    scratch: Vec<u8>,
}

impl Interner {
    /// The id of a key, and whether it is new.
    pub(crate) fn id(&mut self, tag: u8, value: &[u8]) -> (u32, bool) {
        let next = self.keys.len() as u32;
        if tag == 0
            && let Some(a) = ipv4(value)
        {
            let (id, new) = self.v4.id(a, next);
            if new {
                self.keys.push(tagged(tag, value, &mut self.scratch));
            }
            return (id, new);
        }
        let k = tagged_bytes(tag, value, &mut self.scratch);
        if let Some(&id) = self.other.get(k) {
            return (id, false);
        }
        let key = Key::new(k);
        self.other.insert(key.clone(), next);
        self.keys.push(key);
        (next, true)
    }

    /// The id of an IPv4 address (tag 0) already read as the number `a` from `value`: the
    /// same as `id(0, value)`, without reading it again.
    pub(crate) fn id_v4(&mut self, a: u32, value: &[u8]) -> u32 {
        debug_assert_eq!(ipv4(value), Some(a));
        let (id, new) = self.v4.id(a, self.keys.len() as u32);
        if new {
            self.keys.push(tagged(0, value, &mut self.scratch));
        }
        id
    }

    /// Asks the memory system for the slot of an IPv4 address (tag 0) that an event soon to
    /// come names, so its lookup does not wait on memory.
    pub(crate) fn prefetch_v4(&self, a: u32) {
        self.v4.prefetch(a);
    }

    /// The id of an IPv4 address already numbered.
    pub(crate) fn find_v4(&self, a: u32) -> Option<u32> {
        self.v4.find(a)
    }

    /// Every key (tag and value), by id.
    pub(crate) fn keys(&self) -> impl Iterator<Item = (u8, &[u8])> {
        self.keys.iter().map(|k| {
            k.bytes()
                .split_first()
                .map_or((0, &b""[..]), |(t, v)| (*t, v))
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// IPv4 address → id, by open addressing with linear probing: a slot is the address in the
/// high half and the id plus one in the low half (0: empty). Unlike a general hash map, the
/// slot an address starts at can be computed, and so fetched ahead of need.
#[derive(Default)]
struct V4 {
    slots: Vec<u64>,
    len: usize,
    /// 64 minus log2 of the slot count.
    shift: u32,
}

impl V4 {
    fn home(&self, a: u32) -> usize {
        // Fibonacci hashing: the high bits of the product mix every bit of the address.
        (u64::from(a).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn find(&self, a: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(a);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if (s >> 32) as u32 == a {
                return Some((s as u32).wrapping_sub(1));
            }
            i = (i + 1) & mask;
        }
    }

    /// The address's id, or `next` (then true) when it is new.
    fn id(&mut self, a: u32, next: u32) -> (u32, bool) {
        if self.len * 2 >= self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(a);
        loop {
            let s = self.slots[i];
            if s == 0 {
                self.slots[i] = (u64::from(a) << 32) | u64::from(next + 1);
                self.len += 1;
                return (next, true);
            }
            if (s >> 32) as u32 == a {
                return ((s as u32).wrapping_sub(1), false);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![0; n]);
        self.shift = 64 - n.trailing_zeros();
        let mask = n - 1;
        for s in old.into_iter().filter(|&s| s != 0) {
            let mut i = self.home((s >> 32) as u32);
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    fn prefetch(&self, a: u32) {
        if let Some(s) = self.slots.get(self.home(a)) {
            prefetch(s);
        }
    }
}

/// A hint that `r` will be read soon (a no-op where the hint is not available).
#[inline]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults nor changes memory, and `r` is a valid
    // reference besides.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

fn tagged_bytes<'s>(tag: u8, value: &[u8], scratch: &'s mut Vec<u8>) -> &'s [u8] {
    scratch.clear();
    scratch.push(tag);
    scratch.extend_from_slice(value);
    scratch
}

fn tagged(tag: u8, value: &[u8], scratch: &mut Vec<u8>) -> Key {
    Key::new(tagged_bytes(tag, value, scratch))
}

/// One part's correlation events.
#[derive(Default)]
pub struct Log {
    /// The part's keys (group ids are ids of its interner), given when the part is done.
    keys: Interner,
    /// By correlation index (empty for correlations that read another's state).
    states: Vec<StateLog>,
}

/// The events of one correlation state in one part.
#[derive(Default)]
struct StateLog {
    pages: Vec<Vec<u8>>,
    /// The previous record (deltas are taken from it).
    prev: Cursor,
    /// Entities of each group's earliest events, by group and slot (see
    /// [`CorrSpec::entity_slot`](super::correlate::CorrSpec::entity_slot)).
    firsts: HashMap<(u32, u8), Vec<(Ref, Entities)>, HashState>,
    /// What groups' events read, by time bucket (see [`Log::add_place`]).
    places: Places,
    /// By group: its largest responses (bytes, path, time bucket), see [`Log::add_large`].
    large: HashMap<u32, Vec<Large>, HashState>,
}

/// A large response: its bytes, path and time bucket.
type Large = (u64, String, i64);

/// Large responses kept per group (and part): the largest, so what any window of the group
/// names is among them, and memory stays a few per group however many large responses a log
/// holds.
pub const LARGE_KEPT: usize = 8;

/// Largest first, then by path and bucket: a total order, so the kept ones are the same top
/// in any order of events and parts.
fn large_order(a: &Large, b: &Large) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then_with(|| a.1.cmp(&b.1))
        .then(a.2.cmp(&b.2))
}

fn keep_large(kept: &mut Vec<Large>, e: Large) {
    let (Ok(pos) | Err(pos)) = kept.binary_search_by(|x| large_order(x, &e));
    if pos < LARGE_KEPT {
        kept.insert(pos, e);
        kept.truncate(LARGE_KEPT);
    }
}

/// What a group's events read (an S3 bucket, the collection an id walk fetched from), one
/// entry per group, name, time bucket and cluster of ids (ids at most [`ID_REACH`] apart, for
/// walks): as many entries at most as the events fed, and a finding names only what was read
/// within the buckets it covers.
#[derive(Default)]
struct Places {
    /// Name → its number.
    ids: HashMap<Box<str>, u32, HashState>,
    /// (group, name) → its latest entry.
    last: HashMap<(u32, u32), usize, HashState>,
    /// (group, name, time bucket, lowest id, highest id).
    entries: Vec<(u32, u32, i64, u64, u64)>,
}

/// How far apart two ids read from one collection in one time bucket may be and still count
/// as one range (a walk's sampled ids are at most 16 plus its gap apart).
const ID_REACH: u64 = 32;

impl Places {
    /// The names by number.
    fn names(&self) -> Vec<&str> {
        let mut out = vec![""; self.ids.len()];
        for (name, &n) in &self.ids {
            out[n as usize] = name;
        }
        out
    }
}

/// One thing a group read within one time bucket: what, the lowest and highest id read (0
/// and 0 when there are no ids), and the bytes it took (large responses; else 0).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub bucket: i64,
    pub name: String,
    pub lo: u64,
    pub hi: u64,
    pub bytes: u64,
}

#[derive(Clone, Copy, Default, PartialEq)]
struct Cursor {
    ts: i64,
    file: usize,
    line: u64,
    offset: u64,
    tz: i32,
}

/// One event of a correlation: its group (an id of the part's interner), time and UTC offset,
/// reference, bytes and what it adds (a number, a value's hash, its base rule).
pub struct Rec {
    pub gid: u32,
    pub ts: i64,
    pub tz: i32,
    pub at: Ref,
    pub bytes: f64,
    pub value: Value,
    /// The event's action failed or was refused (kept only for correlations that count
    /// failures: [`super::correlate::CorrSpec::counts_failures`]).
    pub failed: bool,
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

pub(crate) fn put_signed(out: &mut Vec<u8>, n: i64) {
    put_varint(out, ((n << 1) ^ (n >> 63)) as u64);
}

pub(crate) fn get_varint(b: &[u8], i: &mut usize) -> u64 {
    let (mut n, mut shift) = (0u64, 0);
    loop {
        let c = b[*i];
        *i += 1;
        n |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            return n;
        }
        shift += 7;
    }
}

pub(crate) fn get_signed(b: &[u8], i: &mut usize) -> i64 {
    let n = get_varint(b, i);
    (n >> 1) as i64 ^ -((n & 1) as i64)
}

fn get_u64(b: &[u8], i: &mut usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[*i..*i + 8]);
    *i += 8;
    u64::from_le_bytes(a)
}

/// Numbers that are whole and not negative (byte counts) take a varint; others all 8 bytes.
fn whole(x: f64) -> Option<u64> {
    ((0.0..9.0e15).contains(&x) && x.fract() == 0.0).then_some(x as u64)
}

/// Nanoseconds in a second.
const NANOS: i64 = 1_000_000_000;

// Value tags (the low three bits of a record's tag byte).
const V_NONE: u8 = 0;
const V_SAME: u8 = 1;
const V_NUM: u8 = 2;
const V_HASH: u8 = 3;
const V_SMALL: u8 = 4;
const V_BASE: u8 = 5;
/// In a tag byte: the number that follows is all 8 bytes of an `f64`, not a varint.
const T_FLOAT: u8 = 8;
/// In a tag byte, over the value's: the same for the value's number.
const T_VALUE_FLOAT: u8 = 16;

/// A number as written: a varint when it is whole (see [`whole`]), else its 8 bytes.
fn put_num_body(out: &mut Vec<u8>, x: f64, as_whole: Option<u64>) {
    match as_whole {
        Some(n) => put_varint(out, n),
        None => out.extend_from_slice(&x.to_bits().to_le_bytes()),
    }
}

fn get_num_body(b: &[u8], i: &mut usize, float: bool) -> f64 {
    if float {
        f64::from_bits(get_u64(b, i))
    } else {
        get_varint(b, i) as f64
    }
}

/// One tag byte (the value's kind, and how the numbers are written), the bytes, the value.
fn put_value(out: &mut Vec<u8>, v: &Value, bytes: f64) {
    let b = whole(bytes);
    let float = if b.is_some() { 0 } else { T_FLOAT };
    // A value's own number, when it is not the bytes again.
    let num = match *v {
        Value::Num(x) if x.to_bits() != bytes.to_bits() => Some((x, whole(x))),
        _ => None,
    };
    let tag = match (v, num) {
        (Value::None, _) => V_NONE,
        (Value::Num(_), None) => V_SAME,
        (Value::Num(_), Some((_, Some(_)))) => V_NUM,
        (Value::Num(_), Some((_, None))) => V_NUM | T_VALUE_FLOAT,
        (Value::Hash(h), _) if *h < 1 << 56 => V_SMALL,
        (Value::Hash(_), _) => V_HASH,
        (Value::Base(_), _) => V_BASE,
    };
    out.push(tag | float);
    put_num_body(out, bytes, b);
    match (v, num) {
        (_, Some((x, w))) => put_num_body(out, x, w),
        (Value::Hash(h), _) if *h < 1 << 56 => put_varint(out, *h),
        (Value::Hash(h), _) => out.extend_from_slice(&h.to_le_bytes()),
        (Value::Base(k), _) => put_varint(out, *k as u64),
        _ => {}
    }
}

/// The bytes and the value of a record, after its references.
fn get_value(b: &[u8], i: &mut usize) -> (f64, Value) {
    let tag = b[*i];
    *i += 1;
    let bytes = get_num_body(b, i, tag & T_FLOAT != 0);
    let value = match tag & 7 {
        V_SAME => Value::Num(bytes),
        V_NUM => Value::Num(get_num_body(b, i, tag & T_VALUE_FLOAT != 0)),
        V_HASH => Value::Hash(get_u64(b, i)),
        V_SMALL => Value::Hash(get_varint(b, i)),
        V_BASE => Value::Base(get_varint(b, i) as usize),
        _ => Value::None,
    };
    (bytes, value)
}

impl StateLog {
    /// Appends one record. A page starts with a full context (file, zone, reference, time);
    /// within a page a record carries deltas, and the context again when file or zone change.
    fn push(&mut self, r: &Rec) {
        let Rec {
            gid,
            ts,
            tz,
            at,
            bytes,
            ref value,
            failed,
        } = *r;
        let fresh = match self.pages.last() {
            Some(p) => p.len() + MAX_RECORD > p.capacity(),
            None => true,
        };
        if fresh {
            self.pages.push(Vec::with_capacity(PAGE));
        }
        let Some(out) = self.pages.last_mut() else {
            return;
        };
        let p = self.prev;
        let ctx = fresh || p.file != at.file || p.tz != tz;
        // The time (or its change) in whole seconds when it is one: logs with second
        // precision take a byte where nanoseconds took five.
        let dt = if ctx { ts } else { ts.wrapping_sub(p.ts) };
        let secs = dt % NANOS == 0;
        put_varint(
            out,
            (u64::from(gid) << 3)
                | (u64::from(failed) << 2)
                | (u64::from(ctx) << 1)
                | u64::from(secs),
        );
        if ctx {
            put_varint(out, at.file as u64);
            put_signed(out, i64::from(tz));
            put_varint(out, at.line);
            put_varint(out, at.offset);
        } else {
            put_signed(out, at.line.wrapping_sub(p.line) as i64);
            put_signed(out, at.offset.wrapping_sub(p.offset) as i64);
        }
        put_signed(out, if secs { dt / NANOS } else { dt });
        put_value(out, value, bytes);
        self.prev = Cursor {
            ts,
            file: at.file,
            line: at.line,
            offset: at.offset,
            tz,
        };
    }

    /// Every record, in the order they were added.
    fn records(&self, mut each: impl FnMut(Rec)) {
        for page in &self.pages {
            let mut c = Cursor::default();
            let mut i = 0;
            while i < page.len() {
                let head = get_varint(page, &mut i);
                let ctx = head & 2 != 0;
                if ctx {
                    c.file = get_varint(page, &mut i) as usize;
                    c.tz = get_signed(page, &mut i) as i32;
                    c.line = get_varint(page, &mut i);
                    c.offset = get_varint(page, &mut i);
                } else {
                    c.line = c.line.wrapping_add(get_signed(page, &mut i) as u64);
                    c.offset = c.offset.wrapping_add(get_signed(page, &mut i) as u64);
                }
                let mut dt = get_signed(page, &mut i);
                if head & 1 != 0 {
                    dt = dt.wrapping_mul(NANOS);
                }
                c.ts = if ctx { dt } else { c.ts.wrapping_add(dt) };
                let (bytes, value) = get_value(page, &mut i);
                each(Rec {
                    gid: (head >> 3) as u32,
                    failed: head & 4 != 0,
                    ts: c.ts,
                    tz: c.tz,
                    at: Ref {
                        file: c.file,
                        line: c.line,
                        offset: c.offset,
                    },
                    bytes,
                    value,
                });
            }
        }
    }
}

impl Log {
    /// Gives the log the keys its group ids stand for (when the part is done).
    pub fn seal(&mut self, keys: Interner) {
        self.keys = keys;
    }

    /// The bytes the records take (a diagnostic).
    pub fn bytes(&self) -> usize {
        self.states
            .iter()
            .flat_map(|s| &s.pages)
            .map(Vec::len)
            .sum()
    }

    /// Adds one event to correlation state `ci`.
    pub fn add(&mut self, ci: usize, r: Rec) {
        if self.states.len() <= ci {
            self.states.resize_with(ci + 1, StateLog::default);
        }
        self.states[ci].push(&r);
    }

    /// True when the entities of an event of group `gid` at `at` would be kept.
    pub fn wants_entities(&self, ci: usize, slot: (u32, u8), at: Ref) -> bool {
        self.states
            .get(ci)
            .and_then(|s| s.firsts.get(&slot))
            .is_none_or(|f| f.len() < ENTITY_EVENTS || f.last().is_some_and(|(x, _)| at < *x))
    }

    /// Counts `name` (an S3 bucket, a walked collection) read by an event of group `gid` in
    /// time bucket `bucket`, with the id it read.
    pub fn add_place(&mut self, ci: usize, gid: u32, name: &str, bucket: i64, id: Option<u64>) {
        if self.states.len() <= ci {
            self.states.resize_with(ci + 1, StateLog::default);
        }
        let p = &mut self.states[ci].places;
        let n = match p.ids.get(name) {
            Some(&n) => n,
            None => {
                let n = p.ids.len() as u32;
                p.ids.insert(name.into(), n);
                n
            }
        };
        let (lo, hi) = id.map_or((0, 0), |i| (i, i));
        if let Some(&k) = p.last.get(&(gid, n))
            && p.entries[k].2 == bucket
            && lo <= p.entries[k].4.saturating_add(ID_REACH)
            && hi.saturating_add(ID_REACH) >= p.entries[k].3
        {
            let e = &mut p.entries[k];
            (e.3, e.4) = (e.3.min(lo), e.4.max(hi));
            return;
        }
        p.last.insert((gid, n), p.entries.len());
        p.entries.push((gid, n, bucket, lo, hi));
    }

    /// Whether a response of `bytes` to group `gid` would be among its kept largest.
    pub fn large_wanted(&self, ci: usize, gid: u32, bytes: u64) -> bool {
        self.states
            .get(ci)
            .and_then(|s| s.large.get(&gid))
            .is_none_or(|k| k.len() < LARGE_KEPT || k.last().is_some_and(|l| bytes >= l.0))
    }

    /// Keeps a large response to group `gid` when it is among the group's largest.
    pub fn add_large(&mut self, ci: usize, gid: u32, path: String, bucket: i64, bytes: u64) {
        if self.states.len() <= ci {
            self.states.resize_with(ci + 1, StateLog::default);
        }
        keep_large(
            self.states[ci].large.entry(gid).or_default(),
            (bytes, path, bucket),
        );
    }

    /// Keeps the entities of one of a group's earliest events.
    pub fn add_entities(&mut self, ci: usize, slot: (u32, u8), at: Ref, e: Entities) {
        if self.states.len() <= ci {
            self.states.resize_with(ci + 1, StateLog::default);
        }
        add_first(self.states[ci].firsts.entry(slot).or_default(), at, e);
    }
}

fn add_first(firsts: &mut Vec<(Ref, Entities)>, at: Ref, e: Entities) {
    if let Err(pos) = firsts.binary_search_by(|(x, _)| x.cmp(&at))
        && pos < ENTITY_EVENTS
    {
        firsts.insert(pos, (at, e));
        firsts.truncate(ENTITY_EVENTS);
    }
}

/// One key's records in one part, in the order they were written, counted per block of
/// `span` buckets: a window of `span` buckets lies within two consecutive blocks, so the most
/// events (and the largest sum of positive values) of two consecutive blocks bound every
/// window's. Records that go back in time (a thread that took an earlier chunk after a later
/// one) make the bound the key's totals in the part.
#[derive(Clone, Default)]
struct Dense {
    /// Events and the sum of their positive values.
    n: u64,
    sum: f64,
    block: i64,
    cur: (u64, f64),
    prev: (u64, f64),
    best: (u64, f64),
    unordered: bool,
}

impl Dense {
    fn add(&mut self, block: i64, x: f64) {
        let x_pos = x.max(0.0);
        if self.n == 0 || block > self.block + 1 {
            self.prev = (0, 0.0);
            self.cur = (0, 0.0);
            self.block = block;
        } else if block == self.block + 1 {
            self.prev = self.cur;
            self.cur = (0, 0.0);
            self.block = block;
        } else if block < self.block {
            self.unordered = true;
        }
        self.n += 1;
        self.sum += x_pos;
        self.cur.0 += 1;
        self.cur.1 += x_pos;
        self.best.0 = self.best.0.max(self.prev.0 + self.cur.0);
        self.best.1 = self.best.1.max(self.prev.1 + self.cur.1);
    }

    /// (events, sum) no window of the part can exceed for this key.
    fn bound(&self) -> (u64, f64) {
        let (n, sum) = if self.unordered {
            (self.n, self.sum)
        } else {
            self.best
        };
        // Rounding in the running sums must not lower the bound below a window's true sum.
        (n, sum * (1.0 + 1e-9) + 1e-6)
    }
}

/// The groups of correlation state `ci` over every part that may meet the condition of one
/// of the correlations reading it (`readers`), each with all its events: the same groups,
/// minutes and entities whatever the order the parts were scanned in.
pub fn groups(parts: &[&Log], ci: usize, readers: &[&CorrSpec], bucket: i64) -> Vec<Group> {
    // A bound per key over every part, from the records (counting them while scanning would
    // touch one more table per event): the most events and the largest sum of positive values
    // any one window can hold. Only keys whose bound could fire are read again and sorted.
    let block = readers
        .iter()
        .map(|c| c.span_buckets())
        .max()
        .unwrap_or(1)
        .max(1);
    // First the totals (a small tally per key); then, for the keys whose totals could fire,
    // the densest windows.
    let mut totals: HashMap<&[u8], (u64, f64), HashState> = HashMap::default();
    for p in parts {
        let Some(s) = p.states.get(ci).filter(|s| !s.pages.is_empty()) else {
            continue;
        };
        let mut local = vec![(0u64, 0.0f64); p.keys.len()];
        s.records(|r| {
            if let Some(t) = local.get_mut(r.gid as usize) {
                t.0 += 1;
                if let Value::Num(x) = r.value {
                    t.1 += x.max(0.0);
                }
            }
        });
        if totals.is_empty() {
            totals.reserve(local.iter().filter(|t| t.0 > 0).count());
        }
        for ((_, k), &(n, sum)) in p.keys.keys().zip(&local).filter(|(_, t)| t.0 > 0) {
            let t = totals.entry(k).or_default();
            t.0 += n;
            t.1 += sum;
        }
    }
    totals.retain(|_, (n, sum)| readers.iter().any(|c| c.may_fire(*n, *sum)));
    if totals.is_empty() {
        return Vec::new();
    }
    let mut bounds: HashMap<&[u8], (u64, f64), HashState> = HashMap::default();
    for p in parts {
        let Some(s) = p.states.get(ci).filter(|s| !s.pages.is_empty()) else {
            continue;
        };
        // This part's group ids → a slot of `dense`, for the keys still in the running.
        let mut slot = vec![u32::MAX; p.keys.len()];
        let mut keys = Vec::new();
        for (gid, (_, k)) in p.keys.keys().enumerate() {
            if totals.contains_key(k) {
                slot[gid] = keys.len() as u32;
                keys.push(k);
            }
        }
        let mut dense = vec![Dense::default(); keys.len()];
        s.records(|r| {
            if let Some(&i) = slot.get(r.gid as usize).filter(|&&i| i != u32::MAX) {
                let x = match r.value {
                    Value::Num(x) => x,
                    _ => 0.0,
                };
                dense[i as usize].add(r.ts.div_euclid(bucket).div_euclid(block), x);
            }
        });
        for (k, d) in keys.into_iter().zip(&dense).filter(|(_, d)| d.n > 0) {
            let (n, sum) = d.bound();
            let t = bounds.entry(k).or_default();
            t.0 += n;
            t.1 += sum;
        }
    }
    let mut keys: Vec<&[u8]> = bounds
        .iter()
        .filter(|(_, (n, sum))| readers.iter().any(|c| c.may_fire(*n, *sum)))
        .map(|(k, _)| *k)
        .collect();
    keys.sort_unstable();
    if keys.is_empty() {
        return Vec::new();
    }
    let index: HashMap<&[u8], usize, HashState> =
        keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    use rayon::prelude::*;
    let mut events: Vec<Vec<Rec>> = (0..keys.len()).map(|_| Vec::new()).collect();
    // By candidate and slot: the earliest events' entities over every part.
    let mut firsts: Vec<BTreeMap<u8, Vec<(Ref, Entities)>>> = vec![BTreeMap::new(); keys.len()];
    let mut places: Vec<Vec<Place>> = vec![Vec::new(); keys.len()];
    let mut large: Vec<Vec<Large>> = vec![Vec::new(); keys.len()];
    for p in parts {
        let Some(s) = p.states.get(ci) else { continue };
        // This part's group ids → the candidate's position.
        let mut local = vec![usize::MAX; p.keys.len()];
        for ((_, k), slot) in p.keys.keys().zip(local.iter_mut()) {
            if let Some(&i) = index.get(k) {
                *slot = i;
            }
        }
        s.records(|r| {
            if let Some(&i) = local.get(r.gid as usize).filter(|&&i| i != usize::MAX) {
                events[i].push(r);
            }
        });
        for (&(gid, slot), fs) in &s.firsts {
            if let Some(&i) = local.get(gid as usize).filter(|&&i| i != usize::MAX) {
                let kept = firsts[i].entry(slot).or_default();
                for (at, e) in fs {
                    add_first(kept, *at, e.clone());
                }
            }
        }
        for (&gid, kept) in &s.large {
            if let Some(&i) = local.get(gid as usize).filter(|&&i| i != usize::MAX) {
                for e in kept {
                    keep_large(&mut large[i], e.clone());
                }
            }
        }
        let names = s.places.names();
        for &(gid, n, bucket, lo, hi) in &s.places.entries {
            if let Some(&i) = local.get(gid as usize).filter(|&&i| i != usize::MAX) {
                places[i].push(Place {
                    bucket,
                    name: names[n as usize].to_string(),
                    lo,
                    hi,
                    bytes: 0,
                });
            }
        }
    }
    keys.par_iter()
        .zip(events)
        .zip(firsts)
        .zip(places)
        .zip(large)
        .filter_map(|((((k, mut evs), fs), mut places), large)| {
            evs.sort_by_key(|r| (r.ts, r.at));
            // The most events (and the largest sum) in one window bound what any window can
            // reach: a client with 10 errors over two weeks cannot have 10 in one minute.
            let possible = readers.iter().any(|c| {
                let (n, sum) = densest(&evs, bucket, c.span_buckets());
                c.may_fire(n, sum)
            });
            if !possible {
                return None;
            }
            let mut g = Group {
                key: String::from_utf8_lossy(k).into_owned(),
                ..Default::default()
            };
            for r in evs {
                g.add(r, bucket);
            }
            g.firsts = fs.into_values().flatten().collect();
            g.firsts.sort_by_key(|(at, _)| *at);
            places.extend(large.into_iter().map(|(bytes, name, bucket)| Place {
                bucket,
                name,
                lo: 0,
                hi: 0,
                bytes,
            }));
            g.places = merge_places(places);
            Some(g)
        })
        .collect()
}

/// Places sorted by bucket, name and ids, one per both and cluster of ids (ranges at most
/// [`ID_REACH`] apart joined): the same in any order of parts and events.
fn merge_places(mut ps: Vec<Place>) -> Vec<Place> {
    ps.sort_unstable();
    let mut out: Vec<Place> = Vec::with_capacity(ps.len());
    for p in ps {
        match out.last_mut() {
            Some(q)
                if q.bucket == p.bucket
                    && q.name == p.name
                    && p.lo <= q.hi.saturating_add(ID_REACH) =>
            {
                (q.lo, q.hi, q.bytes) = (
                    q.lo.min(p.lo),
                    q.hi.max(p.hi),
                    q.bytes.saturating_add(p.bytes),
                );
            }
            _ => out.push(p),
        }
    }
    out
}

/// The most events, and the largest sum of values, within `span` consecutive buckets, over
/// events sorted by time.
fn densest(evs: &[Rec], bucket: i64, span: i64) -> (u64, f64) {
    let (mut best_n, mut best_sum) = (0u64, 0.0f64);
    let (mut j, mut sum) = (0, 0.0);
    for (i, e) in evs.iter().enumerate() {
        let end = e.ts.div_euclid(bucket).saturating_add(span);
        while j < evs.len() && evs[j].ts.div_euclid(bucket) < end {
            if let Value::Num(x) = evs[j].value {
                sum += x;
            }
            j += 1;
        }
        best_n = best_n.max((j - i) as u64);
        // Rounding in the running sum must not lower the bound below a window's true sum.
        best_sum = best_sum.max(sum * (1.0 + 1e-9) + 1e-6);
        if let Value::Num(x) = e.value {
            sum -= x;
        }
    }
    (best_n, best_sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_responses_kept_are_the_same_in_any_order() {
        let all: Vec<Large> = (0..40u64)
            .map(|i| {
                (
                    (i * 7919) % 23 * 1_000_000,
                    format!("/f{}", i % 5),
                    i as i64 % 3,
                )
            })
            .collect();
        let keep = |es: &[Large]| {
            let mut k = Vec::new();
            for e in es {
                keep_large(&mut k, e.clone());
            }
            k
        };
        let forward = keep(&all);
        let mut rev = all.clone();
        rev.reverse();
        // Two parts kept apart, then merged.
        let mut merged = keep(&rev[..17]);
        for e in keep(&rev[17..]) {
            keep_large(&mut merged, e);
        }
        assert_eq!(forward, merged);
        assert_eq!(forward.len(), LARGE_KEPT);
        let mut sorted = all;
        sorted.sort_by(large_order);
        assert_eq!(forward, sorted[..LARGE_KEPT]);
    }

    #[test]
    fn places_merge_to_one_per_bucket_and_name_in_any_order() {
        let p = |bucket: i64, name: &str, lo: u64, hi: u64| Place {
            bucket,
            name: name.to_string(),
            lo,
            hi,
            bytes: 0,
        };
        let sized = |bucket: i64, name: &str, bytes: u64| Place {
            bytes,
            ..p(bucket, name, 0, 0)
        };
        // Bytes of one path in one bucket add up, from every part.
        assert_eq!(
            merge_places(vec![
                sized(7, "/x.csv", 30),
                sized(7, "/y.csv", 5),
                sized(7, "/x.csv", 15),
                sized(8, "/x.csv", 1)
            ]),
            [
                sized(7, "/x.csv", 45),
                sized(7, "/y.csv", 5),
                sized(8, "/x.csv", 1)
            ]
        );
        let parts = vec![
            p(5, "s3://b/*", 0, 0),
            p(3, "/api/orders/{id}", 90_000, 90_000),
            p(3, "/api/orders/{id}", 40, 47),
            p(5, "s3://a/*", 0, 0),
            p(3, "/api/orders/{id}", 16, 18),
            p(5, "s3://b/*", 0, 0),
        ];
        // Ids far apart stay apart: a run between them read neither.
        let want = vec![
            p(3, "/api/orders/{id}", 16, 47),
            p(3, "/api/orders/{id}", 90_000, 90_000),
            p(5, "s3://a/*", 0, 0),
            p(5, "s3://b/*", 0, 0),
        ];
        assert_eq!(merge_places(parts.clone()), want);
        let mut rev = parts;
        rev.reverse();
        assert_eq!(merge_places(rev), want);
    }

    #[test]
    fn addresses_keep_their_ids_as_the_table_grows() {
        let mut n = Interner::default();
        // 0.0.0.0 is a valid key (its slot is not mistaken for an empty one); a /16 of
        // neighbours crosses several growths.
        assert_eq!(n.id(0, b"0.0.0.0"), (0, true));
        let mut ids = Vec::new();
        for i in 0..5000u32 {
            let a = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
            ids.push(n.id(0, a.as_bytes()));
        }
        assert!(
            ids.iter()
                .enumerate()
                .all(|(i, &(id, new))| new && id == i as u32 + 1)
        );
        assert_eq!(n.id(0, b"0.0.0.0"), (0, false));
        assert_eq!(n.id(0, b"10.0.19.135"), (5000, false));
        assert_eq!(n.find_v4(u32::from_be_bytes([10, 0, 19, 135])), Some(5000));
        assert_eq!(n.find_v4(u32::from_be_bytes([10, 0, 19, 136])), None);
        // A spelling that is not canonical is another key, under the same tag.
        assert_eq!(n.id(0, b"10.0.019.135"), (5001, true));
        // Another tag is another key even with the same bytes.
        assert_eq!(n.id(1, b"10.0.19.135"), (5002, true));
        assert_eq!(n.len(), 5003);
        let keys: Vec<(u8, Vec<u8>)> = n.keys().map(|(t, v)| (t, v.to_vec())).collect();
        assert_eq!(keys[5000], (0, b"10.0.19.135".to_vec()));
        assert_eq!(keys[5002], (1, b"10.0.19.135".to_vec()));
    }

    fn at(file: usize, line: u64, offset: u64) -> Ref {
        Ref { file, line, offset }
    }

    #[test]
    fn only_canonical_dotted_quads_are_numbers() {
        assert_eq!(ipv4(b"192.0.2.7"), Some(0xc000_0207));
        assert_eq!(ipv4(b"0.0.0.0"), Some(0));
        assert_eq!(ipv4(b"255.255.255.255"), Some(u32::MAX));
        assert_eq!(ipv4(b"10.0.100.1"), Some(0x0a00_6401));
        assert_eq!(ipv4(b"203.0.113.66"), Some(0xcb00_7142));
        for bad in [
            &b"192.0.2.07"[..],
            b"192.0.2",
            b"192.0.2.7.",
            b".192.0.2.7",
            b"192..2.7",
            b"256.0.0.1",
            b"1.2.3.4.5",
            b"::1",
            b"192.0.2.7 ",
            b"1000.0.0.1",
            b"00.1.2.3",
            b"1.2.3.04",
            b"1.2.3.a",
            b"1.2.3.-1",
            b"1.2.3.4a",
        ] {
            assert_eq!(ipv4(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ipv4_agrees_with_the_standard_parser_on_canonical_spellings() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut agreed = 0;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 7 + (x % 9) as usize;
            let s: Vec<u8> = (0..len)
                .map(|k| b"0123456789.12."[((x >> (4 + 4 * k)) % 14) as usize])
                .collect();
            let want = std::str::from_utf8(&s)
                .ok()
                .and_then(|t| t.parse::<std::net::Ipv4Addr>().ok())
                .filter(|a| a.to_string().as_bytes() == s.as_slice())
                .map(u32::from);
            assert_eq!(ipv4(&s), want, "{}", String::from_utf8_lossy(&s));
            agreed += usize::from(want.is_some());
        }
        assert!(agreed > 300, "too few valid addresses generated: {agreed}");
    }

    #[test]
    fn interned_keys_keep_their_spelling_and_tag() {
        let mut i = Interner::default();
        assert_eq!(i.id(0, b"192.0.2.7"), (0, true));
        assert_eq!(i.id(0, b"j.miller"), (1, true));
        assert_eq!(i.id(1, b"192.0.2.7"), (2, true));
        assert_eq!(i.id(0, b"192.0.2.07"), (3, true));
        assert_eq!(i.id(0, b"192.0.2.7"), (0, false));
        assert_eq!(i.id(1, b"192.0.2.7"), (2, false));
        let keys: Vec<(u8, &[u8])> = i.keys().collect();
        assert_eq!(
            keys,
            vec![
                (0, &b"192.0.2.7"[..]),
                (0, b"j.miller"),
                (1, b"192.0.2.7"),
                (0, b"192.0.2.07")
            ]
        );
    }

    /// The two-block bound is never below the densest window, in order or not, with
    /// negative values, in windows of one to twelve buckets.
    #[test]
    fn block_bound_is_never_below_the_densest_window() {
        const M: i64 = 60_000_000_000;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let mut tight = 0;
        for round in 0..400 {
            let span = 1 + (round % 12) as i64;
            let n = 1 + next() % 60;
            let mut ts = (next() % 1000) as i64 * M;
            let mut evs = Vec::new();
            for _ in 0..n {
                // Forwards, by up to a few buckets.
                ts += (next() % (4 * M as u64)) as i64;
                let x = (next() % 1000) as f64 - if round % 3 == 0 { 300.0 } else { 0.0 };
                evs.push(num_rec(ts, x));
            }
            // Every fifth key's records come out of order (a thread that took an earlier
            // chunk after a later one).
            if round % 5 == 0 {
                for i in (1..evs.len()).rev() {
                    evs.swap(i, next() as usize % (i + 1));
                }
            }
            let mut d = Dense::default();
            for e in &evs {
                d.add(e.ts.div_euclid(M).div_euclid(span), x_of(e));
            }
            let (bn, bsum) = d.bound();
            let mut sorted = evs;
            sorted.sort_by_key(|r| r.ts);
            // Every window, by brute force: events and the sum of the positive values.
            for (i, e) in sorted.iter().enumerate() {
                let end = e.ts.div_euclid(M) + span;
                let w: Vec<&Rec> = sorted[i..]
                    .iter()
                    .take_while(|r| r.ts.div_euclid(M) < end)
                    .collect();
                let sum: f64 = w.iter().map(|r| x_of(r).max(0.0)).sum();
                assert!(w.len() as u64 <= bn, "round {round}: {} > {bn}", w.len());
                assert!(sum <= bsum, "round {round}: {sum} > {bsum}");
                if w.len() as u64 == bn {
                    tight += 1;
                }
            }
        }
        // A bound that is merely huge would pass the above: it is often exact.
        assert!(tight > 100, "{tight}");
        // Three records in block 3, one of them after block 9's.
        let mut d = Dense::default();
        for b in [3, 3, 9, 3] {
            d.add(b, 1.0);
        }
        assert!(d.bound().0 >= 3 && d.bound().1 >= 3.0, "{:?}", d.bound());
    }

    /// A record of group 0 at `ts` whose value and bytes are `x`.
    fn num_rec(ts: i64, x: f64) -> Rec {
        Rec {
            gid: 0,
            ts,
            tz: 0,
            at: at(0, 0, 0),
            bytes: x,
            value: Value::Num(x),
            failed: false,
        }
    }

    fn x_of(r: &Rec) -> f64 {
        match r.value {
            Value::Num(x) => x,
            _ => 0.0,
        }
    }

    #[test]
    fn densest_window_bounds_every_window() {
        const M: i64 = 60_000_000_000;
        let rec = num_rec;
        // Minutes 0, 0, 1, 5, 6, 6, 6: three in minute 6, four in minutes 5-6.
        let evs: Vec<Rec> = [
            (0, 1.0),
            (0, 2.0),
            (1, 4.0),
            (5, 8.0),
            (6, 16.0),
            (6, 32.0),
            (6, 64.0),
        ]
        .iter()
        .map(|&(m, x)| rec(m * M + 7, x))
        .collect();
        let (n, sum) = densest(&evs, M, 1);
        assert_eq!(n, 3);
        assert!((112.0..112.01).contains(&sum), "{sum}");
        let (n, sum) = densest(&evs, M, 2);
        assert_eq!(n, 4);
        assert!((120.0..120.01).contains(&sum), "{sum}");
        assert_eq!(densest(&evs, M, 10).0, 7);
        assert_eq!(densest(&[], M, 3), (0, 0.0));
    }

    #[test]
    fn records_read_back_as_written() {
        let mut s = StateLog::default();
        let written = [
            (3, 1_000, 0, at(0, 10, 900), 512.0, Value::Num(512.0)),
            (1, 2_000_000_000, 0, at(0, 11, 1000), 0.0, Value::None),
            // Whole seconds apart, forwards and backwards; numbers whole or not.
            (2, 7_000_000_000, 0, at(0, 12, 1100), 10.0, Value::Num(10.0)),
            (2, -9_000_000_000, 0, at(0, 13, 1200), 1.5, Value::Num(3.0)),
            (5, -9_000_000_001, 0, at(0, 14, 1300), 2.5, Value::Num(0.1)),
            (6, i64::MIN, 0, at(0, 15, 1400), 4.0, Value::Num(4.5)),
            (3, 500, 3600, at(2, 4, 80), 7.5, Value::Num(-2.25)),
            (7, 499, 3600, at(2, 3, 40), 1e300, Value::Hash(u64::MAX)),
            (0, -5, -18000, at(1, 1, 0), 0.0, Value::Hash(42)),
            (
                9,
                i64::MAX,
                0,
                at(1, u64::MAX, u64::MAX),
                3.0,
                Value::Base(2),
            ),
        ];
        for (g, ts, tz, r, b, v) in &written {
            let v = match v {
                Value::Num(x) => Value::Num(*x),
                Value::Hash(h) => Value::Hash(*h),
                Value::Base(k) => Value::Base(*k),
                Value::None => Value::None,
            };
            s.push(&Rec {
                gid: *g,
                ts: *ts,
                tz: *tz,
                at: *r,
                bytes: *b,
                value: v,
                failed: false,
            });
        }
        let mut back = Vec::new();
        s.records(|r| back.push(r));
        assert_eq!(back.len(), written.len());
        for (r, (g, ts, tz, at, b, v)) in back.iter().zip(&written) {
            assert_eq!((r.gid, r.ts, r.tz, r.at), (*g, *ts, *tz, *at));
            assert_eq!(r.bytes.to_bits(), b.to_bits());
            let same = match (&r.value, v) {
                (Value::Num(a), Value::Num(b)) => a.to_bits() == b.to_bits(),
                (Value::Hash(a), Value::Hash(b)) => a == b,
                (Value::Base(a), Value::Base(b)) => a == b,
                (Value::None, Value::None) => true,
                _ => false,
            };
            assert!(same, "{:?} read back as {:?}", v, r.value);
        }
    }

    #[test]
    fn pages_fill_and_continue() {
        let mut s = StateLog::default();
        let n = 3 * PAGE / 8;
        for i in 0..n as u64 {
            s.push(&Rec {
                gid: (i % 5000) as u32,
                ts: i as i64 * 7,
                tz: 0,
                at: at(0, i, i * 100),
                bytes: (i % 3) as f64,
                value: Value::None,
                failed: false,
            });
        }
        assert!(s.pages.len() > 1, "{} pages", s.pages.len());
        let mut k = 0u64;
        s.records(|r| {
            assert_eq!(
                (r.gid, r.ts, r.at.line, r.bytes),
                ((k % 5000) as u32, k as i64 * 7, k, (k % 3) as f64)
            );
            k += 1;
        });
        assert_eq!(k, n as u64);
    }
}
