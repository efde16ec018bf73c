//! The parser of last resort: any text log whose lines carry a timestamp near their start, in
//! any of the shapes daemons write. It finds the time, keeps the rest as `message`, and pulls
//! out the first address (`ip`) and a user name (`user`) so that no text log is unreadable.
//! Other text parsers fall back to it for lines they do not recognise.

use super::event::{Esc, Fields};
use super::time::{self, Civil, LocalZone, Timestamp, YearRef, digits};
use super::util;
use super::{Outcome, ParseCtx, RecordParser, Reject};

/// Lines that start with whitespace continue the record above (stack traces, wrapped text),
/// unless a timestamp follows the indentation (an indented log is still one record a line).
pub fn is_continuation(line: &[u8]) -> bool {
    if !matches!(line.first(), Some(b' ' | b'\t')) {
        return false;
    }
    let t = line.trim_ascii_start();
    let t = t.strip_prefix(b"[").unwrap_or(t);
    !(time::parse_iso(t).is_some()
        || time::parse_bsd(t).is_some()
        || time::parse_clf(t).is_some()
        || time::parse_ctime(t).is_some()
        || time::parse_dmy(t).is_some())
}

/// How far into a line a timestamp may start.
const SEARCH: usize = 64;

/// What a shape found: a civil time (zone still to apply) or an absolute instant.
enum Hit {
    Civil(Civil, Option<i32>, usize),
    Abs(Timestamp, usize),
}

type Shape = fn(&[u8], usize) -> Option<Hit>;

fn civil(p: Option<time::Parsed>) -> Option<Hit> {
    p.map(|(c, o, e)| Hit::Civil(c, o, e))
}

/// Shapes in the order they are tried at each position.
const SHAPES: &[Shape] = &[
    |b, _| time::parse_tai64n(b).map(|(t, e)| Hit::Abs(t, e)),
    |b, _| civil(time::parse_iso(b).filter(|p| p.0.year >= 1900)),
    |b, _| civil(time::parse_clf(b).or_else(|| clf_space(b))),
    |b, _| civil(time::parse_ctime(b)),
    |b, _| civil(time::parse_bsd(b)),
    |b, _| civil(time::parse_dmy(b)),
    |b, _| epoch(b).map(|(t, e)| Hit::Abs(t, e)),
    |b, pos| civil(time::parse_yymmdd(b).filter(|_| pos == 0)),
    |b, _| civil(compact(b)),
    |b, _| civil(numeric_date(b)),
    |b, _| civil(mon_dd_yy(b)),
    |b, _| civil(colon_date(b)),
    |b, _| civil(zone_then_bsd(b)),
    |b, _| civil(ordinal(b)),
    |b, _| civil(month_dot_day(b)),
];

/// Index of the epoch shape: only tried at a line's start or after `[` / `(`.
const EPOCH_SHAPE: usize = 6;

/// Epoch seconds, milliseconds, microseconds or nanoseconds (by digit count), with an
/// optional fraction.
fn epoch(b: &[u8]) -> Option<(Timestamp, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !matches!(n, 10 | 13 | 16 | 19) || b.get(n).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if n == 10 {
        return time::parse_epoch_secs(b);
    }
    Some((time::from_epoch_number(&b[..n])?, n))
}

/// ISO ordinal dates: `yyyy-ddd` then `T` or space and the time.
fn ordinal(b: &[u8]) -> Option<time::Parsed> {
    let year = digits(b, 0, 4)? as i32;
    if b.get(4) != Some(&b'-') || !matches!(b.get(8), Some(b'T' | b' ')) {
        return None;
    }
    let yday = digits(b, 5, 3)?;
    if !(1..=366).contains(&yday) {
        return None;
    }
    let days = time::days_from_civil(year, 1, 1) + yday as i64 - 1;
    let (y, m, d) = time::civil_from_days(days);
    if y != year {
        return None;
    }
    let (c, off, used) = with_date(y, m, d, &b[9..])?;
    Some((c, off, 9 + used))
}

/// `mm.dd HH:MM:SS` without a year (Proxifier).
fn month_dot_day(b: &[u8]) -> Option<time::Parsed> {
    let month = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'.') || b.get(5) != Some(&b' ') {
        return None;
    }
    let day = digits(b, 3, 2)?;
    let (mut c, off, used) = with_date(2000, month, day, &b[6..])?;
    c.year = 0;
    Some((c, off, 6 + used))
}

