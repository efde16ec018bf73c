//! A rule's view of one event: field values decoded (escapes resolved) and lower-cased on
//! demand into reusable buffers, the raw line lower-cased once for keyword searches.

use crate::parse::{Esc, Event, Val};

/// Buffers reused from event to event.
#[derive(Default)]
pub struct Scratch {
    value: Vec<u8>,
    /// Lower-cased values of the current event, one after the other.
    lower: Vec<u8>,
    /// (field index, start, end) in `lower`: each field is decoded and lower-cased once per
    /// event, however many rules and needles test it.
    lower_at: Vec<(usize, usize, usize)>,
    raw_lower: Vec<u8>,
    /// Field lookups of the current event, by the address of the name asked for (rules keep
    /// their field names, so the same name comes back at the same address): slot →
    /// (name address, name length, event generation, index or `NONE`).
    names: Vec<(usize, usize, u32, u16)>,
    generation: u32,
    /// The field names of the event the lookups in `names` were made on, when they were all
    /// the parser's own: an event with the same names in the same order (most records of a
    /// log) reuses those lookups.
    layout: Vec<(usize, usize)>,
    /// False when `layout` holds nothing to compare with.
    layout_ok: bool,
    /// Fields derived by rules' `extract`: (name, value); the first `derived_len` belong to
    /// the current event, the rest are buffers kept for reuse (no allocation per event).
    derived: Vec<(String, Vec<u8>)>,
    derived_len: usize,
    /// Request targets percent-decoded for rules that test them (see [`View::url_decoded`]):
    /// (field index, something was decoded, decoded, decoded lower-cased); the first
    /// `url_len` belong to the current event, the rest are buffers kept for reuse.
    url: Vec<(usize, bool, Vec<u8>, Vec<u8>)>,
    url_len: usize,
    url_tmp: Vec<u8>,
    /// Capture positions for each `extract` regex (by its address), reused from event to
    /// event: `captures` would allocate them for every call.
    locations: Vec<(usize, regex::bytes::CaptureLocations)>,
    /// A list of names found absent from the current layout (its address, and the layout's
    /// generation): see [`View::lacks_all`].
    lacks: (usize, u32),
}

/// What URL decoding can change in a record (see [`View::escapes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escapes {
    None,
    /// A `+` in the request target's query and no `%`: decoding turns `+` into spaces only.
    Plus,
    Percent,
}

const NAME_SLOTS: usize = 256;
const NONE: u16 = u16::MAX;

/// One event as rules see it.
pub struct View<'v, 'a> {
    ev: &'v Event<'a, 'v>,
    s: &'v mut Scratch,
    raw_ready: bool,
    /// The raw record lower-cased by the caller (from a lower-cased buffer).
    raw_given: Option<&'v [u8]>,
    /// What [`View::escapes`] found, once asked.
    escapes: Option<Escapes>,
}

impl Scratch {
    /// Makes the lookups follow this event's field names: kept when they are those of the
    /// previous event, all the parser's own; forgotten otherwise. Returns whether they were
    /// kept, and whether this event's names are all the parser's own.
    pub fn sync_layout(&mut self, fields: &crate::parse::Fields<'_>) -> (bool, bool) {
        if self.layout_ok && fields.same_layout(&self.layout) {
            return (true, true);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 || self.names.is_empty() {
            // After a wrap, old entries could look current.
            self.names.clear();
            self.names.resize(NAME_SLOTS, (0, 0, 0, NONE));
            self.generation = 1;
        }
        self.layout_ok = fields.layout(&mut self.layout);
        (false, self.layout_ok)
    }
}

impl<'v, 'a> View<'v, 'a> {
    pub fn new(ev: &'v Event<'a, 'v>, s: &'v mut Scratch) -> Self {
        s.sync_layout(ev.fields);
        Self::synced(ev, s)
    }

    /// A view of an event whose layout `s` already follows ([`Scratch::sync_layout`]).
    pub fn synced(ev: &'v Event<'a, 'v>, s: &'v mut Scratch) -> Self {
        s.lower.clear();
        s.lower_at.clear();
        s.derived_len = 0;
        s.url_len = 0;
        View {
            ev,
            s,
            raw_ready: false,
            raw_given: None,
            escapes: None,
        }
    }

    /// A view whose lower-cased raw record is already known, of an event whose layout `s`
    /// already follows.
    pub fn synced_with_raw_lower(
        ev: &'v Event<'a, 'v>,
        s: &'v mut Scratch,
        lower: &'v [u8],
    ) -> Self {
        let mut v = View::synced(ev, s);
        v.raw_given = Some(lower);
        v
    }

