//! What every entity did across all events, matched by a rule or not: first and last seen,
//! events, bytes sent to it, records it was given, the files it appears in; and which
//! entities acted together in one event (an address logged in as a user, a user with an access
//! key or session). Actors and incidents are built from this after the scan.
//!
//! Kept per thread and merged like the rest of the detection state (sums, minima, maxima,
//! sorted capped sets), so the result does not depend on scheduling.

use super::HashState;
use super::corrlog::Interner;
use crate::parse::{Esc, Event, Fields, Val};
use std::collections::HashMap;
use std::hash::Hasher;

/// The kinds of entity, as named in the case file.
pub const KINDS: [&str; 4] = ["ip", "user", "key", "session"];
pub const IP: u8 = 0;
pub const USER: u8 = 1;
pub const KEY: u8 = 2;
pub const SESSION: u8 = 3;

/// How many files an entity's activity lists.
pub const MAX_FILES: usize = 64;

/// An entity: its kind and a hash of its value.
pub type EntityId = (u8, u64);

/// One entity's activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub value: String,
    pub first: i64,
    pub last: i64,
    pub events: u64,
    /// Bytes sent to it: web response bytes, CloudTrail `bytesTransferredOut`.
    pub bytes_out: u64,
    /// Rows the logs say it was given (`row_count`, `rows`).
    pub records: u64,
    /// Scan indices of the files it appears in, sorted (the smallest [`MAX_FILES`]).
    pub files: Vec<u32>,
}

const HOUR: i64 = 3_600_000_000_000;

impl Activity {
    fn merge(&mut self, o: Activity) {
        if self.events == 0 {
            *self = o;
            return;
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.events += o.events;
        self.bytes_out += o.bytes_out;
        self.records += o.records;
        for f in o.files {
            add_file(&mut self.files, f);
        }
    }
}

fn add_file(files: &mut Vec<u32>, f: u32) {
    if let Err(pos) = files.binary_search(&f)
        && pos < MAX_FILES
    {
        files.insert(pos, f);
        files.truncate(MAX_FILES);
    }
}

/// Entities and links seen so far.
///
/// While scanning, a part counts each entity in a compact tally keyed by its kind and value
/// (one probe per entity per event, the key stored inline); bytes per hour go to a log, since
/// only the few entities of incidents ever need them. [`Seen::fold`] turns tallies into
/// [`Activity`] entries; [`Seen::hours`] reads the logs back for the entities asked for.
/// Entities are numbered by the part's [`Interner`], which its correlation groups share.
#[derive(Default)]
pub struct Seen {
    pub entities: HashMap<EntityId, Activity, HashState>,
    /// Two entities named by one event (the smaller id first) → the first time they were.
    pub links: HashMap<(EntityId, EntityId), i64, HashState>,
    /// By id of the part's [`Interner`] (kind and value; ids of correlation group keys have
    /// no events).
    tally: Vec<Hot>,
    /// (tally id, file) each time an entity appears in another file than its last one: one
    /// list for all, instead of a list per entity.
    files: Vec<(u32, u32)>,
    hours: HourLog,
    /// Folded parts' hour logs, each with its tally ids' entities.
    logs: Vec<(Vec<EntityId>, HourLog)>,
}

/// An entity's counters while scanning (one cache line).
#[derive(Clone)]
#[repr(align(64))]
struct Hot {
    last_file: u32,
    first: i64,
    last: i64,
    events: u64,
    bytes_out: u64,
    records: u64,
    /// The hour being counted and its bytes (written to the log when the next begins).
    hour: i64,
    hour_bytes: u64,
}

/// (tally id, hour, bytes) records, delta coded.
#[derive(Default)]
struct HourLog {
    bytes: Vec<u8>,
    prev: i64,
}

impl HourLog {
    fn push(&mut self, id: u32, hour: i64, b: u64) {
        use super::corrlog::{put_signed, put_varint};
        put_varint(&mut self.bytes, u64::from(id));
        put_signed(&mut self.bytes, hour.wrapping_sub(self.prev));
        put_varint(&mut self.bytes, b);
        self.prev = hour;
    }

