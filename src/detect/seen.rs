//! What every entity did across all events, matched by a rule or not: first and last seen,
//! events, bytes sent to it, records it was given, the files it appears in; and which
//! entities acted together in one event (an address logged in as a user, a user with an access
//! key or session). Actors and incidents are built from this after the scan.
//!
//! Kept per thread and merged like the rest of the detection state (sums, minima, maxima,
//! sorted capped sets), so the result does not depend on scheduling.

use super::HashState;
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
    /// Bytes out per hour (hours since the epoch), sorted; hours without bytes are absent.
    pub hours: Vec<(i64, u64)>,
}

const HOUR: i64 = 3_600_000_000_000;

fn add_hour(hours: &mut Vec<(i64, u64)>, h: i64, b: u64) {
    match hours.last_mut() {
        Some(l) if l.0 == h => l.1 += b,
        Some(l) if l.0 < h => hours.push((h, b)),
        None => hours.push((h, b)),
        _ => match hours.binary_search_by_key(&h, |x| x.0) {
            Ok(i) => hours[i].1 += b,
            Err(i) => hours.insert(i, (h, b)),
        },
    }
}

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
        self.hours = merge_hours(std::mem::take(&mut self.hours), o.hours);
    }
}

/// Two sorted hour lists as one, in one pass (the parts of one entity interleave in time: a
/// file's chunks go to both threads, so inserting one by one would be quadratic).
fn merge_hours(a: Vec<(i64, u64)>, b: Vec<(i64, u64)>) -> Vec<(i64, u64)> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (i.peek(), j.peek()) {
            (Some(x), Some(y)) if x.0 < y.0 => i.next(),
            (Some(x), Some(y)) if x.0 > y.0 => j.next(),
            (Some(_), Some(_)) => {
                let (h, x) = i.next().unwrap_or_default();
                let (_, y) = j.next().unwrap_or_default();
                Some((h, x + y))
            }
            (Some(_), None) => i.next(),
            (None, Some(_)) => j.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
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
#[derive(Default)]
pub struct Seen {
    pub entities: HashMap<EntityId, Activity, HashState>,
    /// Two entities named by one event (the smaller id first) → the first time they were.
    pub links: HashMap<(EntityId, EntityId), i64, HashState>,
}

/// The entity fields of one event, read in one pass over its fields.
#[derive(Default)]
struct Picked<'a> {
    /// (priority, value) per kind: the lowest priority wins.
    found: [Option<(u8, &'a [u8])>; 4],
    bytes_out: Option<u64>,
    records: Option<u64>,
    failed: bool,
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

fn number(v: Val<'_>) -> Option<u64> {
    match v {
        Val::Num(n) => u64::try_from(n).ok(),
        Val::Str(s, _) | Val::Json(s) => std::str::from_utf8(s).ok()?.trim().parse().ok(),
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
    b"outcome",
    b"event",
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

fn pick<'a>(f: &Fields<'a>) -> Picked<'a> {
    let mut p = Picked::default();
    for i in 0..f.len() {
        let name = f.name(i);
        if !maybe(name) {
            continue;
        }
        let v = f.value(i);
        if let Some((kind, prio)) = entity_field(name) {
            // Escaped values are rare in these fields; they are skipped rather than decoded.
            let (Val::Str(s, Esc::None) | Val::Json(s)) = v else {
                continue;
            };
            let s = s.strip_prefix(b"\"").unwrap_or(s);
            let s = s.strip_suffix(b"\"").unwrap_or(s);
            let usable = !s.is_empty()
                && s != b"-"
                && s != b"null"
                && (kind != IP || crate::parse::util::is_ip(s));
            let slot = &mut p.found[kind as usize];
            if usable && slot.is_none_or(|(q, _)| prio < q) {
                *slot = Some((prio, s));
            }
            continue;
        }
        match name {
            b"sc-bytes" | b"additionalEventData.bytesTransferredOut" => {
                p.bytes_out = number(v).or(p.bytes_out)
            }
            b"row_count" | b"rows" => p.records = number(v).or(p.records),
            // A disconnect names the account without showing it acted (a pre-authentication
            // disconnect of an invalid user); the login itself says who got in.
            b"outcome" => {
                p.failed |= matches!(v, Val::Str(s, _) if matches!(s, b"failure" | b"invalid_user" | b"disconnect"))
            }
            b"event" => {
                p.failed |=
                    matches!(v, Val::Str(s, _) if memchr::memmem::find(s, b"fail").is_some())
            }
            _ => {}
        }
    }
    p
}

fn id_of(kind: u8, value: &[u8]) -> EntityId {
    let mut h = super::hasher();
    h.write(value);
    (kind, h.finish())
}

impl Seen {
    /// Records one event.
    pub fn add(&mut self, file: usize, ts: i64, ev: &Event<'_, '_>) {
        let p = pick(ev.fields);
        // Only the web server's and S3's counts: an application's own `bytes` field repeats
        // the web server's count for the same response.
        let bytes = p.bytes_out.unwrap_or(0);
        let mut ids: [Option<EntityId>; 4] = [None; 4];
        for (kind, slot) in p.found.iter().enumerate() {
            let Some((_, value)) = slot else { continue };
            // The account a failed login tried is a target, not an actor.
            if kind as u8 == USER && p.failed {
                continue;
            }
            let id = id_of(kind as u8, value);
            let a = self.entities.entry(id).or_default();
            if a.events == 0 {
                a.value = String::from_utf8_lossy(value).into_owned();
                a.first = ts;
                a.last = ts;
            } else if a.value.as_bytes() != *value {
                // A 64-bit hash collision: vanishingly rare; the event is not counted twice.
                continue;
            }
            a.first = a.first.min(ts);
            a.last = a.last.max(ts);
            a.events += 1;
            a.bytes_out += bytes;
            if bytes > 0 {
                add_hour(&mut a.hours, ts.div_euclid(HOUR), bytes);
            }
            a.records += p.records.unwrap_or(0);
            add_file(&mut a.files, file as u32);
            ids[kind] = Some(id);
        }
        let mut named = [(0, 0); 4];
        let mut n = 0;
        for id in ids.into_iter().flatten() {
            named[n] = id;
            n += 1;
        }
        let named = &named[..n];
        for (i, a) in named.iter().enumerate() {
            for b in &named[i + 1..] {
                let key = if a < b { (*a, *b) } else { (*b, *a) };
                let t = self.links.entry(key).or_insert(ts);
                *t = (*t).min(ts);
            }
        }
    }

    /// Adds another part (in any order: the result is the same).
    pub fn merge(&mut self, o: Seen) {
        for (k, a) in o.entities {
            self.entities.entry(k).or_default().merge(a);
        }
        for (k, t) in o.links {
            let e = self.links.entry(k).or_insert(t);
            *e = (*e).min(t);
        }
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
    use super::{add_hour, merge_hours};

    #[test]
    fn hour_lists_merge_like_hours_added_one_by_one() {
        let a = vec![(1, 10), (3, 30), (5, 50), (9, 90)];
        let b = vec![(2, 2), (3, 3), (9, 9), (12, 1)];
        let mut slow = a.clone();
        for (h, x) in &b {
            add_hour(&mut slow, *h, *x);
        }
        assert_eq!(merge_hours(a.clone(), b.clone()), slow);
        assert_eq!(merge_hours(a.clone(), Vec::new()), a);
        assert_eq!(merge_hours(Vec::new(), b.clone()), b);
    }
}