/// `dd/Mon/yyyy HH:MM:SS` (a space instead of CLF's colon).
fn clf_space(b: &[u8]) -> Option<time::Parsed> {
    if b.get(11) != Some(&b' ') || b.get(2) != Some(&b'/') {
        return None;
    }
    let mut v = [0u8; 40];
    let n = b.len().min(40);
    v[..n].copy_from_slice(&b[..n]);
    v[11] = b':';
    time::parse_clf(&v[..n])
}

/// `yyyymmdd-HH:MM:SS` or `yyyymmddTHH:MM:SS`.
fn compact(b: &[u8]) -> Option<time::Parsed> {
    let year = digits(b, 0, 4)? as i32;
    let month = digits(b, 4, 2)?;
    let day = digits(b, 6, 2)?;
    if !matches!(b.get(8), Some(b'-' | b'T' | b' ')) {
        return None;
    }
    let (c, off, used) = with_date(year, month, day, &b[9..])?;
    Some((c, off, 9 + used))
}

/// Reads the time in `rest` as if `yyyy-mm-dd ` stood before it (on the stack: no
/// allocation). Returns the civil time, an offset, and the bytes of `rest` used.
fn with_date(year: i32, month: u32, day: u32, rest: &[u8]) -> Option<time::Parsed> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(0..=9999).contains(&year) {
        return None;
    }
    let mut buf = [0u8; 64];
    let y = year as u32;
    let date = [
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (month / 10) as u8,
        b'0' + (month % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
        b' ',
    ];
    buf[..11].copy_from_slice(&date);
    let n = rest.len().min(buf.len() - 11);
    buf[11..11 + n].copy_from_slice(&rest[..n]);
    let (c, off, end) = time::parse_iso(&buf[..11 + n])?;
    Some((c, off, end - 11))
}

/// Numeric dates: `mm/dd/yyyy` (US order for slashes), `dd-mm-yyyy` and `dd.mm.yyyy`
/// (day first), swapped when the first number cannot be that; then the time after a space or
/// ` - `.
fn numeric_date(b: &[u8]) -> Option<time::Parsed> {
    let a = digits(b, 0, 2)?;
    let sep = *b.get(2)?;
    if !matches!(sep, b'/' | b'-' | b'.') || b.get(5) != Some(&sep) {
        return None;
    }
    let c = digits(b, 3, 2)?;
    let year = digits(b, 6, 4)? as i32;
    let (mut month, mut day) = if sep == b'/' { (a, c) } else { (c, a) };
    if month > 12 {
        std::mem::swap(&mut month, &mut day);
    }
    let mut i = 10;
    if b.get(i..i + 3) == Some(b" - ") {
        i += 3;
    } else if b.get(i) == Some(&b' ') {
        i += 1;
    } else {
        return None;
    }
    let (c, off, used) = with_date(year, month, day, &b[i..])?;
    Some((c, off, i + used))
}

/// `Apr-07-13 07:08:36` (assp).
fn mon_dd_yy(b: &[u8]) -> Option<time::Parsed> {
    let month = time::month3(b)?;
    if b.get(3) != Some(&b'-') || b.get(6) != Some(&b'-') || b.get(9) != Some(&b' ') {
        return None;
    }
    let day = digits(b, 4, 2)?;
    let year = 2000 + digits(b, 7, 2)? as i32;
    let (c, off, used) = with_date(year, month, day, &b[10..])?;
    Some((c, off, 10 + used))
}

