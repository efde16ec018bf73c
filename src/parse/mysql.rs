//! MySQL general query log, old (`081208 10:04:52\t   1 Connect ...`, lines that begin with
//! tabs inherit the previous timestamp) and 5.7+ (`2019-11-04T08:29:32.361396Z\t  2 Query\t...`).
//! Queries may run over several lines; the banner lines a server writes at start-up are
//! headers.

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, Timestamp};
use super::util::uint;
use super::{Outcome, ParseCtx, RecordParser, Reject};

/// The general-log parser; it remembers the last timestamp for the lines that inherit it.
pub struct MysqlGeneral {
    zone: LocalZone,
    last: Option<Timestamp>,
}

impl MysqlGeneral {
    pub fn new(ctx: &ParseCtx) -> Self {
        MysqlGeneral {
            zone: ctx.local(),
            last: None,
        }
    }
}

/// The banner a server writes when it starts a log (general and slow logs alike).
pub(super) fn is_header(line: &[u8]) -> bool {
    line.starts_with(b"Tcp port:")
        || line.starts_with(b"Time ")
        || (line.starts_with(b"/") && memchr::memmem::find(line, b"Version:").is_some())
        || memchr::memmem::find(line, b", Version: ").is_some()
}

/// `\t\t  12 Query\t...`: a record that inherits the previous timestamp. Returns where the
/// thread id starts.
fn inherited_start(line: &[u8]) -> Option<usize> {
    if !matches!(line.first(), Some(b'\t' | b' ')) {
        return None;
    }
    let i = line.iter().position(|c| *c != b'\t' && *c != b' ')?;
    let d = line[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut k = i + d;
    while matches!(line.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    (d > 0 && k > i + d && line.get(k).is_some_and(u8::is_ascii_uppercase)).then_some(i)
}

/// Commands written as two words.
const TWO_WORD: &[&[u8]] = &[
    b"Init DB",
    b"Change user",
    b"Field List",
    b"Close stmt",
    b"Binlog Dump",
    b"Long Data",
    b"Register Slave",
    b"Table Dump",
    b"Set option",
    b"Reset stmt",
    b"Create DB",
    b"Drop DB",
    b"Connect Out",
    b"Delayed insert",
];

fn timestamp_start(line: &[u8]) -> Option<(time::Civil, Option<i32>, usize)> {
    time::parse_iso(line).or_else(|| time::parse_yymmdd(line))
}

/// A line that starts no record belongs to the query above it.
pub fn is_continuation(line: &[u8]) -> bool {
    !(timestamp_start(line).is_some() || inherited_start(line).is_some() || is_header(line))
}

impl RecordParser for MysqlGeneral {
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        if is_header(rec) {
            return Ok(Outcome::Meta);
        }
        let start = if let Some((c, off, end)) = timestamp_start(rec) {
            self.last = Some(self.zone.resolve(&c, off).ok_or("bad timestamp")?);
            end
        } else {
            inherited_start(rec).ok_or("not a general-log record")?
        };
        let mut i = start;
        while matches!(rec.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let d = rec[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let id = uint(&rec[i..i + d]).ok_or("no thread id")?;
        f.put("thread_id", Val::Num(id as i64));
        i += d;
        while matches!(rec.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let c = rec[i..]
            .iter()
            .position(|c| *c == b'\t' || *c == b' ' || *c == b'\n')
            .map_or(rec.len(), |p| i + p);
        let mut c = c;
        for two in TWO_WORD {
            if rec[i..].starts_with(two) {
                c = i + two.len();
            }
        }
        let command = &rec[i..c];
        if !command.first().is_some_and(u8::is_ascii_uppercase)
            || !command
                .iter()
                .all(|b| b.is_ascii_alphabetic() || *b == b' ')
        {
            return Err("no general-log command");
        }
        f.put_str("command", command, Esc::None);
        let mut a = c;
        while matches!(rec.get(a), Some(b' ' | b'\t')) {
            a += 1;
        }
        let arg = &rec[a.min(rec.len())..];
        f.put_str("argument", arg, Esc::None);
        match command {
            b"Query" | b"Execute" | b"Prepare" => f.put_str("query", arg, Esc::None),
            b"Connect" | b"Change user" => connect(arg, f),
            _ => {}
        }
        Ok(Outcome::Event(self.last))
    }
}

/// `root@localhost on shop using TCP/IP`, or `Access denied for user 'x'@'h' (using ...)`.
fn connect<'a>(arg: &'a [u8], f: &mut Fields<'a>) {
    if let Some(rest) = arg.strip_prefix(b"Access denied for user '") {
        let q = memchr::memchr(b'\'', rest).unwrap_or(rest.len());
        f.put_str("user", &rest[..q], Esc::None);
        if let Some(h) = rest.get(q + 3..) {
            let e = memchr::memchr(b'\'', h).unwrap_or(h.len());
            f.put_str("c-ip", &h[..e], Esc::None);
        }
        f.put("outcome", Val::Str(b"failure", Esc::None));
        return;
    }
    let Some(at) = memchr::memchr(b'@', arg) else {
        return;
    };
    f.put_str("user", &arg[..at], Esc::None);
    let rest = &arg[at + 1..];
    let host_end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    f.put_str("c-ip", &rest[..host_end], Esc::None);
    if let Some(on) = memchr::memmem::find(rest, b" on ") {
        let db = &rest[on + 4..];
        let e = memchr::memmem::find(db, b" using").unwrap_or(db.len());
        f.put_str("database", db[..e].trim_ascii(), Esc::None);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::{ctx, parse_one};
    use super::*;

    #[test]
    fn old_and_new_formats() {
        let mut p = Format::MysqlGeneral.parser(&ctx());
        let (ts, _) = parse_one(
            p.as_mut(),
            "/usr/sbin/mysqld, Version: 5.0.51a-log. started with:",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("meta"));
        let (ts, f) = parse_one(
            p.as_mut(),
            "081208 10:04:52\t   1 Connect     root@localhost on shop",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2008-12-08T10:04:52Z"));
        assert_eq!(
            (
                f["user"].as_str(),
                f["c-ip"].as_str(),
                f["database"].as_str()
            ),
            ("root", "localhost", "shop")
        );
        let (ts, f) = parse_one(
            p.as_mut(),
            "\t\t      1 Query       SELECT *\nFROM customers",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2008-12-08T10:04:52Z"));
        assert_eq!(f["query"], "SELECT *\nFROM customers");
        let (ts, f) = parse_one(
            p.as_mut(),
            "2019-11-04T08:29:32.361396Z\t    2 Query\tselect @@version_comment limit 1",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2019-11-04T08:29:32.361396Z"));
        assert_eq!(f["command"], "Query");
        assert!(is_continuation(b"FROM customers"));
        assert!(!is_continuation(b"\t\t      1 Quit"));
        assert!(!is_continuation(
            b"                     51 Query       SELECT"
        ));
        assert!(is_continuation(
            b"                FROM auction_category_map"
        ));
        let (_, f) = parse_one(p.as_mut(), "\t\t   11 Init DB     my_webstats").unwrap();
        assert_eq!(
            (f["command"].as_str(), f["argument"].as_str()),
            ("Init DB", "my_webstats")
        );
        assert!(parse_one(p.as_mut(), "2020-08-06T14:25:02.835618Z 0 [Note] InnoDB").is_err());
        let (_, f) = parse_one(p.as_mut(), "2019-11-04T08:29:32Z\t    3 Connect\tAccess denied for user 'bob'@'10.0.0.9' (using password: YES)").unwrap();
        assert_eq!(
            (
                f["user"].as_str(),
                f["c-ip"].as_str(),
                f["outcome"].as_str()
            ),
            ("bob", "10.0.0.9", "failure")
        );
    }
}
