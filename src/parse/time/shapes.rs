//! Shape parsers: each reads one way logs write a time, at fixed positions, and returns the
//! civil time, an explicit offset when the text has one, and the bytes used.

use super::{Civil, NANOS, Timestamp};

/// What a shape parser found.
pub type Parsed = (Civil, Option<i32>, usize);

/// The `HH:MM:SS[.frac]` at `at` of a date already read, then an optional zone (after one
/// space when `spaced`, as CLF writes it).
fn time_then_zone(
    b: &[u8],
    at: usize,
    year: i32,
    month: u32,
    day: u32,
    spaced: bool,
) -> Option<Parsed> {
    let (hour, min, sec, nanos, mut end) = hms(b, at)?;
    let mut offset = None;
    let zat = if spaced && b.get(end) == Some(&b' ') {
        Some(end + 1)
    } else {
        (!spaced).then_some(end)
    };
    if let Some((o, e)) = zat.and_then(|z| zone(b, z)) {
        offset = Some(o);
        end = e;
    }
    Some((
        Civil::at(year, month, day, (hour, min, sec, nanos)),
        offset,
        end,
    ))
}

#[inline]
pub(crate) fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// `Jan`..`Dec`, any case.
#[inline]
pub fn month3(b: &[u8]) -> Option<u32> {
    let s = b.get(..3)?;
    let k = [
        s[0].to_ascii_lowercase(),
        s[1].to_ascii_lowercase(),
        s[2].to_ascii_lowercase(),
    ];
    Some(match &k {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

fn weekday3(b: &[u8]) -> bool {
    matches!(
        b.get(..3).map(|s| s.to_ascii_lowercase()).as_deref(),
        Some(b"mon" | b"tue" | b"wed" | b"thu" | b"fri" | b"sat" | b"sun")
    )
}

/// `HH:MM:SS` at `at`, then an optional `.fff`/`,fff` fraction. Returns (h, m, s, nanos, end).
fn hms(b: &[u8], at: usize) -> Option<(u32, u32, u32, u32, usize)> {
    let h = digits(b, at, 2)?;
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let m = digits(b, at + 3, 2)?;
    let s = digits(b, at + 6, 2)?;
    let (nanos, end) = fraction(b, at + 8);
    Some((h, m, s, nanos, end))
}

/// A single-digit hour is allowed here (`9:05:01`, MySQL's old general log).
fn hms_loose(b: &[u8], at: usize) -> Option<(u32, u32, u32, u32, usize)> {
    if b.get(at + 1) != Some(&b':') {
        return hms(b, at);
    }
    let h = digits(b, at, 1)?;
    let m = digits(b, at + 2, 2)?;
    if b.get(at + 4) != Some(&b':') {
        return None;
    }
    let s = digits(b, at + 5, 2)?;
    let (n, e) = fraction(b, at + 7);
    Some((h, m, s, n, e))
}

fn fraction(b: &[u8], at: usize) -> (u32, usize) {
    if !matches!(b.get(at), Some(b'.') | Some(b',')) {
        return (0, at);
    }
    let mut i = at + 1;
    let mut v = 0u64;
    let mut n = 0;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if n < 9 {
            v = v * 10 + (c - b'0') as u64;
            n += 1;
        }
        i += 1;
    }
    if i == at + 1 {
        return (0, at);
    }
    for _ in n..9 {
        v *= 10;
    }
    (v as u32, i)
}

/// A zone designator at `at`: `Z`, `±hh:mm`, `±hhmm`, `±hh`, optionally after one space, or a
/// few common abbreviations (UTC, GMT). Returns (offset seconds, end).
pub fn zone(b: &[u8], at: usize) -> Option<(i32, usize)> {
    match b.get(at) {
        Some(b'Z') | Some(b'z') => Some((0, at + 1)),
        Some(b'+') | Some(b'-') => {
            let sign = if b[at] == b'-' { -1 } else { 1 };
            let h = digits(b, at + 1, 2)? as i32;
            let (m, end) = if b.get(at + 3) == Some(&b':') {
                (digits(b, at + 4, 2)? as i32, at + 6)
            } else if let Some(m) = digits(b, at + 3, 2) {
                (m as i32, at + 5)
            } else {
                (0, at + 3)
            };
            if h > 18 || m > 59 {
                return None;
            }
            Some((sign * (h * 3600 + m * 60), end))
        }
        Some(b' ') => match b.get(at + 1) {
            Some(b'+' | b'-') => zone(b, at + 1).filter(|(_, e)| *e >= at + 4),
            _ => zone_abbrev(b, at + 1),
        },
        _ => None,
    }
}

/// Zone abbreviations that are unambiguous enough to trust; anything else (CST is China,
/// Cuba or the US Central zone; IST is India, Israel or Ireland; BST is Britain or Bangladesh)
/// is left for `--tz`.
pub fn zone_abbrev(b: &[u8], at: usize) -> Option<(i32, usize)> {
    let rest = b.get(at..)?;
    let word_len = rest
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let word = &rest[..word_len];
    let off = match word {
        b"UTC" | b"GMT" | b"Z" | b"UT" => 0,
        b"CET" => 3600,
        b"CEST" => 7200,
        b"EET" => 7200,
        b"EEST" => 10_800,
        b"WET" => 0,
        b"WEST" => 3600,
        b"MSK" => 10_800,
        b"EST" => -5 * 3600,
        b"EDT" => -4 * 3600,
        b"MST" => -7 * 3600,
        b"MDT" => -6 * 3600,
        b"PST" => -8 * 3600,
        b"PDT" => -7 * 3600,
        b"JST" => 9 * 3600,
        _ => return None,
    };
    // `UTC+2`/`GMT-05:00` style suffixes.
    if let Some((o, end)) = zone(b, at + word_len)
        .filter(|_| matches!(b.get(at + word_len), Some(b'+' | b'-')) && off == 0)
    {
        return Some((o, end));
    }
    Some((off, at + word_len))
}

/// ISO 8601 / RFC 3339 and the near variants logs use: `yyyy-mm-dd` or `yyyy/mm/dd`, then `T`,
/// space or `_`, `HH:MM:SS`, an optional fraction, an optional zone.
pub fn parse_iso(b: &[u8]) -> Option<Parsed> {
    let year = digits(b, 0, 4)? as i32;
    let sep = *b.get(4)?;
    if !(sep == b'-' || sep == b'/' || sep == b'.') || b.get(7) != Some(&sep) {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b' ' | b'_' | b't')) {
        return None;
    }
    // MariaDB's and MySQL 5.5's error log pad a one-digit hour with a space:
    // `2015-10-07  8:25:38`.
    if b[10] == b' ' && b.get(11) == Some(&b' ') && b.get(13) == Some(&b':') {
        let (hour, min, sec, nanos, end) = hms_loose(b, 12)?;
        return Some((
            Civil::at(year, month, day, (hour, min, sec, nanos)),
            None,
            end,
        ));
    }
    time_then_zone(b, 11, year, month, day, false)
}

/// Common Log Format's `dd/Mon/yyyy:HH:MM:SS +zzzz` (without the brackets); a one-digit day
/// (`1/Apr/2014`, written by some servers and test suites) is read too.
pub fn parse_clf(b: &[u8]) -> Option<Parsed> {
    if b.get(1) == Some(&b'/') && b.first().is_some_and(u8::is_ascii_digit) {
        let mut buf = [0u8; 48];
        let n = b.len().min(47);
        buf[0] = b'0';
        buf[1..=n].copy_from_slice(&b[..n]);
        let (c, off, end) = parse_clf(&buf[..=n])?;
        return Some((c, off, end - 1));
    }
    let day = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'/') || b.get(6) != Some(&b'/') || b.get(11) != Some(&b':') {
        return None;
    }
    let month = month3(&b[3..])?;
    let year = digits(b, 7, 4)? as i32;
    time_then_zone(b, 12, year, month, day, true)
}

