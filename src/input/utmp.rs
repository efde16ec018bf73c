//! Login records: `wtmp` (logins, logouts, boots), `btmp` (failed logins) and `utmp`, the
//! binary files `last` and `lastb` read. Each 384-byte record (glibc's `struct utmp` on 64-bit
//! Linux) becomes one syslog line of the program `utmp`:
//! `2026-10-13T09:50:10.123456Z - utmp[4200]: USER_PROCESS user=deploy tty=pts/0 host=203.0.113.66`.
//!
//! They often outlive a cleared auth.log: attackers wipe text logs and forget these. Line N is
//! record N (records without a time are blank lines, so the numbering holds); a cut last record
//! is reported as damage.

use std::io::{self, Read};

const RECORD: usize = 384;
const TYPES: [&str; 10] = [
    "EMPTY",
    "RUN_LVL",
    "BOOT_TIME",
    "NEW_TIME",
    "OLD_TIME",
    "INIT_PROCESS",
    "LOGIN_PROCESS",
    "USER_PROCESS",
    "DEAD_PROCESS",
    "ACCOUNTING",
];
/// 1980 and 2100: a record's time outside these is not a login record's.
const PLAUSIBLE: std::ops::Range<i64> = 315_532_800..4_102_444_800;

fn i32_at(r: &[u8], at: usize) -> i32 {
    i32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]])
}

/// A NUL-padded text field: the bytes before the first NUL.
fn text(r: &[u8], at: usize, len: usize) -> &[u8] {
    let f = &r[at..at + len];
    &f[..memchr::memchr(0, f).unwrap_or(len)]
}

/// True when the text fields of a record hold no control bytes.
fn clean(r: &[u8]) -> bool {
    [(8, 32), (40, 4), (44, 32), (76, 256)]
        .iter()
        .all(|&(at, len)| text(r, at, len).iter().all(|&c| c >= 0x20 && c != 0x7f))
}

/// True when the whole records in `head` all look like login records (and one has a type).
pub fn is_utmp(head: &[u8]) -> bool {
    let records: Vec<&[u8]> = head.chunks_exact(RECORD).take(10).collect();
    !records.is_empty()
        && records.iter().any(|r| (1..=9).contains(&i32_at(r, 0)))
        && records.iter().all(|r| {
            let kind = i32_at(r, 0);
            let sec = i64::from(i32_at(r, 340) as u32);
            (0..=9).contains(&kind)
                && i32_at(r, 4) >= 0
                && (kind == 0 || PLAUSIBLE.contains(&sec))
                && (0..1_000_000).contains(&i32_at(r, 344))
                && clean(r)
        })
}

/// Decodes login records to syslog lines.
pub struct Reader<'a> {
    data: &'a [u8],
    next: usize,
    line: Vec<u8>,
    sent: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader {
            data,
            next: 0,
            line: Vec::new(),
            sent: 0,
        }
    }

    /// Writes the next record's line; false at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        let rest = &self.data[self.next..];
        if rest.is_empty() {
            return Ok(false);
        }
        if rest.len() < RECORD {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the last login record is cut short ({} of {RECORD} bytes)",
                    rest.len()
                ),
            ));
        }
        let r = &rest[..RECORD];
        self.next += RECORD;
        self.line.clear();
        self.sent = 0;
        write(r, &mut self.line);
        Ok(true)
    }
}

fn write(r: &[u8], out: &mut Vec<u8>) {
    let kind = i32_at(r, 0);
    let sec = i64::from(i32_at(r, 340) as u32);
    if kind <= 0 || kind > 9 || !PLAUSIBLE.contains(&sec) {
        out.push(b'\n');
        return;
    }
    let usec = i64::from(i32_at(r, 344).clamp(0, 999_999));
    let ts = crate::parse::Timestamp {
        nanos: sec * 1_000_000_000 + usec * 1000,
        offset: 0,
        assumed: false,
    };
    ts.write_utc(out);
    out.extend_from_slice(
        format!(" - utmp[{}]: {}", i32_at(r, 4), TYPES[kind as usize]).as_bytes(),
    );
    for (name, at, len) in [("user", 44, 32), ("tty", 8, 32), ("host", 76, 256)] {
        let v = text(r, at, len);
        if !v.is_empty() {
            out.extend_from_slice(format!(" {name}=").as_bytes());
            escaped(v, out);
        }
    }
    if let Some(a) = address(&r[348..364]) {
        out.extend_from_slice(format!(" addr={a}").as_bytes());
    }
    out.push(b'\n');
}

