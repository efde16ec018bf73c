//! PostgreSQL server logs: the stderr format with the common `log_line_prefix` forms
//! (`%m [%p] %q%u@%d `, `%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h `, ...) whose
//! multi-line statements continue on tab-indented lines, and csvlog.

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, Timestamp, TsCache};
use super::util::{self, uint, value_after};
use super::{Outcome, ParseCtx, RecordParser, Reject};
use memchr::memmem;

/// Continuation lines of a multi-line statement start with a tab.
pub fn is_continuation(line: &[u8]) -> bool {
    line.first() == Some(&b'\t')
}

const LEVELS: &[&[u8]] = &[
    b"LOG",
    b"ERROR",
    b"STATEMENT",
    b"DETAIL",
    b"HINT",
    b"FATAL",
    b"WARNING",
    b"CONTEXT",
    b"NOTICE",
    b"PANIC",
    b"INFO",
    b"LOCATION",
    b"QUERY",
    b"DEBUG",
    b"DEBUG1",
    b"DEBUG2",
    b"DEBUG3",
    b"DEBUG4",
    b"DEBUG5",
];

/// The stderr-format parser.
pub struct Postgres {
    cache: TsCache,
    zone: LocalZone,
}

impl Postgres {
    pub fn new(ctx: &ParseCtx) -> Self {
        Postgres {
            cache: TsCache::default(),
            zone: ctx.local(),
        }
    }
}

/// A PostgreSQL timestamp (`2026-10-13 10:21:07.311 UTC`) with an optional zone abbreviation
/// that [`time::zone_abbrev`] may not know (then `--tz` applies and the word is skipped).
fn pg_time(b: &[u8], cache: &mut TsCache, zone: &mut LocalZone) -> Option<(Timestamp, usize)> {
    let key = &b[..b.len().min(32)];
    let key = &key[..memmem::find(key, b" [").unwrap_or(key.len())];
    if let Some(hit) = cache.get(key) {
        return Some(hit);
    }
    let (c, off, mut end) = time::parse_iso(b)?;
    if off.is_none() && b.get(end) == Some(&b' ') {
        let w = b[end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        if (2..=5).contains(&w) && b.get(end + 1 + w).is_none_or(|c| *c == b' ') {
            end += 1 + w;
        }
    }
    let hit = (zone.resolve(&c, off)?, end);
    if key.len() == end {
        cache.put(key, hit);
    }
    Some(hit)
}

impl RecordParser for Postgres {
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let (ts, end) =
            pg_time(rec, &mut self.cache, &mut self.zone).ok_or("no PostgreSQL timestamp")?;
        let rest = &rec[end..];
        let (lvl_start, lvl_end, msg_start) = find_level(rest).ok_or("no PostgreSQL level")?;
        prefix(&rest[..lvl_start], f);
        f.put_str("level", &rest[lvl_start..lvl_end], Esc::None);
        let msg = &rest[msg_start..];
        f.put_str("message", msg, Esc::None);
        message(msg, f);
        Ok(Outcome::Event(Some(ts)))
    }
}

/// Finds `LEVEL:  ` (PostgreSQL writes two spaces; some prefixes and proxies one):
/// (level start, level end, message start).
fn find_level(rest: &[u8]) -> Option<(usize, usize, usize)> {
    let mut from = 0;
    while let Some(p) = memmem::find(&rest[from..], b": ") {
        let colon = from + p;
        let start = rest[..colon]
            .iter()
            .rposition(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
            .map_or(0, |p| p + 1);
        let delimited = start == 0 || matches!(rest[start - 1], b' ' | b':' | b']');
        if delimited && LEVELS.contains(&&rest[start..colon]) {
            let msg = if rest.get(colon + 2) == Some(&b' ') {
                colon + 3
            } else {
                colon + 2
            };
            return Some((start, colon, msg));
        }
        from = colon + 1;
    }
    None
}

/// The part of `log_line_prefix` between the time and the level.
fn prefix<'a>(p: &'a [u8], f: &mut Fields<'a>) {
    if let Some(pid) = p.iter().position(|&c| c == b'[').and_then(|s| {
        let e = p[s + 1..].iter().position(|c| !c.is_ascii_digit())?;
        uint(&p[s + 1..s + 1 + e])
    }) {
        f.put("pid", Val::Num(pid as i64));
    }
    for (key, name) in [
        (&b"user="[..], "user"),
        (b"db=", "database"),
        (b"app=", "application"),
        (b"client=", "c-ip"),
        (b"host=", "c-ip"),
    ] {
        if let Some(v) = value_after(p, key).filter(|v| !f.has(name) && *v != b"[local]") {
            f.put_str(name, v, Esc::None);
        }
    }
    if !f.has("c-ip") {
        // RDS-style `%t:%r:%u@%d:[%p]:` carries the client as `addr(port)` or `addr`.
        for tok in p.split(|&c| c == b' ' || c == b':') {
            let host = tok.split(|&c| c == b'(').next().unwrap_or(tok);
            if util::is_ipv4(host) {
                f.put_str("c-ip", host, Esc::None);
                break;
            }
        }
    }
    if !f.has("user") {
        for tok in p.split(|&c| c == b' ' || c == b':') {
            if let Some(at) = memchr::memchr(b'@', tok).filter(|_| !tok.starts_with(b"[")) {
                f.put_str("user", &tok[..at], Esc::None);
                f.put_str("database", &tok[at + 1..], Esc::None);
                break;
            }
        }
    }
}

