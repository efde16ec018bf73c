//! JSON: a single-pass scanner that flattens an object into dotted field names without building
//! a tree, and the application JSON-lines parser built on it (timestamp, client address and user
//! found under any of the usual keys).

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, Timestamp};
use super::{Outcome, ParseCtx, RecordParser, Reject};
use memchr::memchr2;

const MAX_DEPTH: usize = 32;

#[inline]
fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end of a JSON string whose opening quote is at `i` (index after the closing quote), and
/// whether it contains escapes.
#[inline]
pub fn string_end(b: &[u8], i: usize) -> Result<(usize, bool), Reject> {
    let mut j = i + 1;
    let mut esc = false;
    loop {
        let p = memchr2(b'"', b'\\', &b[j..]).ok_or("unterminated JSON string")?;
        let k = j + p;
        if b[k] == b'\\' {
            esc = true;
            j = k + 2;
            if j > b.len() {
                return Err("unterminated JSON string");
            }
        } else {
            return Ok((k + 1, esc));
        }
    }
}

/// Skips any JSON value starting at `i`; returns the index after it.
pub fn skip_value(b: &[u8], i: usize) -> Result<usize, Reject> {
    let i = ws(b, i);
    match b.get(i) {
        Some(b'"') => Ok(string_end(b, i)?.0),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err("unbalanced JSON")
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                j += 1;
            }
            if j == i { Err("bad JSON value") } else { Ok(j) }
        }
        None => Err("truncated JSON"),
    }
}

/// Flattens the object at `b[i] == '{'` into `f`; nested objects become `a.b.c` names, arrays
/// and scalars are kept as JSON text. Returns the index after the object.
pub fn flatten<'a>(
    b: &'a [u8],
    i: usize,
    prefix: &mut Vec<u8>,
    f: &mut Fields<'a>,
) -> Result<usize, Reject> {
    flatten_at(b, ws(b, i), prefix, f, 0)
}

fn flatten_at<'a>(
    b: &'a [u8],
    i: usize,
    prefix: &mut Vec<u8>,
    f: &mut Fields<'a>,
    depth: usize,
) -> Result<usize, Reject> {
    if b.get(i) != Some(&b'{') {
        return Err("not a JSON object");
    }
    let mut j = ws(b, i + 1);
    if b.get(j) == Some(&b'}') {
        return Ok(j + 1);
    }
    loop {
        if b.get(j) != Some(&b'"') {
            return Err("bad JSON object key");
        }
        let (ke, _) = string_end(b, j)?;
        let key = &b[j + 1..ke - 1];
        j = ws(b, ke);
        if b.get(j) != Some(&b':') {
            return Err("missing ':' in JSON object");
        }
        j = ws(b, j + 1);
        j = member(b, j, key, prefix, f, depth)?;
        j = ws(b, j);
        match b.get(j) {
            Some(b',') => j = ws(b, j + 1),
            Some(b'}') => return Ok(j + 1),
            _ => return Err("bad JSON object"),
        }
    }
}

fn member<'a>(
    b: &'a [u8],
    j: usize,
    key: &'a [u8],
    prefix: &mut Vec<u8>,
    f: &mut Fields<'a>,
    depth: usize,
) -> Result<usize, Reject> {
    let put = |f: &mut Fields<'a>, prefix: &[u8], v: Val<'a>| {
        if key.contains(&b'\\') {
            // An escaped key is stored decoded (rare, so the copy does not matter).
            let mut k = Vec::new();
            super::event::unescape_json(key, &mut k);
            f.put_path(prefix, &k, v);
        } else if prefix.is_empty() {
            f.put_src(key, v);
        } else {
            f.put_path(prefix, key, v);
        }
    };
    match b.get(j) {
        Some(b'"') => {
            let (e, has_esc) = string_end(b, j)?;
            let esc = if has_esc { Esc::Json } else { Esc::None };
            put(f, prefix, Val::Str(&b[j + 1..e - 1], esc));
            Ok(e)
        }
        Some(b'{') if depth < MAX_DEPTH => {
            let keep = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'.');
            }
            prefix.extend_from_slice(key);
            let r = flatten_at(b, j, prefix, f, depth + 1);
            prefix.truncate(keep);
            r
        }
        Some(_) => {
            let e = skip_value(b, j)?;
            put(f, prefix, Val::Json(&b[j..e]));
            Ok(e)
        }
        None => Err("truncated JSON"),
    }
}

/// Parses a timestamp value: an RFC 3339 / ISO string, or an epoch number (s, ms, µs, ns).
pub fn timestamp_of(f: &Fields<'_>, v: Val<'_>, zone: &mut LocalZone) -> Option<Timestamp> {
    match v {
        Val::Str(s, _) => {
            if let Some((c, off, _)) = time::parse_iso(s) {
                return zone.resolve(&c, off);
            }
            if let Some((c, off, _)) = time::parse_clf(s) {
                return zone.resolve(&c, off);
            }
            time::from_epoch_number(s)
        }
        Val::Json(s) => time::from_epoch_number(s),
        Val::Num(n) => time::from_epoch_number(n.to_string().as_bytes()),
        Val::Built(a, b) => {
            let s = f.built(a, b);
            time::parse_iso(s).and_then(|(c, off, _)| zone.resolve(&c, off))
        }
    }
}

/// Keys that hold the event time, in order of preference.
pub const TIME_KEYS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "eventTime",
    "datetime",
    "date",
    "Timestamp",
    "Time",
    "t",
    "time_local",
    "asctime",
    "created",
    "log.timestamp",
];