/// BSD syslog's `Mmm dd HH:MM:SS` (day space- or zero-padded), optional fraction, and an
/// optional year after the time or after the day (`Mmm dd yyyy HH:MM:SS`). The year is 0 when
/// absent: the caller applies a [`YearRef`].
pub fn parse_bsd(b: &[u8]) -> Option<Parsed> {
    let month = month3(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let (day, dl) = if let Some(d) = digits(b, i, 2) {
        (d, 2)
    } else {
        (digits(b, i, 1)?, 1)
    };
    i += dl;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let mut year = 0;
    if let Some(y) = digits(b, i, 4).filter(|_| b.get(i + 4) == Some(&b' ')) {
        year = y as i32;
        i += 5;
    }
    let (hour, min, sec, nanos, mut end) = hms(b, i)?;
    if year == 0
        && let Some(y) = digits(b, end + 1, 4).filter(|_| {
            b.get(end) == Some(&b' ') && !b.get(end + 5).is_some_and(|c| c.is_ascii_digit())
        })
    {
        // `Mmm dd HH:MM:SS yyyy` — only when a non-digit follows (not an IP or a pid).
        if b.get(end + 5).is_none_or(|c| *c == b' ' || *c == b']') {
            year = y as i32;
            end += 5;
        }
    }
    Some((
        Civil::at(year, month, day, (hour, min, sec, nanos)),
        None,
        end,
    ))
}

/// ctime's `Www Mmm dd HH:MM:SS[.frac] yyyy` (Apache's error log, many daemons).
pub fn parse_ctime(b: &[u8]) -> Option<Parsed> {
    if !weekday3(b) || b.get(3) != Some(&b' ') {
        return None;
    }
    let (mut c, _, end) = parse_bsd(&b[4..])?;
    let mut end = end + 4;
    if c.year == 0 {
        if b.get(end) != Some(&b' ') {
            return None;
        }
        c.year = digits(b, end + 1, 4)? as i32;
        end += 5;
    }
    Some((c, None, end))
}

/// `dd-Mon-yyyy HH:MM:SS[.frac]` (BIND, Tomcat, PHP error logs).
pub fn parse_dmy(b: &[u8]) -> Option<Parsed> {
    let day = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'-') || b.get(6) != Some(&b'-') {
        return None;
    }
    let month = month3(&b[3..])?;
    let year = digits(b, 7, 4)? as i32;
    if !matches!(b.get(11), Some(b' ' | b':')) {
        return None;
    }
    time_then_zone(b, 12, year, month, day, false)
}