/// `yyyy:mm:dd-HH:MM:SS` (DirectAdmin).
fn colon_date(b: &[u8]) -> Option<time::Parsed> {
    let year = digits(b, 0, 4)? as i32;
    if b.get(4) != Some(&b':') || b.get(7) != Some(&b':') || b.get(10) != Some(&b'-') {
        return None;
    }
    let (month, day) = (digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (c, off, used) = with_date(year, month, day, &b[11..])?;
    Some((c, off, 11 + used))
}

/// `PDT Apr 16 21:05:29` (monit): a zone abbreviation before a BSD time.
fn zone_then_bsd(b: &[u8]) -> Option<time::Parsed> {
    let (off, end) = time::zone_abbrev(b, 0)?;
    if end == 0 || b.get(end) != Some(&b' ') {
        return None;
    }
    let (c, _, e) = time::parse_bsd(&b[end + 1..])?;
    Some((c, Some(off), end + 1 + e))
}

/// True where a timestamp may start: the line's start or after a delimiter.
fn candidate(b: &[u8], i: usize) -> bool {
    let c = b[i];
    (c.is_ascii_digit() || c.is_ascii_uppercase() || c == b'@')
        && (i == 0
            || matches!(
                b[i - 1],
                b' ' | b'[' | b'<' | b'(' | b'=' | b'"' | b'\'' | b'>' | b'|' | b'{' | b','
            ))
}

/// The generic parser. It remembers where and in which shape the last timestamp was, which
/// is where the next line's almost always is.
pub struct Generic {
    zone: LocalZone,
    year: YearRef,
    last: Option<(usize, usize)>,
}

impl Generic {
    pub fn new(ctx: &ParseCtx) -> Self {
        Generic {
            zone: ctx.local(),
            year: ctx.year,
            last: None,
        }
    }

    fn resolve(&mut self, hit: Hit) -> Option<(Timestamp, usize)> {
        match hit {
            Hit::Abs(t, e) => Some((t, e)),
            Hit::Civil(mut c, off, e) => {
                if c.year == 0 {
                    c.year = self.year.year_for(&c);
                }
                if !(1900..=2200).contains(&c.year) {
                    return None;
                }
                Some((self.zone.resolve(&c, off)?, e))
            }
        }
    }

    fn try_at(&mut self, line: &[u8], pos: usize, shape: usize) -> Option<(Timestamp, usize)> {
        let hit = SHAPES[shape](&line[pos..], pos)?;
        self.resolve(hit)
    }

    /// Finds the timestamp: (time, start, end).
    pub fn find_time(&mut self, line: &[u8]) -> Option<(Timestamp, usize, usize)> {
        if let Some((pos, shape)) = self.last
            && pos < line.len()
            && candidate(line, pos)
            && let Some((t, e)) = self.try_at(line, pos, shape)
        {
            return Some((t, pos, pos + e));
        }
        for pos in 0..line.len().min(SEARCH) {
            if !candidate(line, pos) {
                continue;
            }
            for shape in 0..SHAPES.len() {
                if shape == EPOCH_SHAPE && pos > 0 && !matches!(line[pos - 1], b'[' | b'(') {
                    continue;
                }
                if let Some((t, e)) = self.try_at(line, pos, shape) {
                    self.last = Some((pos, shape));
                    return Some((t, pos, pos + e));
                }
            }
        }
        None
    }
}

impl RecordParser for Generic {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let (ts, start, end) = self.find_time(line).ok_or("no timestamp found")?;
        let mut m = end;
        while m < line.len() && matches!(line[m], b']' | b' ' | b':' | b'\t' | b'>' | b'|') {
            m += 1;
        }
        if m < line.len() && line[m] == b'-' && line.get(m + 1) == Some(&b' ') {
            m += 2;
        }
        let msg = &line[m..];
        f.put_str("message", msg, Esc::None);
        add_entities(line, start, end, f);
        Ok(Outcome::Event(Some(ts)))
    }
}

/// The addresses (`ip`, `ip.2`, ... in order of appearance) and a user name in a line,
/// outside its timestamp.
pub fn add_entities<'a>(line: &'a [u8], ts_start: usize, ts_end: usize, f: &mut Fields<'a>) {
    add_ips(&line[..ts_start], f);
    add_ips(&line[ts_end..], f);
    if let Some(u) = find_user(&line[ts_end..]) {
        f.put_str("user", u, Esc::None);
    }
}

const IP_NAMES: [&str; 4] = ["ip", "ip.2", "ip.3", "ip.4"];

/// Adds the addresses of `text` after those already present (at most four in all).
pub fn add_ips<'a>(text: &'a [u8], f: &mut Fields<'a>) {
    let have = IP_NAMES.iter().take_while(|n| f.has(n)).count();
    if have == IP_NAMES.len() {
        return;
    }
    for (k, (s, e)) in util::find_ips(text, IP_NAMES.len() - have)
        .into_iter()
        .enumerate()
    {
        f.put_str(IP_NAMES[have + k], &text[s..e], Esc::None);
    }
}

