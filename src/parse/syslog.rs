//! syslog: RFC 3164 (`Mmm dd HH:MM:SS host tag[pid]: msg`, year from `--year` or the file's
//! modification time), RFC 5424 (`<pri>1 ts host app procid msgid sd msg`) and the
//! ISO-timestamped lines rsyslog writes by default today. Messages of sshd, sudo, su, pam and
//! the account tools are parsed further by [`super::auth`].

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, Timestamp, TsCache, YearRef};
use super::util::{self, uint};
use super::{Outcome, ParseCtx, RecordParser, Reject, auth};
use memchr::memchr;

/// The syslog parser.
pub struct Syslog {
    cache: TsCache,
    zone: LocalZone,
    year: YearRef,
    /// For web servers' access records sent through syslog (nginx `access_log syslog:`,
    /// Apache piped to `logger`).
    access: super::access::Access,
}

impl Syslog {
    pub fn new(ctx: &ParseCtx) -> Self {
        Syslog {
            cache: TsCache::default(),
            zone: ctx.local(),
            year: ctx.year,
            access: super::access::Access::new(ctx),
        }
    }

    /// A message that is a whole access record is read as one: its fields join the syslog
    /// ones, the record counts as an access record (the web rules read it), and its own time,
    /// which has a year and a zone, is the event's.
    fn inner_access<'a>(
        &mut self,
        msg: &'a [u8],
        f: &mut Fields<'a>,
        ts: Option<Timestamp>,
    ) -> Option<Timestamp> {
        // An access record has a [time] and a quoted request; most messages have neither.
        if memchr(b'[', msg).is_none() || memchr(b'"', msg).is_none() {
            return ts;
        }
        let n = f.len();
        match self.access.parse(msg, f) {
            Ok(Outcome::Event(t)) => {
                f.set_inner_format(super::Format::Access);
                t.or(ts)
            }
            _ => {
                f.truncate(n);
                ts
            }
        }
    }

    /// The timestamp at the start of `b` (ISO or BSD): (time, bytes used).
    pub fn time(&mut self, b: &[u8]) -> Option<(Timestamp, usize)> {
        let iso = b.first().is_some_and(u8::is_ascii_digit);
        let key = if iso {
            &b[..memchr(b' ', b).unwrap_or(b.len())]
        } else {
            &b[..b.len().min(15)]
        };
        if let Some(hit) = self.cache.get(key) {
            return Some(hit);
        }
        let hit = if iso {
            // rsyslog's RFC 3339 stamps always have the `T`; a space means another format.
            if b.get(10) != Some(&b'T') {
                return None;
            }
            let (c, off, end) = time::parse_iso(b)?;
            (self.zone.resolve(&c, off)?, end)
        } else {
            let (mut c, off, end) = time::parse_bsd(b)?;
            if c.year == 0 {
                c.year = self.year.year_for(&c);
            }
            (self.zone.resolve(&c, off)?, end)
        };
        if key.len() == hit.1 {
            self.cache.put(key, hit);
        }
        Some(hit)
    }
}

/// `<pri>`: returns (facility, severity, bytes used).
fn pri(b: &[u8]) -> Option<(u64, u64, usize)> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let e = memchr(b'>', &b[..b.len().min(6)])?;
    let p = uint(&b[1..e])?;
    Some((p / 8, p % 8, e + 1))
}

impl RecordParser for Syslog {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let mut i = 0;
        if let Some((fac, sev, used)) = pri(line) {
            f.put("facility", Val::Num(fac as i64));
            f.put("severity", Val::Num(sev as i64));
            i = used;
            if line[i..].starts_with(b"1 ") {
                return self.rfc5424(line, i + 2, f);
            }
        }
        let (ts, used) = self.time(&line[i..]).ok_or("no syslog timestamp")?;
        i += used;
        if line.get(i) != Some(&b' ') {
            return Err("no syslog timestamp");
        }
        i = util::skip_spaces(line, i);
        let msg = header(line, i, f)?;
        Ok(Outcome::Event(self.inner_access(msg, f, Some(ts))))
    }
}

