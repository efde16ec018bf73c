//! Timestamps: fixed-position parsers for the shapes logs use, conversion to UTC, and the
//! per-parser cache that makes the common case (same second as the previous line) free.
//!
//! No strptime, no format strings: each shape is matched byte by byte at fixed offsets, and the
//! calendar arithmetic is Howard Hinnant's days-from-civil algorithm.

use chrono::{Offset, TimeZone};

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

    /// The zone's clock changes between two instants (UTC nanoseconds), at most `max`:
    /// (UTC seconds of the change, offset before, offset after). Found day by day, then to the
    /// quarter hour (every change since 1970 falls on one); a range of more than ten years is
    /// not searched.
    pub fn changes(&self, from: i64, to: i64, max: usize) -> Vec<(i64, i32, i32)> {
        let Zone::Named(tz) = self else {
            return Vec::new();
        };
        let (from, to) = (from.div_euclid(NANOS), to.div_euclid(NANOS));
        if to <= from || to - from > 10 * 366 * 86_400 {
            return Vec::new();
        }
        let offset = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0).map_or(0, |d| {
                tz.offset_from_utc_datetime(&d.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
        };
        let mut out = Vec::new();
        let mut t = from;
        let mut off = offset(t);
        while t < to && out.len() < max {
            let next = (t + 86_400).min(to);
            let o = offset(next);
            if o != off {
                // The change is within (t, next]: find its quarter hour.
                let (mut lo, mut hi) = (t.div_euclid(900), next.div_euclid(900) + 1);
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if offset(mid * 900) == off {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                out.push((hi * 900, off, o));
                off = o;
            }
            t = next;
        }
        out
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

mod shapes;
pub use shapes::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(ts: Timestamp) -> String {
        ts.to_utc_string()
    }

    /// New York's two changes of 2026, to the quarter hour; none in UTC, none in a range
    /// without one.
    #[test]
    fn clock_changes_in_a_range() {
        let ny = Zone::parse("America/New_York").unwrap();
        let s = |y: i64| y * NANOS;
        // 2026-01-01 to 2026-12-31.
        let (from, to) = (s(1_767_225_600), s(1_798_675_200));
        assert_eq!(
            ny.changes(from, to, 4),
            vec![
                (1_772_953_200, -5 * 3600, -4 * 3600),
                (1_793_512_800, -4 * 3600, -5 * 3600)
            ]
        );
        assert_eq!(ny.changes(from, to, 1).len(), 1);
        assert!(Zone::Utc.changes(from, to, 4).is_empty());
        assert!(ny.changes(s(1_780_000_000), s(1_790_000_000), 4).is_empty());
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

    #[test]
    fn iso_with_space_padded_hour() {
        // MariaDB's error log: two spaces, then a one-digit hour.
        let p = parse_iso(b"2015-10-07  8:25:38 139845235329792 [Warning] Access").unwrap();
        assert_eq!(p.2, 19);
        assert_eq!(utc(resolve(p)), "2015-10-07T08:25:38Z");
        let p = parse_iso(b"2015-10-07 18:25:38 1 [Note]").unwrap();
        assert_eq!(utc(resolve(p)), "2015-10-07T18:25:38Z");
        // Two spaces and a two-digit hour is not a time this shape writes.
        assert!(parse_iso(b"2015-10-07  18:25:38").is_none());
    }
}