/// A user name after the usual keys (`user=`, `user 'x'`, `for user x`, `login: x`).
pub fn find_user(msg: &[u8]) -> Option<&[u8]> {
    const KEYS: &[&[u8]] = &[
        b"user=",
        b"username=",
        b"user: ",
        b"User: ",
        b"user \"",
        b"user '",
        b"for user ",
        b"user <",
        b"login=",
        b"login: ",
        b"account=",
        b"User ",
        b"user ",
    ];
    for key in KEYS {
        if let Some(p) = memchr::memmem::find(msg, key) {
            let mut s = &msg[p + key.len()..];
            while let Some(c) = s
                .first()
                .filter(|c| matches!(c, b'"' | b'\'' | b'<' | b'['))
            {
                let _ = c;
                s = &s[1..];
            }
            let e = s
                .iter()
                .position(|c| {
                    matches!(
                        c,
                        b' ' | b'"' | b'\'' | b',' | b';' | b')' | b']' | b'>' | b'\t'
                    )
                })
                .unwrap_or(s.len());
            let u = &s[..e];
            if !u.is_empty() && u != b"-" && u.len() <= 64 && !util::is_ip(u) {
                return Some(u);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::{ctx, parse_one};

    fn ts(line: &str) -> Option<String> {
        let mut p = Format::Generic.parser(&ctx());
        parse_one(p.as_mut(), line).ok().and_then(|(t, _)| t)
    }

    #[test]
    fn shapes() {
        for (line, want) in [
            (
                "2013-01-04 17:03:46 login authenticator failed",
                "2013-01-04T17:03:46Z",
            ),
            (
                "[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: x",
                "2012-02-13T17:21:54Z",
            ),
            (
                "2016-11-20T00:04:00.110+0100 [conn1] auth",
                "2016-11-19T23:04:00.110Z",
            ),
            (
                "1386543323.000      4 91.188.124.227 TCP_DENIED/403",
                "2013-12-08T22:55:23Z",
            ),
            (
                "@400000004c91b044077a9e94 imap-login: Info",
                "2010-09-16T05:50:50.125476500Z",
            ),
            ("Wed Apr 14 08:11:01 2021 - OK - x", "2021-04-14T08:11:01Z"),
            (
                "11-Aug-2013 03:36:11.372 error: client",
                "2013-08-11T03:36:11.372Z",
            ),
            (
                "130324  0:04:00 [Warning] Access denied",
                "2013-03-24T00:04:00Z",
            ),
            ("[20220407-12:11:06] [INFO ] x", "2022-04-07T12:11:06Z"),
            ("10/06/2013 15:50:41 x", "2013-10-06T15:50:41Z"),
            ("L 01/01/2014 - 01:25:17: x", "2014-01-01T01:25:17Z"),
            ("03-07-2005 23:07:20 SMTP", "2005-07-03T23:07:20Z"),
            ("Apr-07-13 07:08:36 [SMTP", "2013-04-07T07:08:36Z"),
            ("2014:07:02-00:17:45: x", "2014-07-02T00:17:45Z"),
            ("[PDT Apr 16 21:05:29] error : x", "2026-04-17T04:05:29Z"),
            (
                "t=2020-10-19T17:44:33+0200 lvl=eror msg=x",
                "2020-10-19T15:44:33Z",
            ),
            (
                "[22-Jan-2013 22:28:21 +0200]: IMAP Error",
                "2013-01-22T20:28:21Z",
            ),
            ("[17/Jun/2011 17:00:45] Failed", "2011-06-17T17:00:45Z"),
            ("2011.11.21 14:29:16 LOG3[1]", "2011-11-21T14:29:16Z"),
            ("1428634687123 Hello, World!", "2015-04-10T02:58:07.123Z"),
            (
                "2012-025T10:22:40,672:DEBUG:foo",
                "2012-01-25T10:22:40.672Z",
            ),
            ("[10.30 16:49:06] chrome.exe - x", "2026-10-30T16:49:06Z"),
            (
                "msg=audit(1373330716.415:4063): x",
                "2013-07-09T00:45:16.415Z",
            ),
        ] {
            assert_eq!(ts(line).as_deref(), Some(want), "{line}");
        }
        assert_eq!(ts("no time here at all"), None);
        assert_eq!(ts("0000-12-30 00:00:00 x"), None);
    }

    #[test]
    fn indented_lines_with_a_time_start_records() {
        assert!(super::is_continuation(b"\tat com.example.Foo(Foo.java:12)"));
        assert!(!super::is_continuation(
            b" 2026-10-13 09:00:00 INFO started"
        ));
        assert!(!super::is_continuation(b"2026-10-13 09:00:00 INFO started"));
    }

    #[test]
    fn entities() {
        let mut p = Format::Generic.parser(&ctx());
        let (_, f) = parse_one(p.as_mut(), "2013-01-04 17:03:46 login authenticator failed for (User) [24.106.174.74]: 535 Incorrect authentication data (set_id=user@example.org)").unwrap();
        assert_eq!(f["ip"], "24.106.174.74");
        let (_, f) = parse_one(
            p.as_mut(),
            "2013-01-04 17:03:46 auth failed: user='bob', rip=::ffff:10.1.2.3",
        )
        .unwrap();
        assert_eq!((f["user"].as_str(), f["ip"].as_str()), ("bob", "10.1.2.3"));
    }
}
