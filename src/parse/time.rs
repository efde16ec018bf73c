//! Timestamps: fixed-position parsers for the shapes logs use, conversion to UTC, and the
//! per-parser cache that makes the common case (same second as the previous line) free.
//!
//! No strptime, no format strings: each shape is matched byte by byte at fixed offsets, and the
//! calendar arithmetic is Howard Hinnant's days-from-civil algorithm.

use chrono::{NaiveDate, Offset, TimeZone};

const NANOS: i64 = 1_000_000_000;

/// A point in time: UTC nanoseconds since the epoch plus the offset the log wrote it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub nanos: i64,
    /// The original UTC offset in seconds (east positive).
    pub offset: i32,
    /// True when the log carried no zone and `--tz` (or UTC) was assumed.
    pub assumed: bool,
}

impl Timestamp {
    /// Seconds since the epoch (floor).
    pub fn secs(&self) -> i64 {
        self.nanos.div_euclid(NANOS)
    }

    /// Writes RFC 3339 in UTC with `Z`, with 0, 3, 6 or 9 fraction digits as needed.
    pub fn write_utc(&self, out: &mut Vec<u8>) {
        write_rfc3339(self.nanos, 0, out);
    }

    /// Writes RFC 3339 in the original offset (`+02:00`).
    pub fn write_local(&self, out: &mut Vec<u8>) {
        write_rfc3339(self.nanos, self.offset, out);
    }

    /// RFC 3339 UTC as a String (for reports and JSON values).
    pub fn to_utc_string(&self) -> String {
        let mut v = Vec::with_capacity(32);
        self.write_utc(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }

    /// The original offset as `+hh:mm`.
    pub fn offset_string(&self) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let a = self.offset.unsigned_abs();
        format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
    }
}

/// A civil (calendar) date and time as written in a log, before any zone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub nanos: u32,
}

impl Civil {
    /// A civil time from a date and an `hms` result (hour, minute, second, nanoseconds).
    fn at(year: i32, month: u32, day: u32, (hour, min, sec, nanos): (u32, u32, u32, u32)) -> Civil {
        Civil {
            year,
            month,
            day,
            hour,
            min,
            sec,
            nanos,
        }
    }

