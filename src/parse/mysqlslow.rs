//! MySQL, MariaDB and Percona slow query log: one record per query, a block of `# ` header
//! lines and the statement:
//!
//! ```text
//! # Time: 2026-10-13T10:20:31.123456Z
//! # User@Host: app_ro[app_ro] @  [10.0.1.5]  Id:    42
//! # Query_time: 3.123456  Lock_time: 0.000123 Rows_sent: 120000  Rows_examined: 120000
//! SET timestamp=1791886831;
//! SELECT * FROM customers;
//! ```
//!
//! The rows and bytes a query sent are the nearest thing a database log has to "what was
//! taken". `# Time:` is a record of its own (queries in the same second share it); a query's
//! time is its `SET timestamp` (UTC epoch seconds), else the last `# Time:`.

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, Timestamp};
use super::util::{is_ip, uint};
use super::{Outcome, ParseCtx, RecordParser, Reject};

/// The slow-log parser; it remembers the last `# Time:`.
pub struct MysqlSlow {
    zone: LocalZone,
    last: Option<Timestamp>,
}

impl MysqlSlow {
    pub fn new(ctx: &ParseCtx) -> Self {
        MysqlSlow {
            zone: ctx.local(),
            last: None,
        }
    }
}

const TIME: &[u8] = b"# Time: ";
const USER_HOST: &[u8] = b"# User@Host: ";

/// A line that starts no record belongs to the query above it.
pub fn is_continuation(line: &[u8]) -> bool {
    !(line.starts_with(TIME) || line.starts_with(USER_HOST) || super::mysql::is_header(line))
}

/// The header counters, by their names in the log.
const COUNTERS: &[(&[u8], &str)] = &[
    (b"Rows_sent", "rows_sent"),
    (b"Rows_examined", "rows_examined"),
    (b"Rows_affected", "rows_affected"),
    (b"Bytes_sent", "bytes_sent"),
    (b"Thread_id", "thread_id"),
    (b"Id", "thread_id"),
];

/// `Name: value` pairs of a header line (`Query_time: 0.01  Lock_time: 0.00 Rows_sent: 268`).
fn pairs<'a>(line: &'a [u8], f: &mut Fields<'a>) {
    let mut words = line.split(|c| *c == b' ').filter(|w| !w.is_empty());
    while let Some(w) = words.next() {
        let Some(name) = w.strip_suffix(b":") else {
            continue;
        };
        let Some(v) = words.next() else {
            return;
        };
        if let Some((_, field)) = COUNTERS.iter().find(|(n, _)| *n == name) {
            if let Some(n) = uint(v) {
                f.put(field, Val::Num(n as i64));
            }
        } else {
            match name {
                b"Query_time" => f.put_str("query_time", v, Esc::None),
                b"Lock_time" => f.put_str("lock_time", v, Esc::None),
                b"Schema" => f.put_str("database", v, Esc::None),
                _ => {}
            }
        }
    }
}

/// `app_ro[app_ro] @ host [10.0.1.5]  Id: 42`: the account, the client, the thread.
fn user_host<'a>(rest: &'a [u8], f: &mut Fields<'a>) {
    let user_end = memchr::memchr(b'[', rest).unwrap_or(rest.len());
    let user = rest[..user_end].trim_ascii();
    if !user.is_empty() {
        f.put_str("user", user, Esc::None);
    }
    let Some(at) = memchr::memmem::find(rest, b" @ ") else {
        return;
    };
    let after = &rest[at + 3..];
    let open = memchr::memchr(b'[', after).unwrap_or(after.len());
    let host = after[..open].trim_ascii();
    let close = memchr::memchr(b']', after).unwrap_or(after.len());
    let ip = after.get(open + 1..close).unwrap_or_default().trim_ascii();
    if is_ip(ip) {
        f.put_str("c-ip", ip, Esc::None);
    } else if is_ip(host) {
        f.put_str("c-ip", host, Esc::None);
    }
    if !host.is_empty() && !is_ip(host) {
        f.put_str("client_host", host, Esc::None);
    }
    pairs(after.get(close + 1..).unwrap_or_default(), f);
}