    #[inline(always)]
    fn index(&mut self, name: &str) -> Option<usize> {
        let (ptr, len) = (name.as_ptr() as usize, name.len());
        let slot = ((ptr >> 3) ^ (ptr >> 11) ^ len) % NAME_SLOTS;
        let (p, l, g, i) = self.s.names[slot];
        if p == ptr && l == len && g == self.s.generation {
            return (i != NONE).then_some(i as usize);
        }
        let f = self.ev.fields;
        let found = (0..f.len()).find(|&i| f.name(i) == name.as_bytes());
        let stored = found.and_then(|i| u16::try_from(i).ok()).unwrap_or(NONE);
        self.s.names[slot] = (ptr, len, self.s.generation, stored);
        found
    }

    /// Whether the event has none of `names` (nor a derived field: then nothing is
    /// remembered). The answer is remembered for the field layout, by the list's address, so
    /// records with the same fields ask once: pass the same static list every time.
    pub fn lacks_all(&mut self, names: &'static [&'static str]) -> bool {
        let key = (names.as_ptr() as usize, self.s.generation);
        if self.s.derived_len == 0 && self.s.lacks == key {
            return true;
        }
        let lacks = names.iter().all(|n| !self.has(n));
        if lacks && self.s.derived_len == 0 {
            self.s.lacks = key;
        }
        lacks
    }

    /// True when the event has the field.
    pub fn has(&mut self, name: &str) -> bool {
        self.index(name).is_some() || self.derived(name).is_some()
    }

    fn derived(&self, name: &str) -> Option<usize> {
        self.s.derived[..self.s.derived_len]
            .iter()
            .position(|(n, _)| n == name)
    }

    /// Sets a derived field (a rule's `extract`) on the current event: the first capture
    /// group of `re` in `field`, or its whole match; nothing when it does not match.
    pub fn derive(&mut self, name: &str, field: &str, re: &regex::bytes::Regex) {
        let slot = self.derived(name).unwrap_or(self.s.derived_len);
        let mut store = std::mem::take(&mut self.s.derived);
        if slot == store.len() {
            store.push((String::new(), Vec::new()));
        }
        let key = re as *const regex::bytes::Regex as usize;
        let mut locations = std::mem::take(&mut self.s.locations);
        let at = match locations
            .iter()
            .position(|(k, l)| *k == key && l.len() == re.captures_len())
        {
            Some(i) => i,
            None => {
                locations.push((key, re.capture_locations()));
                locations.len() - 1
            }
        };
        let locs = &mut locations[at].1;
        let found = self.value(field).and_then(|s| {
            re.captures_read(locs, s)?;
            let (a, b) = locs.get(1).or_else(|| locs.get(0))?;
            let (n, v) = &mut store[slot];
            n.clear();
            n.push_str(name);
            v.clear();
            v.extend_from_slice(&s[a..b]);
            Some(())
        });
        self.s.locations = locations;
        self.s.derived = store;
        if found.is_some() && slot == self.s.derived_len {
            self.s.derived_len += 1;
        }
    }

    /// The field's decoded value (borrowed from the record when it needs no decoding).
    pub fn value(&mut self, name: &str) -> Option<&[u8]> {
        let Some(i) = self.index(name) else {
            let d = self.derived(name)?;
            return Some(&self.s.derived[d].1);
        };
        let f = self.ev.fields;
        match f.value(i) {
            Val::Str(s, Esc::None) | Val::Json(s) => Some(s),
            v => {
                self.s.value.clear();
                f.decode(v, &mut self.s.value);
                Some(&self.s.value)
            }
        }
    }