/// A value with the bytes that would end it (space, `=`, `%`, controls) percent-encoded: user
/// names in btmp are whatever an attacker typed.
fn escaped(v: &[u8], out: &mut Vec<u8>) {
    for &c in v {
        if c <= b' ' || c == b'=' || c == b'%' || c == 0x7f {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        } else {
            out.push(c);
        }
    }
}

/// `ut_addr_v6`: an IPv4 address in the first word (network order), else IPv6; none if zero.
fn address(a: &[u8]) -> Option<std::net::IpAddr> {
    if a.iter().all(|&b| b == 0) {
        return None;
    }
    if a[4..].iter().all(|&b| b == 0) {
        return Some(std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3]).into());
    }
    let b: [u8; 16] = a.try_into().ok()?;
    Some(std::net::Ipv6Addr::from(b).into())
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.sent == self.line.len() && !self.next_line()? {
            return Ok(0);
        }
        let n = buf.len().min(self.line.len() - self.sent);
        buf[..n].copy_from_slice(&self.line[self.sent..self.sent + n]);
        self.sent += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        kind: i32,
        pid: i32,
        user: &str,
        line: &str,
        host: &str,
        sec: u32,
        addr: [u8; 4],
    ) -> Vec<u8> {
        let mut r = vec![0u8; RECORD];
        r[0..4].copy_from_slice(&kind.to_le_bytes());
        r[4..8].copy_from_slice(&pid.to_le_bytes());
        r[8..8 + line.len()].copy_from_slice(line.as_bytes());
        r[44..44 + user.len()].copy_from_slice(user.as_bytes());
        r[76..76 + host.len()].copy_from_slice(host.as_bytes());
        r[340..344].copy_from_slice(&sec.to_le_bytes());
        r[348..352].copy_from_slice(&addr);
        r
    }

    #[test]
    fn records_become_lines_and_keep_their_numbers() {
        let mut data = record(
            6,
            4100,
            "ad min=x",
            "ssh:notty",
            "203.0.113.66",
            1_791_885_000,
            [203, 0, 113, 66],
        );
        data.extend(vec![0u8; RECORD]);
        data.extend(record(
            7,
            4200,
            "deploy",
            "pts/0",
            "gw.example",
            1_791_885_010,
            [0; 4],
        ));
        assert!(is_utmp(&data));
        let mut out = String::new();
        Reader::new(&data).read_to_string(&mut out).unwrap();
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(
            lines[0],
            "2026-10-13T09:50:00Z - utmp[4100]: LOGIN_PROCESS user=ad%20min%3Dx tty=ssh:notty host=203.0.113.66 addr=203.0.113.66"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "2026-10-13T09:50:10Z - utmp[4200]: USER_PROCESS user=deploy tty=pts/0 host=gw.example"
        );
        // A cut record is damage, after the whole ones.
        let mut d = Reader::new(&data[..RECORD + 100]);
        let mut out = Vec::new();
        let err = d.read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("cut short (100 of 384"), "{err}");
        assert_eq!(out.iter().filter(|c| **c == b'\n').count(), 1);
    }

    #[test]
    fn text_and_other_binaries_are_not_login_records() {
        assert!(!is_utmp(b"Oct 13 09:50:00 host sshd[1]: hello\n"));
        assert!(!is_utmp(&vec![0u8; RECORD * 2]));
        let mut r = record(7, 1, "deploy", "pts/0", "x", 1_791_885_010, [0; 4]);
        r[44] = 0x1b;
        assert!(!is_utmp(&r));
        let late = record(7, 1, "deploy", "pts/0", "x", 4_200_000_000, [0; 4]);
        assert!(!is_utmp(&late));
    }
}