/// Keys that hold the client address.
pub const IP_KEYS: &[&str] = &[
    "client_ip",
    "clientIP",
    "client.ip",
    "source.ip",
    "src_ip",
    "remote_ip",
    "remote_addr",
    "remoteAddr",
    "ip",
    "ip_address",
    "client.address",
    "sourceIPAddress",
    "http.client_ip",
    "request.ip",
    "clientIp",
    "source_ip",
];

/// Keys that hold the user.
pub const USER_KEYS: &[&str] = &[
    "user",
    "username",
    "user.name",
    "userName",
    "user_name",
    "user_id",
    "userId",
    "user.id",
    "actor",
    "actor.name",
    "login",
    "account",
    "principal",
];

/// Keys that hold what happened.
pub const EVENT_KEYS: &[&str] = &[
    "event",
    "action",
    "event.action",
    "msg",
    "message",
    "event_type",
];

/// Finds the first of `keys` present in `f`.
pub fn first_of<'a>(f: &Fields<'a>, keys: &[&str]) -> Option<Val<'a>> {
    keys.iter().find_map(|k| f.get(k))
}

/// The application JSON-lines parser.
pub struct AppJson {
    zone: LocalZone,
    prefix: Vec<u8>,
}

impl AppJson {
    pub fn new(ctx: &ParseCtx) -> Self {
        AppJson {
            zone: ctx.local(),
            prefix: Vec::new(),
        }
    }
}

impl RecordParser for AppJson {
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let i = ws(rec, 0);
        if rec.get(i) != Some(&b'{') {
            return Err("not a JSON object");
        }
        let end = flatten(rec, i, &mut self.prefix, f)?;
        if ws(rec, end) != rec.len() {
            return Err("trailing bytes after JSON object");
        }
        normalize(f);
        // The first time key whose value reads as a time (a `ts` object or junk is passed over).
        let ts = TIME_KEYS
            .iter()
            .filter_map(|k| f.get(k))
            .find_map(|v| timestamp_of(f, v, &mut self.zone));
        Ok(Outcome::Event(ts))
    }
}

/// Adds the normalized names (`c-ip`, `cs-username`) next to the log's own keys.
fn normalize(f: &mut Fields<'_>) {
    if !f.has("c-ip")
        && let Some(v) = first_of(f, IP_KEYS).filter(|v| !matches!(v, Val::Json(_)))
    {
        f.put("c-ip", v);
    }
    if !f.has("cs-username")
        && let Some(v) = first_of(f, USER_KEYS).filter(|v| !matches!(v, Val::Json(b"null")))
    {
        f.put("cs-username", v);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;

    #[test]
    fn flattens_and_normalizes() {
        let l = r#"{"ts":"2026-10-13T09:13:55.120Z","level":"info","event":"login_failed","user":"j.miller","client_ip":"198.51.100.23","http":{"path":"/api/login","status":401,"hdr":{"ua":"curl\/8"}},"tags":["a","b"],"ok":false}"#;
        let (ts, f) = parse_fmt(Format::Json, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T09:13:55.120Z"));
        assert_eq!(f["http.path"], "/api/login");
        assert_eq!(f["http.status"], "401");
        assert_eq!(f["http.hdr.ua"], "curl/8");
        assert_eq!(f["tags"], r#"["a","b"]"#);
        assert_eq!(f["ok"], "false");
        assert_eq!(f["c-ip"], "198.51.100.23");
        assert_eq!(f["cs-username"], "j.miller");
    }

    #[test]
    fn time_keys_and_epochs() {
        for (l, want) in [
            (
                r#"{"@timestamp":"2026-10-13T11:00:00+02:00","msg":"x"}"#,
                "2026-10-13T09:00:00Z",
            ),
            (r#"{"time":1760346000,"msg":"x"}"#, "2025-10-13T09:00:00Z"),
            (
                r#"{"ts":1760346000123,"msg":"x"}"#,
                "2025-10-13T09:00:00.123Z",
            ),
            (
                r#"{"ts":1760346000123456,"msg":"x"}"#,
                "2025-10-13T09:00:00.123456Z",
            ),
            (
                r#"{"date":"1760346000123456789"}"#,
                "2025-10-13T09:00:00.123456789Z",
            ),
            (
                r#"{"datetime":"2026-10-13 09:00:00"}"#,
                "2026-10-13T09:00:00Z",
            ),
            (
                r#"{"source":{"ip":"10.0.0.1"},"timestamp":"2026-10-13T09:00:00Z"}"#,
                "2026-10-13T09:00:00Z",
            ),
        ] {
            let (ts, _) = parse_fmt(Format::Json, l).unwrap();
            assert_eq!(ts.as_deref(), Some(want), "{l}");
        }
        let (_, f) = parse_fmt(Format::Json, r#"{"source":{"ip":"10.0.0.1"}}"#).unwrap();
        assert_eq!(f["c-ip"], "10.0.0.1");
    }

    #[test]
    fn rejects_broken_json() {
        for bad in [
            r#"{"a":"#,
            r#"{"a" 1}"#,
            "[1,2]",
            r#"{"a":1} x"#,
            r#"{"a":"unterminated}"#,
        ] {
            assert!(parse_fmt(Format::Json, bad).is_err(), "{bad}");
        }
        let (ts, _) = parse_fmt(Format::Json, r#"{"a":1}"#).unwrap();
        assert_eq!(ts, None);
        let (ts, f) = parse_fmt(
            Format::Json,
            r#"{"ts":{"sec":5},"time":"2026-10-13T09:00:00Z","k\"ey":1}"#,
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T09:00:00Z"));
        assert_eq!(f["k\"ey"], "1");
    }
}