    /// A request-target field percent-decoded (again while that changes it, for double
    /// encoding; `+` in its query as a space), as written and lower-cased: None when
    /// decoding changes nothing, or it is missing. Decoded once per event, on the first rule
    /// that asks.
    pub fn url_decoded(&mut self, name: &str) -> Option<(&[u8], &[u8])> {
        if !self.has_escape() {
            return None;
        }
        let i = self.index(name)?;
        let s = &mut *self.s;
        let at = match s.url[..s.url_len].iter().position(|e| e.0 == i) {
            Some(at) => at,
            None => {
                let f = self.ev.fields;
                let v = f.value(i);
                let src: &[u8] = match v {
                    Val::Str(x, Esc::None) | Val::Json(x) => x,
                    v => {
                        s.value.clear();
                        f.decode(v, &mut s.value);
                        &s.value
                    }
                };
                if s.url.len() == s.url_len {
                    s.url.push(Default::default());
                }
                let e = &mut s.url[s.url_len];
                e.0 = i;
                // A value with an escape or a `+` in its query is decoded (`'+or+1=1`); the
                // rules' tests try the value as logged first (`union+select`).
                let bare = crate::parse::util::is_bare_query(name, src);
                e.1 = crate::parse::util::has_url_escape(src, bare)
                    && crate::parse::util::url_decode(src, &mut e.2, &mut s.url_tmp, bare);
                if e.1 {
                    e.3.clear();
                    e.3.extend(e.2.iter().map(u8::to_ascii_lowercase));
                }
                s.url_len += 1;
                s.url_len - 1
            }
        };
        let e = &s.url[at];
        e.1.then_some((e.2.as_slice(), e.3.as_slice()))
    }

    /// Whether the record holds a `%` anywhere or its request target a `+` in its query
    /// (most hold neither: one search answers for every field and rule).
    pub fn has_escape(&mut self) -> bool {
        self.escapes() != Escapes::None
    }

    /// Whether the record holds a `%` (in any field: a pipeline may give the target another
    /// name), or else its request target a `+` in its query (whose decoding changes no byte
    /// but `+`), or neither.
    pub fn escapes(&mut self) -> Escapes {
        if let Some(e) = self.escapes {
            return e;
        }
        let raw = self.ev.raw;
        // Most records hold neither byte; an access log's every time zone holds a `+`: then
        // only the target is looked at.
        let e = if memchr::memchr(b'%', raw).is_some() {
            Escapes::Percent
        } else if memchr::memchr(b'+', raw).is_none() {
            Escapes::None
        } else {
            self.target_escapes()
        };
        self.escapes = Some(e);
        e
    }

    /// Whether the first request-target field the record has holds a `+` in its query (the
    /// record holds no `%`).
    fn target_escapes(&mut self) -> Escapes {
        let Some(name) = super::matcher::URL_FIELDS
            .into_iter()
            .find(|n| self.index(n).is_some())
        else {
            return Escapes::None;
        };
        let Some(v) = self.value(name) else {
            return Escapes::None;
        };
        match crate::parse::util::url_escapes(v, crate::parse::util::is_bare_query(name, v)) {
            (_, true) => Escapes::Plus,
            _ => Escapes::None,
        }
    }