/// Statement text, durations and connection details inside the message.
fn message<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    let mut m = msg;
    if let Some(rest) = m.strip_prefix(b"duration: ") {
        let e = util::token_end(rest, 0);
        f.put_str("duration_ms", &rest[..e], Esc::None);
        // `duration: 0.054 ms  statement: ...` (one space in some proxies and prefixes).
        m = rest
            .strip_prefix(&rest[..e])
            .and_then(|r| r.strip_prefix(b" ms"))
            .map_or(b"", |r| r.trim_ascii_start());
    }
    for key in [&b"statement: "[..], b"execute ", b"parse ", b"bind "] {
        if let Some(s) = m.strip_prefix(key) {
            let s = if key == b"statement: " {
                s
            } else {
                memchr::memchr(b':', s).map_or(s, |c| util_trim(&s[c + 1..]))
            };
            f.put_str("statement", s, Esc::None);
            return;
        }
    }
    if m.starts_with(b"connection received: ") {
        if let Some(h) = value_after(m, b"host=") {
            f.put_str("c-ip", h, Esc::None);
        }
        if let Some(p) = value_after(m, b"port=").and_then(uint) {
            f.put("c-port", Val::Num(p as i64));
        }
    } else if m.starts_with(b"connection authorized: ") || m.starts_with(b"disconnection: ") {
        for (key, name) in [
            (&b"user="[..], "user"),
            (b"database=", "database"),
            (b"host=", "c-ip"),
        ] {
            if let Some(v) = value_after(m, key).filter(|_| !f.has(name)) {
                f.put_str(name, v, Esc::None);
            }
        }
    } else if let Some(s) = m.strip_prefix(b"password authentication failed for user \"") {
        let e = memchr::memchr(b'"', s).unwrap_or(s.len());
        if !f.has("user") {
            f.put_str("user", &s[..e], Esc::None);
        }
    }
}

fn util_trim(s: &[u8]) -> &[u8] {
    let a = s.iter().position(|c| *c != b' ').unwrap_or(s.len());
    &s[a..]
}

/// csvlog columns, in order (PostgreSQL 9.0 to 16; later columns are optional).
const CSV_COLUMNS: &[&str] = &[
    "log_time",
    "user",
    "database",
    "pid",
    "connection_from",
    "session_id",
    "session_line_num",
    "command_tag",
    "session_start_time",
    "virtual_transaction_id",
    "transaction_id",
    "level",
    "sql_state_code",
    "message",
    "detail",
    "hint",
    "internal_query",
    "internal_query_pos",
    "context",
    "statement",
    "query_pos",
    "location",
    "application",
    "backend_type",
    "leader_pid",
    "query_id",
];

/// The csvlog parser.
pub struct PostgresCsv {
    cache: TsCache,
    zone: LocalZone,
}

impl PostgresCsv {
    pub fn new(ctx: &ParseCtx) -> Self {
        PostgresCsv {
            cache: TsCache::default(),
            zone: ctx.local(),
        }
    }
}

/// Iterates the fields of one CSV record: (content, needs unescaping).
pub fn csv_fields(rec: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut i = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        if rec.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut doubled = false;
            while j < rec.len() {
                if rec[j] == b'"' {
                    if rec.get(j + 1) == Some(&b'"') {
                        doubled = true;
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            let field = &rec[start..j.min(rec.len())];
            i = j + 1;
            if rec.get(i) == Some(&b',') {
                i += 1;
            } else {
                done = true;
            }
            Some((field, doubled))
        } else {
            let e = memchr::memchr(b',', &rec[i.min(rec.len())..]).map(|p| i + p);
            let field = &rec[i.min(rec.len())..e.unwrap_or(rec.len())];
            match e {
                Some(e) => i = e + 1,
                None => done = true,
            }
            Some((field, false))
        }
    })
}