impl Syslog {
    fn rfc5424<'a>(
        &mut self,
        line: &'a [u8],
        mut i: usize,
        f: &mut Fields<'a>,
    ) -> Result<Outcome, Reject> {
        let (ts, used) = if line.get(i) == Some(&b'-') {
            (None, 1)
        } else {
            let (c, off, end) = time::parse_iso(&line[i..]).ok_or("bad RFC 5424 timestamp")?;
            (
                Some(self.zone.resolve(&c, off).ok_or("bad RFC 5424 timestamp")?),
                end,
            )
        };
        i += used + 1;
        for name in ["host", "process", "pid", "msgid"] {
            let e = util::token_end(line, i.min(line.len()));
            let tok = &line[i.min(e)..e];
            if name == "pid" {
                if let Some(p) = uint(tok) {
                    f.put("pid", Val::Num(p as i64));
                }
            } else {
                f.put_str(name, tok, Esc::None);
            }
            i = e + 1;
        }
        i = structured_data(line, i.min(line.len()), f);
        let mut msg = line.get(i..).unwrap_or_default();
        msg = msg.strip_prefix("\u{feff}".as_bytes()).unwrap_or(msg);
        f.put_str("message", msg, Esc::None);
        enrich(f, msg);
        Ok(Outcome::Event(self.inner_access(msg, f, ts)))
    }
}

/// Skips RFC 5424 structured data (`-` or `[id k="v"]...`), keeping it as one field.
fn structured_data<'a>(line: &'a [u8], i: usize, f: &mut Fields<'a>) -> usize {
    if line.get(i) == Some(&b'-') {
        return (i + 2).min(line.len());
    }
    let mut j = i;
    while line.get(j) == Some(&b'[') {
        let mut k = j + 1;
        while k < line.len() && line[k] != b']' {
            k += if line[k] == b'\\' { 2 } else { 1 };
        }
        j = k + 1;
    }
    if j > i {
        f.put_str("structured-data", &line[i..j.min(line.len())], Esc::None);
    }
    (j + 1).min(line.len())
}

/// `host tag[pid]: message` after an RFC 3164 or ISO timestamp. A line without a host (the
/// token right after the time is already the tag) is accepted too. Returns the message.
fn header<'a>(line: &'a [u8], i: usize, f: &mut Fields<'a>) -> Result<&'a [u8], Reject> {
    if i >= line.len() {
        return Err("syslog line ends after the timestamp");
    }
    let e = util::token_end(line, i);
    let first = &line[i..e];
    let mut j = i;
    if !is_tag(first) {
        f.put_str("host", first, Esc::None);
        j = util::skip_spaces(line, e);
    }
    let msg_start = tag(line, j, f);
    let msg = &line[msg_start.min(line.len())..];
    f.put_str("message", msg, Esc::None);
    enrich(f, msg);
    Ok(msg)
}

/// True when a token is already a tag (`sshd[12]:`, `kernel:`).
fn is_tag(tok: &[u8]) -> bool {
    tok.ends_with(b":") || (memchr(b'[', tok).is_some() && tok.ends_with(b"]:"))
}

/// Reads `prog[pid]:` or `prog:` at `j`; returns where the message starts. Without a tag the
/// message starts at `j`.
fn tag<'a>(line: &'a [u8], j: usize, f: &mut Fields<'a>) -> usize {
    let rest = &line[j.min(line.len())..];
    let Some(end) = rest
        .iter()
        .position(|&c| c == b':' || c == b'[' || c == b' ')
    else {
        return j;
    };
    let name = &rest[..end];
    if name.is_empty() {
        return j;
    }
    let mut k = end;
    if rest[k] == b'[' {
        let Some(close) = memchr(b']', &rest[k..]) else {
            return j;
        };
        let pid = &rest[k + 1..k + close];
        k += close + 1;
        if rest.get(k) != Some(&b':') {
            return j;
        }
        put_process(f, name);
        match uint(pid) {
            Some(p) => f.put("pid", Val::Num(p as i64)),
            None => f.put_str("pid", pid, Esc::None),
        }
    } else if rest[k] == b':' {
        put_process(f, name);
    } else {
        return j;
    }
    util::skip_spaces(line, j + k + 1)
}