    /// The field's decoded value in lower case.
    pub fn value_lower(&mut self, name: &str) -> Option<&[u8]> {
        let Some(i) = self.index(name) else {
            let d = self.derived(name)?;
            let start = self.s.lower.len();
            let v = self.s.derived[d].1.to_ascii_lowercase();
            self.s.lower.extend_from_slice(&v);
            return Some(&self.s.lower[start..]);
        };
        let f = self.ev.fields;
        // A value that is a piece of the record, as it is: its lower case is the same piece of
        // the lower-cased record, when the caller has that already (a searched buffer).
        if let (Some(lower), Val::Str(s, Esc::None)) = (self.raw_given, f.value(i)) {
            let raw = self.ev.raw;
            let off = (s.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
            if off <= raw.len() && s.len() <= raw.len() - off && lower.len() == raw.len() {
                return Some(&lower[off..off + s.len()]);
            }
        }
        if let Some(&(_, a, b)) = self.s.lower_at.iter().find(|e| e.0 == i) {
            return Some(&self.s.lower[a..b]);
        }
        let start = self.s.lower.len();
        match f.value(i) {
            Val::Str(s, Esc::None) | Val::Json(s) => {
                self.s.lower.extend(s.iter().map(u8::to_ascii_lowercase))
            }
            v => {
                self.s.value.clear();
                f.decode(v, &mut self.s.value);
                self.s
                    .lower
                    .extend(self.s.value.iter().map(u8::to_ascii_lowercase));
            }
        }
        let end = self.s.lower.len();
        self.s.lower_at.push((i, start, end));
        Some(&self.s.lower[start..end])
    }

    /// The field's value when the parser gave it as a whole number.
    pub fn int(&mut self, name: &str) -> Option<i64> {
        match self.ev.fields.value(self.index(name)?) {
            Val::Num(n) => Some(n),
            _ => None,
        }
    }

    /// The field as a number.
    pub fn number(&mut self, name: &str) -> Option<f64> {
        if let Some(i) = self.index(name)
            && let Val::Num(n) = self.ev.fields.value(i)
        {
            return Some(n as f64);
        }
        std::str::from_utf8(self.value(name)?)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The raw record in lower case (computed once per event).
    pub fn raw_lower(&mut self) -> &[u8] {
        if let Some(given) = self.raw_given {
            return given;
        }
        if !self.raw_ready {
            self.s.raw_lower.clear();
            self.s
                .raw_lower
                .extend(self.ev.raw.iter().map(u8::to_ascii_lowercase));
            self.raw_ready = true;
        }
        &self.s.raw_lower
    }

    /// The event itself.
    pub fn event(&self) -> &Event<'a, 'v> {
        self.ev
    }
}

#[cfg(test)]
mod tests {
    use super::{Scratch, View};
    use crate::parse::{Esc, Event, Fields, Val};

    #[test]
    fn lookups_reused_across_events_follow_each_events_fields() {
        let names = [
            "c-ip".to_string(),
            "cs-username".to_string(),
            "sc-status".to_string(),
        ];
        let [ip, user, status] = &names;
        // One name, one address: the parser's names.
        static IP: &str = "c-ip";
        static USER: &str = "cs-username";
        static STATUS: &str = "sc-status";
        let mut s = Scratch::default();
        // Two events with the same fields in the same order, then one without the user, then
        // one with a name from the log itself.
        let mut a = Fields::default();
        a.put_str(IP, b"192.0.2.1", Esc::None);
        a.put_str(USER, b"alice", Esc::None);
        a.put(STATUS, Val::Num(200));
        let mut b = Fields::default();
        b.put_str(IP, b"192.0.2.2", Esc::None);
        b.put_str(USER, b"bob", Esc::None);
        b.put(STATUS, Val::Num(404));
        let mut c = Fields::default();
        c.put_str(IP, b"192.0.2.3", Esc::None);
        c.put(STATUS, Val::Num(500));
        let mut d = Fields::default();
        d.put_src(b"sc-status", Val::Num(302));
        d.put_src(b"cs-username", Val::Str(b"carol", Esc::None));
        let (ea, eb, ec, ed) = (Event::of(&a), Event::of(&b), Event::of(&c), Event::of(&d));
        let mut v = View::new(&ea, &mut s);
        assert_eq!(v.value(user), Some(&b"alice"[..]));
        let generation = v.s.generation;
        assert_eq!(v.int(status), Some(200));
        let mut v = View::new(&eb, &mut s);
        // The same names in the same order: the first event's lookups stand.
        assert_eq!(v.s.generation, generation);
        assert_eq!(v.value(ip), Some(&b"192.0.2.2"[..]));
        assert_eq!(v.value(user), Some(&b"bob"[..]));
        assert_eq!(v.int(status), Some(404));
        let mut v = View::new(&ec, &mut s);
        assert_eq!(v.value(user), None);
        assert_eq!(v.int(status), Some(500));
        assert!(!v.has(user));
        let mut v = View::new(&ed, &mut s);
        assert_eq!(v.int(status), Some(302));
        assert_eq!(v.value(user), Some(&b"carol"[..]));
        assert_eq!(v.value(ip), None);
        // Back to the first layout after a different one.
        let mut v = View::new(&eb, &mut s);
        assert_eq!(v.value(user), Some(&b"bob"[..]));
        assert_eq!(v.int(status), Some(404));
    }

    #[test]
    fn derived_fields_take_the_first_group_or_the_whole_match() {
        let id = regex::bytes::Regex::new(r"/(\d{1,18})/?$").unwrap();
        let ext = regex::bytes::Regex::new(r"\.[a-z]+$").unwrap();
        let mut s = Scratch::default();
        for (stem, want_id, want_ext) in [
            (&b"/api/customers/10023"[..], Some(&b"10023"[..]), None),
            (b"/export/42/", Some(b"42"), None),
            (b"/static/app.js", None, Some(&b".js"[..])),
            (b"/api/customers/7", Some(b"7"), None),
        ] {
            let mut f = Fields::default();
            f.put_str("cs-uri-stem", stem, Esc::None);
            let ev = Event::of(&f);
            let mut v = View::new(&ev, &mut s);
            // Two regexes in turn, each with its own capture positions.
            v.derive("object_id", "cs-uri-stem", &id);
            v.derive("ext", "cs-uri-stem", &ext);
            assert_eq!(v.value("object_id"), want_id, "{stem:?}");
            assert_eq!(v.value("ext"), want_ext, "{stem:?}");
        }
    }
}