impl RecordParser for MysqlSlow {
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        if super::mysql::is_header(rec) {
            return Ok(Outcome::Meta);
        }
        if let Some(t) = rec.strip_prefix(TIME) {
            let t = t.trim_ascii();
            let (c, off, _) = time::parse_iso(t)
                .or_else(|| time::parse_yymmdd(t))
                .ok_or("bad # Time:")?;
            self.last = Some(self.zone.resolve(&c, off).ok_or("bad # Time:")?);
            return Ok(Outcome::Meta);
        }
        if !rec.starts_with(USER_HOST) {
            return Err("not a slow-log record");
        }
        let mut ts = self.last;
        let mut query_at = None;
        let mut pos = 0;
        for line in rec.split(|c| *c == b'\n') {
            let start = pos;
            pos += line.len() + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(rest) = line.strip_prefix(USER_HOST) {
                user_host(rest, f);
            } else if let Some(rest) = line.strip_prefix(b"# ") {
                pairs(rest, f);
            } else if let Some(secs) = line
                .strip_prefix(b"SET timestamp=")
                .and_then(|s| s.strip_suffix(b";"))
                .and_then(uint)
            {
                ts = Some(Timestamp {
                    nanos: (secs as i64).saturating_mul(1_000_000_000),
                    offset: 0,
                    assumed: false,
                });
            } else if let Some(db) = line
                .strip_prefix(b"use ")
                .and_then(|s| s.strip_suffix(b";"))
            {
                if !f.has("database") {
                    f.put_str("database", db, Esc::None);
                }
            } else if !line.trim_ascii().is_empty() {
                query_at = Some(start);
                break;
            }
        }
        if let Some(q) = query_at {
            let query = rec[q..].trim_ascii();
            if !query.is_empty() {
                f.put_str("query", query, Esc::None);
            }
        }
        Ok(Outcome::Event(ts))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::parse_fmt;
    use super::super::{Format, Framing};

    #[test]
    fn percona_and_mysql_records() {
        let (ts, f) = parse_fmt(
            Format::MysqlSlow,
            "# User@Host: owncloud[owncloud] @ localhost []  Id:     2\n# Schema: owncloud  Last_errno: 0  Killed: 0\n# Query_time: 0.011853  Lock_time: 0.011542  Rows_sent: 268  Rows_examined: 268  Rows_affected: 0\n# Bytes_sent: 10121\nuse owncloud;\nSET timestamp=1611704757;\nSELECT * FROM `oc_appconfig`;",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2021-01-26T23:45:57Z"));
        assert_eq!(
            (
                f["user"].as_str(),
                f["client_host"].as_str(),
                f["database"].as_str()
            ),
            ("owncloud", "localhost", "owncloud")
        );
        assert_eq!(
            (
                f["rows_sent"].as_str(),
                f["rows_examined"].as_str(),
                f["bytes_sent"].as_str()
            ),
            ("268", "268", "10121")
        );
        assert_eq!(
            (f["query_time"].as_str(), f["thread_id"].as_str()),
            ("0.011853", "2")
        );
        assert_eq!(f["query"], "SELECT * FROM `oc_appconfig`;");
        assert!(!f.contains_key("c-ip"));
        let (_, f) = parse_fmt(
            Format::MysqlSlow,
            "# User@Host: app_ro[app_ro] @  [10.0.1.5]  Id:    42\n# Query_time: 3.1  Lock_time: 0.0 Rows_sent: 120000  Rows_examined: 120000\nSET timestamp=1791886831;\nSELECT *\n  FROM customers;\n",
        )
        .unwrap();
        assert_eq!(
            (f["user"].as_str(), f["c-ip"].as_str()),
            ("app_ro", "10.0.1.5")
        );
        assert_eq!(f["query"], "SELECT *\n  FROM customers;");
        // A query's own lines are not headers; the next record starts at a header.
        let Framing::Continued(cont) = Format::MysqlSlow.framing() else {
            panic!("slow-log records span lines");
        };
        assert!(cont(b"  FROM customers;") && cont(b"SET timestamp=1;"));
        assert!(
            !cont(b"# Time: 2021-01-26T23:45:58.073818Z") && !cont(b"# User@Host: a[a] @ b []")
        );
    }
}