    /// Seconds since the epoch if this civil time were UTC; None when a field is out of range.
    pub fn naive_secs(&self) -> Option<i64> {
        let valid = (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.min < 60
            && self.sec <= 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        Some(days * 86_400 + (self.hour * 3600 + self.min * 60 + self.sec) as i64)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

fn write_rfc3339(nanos: i64, offset: i32, out: &mut Vec<u8>) {
    let local = nanos.div_euclid(NANOS) + offset as i64;
    let frac = nanos.rem_euclid(NANOS) as u32;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400) as u32;
    push_num(out, y.max(0) as u32, 4);
    out.push(b'-');
    push_num(out, m, 2);
    out.push(b'-');
    push_num(out, d, 2);
    out.push(b'T');
    push_num(out, sod / 3600, 2);
    out.push(b':');
    push_num(out, (sod / 60) % 60, 2);
    out.push(b':');
    push_num(out, sod % 60, 2);
    if frac != 0 {
        out.push(b'.');
        if frac.is_multiple_of(1_000_000) {
            push_num(out, frac / 1_000_000, 3);
        } else if frac.is_multiple_of(1000) {
            push_num(out, frac / 1000, 6);
        } else {
            push_num(out, frac, 9);
        }
    }
    if offset == 0 {
        out.push(b'Z');
    } else {
        out.push(if offset < 0 { b'-' } else { b'+' });
        let a = offset.unsigned_abs();
        push_num(out, a / 3600, 2);
        out.push(b':');
        push_num(out, (a / 60) % 60, 2);
    }
}

fn push_num(out: &mut Vec<u8>, mut v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    while v > 0 && i > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = i.min(buf.len() - width);
    out.extend_from_slice(&buf[start..]);
}

/// The zone assumed for timestamps that carry none (`--tz`, default UTC).
#[derive(Clone, Debug)]
pub enum Zone {
    Utc,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses an IANA name (`Europe/Berlin`) or `UTC`.
    pub fn parse(name: &str) -> Option<Zone> {
        if name.eq_ignore_ascii_case("utc") || name == "Z" {
            return Some(Zone::Utc);
        }
        name.parse::<chrono_tz::Tz>().ok().map(Zone::Named)
    }

    /// The zone's name as given.
    pub fn name(&self) -> String {
        match self {
            Zone::Utc => "UTC".to_string(),
            Zone::Named(tz) => tz.name().to_string(),
        }
    }
}

/// Resolves local civil times in a [`Zone`] to offsets, caching per 15-minute bucket (every
/// zone transition since 1970 falls on a quarter hour, so the offset is constant inside one).
#[derive(Clone, Debug)]
pub struct LocalZone {
    zone: Zone,
    bucket: i64,
    offset: i32,
}

impl LocalZone {
    pub fn new(zone: Zone) -> Self {
        LocalZone {
            zone,
            bucket: i64::MIN,
            offset: 0,
        }
    }

    /// UTC offset (seconds) of a naive local time. Ambiguous times (the repeated hour when
    /// clocks go back) take the earlier instant; times in a spring-forward gap take the
    /// offset in force before the gap.
    pub fn offset_of_local(&mut self, naive_secs: i64) -> i32 {
        let tz = match &self.zone {
            Zone::Utc => return 0,
            Zone::Named(tz) => *tz,
        };
        let bucket = naive_secs.div_euclid(900);
        if bucket == self.bucket {
            return self.offset;
        }
        let Some(naive) = chrono::DateTime::from_timestamp(naive_secs, 0).map(|d| d.naive_utc())
        else {
            return 0;
        };
        let off = match tz.offset_from_local_datetime(&naive) {
            chrono::LocalResult::Single(o) => o.fix().local_minus_utc(),
            chrono::LocalResult::Ambiguous(a, b) => {
                a.fix().local_minus_utc().max(b.fix().local_minus_utc())
            }
            chrono::LocalResult::None => {
                let before = naive - chrono::Duration::hours(1);
                tz.offset_from_local_datetime(&before)
                    .earliest()
                    .map(|o| o.fix().local_minus_utc())
                    .unwrap_or(0)
            }
        };
        self.bucket = bucket;
        self.offset = off;
        off
    }

    /// Converts a civil time with an optional explicit offset into a [`Timestamp`].
    pub fn resolve(&mut self, c: &Civil, offset: Option<i32>) -> Option<Timestamp> {
        let naive = c.naive_secs()?;
        let (off, assumed) = match offset {
            Some(o) => (o, false),
            None => (self.offset_of_local(naive), true),
        };
        let secs = naive - off as i64;
        Some(Timestamp {
            nanos: secs.checked_mul(NANOS)?.checked_add(c.nanos as i64)?,
            offset: off,
            assumed,
        })
    }
}

/// The reference date for year-less timestamps (RFC 3164 syslog): `--year`, else the file's
/// modification time. A line whose month/day falls after the reference belongs to the year
/// before (a log written in January still holds December's lines).
#[derive(Clone, Copy, Debug)]
pub struct YearRef {
    /// The year to try first.
    pub year: i32,
    /// Naive seconds of the reference instant; lines later than this (plus a day of slack for
    /// clock skew and zones) roll back one year. None when `--year` fixed the year outright.
    pub limit: Option<i64>,
}

impl YearRef {
    /// A fixed year from `--year`.
    pub fn fixed(year: i32) -> Self {
        YearRef { year, limit: None }
    }

    /// From a modification time (seconds since the epoch).
    pub fn from_mtime(mtime_secs: i64) -> Self {
        let (y, _, _) = civil_from_days(mtime_secs.div_euclid(86_400));
        YearRef {
            year: y,
            limit: Some(mtime_secs + 86_400),
        }
    }

    /// Picks the year for a month/day/time.
    pub fn year_for(&self, c: &Civil) -> i32 {
        let Some(limit) = self.limit else {
            return self.year;
        };
        let probe = Civil {
            year: self.year,
            ..*c
        };
        match probe.naive_secs() {
            Some(s) if s > limit => self.year - 1,
            // Feb 29 in a non-leap reference year: the previous leap year is the best guess.
            None if c.month == 2 && c.day == 29 => {
                let mut y = self.year - 1;
                while !is_leap(y) {
                    y -= 1;
                }
                y
            }
            _ => self.year,
        }
    }
}

/// Remembers the last timestamp's bytes and value: consecutive lines usually share a second.
#[derive(Clone, Debug)]
pub struct TsCache {
    key: [u8; 48],
    len: usize,
    val: Option<(Timestamp, usize)>,
}

impl Default for TsCache {
    fn default() -> Self {
        TsCache {
            key: [0; 48],
            len: 0,
            val: None,
        }
    }
}

impl TsCache {
    /// Returns the cached value when `bytes` equals the previous key.
    #[inline]
    pub fn get(&self, bytes: &[u8]) -> Option<(Timestamp, usize)> {
        if self.len == bytes.len() && self.len > 0 && &self.key[..self.len] == bytes {
            self.val
        } else {
            None
        }
    }

    /// Stores a value for `bytes` (keys longer than the buffer are not cached).
    #[inline]
    pub fn put(&mut self, bytes: &[u8], val: (Timestamp, usize)) {
        if bytes.len() <= self.key.len() {
            self.key[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
            self.val = Some(val);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shape parsers. Each returns the civil time, an explicit offset when the text has one, and the
// number of bytes consumed.

/// What a shape parser found.
pub type Parsed = (Civil, Option<i32>, usize);

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
    let (hour, min, sec, nanos, mut end) = hms(b, 11)?;
    let mut offset = None;
    if let Some((o, e)) = zone(b, end) {
        offset = Some(o);
        end = e;
    }
    let c = Civil::at(year, month, day, (hour, min, sec, nanos));
    Some((c, offset, end))
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
    let (hour, min, sec, nanos, mut end) = hms(b, 12)?;
    let mut offset = None;
    if b.get(end) == Some(&b' ')
        && let Some((o, e)) = zone(b, end + 1)
    {
        offset = Some(o);
        end = e;
    }
    Some((
        Civil::at(year, month, day, (hour, min, sec, nanos)),
        offset,
        end,
    ))
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
    let (hour, min, sec, nanos, mut end) = hms(b, 12)?;
    let mut offset = None;
    if let Some((o, e)) = zone(b, end) {
        offset = Some(o);
        end = e;
    }
    Some((
        Civil::at(year, month, day, (hour, min, sec, nanos)),
        offset,
        end,
    ))
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

/// Calendar check helper used by tests and parsers.
pub fn is_valid_date(y: i32, m: u32, d: u32) -> bool {
    NaiveDate::from_ymd_opt(y, m, d).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(ts: Timestamp) -> String {
        ts.to_utc_string()
    }

    fn resolve(p: Parsed) -> Timestamp {
        LocalZone::new(Zone::Utc).resolve(&p.0, p.1).unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 10_957, 19_000, 20_819, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn iso_shapes() {
        let p = parse_iso(b"2026-10-13T09:14:02.120Z rest").unwrap();
        assert_eq!(p.2, 24);
        assert_eq!(utc(resolve(p)), "2026-10-13T09:14:02.120Z");
        let p = parse_iso(b"2026-10-13 11:14:02,5+0200").unwrap();
        assert_eq!(utc(resolve(p)), "2026-10-13T09:14:02.500Z");
        let p = parse_iso(b"2026/10/13 09:14:02 x").unwrap();
        assert_eq!(p.1, None);
        let p = parse_iso(b"2026-10-13 09:14:02.311 UTC [41233]").unwrap();
        assert_eq!(p.1, Some(0));
        assert_eq!(&b"2026-10-13 09:14:02.311 UTC [41233]"[p.2..], b" [41233]");
        let p = parse_iso(b"2026-10-13T10:02:11.483920+00:00 bastion").unwrap();
        assert_eq!(utc(resolve(p)), "2026-10-13T10:02:11.483920Z");
        assert!(parse_iso(b"2026-13-13T10:02:11Z").is_some_and(|p| p.0.naive_secs().is_none()));
        assert!(parse_iso(b"not a time").is_none());
    }

    #[test]
    fn clf_and_offsets() {
        let p = parse_clf(b"1/Apr/2014:00:00:01 -0500] x").unwrap();
        assert_eq!(
            (utc(resolve(p)).as_str(), p.2),
            ("2014-04-01T05:00:01Z", 25)
        );
        let p = parse_clf(b"10/Oct/2000:13:55:36 -0700]").unwrap();
        assert_eq!(utc(resolve(p)), "2000-10-10T20:55:36Z");
        let ts = resolve(p);
        assert_eq!(ts.offset, -7 * 3600);
        assert_eq!(ts.offset_string(), "-07:00");
        let mut v = Vec::new();
        ts.write_local(&mut v);
        assert_eq!(v, b"2000-10-10T13:55:36-07:00");
    }

    #[test]
    fn bsd_and_year_inference() {
        let (c, off, end) = parse_bsd(b"Aug  4 07:11:02 host sshd[1]:").unwrap();
        assert_eq!((c.month, c.day, c.hour, off, end), (8, 4, 7, None, 15));
        let (c, _, _) = parse_bsd(b"Dec 31 23:59:59 host").unwrap();
        // mtime 2005-08-14: December must be 2004.
        let r = YearRef::from_mtime(days_from_civil(2005, 8, 14) * 86_400);
        assert_eq!(r.year_for(&c), 2004);
        let (c, _, _) = parse_bsd(b"Aug 14 12:51:04 host").unwrap();
        assert_eq!(r.year_for(&c), 2005);
        assert_eq!(YearRef::fixed(2019).year_for(&c), 2019);
        let (c, _, end) = parse_bsd(b"Jun 09 07:57:47 2013 x").unwrap();
        assert_eq!((c.year, end), (2013, 20));
        let (c, _, _) = parse_bsd(b"Jun 09 07:57:47 1234.5.6.7").unwrap();
        assert_eq!(c.year, 0);
    }

    #[test]
    fn ctime_dmy_epoch_tai() {
        let p = parse_ctime(b"Sun Jun 09 07:57:47 2013] [error]").unwrap();
        assert_eq!(utc(resolve(p)), "2013-06-09T07:57:47Z");
        let p = parse_ctime(b"Wed Oct 11 14:32:52.123456 2000]").unwrap();
        assert_eq!(utc(resolve(p)), "2000-10-11T14:32:52.123456Z");
        let p = parse_dmy(b"14-Aug-2005 12:51:04.123 client").unwrap();
        assert_eq!(utc(resolve(p)), "2005-08-14T12:51:04.123Z");
        let (ts, end) = parse_epoch_secs(b"1124013064.123 x").unwrap();
        assert_eq!((utc(ts).as_str(), end), ("2005-08-14T09:51:04.123Z", 14));
        // The example label from the TAI64N documentation.
        let (ts, _) = parse_tai64n(b"@4000000037c219bf2ef02e94 msg").unwrap();
        assert_eq!(utc(ts), "1999-08-24T04:04:05.787492500Z");
        assert_eq!(
            utc(from_epoch_number(b"1760347000123").unwrap()),
            "2025-10-13T09:16:40.123Z"
        );
        assert_eq!(
            utc(from_epoch_number(b"1760347000.5").unwrap()),
            "2025-10-13T09:16:40.500Z"
        );
    }

    #[test]
    fn named_zone_dst() {
        let mut z = LocalZone::new(Zone::parse("Europe/Berlin").unwrap());
        let (c, _, _) = parse_iso(b"2005-08-14 12:51:04").unwrap();
        let ts = z.resolve(&c, None).unwrap();
        assert_eq!(
            (utc(ts).as_str(), ts.offset, ts.assumed),
            ("2005-08-14T10:51:04Z", 7200, true)
        );
        let (c, _, _) = parse_iso(b"2005-01-14 12:51:04").unwrap();
        assert_eq!(utc(z.resolve(&c, None).unwrap()), "2005-01-14T11:51:04Z");
        assert!(Zone::parse("Mars/Olympus").is_none());
    }

    #[test]
    fn yymmdd() {
        let p = parse_yymmdd(b"081208 10:04:52\t   1 Connect").unwrap();
        assert_eq!(utc(resolve(p)), "2008-12-08T10:04:52Z");
        let p = parse_yymmdd(b"081208  9:04:52\t").unwrap();
        assert_eq!(utc(resolve(p)), "2008-12-08T09:04:52Z");
    }
}