    fn each(&self, mut f: impl FnMut(u32, i64, u64)) {
        use super::corrlog::{get_signed, get_varint};
        let (mut i, mut prev) = (0, 0i64);
        while i < self.bytes.len() {
            let id = get_varint(&self.bytes, &mut i) as u32;
            prev = prev.wrapping_add(get_signed(&self.bytes, &mut i));
            let b = get_varint(&self.bytes, &mut i);
            f(id, prev, b);
        }
    }
}

/// An entity field of an event: (priority, value, field name, whether the value is the
/// field's whole text, the value as an IPv4 address when it spells one canonically).
type Found<'a> = (u8, &'a [u8], &'a [u8], bool, Option<u32>);

/// The entity fields of one event, read in one pass over its fields.
#[derive(Default)]
struct Picked<'a> {
    /// Per kind, the lowest priority's.
    found: [Option<Found<'a>>; 4],
    bytes_out: Option<u64>,
    records: Option<u64>,
    failed: bool,
    used: Option<(u8, &'a [u8])>,
}

/// Kind and priority of an entity field, by name.
fn entity_field(name: &[u8]) -> Option<(u8, u8)> {
    Some(match name {
        b"c-ip" => (IP, 0),
        b"src_ip" => (IP, 1),
        b"sourceIPAddress" => (IP, 2),
        b"client_ip" => (IP, 3),
        b"cs-username" => (USER, 0),
        b"user" => (USER, 1),
        b"userIdentity.userName" => (USER, 2),
        b"userIdentity.arn" => (USER, 3),
        b"userIdentity.accessKeyId" => (KEY, 0),
        b"api_key" => (KEY, 1),
        b"key_id" => (KEY, 2),
        b"session" => (SESSION, 0),
        b"session_id" => (SESSION, 1),
        _ => return None,
    })
}

/// A count of bytes or rows: a whole number, or a decimal one rounded (CloudTrail writes
/// `bytesTransferredOut` as `500.0`).
fn number(v: Val<'_>) -> Option<u64> {
    match v {
        Val::Num(n) => u64::try_from(n).ok(),
        Val::Str(s, _) | Val::Json(s) => {
            let t = std::str::from_utf8(s).ok()?.trim();
            t.parse().ok().or_else(|| {
                let x: f64 = t.parse().ok()?;
                (x.is_finite() && x >= 0.0 && x < u64::MAX as f64).then(|| x.round() as u64)
            })
        }
        Val::Built(..) => None,
    }
}

/// Every field name [`pick`] reads.
const NAMES: &[&[u8]] = &[
    b"c-ip",
    b"src_ip",
    b"sourceIPAddress",
    b"client_ip",
    b"cs-username",
    b"user",
    b"userIdentity.userName",
    b"userIdentity.arn",
    b"userIdentity.accessKeyId",
    b"api_key",
    b"key_id",
    b"session",
    b"session_id",
    b"sc-bytes",
    b"additionalEventData.bytesTransferredOut",
    b"row_count",
    b"rows",
    b"rows_sent",
    b"outcome",
    b"event",
    b"db_user",
];

/// (length, first byte) pairs of [`NAMES`]: most other field names are rejected with one
/// lookup instead of a string comparison per name.
static MAYBE: [[bool; 128]; 64] = {
    let mut t = [[false; 128]; 64];
    let mut i = 0;
    while i < NAMES.len() {
        let n = NAMES[i];
        t[n.len() % 64][(n[0] & 0x7f) as usize] = true;
        i += 1;
    }
    t
};

fn maybe(name: &[u8]) -> bool {
    name.first()
        .is_some_and(|&c| name.len() < 64 && MAYBE[name.len()][(c & 0x7f) as usize])
}

/// What a field of an event is to the actors table.
#[derive(Clone, Copy)]
enum Role {
    /// An entity: kind and priority (the lowest of a kind wins).
    Entity(u8, u8),
    BytesOut,
    Records,
    Outcome,
    Event,
    /// An account the event's actor used without acting as it here (the database account
    /// of `sudo pg_dump -U app_ro`): linked to the event's entities, not counted.
    Used(u8),
}

fn role(name: &[u8]) -> Option<Role> {
    if !maybe(name) {
        return None;
    }
    if let Some((kind, prio)) = entity_field(name) {
        return Some(Role::Entity(kind, prio));
    }
    Some(match name {
        b"sc-bytes" | b"additionalEventData.bytesTransferredOut" => Role::BytesOut,
        b"row_count" | b"rows" | b"rows_sent" => Role::Records,
        b"outcome" => Role::Outcome,
        b"event" => Role::Event,
        b"db_user" => Role::Used(USER),
        _ => return None,
    })
}

/// The fields of one field layout that the actors table reads, with their roles: records with
/// the same field names in the same order (nearly every line of a log) read only those.
#[derive(Default)]
pub(crate) struct Plan {
    roles: Vec<(usize, Role)>,
    valid: bool,
    /// Set by the caller for each event: whether its field names are those of the previous
    /// event, and whether they are all the parser's own
    /// ([`super::view::Scratch::sync_layout`]).
    pub(crate) layout: (bool, bool),
}

/// `read`: the record's first word as the lookahead read it, so an address field that is
/// that word is not read again.
fn pick<'f>(f: &'f Fields<'_>, read: Option<super::Word>, plan: &mut Plan) -> Picked<'f> {
    let (same, fixed) = plan.layout;
    let mut p = Picked::default();
    if same && plan.valid {
        for &(i, r) in &plan.roles {
            apply(&mut p, r, f.name(i), f.value(i), read);
        }
        return p;
    }
    plan.roles.clear();
    for i in 0..f.len() {
        let name = f.name(i);
        if let Some(r) = role(name) {
            plan.roles.push((i, r));
            apply(&mut p, r, name, f.value(i), read);
        }
    }
    plan.valid = fixed;
    p
}

fn apply<'f>(p: &mut Picked<'f>, r: Role, name: &'f [u8], v: Val<'f>, read: Option<super::Word>) {
    match r {
        Role::Entity(kind, prio) => {
            // Escaped values are rare in these fields; they are skipped rather than decoded.
            let (Val::Str(s, Esc::None) | Val::Json(s)) = v else {
                return;
            };
            let whole = s;
            let s = s.strip_prefix(b"\"").unwrap_or(s);
            let s = s.strip_suffix(b"\"").unwrap_or(s);
            // An address is read as a number once, here; the interner takes the number.
            let v4 = if kind != IP {
                None
            } else if let Some(w) = read.filter(|w| w.at == s.as_ptr() as usize && w.len == s.len())
            {
                w.v4
            } else {
                super::corrlog::ipv4(s)
            };
            let usable = !s.is_empty()
                && s != b"-"
                && s != b"null"
                && (kind != IP || v4.is_some() || crate::parse::util::is_ip(s));
            let slot = &mut p.found[kind as usize];
            if usable && slot.is_none_or(|(q, ..)| prio < q) {
                *slot = Some((prio, s, name, s.len() == whole.len(), v4));
            }
        }
        Role::BytesOut => p.bytes_out = number(v).or(p.bytes_out),
        Role::Records => p.records = number(v).or(p.records),
        // A disconnect names the account without showing it acted (a pre-authentication
        // disconnect of an invalid user); the login itself says who got in.
        Role::Outcome => {
            p.failed |= matches!(v, Val::Str(s, _) if matches!(s, b"failure" | b"invalid_user" | b"disconnect"))
        }
        Role::Event => {
            p.failed |= matches!(v, Val::Str(s, _) if memchr::memmem::find(s, b"fail").is_some())
        }
        Role::Used(kind) => {
            if let Val::Str(s, Esc::None) = v
                && !s.is_empty()
            {
                p.used = Some((kind, s));
            }
        }
    }
}

fn id_of(kind: u8, value: &[u8]) -> EntityId {
    let mut h = super::hasher();
    h.write(value);
    (kind, h.finish())
}

impl Seen {
    /// Records one event; `names` numbers the part's entities.
    ///
    /// Returns the field that named the event's address and the address's id, when the id
    /// is that of the field's whole value (a correlation grouped by that field alone has it as
    /// its group id, without a second lookup).
    pub(crate) fn add<'f>(
        &mut self,
        names: &mut Interner,
        file: usize,
        ts: i64,
        ev: &Event<'_, 'f>,
        read: Option<super::Word>,
        plan: &mut Plan,
    ) -> Option<(&'f [u8], u32)> {
        let p = pick(ev.fields, read, plan);
        let mut addr = None;
        // Only the web server's and S3's counts: an application's own `bytes` field repeats
        // the web server's count for the same response.
        let bytes = p.bytes_out.unwrap_or(0);
        let mut named: [(u8, &[u8]); 5] = [(0, b""); 5];
        let mut n = 0;
        for (kind, slot) in p.found.iter().enumerate() {
            let Some((_, value, field, whole, v4)) = *slot else {
                continue;
            };
            // The account a failed login tried is a target, not an actor.
            if kind as u8 == USER && p.failed {
                continue;
            }
            let id = match v4 {
                Some(a) => names.id_v4(a, value),
                None => names.id(kind as u8, value).0,
            };
            if kind as u8 == IP && whole {
                addr = Some((field, id));
            }
            if self.tally.len() <= id as usize {
                self.grow(names.len());
            }
            let hot = &mut self.tally[id as usize];
            if hot.events == 0 {
                (hot.first, hot.last) = (ts, ts);
            }
            hot.first = hot.first.min(ts);
            hot.last = hot.last.max(ts);
            hot.events += 1;
            hot.bytes_out += bytes;
            hot.records += p.records.unwrap_or(0);
            if bytes > 0 {
                let h = ts.div_euclid(HOUR);
                if h != hot.hour {
                    if hot.hour_bytes > 0 {
                        self.hours.push(id, hot.hour, hot.hour_bytes);
                    }
                    (hot.hour, hot.hour_bytes) = (h, 0);
                }
                hot.hour_bytes += bytes;
            }
            if hot.last_file != file as u32 {
                hot.last_file = file as u32;
                self.files.push((id, file as u32));
            }
            named[n] = (kind as u8, value);
            n += 1;
        }
        if let Some((kind, value)) = p.used
            && n > 0
            && !named[..n].contains(&(kind, value))
        {
            named[n] = (kind, value);
            n += 1;
        }
        if n < 2 {
            return addr;
        }
        let mut ids: [EntityId; 5] = [(0, 0); 5];
        for (id, (k, v)) in ids.iter_mut().zip(&named[..n]) {
            *id = id_of(*k, v);
        }
        let ids = &ids[..n];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                let key = if a < b { (*a, *b) } else { (*b, *a) };
                let t = self.links.entry(key).or_insert(ts);
                *t = (*t).min(ts);
            }
        }
        addr
    }

    /// A hint that the entity with this id is about to be counted.
    pub fn prefetch(&self, id: u32) {
        if let Some(h) = self.tally.get(id as usize) {
            super::corrlog::prefetch(h);
        }
    }

    fn grow(&mut self, n: usize) {
        let empty = Hot {
            last_file: u32::MAX,
            first: 0,
            last: 0,
            events: 0,
            bytes_out: 0,
            records: 0,
            hour: 0,
            hour_bytes: 0,
        };
        self.tally.resize_with(n, || empty.clone());
    }

    /// Turns this part's tallies into activities (before reading, and before merging);
    /// `names` is the part's interner.
    pub fn fold(&mut self, names: &Interner) {
        if self.tally.is_empty() {
            return;
        }
        let mut ids = Vec::with_capacity(names.len());
        self.entities.reserve(names.len());
        let mut files = std::mem::take(&mut self.files);
        files.sort_unstable();
        files.dedup();
        // Each id's files, in order, start at the first pair with that id.
        let mut at = 0;
        let tally = std::mem::take(&mut self.tally);
        for (n, ((kind, value), h)) in names.keys().zip(tally).enumerate() {
            if h.events == 0 {
                ids.push((u8::MAX, 0));
                continue;
            }
            if h.hour_bytes > 0 {
                self.hours.push(n as u32, h.hour, h.hour_bytes);
            }
            let id = id_of(kind, value);
            ids.push(id);
            let a = Activity {
                value: String::from_utf8_lossy(value).into_owned(),
                first: h.first,
                last: h.last,
                events: h.events,
                bytes_out: h.bytes_out,
                records: h.records,
                files: {
                    while at < files.len() && (files[at].0 as usize) < n {
                        at += 1;
                    }
                    files[at..]
                        .iter()
                        .take_while(|&&(id, _)| id as usize == n)
                        .take(MAX_FILES)
                        .map(|&(_, f)| f)
                        .collect()
                },
            };
            match self.entities.entry(id) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    // Two values with one 64-bit hash: vanishingly rare; the first is kept.
                    if o.get().value == a.value {
                        o.get_mut().merge(a)
                    }
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(a);
                }
            }
        }
        self.logs.push((ids, std::mem::take(&mut self.hours)));
    }

    /// Adds another part, folded (in any order: the result is the same).
    pub fn merge(&mut self, o: Seen) {
        for (k, a) in o.entities {
            self.entities.entry(k).or_default().merge(a);
        }
        for (k, t) in o.links {
            let e = self.links.entry(k).or_insert(t);
            *e = (*e).min(t);
        }
        self.logs.extend(o.logs);
    }

    /// Bytes out per hour (hours since the epoch, sorted) of each entity asked for, from every
    /// part's log in one pass.
    pub fn hours(&self, want: &[EntityId]) -> HashMap<EntityId, Vec<(i64, u64)>, HashState> {
        let mut by: HashMap<EntityId, std::collections::BTreeMap<i64, u64>, HashState> =
            want.iter().map(|&id| (id, Default::default())).collect();
        for (ids, log) in &self.logs {
            let slots: Vec<Option<EntityId>> = ids
                .iter()
                .map(|id| by.contains_key(id).then_some(*id))
                .collect();
            if slots.iter().all(Option::is_none) {
                continue;
            }
            log.each(|i, h, b| {
                if let Some(Some(id)) = slots.get(i as usize)
                    && let Some(m) = by.get_mut(id)
                {
                    *m.entry(h).or_default() += b;
                }
            });
        }
        by.into_iter()
            .map(|(id, m)| (id, m.into_iter().collect()))
            .collect()
    }

    /// The activity of an entity, by kind and value.
    pub fn get(&self, kind: u8, value: &str) -> Option<&Activity> {
        self.entities.get(&id_of(kind, value.as_bytes()))
    }

    /// The id of an entity, by kind and value.
    pub fn id(kind: u8, value: &str) -> EntityId {
        id_of(kind, value.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Fields;

    const H: i64 = HOUR;

    fn add(
        s: &mut (Seen, Interner),
        file: usize,
        ts: i64,
        ip: &'static str,
        user: &'static str,
        b: i64,
    ) {
        let mut f = Fields::default();
        f.put_str("c-ip", ip.as_bytes(), Esc::None);
        f.put_str("cs-username", user.as_bytes(), Esc::None);
        f.put("sc-bytes", Val::Num(b));
        s.0.add(
            &mut s.1,
            file,
            ts,
            &Event::of(&f),
            None,
            &mut Plan::default(),
        );
    }

    /// Records of changing field layouts (an address and bytes; then also a user; then the
    /// bytes first; then a failed login) read with one plan kept across them, as a sink does,
    /// count as when each is read in full.
    #[test]
    fn a_layouts_plan_reads_what_reading_every_field_reads() {
        let layouts: [&[(&'static str, &'static [u8])]; 4] = [
            &[("c-ip", b"192.0.2.7"), ("sc-bytes", b"")],
            &[
                ("c-ip", b"192.0.2.8"),
                ("cs-username", b"j.miller"),
                ("sc-bytes", b""),
            ],
            &[("sc-bytes", b""), ("c-ip", b"192.0.2.9")],
            &[
                ("src_ip", b"192.0.2.7"),
                ("user", b"root"),
                ("outcome", b"failure"),
            ],
        ];
        let order = [0, 0, 1, 1, 0, 2, 2, 3, 3, 0, 1, 3, 0];
        let mut planned = (Seen::default(), Interner::default());
        let mut full = (Seen::default(), Interner::default());
        let (mut plan, mut scratch) = (Plan::default(), crate::detect::view::Scratch::default());
        for (n, &k) in order.iter().enumerate() {
            let mut f = Fields::default();
            for &(name, value) in layouts[k] {
                match name {
                    "sc-bytes" => f.put(name, Val::Num(100 + n as i64)),
                    _ => f.put_str(name, value, Esc::None),
                }
            }
            let ev = Event::of(&f);
            let ts = n as i64 * H;
            plan.layout = scratch.sync_layout(&f);
            assert_eq!(plan.layout.0, n > 0 && order[n - 1] == k, "record {n}");
            planned.0.add(&mut planned.1, 0, ts, &ev, None, &mut plan);
            full.0
                .add(&mut full.1, 0, ts, &ev, None, &mut Plan::default());
        }
        for s in [&mut planned, &mut full] {
            s.0.fold(&s.1);
        }
        let mut a: Vec<_> = planned.0.entities.iter().collect();
        let mut b: Vec<_> = full.0.entities.iter().collect();
        a.sort_by_key(|e| *e.0);
        b.sort_by_key(|e| *e.0);
        assert_eq!(a, b);
        // Three addresses and j.miller (root, whose login failed, is a target, not an actor).
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn decimal_byte_counts_are_counted() {
        // CloudTrail's S3 data events: `"bytesTransferredOut":500.0`.
        let mut s = (Seen::default(), Interner::default());
        for (raw, want) in [(&b"500.0"[..], 500), (b"89", 89), (b"-3.0", 0), (b"n/a", 0)] {
            let mut f = Fields::default();
            f.put_str("userIdentity.accessKeyId", b"ASIAEXAMPLE", Esc::None);
            f.put("additionalEventData.bytesTransferredOut", Val::Json(raw));
            let before = s.0.tally.first().map_or(0, |h| h.bytes_out);
            let ev = Event::of(&f);
            s.0.add(&mut s.1, 0, 0, &ev, None, &mut Plan::default());
            assert_eq!(s.0.tally[0].bytes_out - before, want, "{raw:?}");
        }
    }

    #[test]
    fn parts_fold_and_merge_to_the_same_activity_and_hours() {
        // One entity seen by two parts, hours interleaved, and an unrelated one.
        let mut a = (Seen::default(), Interner::default());
        // A correlation key interned first: an id without events.
        a.1.id(0, b"10.0.0.1");
        add(&mut a, 0, 5 * H + 10, "192.0.2.7", "-", 100);
        add(&mut a, 0, 5 * H + 20, "192.0.2.7", "-", 50);
        add(&mut a, 0, 7 * H, "192.0.2.7", "-", 1);
        add(&mut a, 2, 9 * H, "198.51.100.1", "j.miller", 0);
        let mut b = (Seen::default(), Interner::default());
        add(&mut b, 1, 6 * H, "192.0.2.7", "-", 1000);
        add(&mut b, 1, 7 * H + 5, "192.0.2.7", "-", 2);
        add(&mut b, 0, 3 * H, "192.0.2.7", "-", 0);
        let mut merged = Seen::default();
        for mut part in [b, a] {
            part.0.fold(&part.1);
            merged.merge(part.0);
        }
        assert!(merged.get(IP, "10.0.0.1").is_none());
        let ip = merged.get(IP, "192.0.2.7").expect("the address");
        assert_eq!((ip.events, ip.bytes_out), (6, 1153));
        assert_eq!((ip.first, ip.last), (3 * H, 7 * H + 5));
        assert_eq!(ip.files, vec![0, 1]);
        let id = Seen::id(IP, "192.0.2.7");
        let hours = merged.hours(&[id]);
        assert_eq!(hours[&id], vec![(5, 150), (6, 1000), (7, 3)]);
        // The user acted with the other address: linked; "-" is no user.
        let user = merged.get(USER, "j.miller").expect("the user");
        assert_eq!((user.events, user.files.as_slice()), (1, &[2u32][..]));
        assert!(merged.get(USER, "-").is_none());
        let link = (Seen::id(IP, "198.51.100.1"), Seen::id(USER, "j.miller"));
        let link = if link.0 < link.1 {
            link
        } else {
            (link.1, link.0)
        };
        assert_eq!(merged.links.get(&link), Some(&(9 * H)));
        assert!(
            merged
                .hours(&[Seen::id(IP, "203.0.113.9")])
                .values()
                .all(Vec::is_empty)
        );
    }

    #[test]
    fn an_account_used_on_a_command_line_is_linked_not_counted() {
        let mut s = (Seen::default(), Interner::default());
        let mut f = Fields::default();
        f.put_str("user", b"deploy", Esc::None);
        f.put_str("command", b"/usr/bin/pg_dump -U app_ro shop", Esc::None);
        f.put_str("db_user", b"app_ro", Esc::None);
        s.0.add(
            &mut s.1,
            0,
            5 * H,
            &Event::of(&f),
            None,
            &mut Plan::default(),
        );
        // Alone (no actor named), the used account links nothing.
        let mut g = Fields::default();
        g.put_str("db_user", b"report", Esc::None);
        s.0.add(
            &mut s.1,
            0,
            6 * H,
            &Event::of(&g),
            None,
            &mut Plan::default(),
        );
        s.0.fold(&s.1);
        assert_eq!(s.0.get(USER, "deploy").map(|a| a.events), Some(1));
        assert!(s.0.get(USER, "app_ro").is_none());
        assert!(s.0.get(USER, "report").is_none());
        let (a, b) = (Seen::id(USER, "deploy"), Seen::id(USER, "app_ro"));
        let link = if a < b { (a, b) } else { (b, a) };
        assert_eq!(s.0.links.get(&link), Some(&(5 * H)));
        assert_eq!(s.0.links.len(), 1);
    }
}