/// MySQL's old general-log `yymmdd HH:MM:SS` (hour may be one digit after a space).
pub fn parse_yymmdd(b: &[u8]) -> Option<Parsed> {
    let yy = digits(b, 0, 2)?;
    let month = digits(b, 2, 2)?;
    let day = digits(b, 4, 2)?;
    if b.get(6) != Some(&b' ') {
        return None;
    }
    let mut at = 7;
    while b.get(at) == Some(&b' ') && at < 10 {
        at += 1;
    }
    let (hour, min, sec, nanos, end) = hms_loose(b, at)?;
    let year = if yy >= 70 { 1900 + yy } else { 2000 + yy } as i32;
    Some((
        Civil::at(year, month, day, (hour, min, sec, nanos)),
        None,
        end,
    ))
}

/// Epoch seconds (10 digits, plausible years 2001–2200) with an optional fraction.
pub fn parse_epoch_secs(b: &[u8]) -> Option<(Timestamp, usize)> {
    let secs = digits(b, 0, 10)? as i64;
    if secs > 7_258_118_400 {
        return None;
    }
    if b.get(10).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let (nanos, end) = match b.get(10) {
        Some(b'.') => fraction(b, 10),
        _ => (0, 10),
    };
    Some((
        Timestamp {
            nanos: secs.checked_mul(NANOS)?.checked_add(nanos as i64)?,
            offset: 0,
            assumed: false,
        },
        end,
    ))
}

/// A TAI64N label `@4000000037c219bf2ef02e94` (daemontools, s6): 16 hex digits of TAI seconds
/// offset by 2^62, then 8 of nanoseconds.
pub fn parse_tai64n(b: &[u8]) -> Option<(Timestamp, usize)> {
    if b.first() != Some(&b'@') || b.len() < 25 {
        return None;
    }
    let hex = |s: &[u8]| -> Option<u64> {
        let mut v = 0u64;
        for &c in s {
            v = v * 16 + (c as char).to_digit(16)? as u64;
        }
        Some(v)
    };
    let label = hex(&b[1..17])?;
    let nanos = hex(&b[17..25])?;
    if label < (1 << 62) || nanos >= NANOS as u64 {
        return None;
    }
    // daemontools and s6 write 2^62 + 10 + the Unix time (the system clock taken as TAI-10,
    // no leap-second table), so that is what is undone here.
    let utc = i64::try_from(label - (1 << 62)).ok()? - 10;
    Some((
        Timestamp {
            nanos: utc.checked_mul(NANOS)?.checked_add(nanos as i64)?,
            offset: 0,
            assumed: false,
        },
        25,
    ))
}

/// A JSON/epoch number: seconds, milliseconds, microseconds or nanoseconds, chosen by magnitude.
pub fn from_epoch_number(b: &[u8]) -> Option<Timestamp> {
    let (int_part, frac) = match memchr::memchr(b'.', b) {
        Some(i) => (&b[..i], &b[i..]),
        None => (b, &b""[..]),
    };
    if int_part.is_empty() || int_part.len() > 19 || !int_part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: i64 = std::str::from_utf8(int_part).ok()?.parse().ok()?;
    let nanos = match int_part.len() {
        9..=10 => {
            let (f, _) = fraction(frac, 0);
            v.checked_mul(NANOS)?.checked_add(f as i64)?
        }
        12..=13 => v.checked_mul(1_000_000)?,
        15..=16 => v.checked_mul(1000)?,
        18..=19 => v,
        _ => return None,
    };
    // Only instants a log can plausibly hold (1990 to 2200).
    if !(631_152_000_000_000_000..=7_258_118_400_000_000_000).contains(&nanos) {
        return None;
    }
    Some(Timestamp {
        nanos,
        offset: 0,
        assumed: false,
    })
}