/// The program's name; older Red Hat systems put PAM's module in it (`sshd(pam_unix)`): the
/// program is then sshd and the message PAM's.
fn put_process<'a>(f: &mut Fields<'a>, name: &'a [u8]) {
    if let Some(open) = memchr(b'(', name)
        && name.ends_with(b")")
        && name[open + 1..].starts_with(b"pam_")
    {
        f.put_str("process", &name[..open], Esc::None);
        f.put_str("pam_module", &name[open + 1..name.len() - 1], Esc::None);
    } else {
        f.put_str("process", name, Esc::None);
    }
}

/// Parses the message further by program (sshd, sudo, su, pam, useradd, ...).
fn enrich<'a>(f: &mut Fields<'a>, msg: &'a [u8]) {
    let prog = match f.get("process") {
        Some(Val::Str(p, _)) => p,
        _ => b"",
    };
    // Older Red Hat systems tag PAM's messages with the module: `sshd(pam_unix)[30530]:
    // authentication failure; ... rhost=150.183.249.110  user=root`. The program is sshd;
    // the message is PAM's.
    if f.has("pam_module") {
        auth::pam_tagged(prog, msg, f);
    } else {
        auth::parse(prog, msg, f);
    }
    super::generic::add_ips(msg, f);
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{ctx, parse_one};
    use super::super::{Format, ParseCtx, YearRef, Zone};
    use super::*;

    #[test]
    fn rfc3164_with_year_inference() {
        let c = ParseCtx {
            zone: Zone::Utc,
            year: YearRef::from_mtime(time::days_from_civil(2005, 8, 14) * 86_400),
        };
        let mut p = Format::Syslog.parser(&c);
        let (ts, f) = parse_one(
            p.as_mut(),
            "Dec 31 22:59:59 web1 sshd[2231]: Connection closed by 1.2.3.4",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2004-12-31T22:59:59Z"));
        assert_eq!(
            (f["host"].as_str(), f["process"].as_str()),
            ("web1", "sshd")
        );
        assert_eq!(f["pid"], "2231");
        let (ts, _) = parse_one(p.as_mut(), "Aug 14 11:58:48 web1 kernel: x").unwrap();
        assert_eq!(ts.as_deref(), Some("2005-08-14T11:58:48Z"));
    }

    #[test]
    fn access_records_sent_through_syslog_are_read_as_access_records() {
        let mut p = Syslog::new(&ctx());
        let mut f = Fields::default();
        let l = r#"Mar 27 13:41:05 web01 nginx: 203.0.113.9 - - [27/Mar/2017:13:41:05 -0700] "GET /api/customers?page=3 HTTP/1.1" 200 48213 "-" "curl/8.0""#;
        let Ok(Outcome::Event(Some(ts))) = p.parse(l.as_bytes(), &mut f) else {
            panic!("not an event with a time");
        };
        // The access record's own time: its year and zone, not the syslog header's.
        assert_eq!(ts.to_utc_string(), "2017-03-27T20:41:05Z");
        assert_eq!(f.inner_format(), Some(Format::Access));
        assert_eq!(f.get("process"), Some(Val::Str(b"nginx", Esc::None)));
        assert_eq!(f.get("c-ip"), Some(Val::Str(b"203.0.113.9", Esc::None)));
        assert_eq!(
            f.get("cs-uri-query"),
            Some(Val::Str(b"/api/customers?page=3", Esc::None))
        );
        assert_eq!(f.get("sc-bytes"), Some(Val::Num(48213)));
        // A message with brackets and quotes that is no access record stays a syslog message,
        // without the fields the attempt had added.
        let mut f = Fields::default();
        let l = r#"Mar 27 13:41:07 web01 app: 10.0.0.1 - alice [27/Mar/2017:13:41:07 -0700] said "hello""#;
        assert!(matches!(
            p.parse(l.as_bytes(), &mut f),
            Ok(Outcome::Event(Some(_)))
        ));
        assert_eq!(f.inner_format(), None);
        assert_eq!(f.get("c-ip"), None);
        assert_eq!(f.get("process"), Some(Val::Str(b"app", Esc::None)));
        // And the next record starts afresh.
        f.clear();
        assert_eq!(f.inner_format(), None);
    }

    #[test]
    fn iso_rsyslog_and_no_host() {
        let mut p = Format::Syslog.parser(&ctx());
        let l = "2026-10-13T10:02:11.483920+00:00 bastion sshd[2231]: Failed password for invalid user admin from 192.0.2.77 port 51234 ssh2";
        let (ts, f) = parse_one(p.as_mut(), l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:02:11.483920Z"));
        assert_eq!(f["host"], "bastion");
        assert_eq!(f["user"], "admin");
        assert_eq!(f["src_ip"], "192.0.2.77");
        assert_eq!(f["outcome"], "failure");
        let (_, f) = parse_one(
            p.as_mut(),
            "Oct 13 10:02:11 sshd[1]: Accepted publickey for bob from 10.0.0.1 port 2 ssh2",
        )
        .unwrap();
        assert!(!f.contains_key("host"));
        assert_eq!(f["auth_method"], "publickey");
        let (_, f) = parse_one(
            p.as_mut(),
            "Oct 13 10:02:11 web1 last message repeated 3 times",
        )
        .unwrap();
        assert_eq!(f["message"], "last message repeated 3 times");
    }

    #[test]
    fn pam_module_in_the_tag_is_read_as_the_programs_pam_message() {
        let mut p = Format::Syslog.parser(&ctx());
        let l = "Jul 10 16:01:43 combo sshd(pam_unix)[30530]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=150.183.249.110  user=root";
        let (_, f) = parse_one(p.as_mut(), l).unwrap();
        assert_eq!(f["process"], "sshd");
        assert_eq!(f["pam_module"], "pam_unix");
        assert_eq!(f["pam_service"], "sshd");
        assert_eq!(f["outcome"], "failure");
        assert_eq!(f["src_ip"], "150.183.249.110");
        let l = "Jul 10 16:05:00 combo su(pam_unix)[2000]: session opened for user news by (uid=0)";
        let (_, f) = parse_one(p.as_mut(), l).unwrap();
        assert_eq!(f["process"], "su");
        assert_eq!(f["outcome"], "session_open");
        assert_eq!(f["user"], "news");
        // A tag with parentheses that are not a PAM module stays as written.
        let (_, f) = parse_one(p.as_mut(), "Jul 10 16:05:00 combo app(x)[1]: hello").unwrap();
        assert_eq!(f["process"], "app(x)");
    }

    #[test]
    fn rfc5424() {
        let mut p = Format::Syslog.parser(&ctx());
        let l = r#"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut="3"] 'su root' failed for lonvick on /dev/pts/8"#;
        let (ts, f) = parse_one(p.as_mut(), l).unwrap();
        assert_eq!(ts.as_deref(), Some("2003-10-11T22:14:15.003Z"));
        assert_eq!(f["host"], "mymachine.example.com");
        assert_eq!(f["process"], "su");
        assert_eq!(f["msgid"], "ID47");
        assert_eq!(f["facility"], "4");
        assert_eq!(f["severity"], "2");
        assert_eq!(f["message"], "'su root' failed for lonvick on /dev/pts/8");
        assert!(parse_one(p.as_mut(), "hello").is_err());
    }
}