impl RecordParser for PostgresCsv {
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let mut ts = None;
        let mut n = 0;
        for (k, (v, doubled)) in csv_fields(rec).enumerate() {
            n = k + 1;
            let Some(&name) = CSV_COLUMNS.get(k) else {
                break;
            };
            if k == 0 {
                let (t, _) =
                    pg_time(v, &mut self.cache, &mut self.zone).ok_or("no PostgreSQL timestamp")?;
                ts = Some(t);
                continue;
            }
            match name {
                "pid" | "session_line_num" | "leader_pid" => {
                    if let Some(x) = uint(v) {
                        f.put(name, Val::Num(x as i64));
                    }
                }
                "connection_from" => {
                    let (h, port) = util::split_host_port(v);
                    f.put_str("c-ip", h, Esc::None);
                    if let Some(p) = port.and_then(uint) {
                        f.put("c-port", Val::Num(p as i64));
                    }
                }
                _ => f.put_str(name, v, if doubled { Esc::Csv } else { Esc::None }),
            }
        }
        if n < 14 {
            return Err("too few csvlog columns");
        }
        if let (Some(Val::Str(m, Esc::None)), false) = (f.get("message"), f.has("statement")) {
            message(m, f);
        }
        Ok(Outcome::Event(ts))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;

    #[test]
    fn stderr_prefixes() {
        let (ts, f) = parse_fmt(
            Format::Postgres,
            "2026-10-13 10:21:07.311 UTC [41233] app_ro@shop LOG:  statement: SELECT * FROM customers;",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:21:07.311Z"));
        assert_eq!(
            (
                f["pid"].as_str(),
                f["user"].as_str(),
                f["database"].as_str()
            ),
            ("41233", "app_ro", "shop")
        );
        assert_eq!(
            (f["level"].as_str(), f["statement"].as_str()),
            ("LOG", "SELECT * FROM customers;")
        );
        let (ts, f) = parse_fmt(
            Format::Postgres,
            "2023-01-11 10:00:01 CET [15937]: [3-1] user=postgres,db=bench,app=psql,client=192.0.2.4 LOG:  duration: 0.250 ms  statement: select 1",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2023-01-11T09:00:01Z"));
        assert_eq!(
            (
                f["user"].as_str(),
                f["database"].as_str(),
                f["c-ip"].as_str()
            ),
            ("postgres", "bench", "192.0.2.4")
        );
        assert_eq!(
            (f["duration_ms"].as_str(), f["statement"].as_str()),
            ("0.250", "select 1")
        );
        let (_, f) = parse_fmt(
            Format::Postgres,
            "2026-10-13 10:20:59.001 UTC [41233] [unknown]@[unknown] LOG:  connection received: host=10.0.1.5 port=50122",
        )
        .unwrap();
        assert_eq!(
            (f["c-ip"].as_str(), f["c-port"].as_str()),
            ("10.0.1.5", "50122")
        );
        let rec =
            "2026-10-13 10:21:07 UTC [1] a@b LOG:  statement: SELECT id,\n\temail FROM customers";
        let (_, f) = parse_fmt(Format::Postgres, rec).unwrap();
        assert_eq!(f["statement"], "SELECT id,\n\temail FROM customers");
        assert!(parse_fmt(Format::Postgres, "\tcontinuation only").is_err());
        let (ts, f) = parse_fmt(Format::Postgres, "2021-05-27 17:00:00 UTC:10.1.91.65:user@my_db:[24743]:LOG: duration: 0.054 ms statement: SELECT 1;").unwrap();
        assert_eq!(ts.as_deref(), Some("2021-05-27T17:00:00Z"));
        assert_eq!((f["level"].as_str(), f["pid"].as_str()), ("LOG", "24743"));
        assert_eq!(
            (f["c-ip"].as_str(), f["statement"].as_str()),
            ("10.1.91.65", "SELECT 1;")
        );
        assert_eq!(
            (f["user"].as_str(), f["database"].as_str()),
            ("user", "my_db")
        );
    }

    #[test]
    fn csvlog() {
        let l = r#"2026-10-13 10:21:07.311 UTC,"app_ro","shop",41233,"10.0.1.5:50122",6528f1a3.a111,3,"SELECT",2026-10-13 10:20:59 UTC,3/17,0,LOG,00000,"statement: SELECT ""x"" FROM customers",,,,,,,,,"psql","client backend""#;
        let (ts, f) = parse_fmt(Format::PostgresCsv, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:21:07.311Z"));
        assert_eq!(
            (f["user"].as_str(), f["c-ip"].as_str(), f["c-port"].as_str()),
            ("app_ro", "10.0.1.5", "50122")
        );
        assert_eq!(f["message"], r#"statement: SELECT "x" FROM customers"#);
        assert_eq!(f["application"], "psql");
        assert!(parse_fmt(Format::PostgresCsv, "a,b,c").is_err());
    }
}
