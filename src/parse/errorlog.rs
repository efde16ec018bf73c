//! Web server error logs. Apache: `[Wed Oct 11 14:32:52.123456 2000] [core:error]
//! [pid 35708:tid 4328636416] [client 203.0.113.66:1234] AH01630: message` (2.4) and
//! `[Sun Jun 09 07:57:47 2013] [error] [client 1.2.3.4] message` (2.2). nginx:
//! `2026/10/13 10:00:00 [error] 1234#0: *5 message, client: 1.2.3.4, server: x, request: "GET /"`.

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, TsCache};
use super::util::{self, uint};
use super::{Outcome, ParseCtx, RecordParser, Reject};
use memchr::memchr;

/// Apache's error log.
pub struct ApacheError {
    cache: TsCache,
    zone: LocalZone,
}

impl ApacheError {
    pub fn new(ctx: &ParseCtx) -> Self {
        ApacheError {
            cache: TsCache::default(),
            zone: ctx.local(),
        }
    }
}

impl RecordParser for ApacheError {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        if line.first() != Some(&b'[') {
            return Err("no [time] field");
        }
        let close = memchr(b']', line).ok_or("no [time] field")?;
        let stamp = &line[1..close];
        let ts = match self.cache.get(stamp) {
            Some((ts, _)) => ts,
            None => {
                let (c, _, end) = time::parse_ctime(stamp).ok_or("bad [time] field")?;
                if end != stamp.len() {
                    return Err("bad [time] field");
                }
                let ts = self.zone.resolve(&c, None).ok_or("bad [time] field")?;
                self.cache.put(stamp, (ts, end));
                ts
            }
        };
        let mut i = close + 1;
        let mut first = true;
        loop {
            i = util::skip_spaces(line, i);
            if line.get(i) != Some(&b'[') {
                break;
            }
            let Some(e) = memchr(b']', &line[i..]).map(|p| i + p) else {
                break;
            };
            group(&line[i + 1..e], first, f);
            first = false;
            i = e + 1;
        }
        let msg = &line[i.min(line.len())..];
        let text = match msg
            .strip_prefix(b"AH")
            .filter(|m| m.len() > 6 && m[5] == b':')
        {
            Some(code) => {
                f.put_str("error_code", &msg[..7], Esc::None);
                util_trim(&code[6..])
            }
            None => msg,
        };
        f.put_str("message", text, Esc::None);
        // AH00126: the request line the server refused to map (CVE-2021-41773's traversal
        // is logged here when the request never reached a handler).
        if let Some(req) = text.strip_prefix(b"Invalid URI in request ") {
            f.put_str("cs-request", req.trim_ascii(), Esc::None);
        }
        Ok(Outcome::Event(Some(ts)))
    }
}

/// One `[...]` group after the time: level, pid, client or remote address.
fn group<'a>(g: &'a [u8], first: bool, f: &mut Fields<'a>) {
    if let Some(c) = g
        .strip_prefix(b"client ")
        .or_else(|| g.strip_prefix(b"remote "))
    {
        let (h, p) = util::split_host_port(c);
        if !f.has("c-ip") {
            f.put_str("c-ip", h, Esc::None);
            if let Some(p) = p.and_then(uint) {
                f.put("c-port", Val::Num(p as i64));
            }
        }
    } else if let Some(p) = g.strip_prefix(b"pid ") {
        let (pid, tid) = match memchr(b':', p) {
            Some(c) => (&p[..c], p.get(c + 5..)),
            None => (p, None),
        };
        if let Some(n) = uint(pid) {
            f.put("pid", Val::Num(n as i64));
        }
        if let Some(t) = tid.and_then(uint) {
            f.put("tid", Val::Num(t as i64));
        }
    } else if first {
        match memchr(b':', g) {
            Some(c) => {
                f.put_str("module", &g[..c], Esc::None);
                f.put_str("level", &g[c + 1..], Esc::None);
            }
            None => f.put_str("level", g, Esc::None),
        }
    }
}

fn util_trim(s: &[u8]) -> &[u8] {
    &s[s.iter().position(|c| *c != b' ').unwrap_or(s.len())..]
}

/// nginx's error log.
pub struct NginxError {
    cache: TsCache,
    zone: LocalZone,
}

impl NginxError {
    pub fn new(ctx: &ParseCtx) -> Self {
        NginxError {
            cache: TsCache::default(),
            zone: ctx.local(),
        }
    }
}

impl RecordParser for NginxError {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let stamp = line.get(..19).ok_or("no timestamp")?;
        if stamp[4] != b'/' {
            return Err("no nginx timestamp");
        }
        let ts = match self.cache.get(stamp) {
            Some((ts, _)) => ts,
            None => {
                let (c, off, _) = time::parse_iso(stamp).ok_or("no nginx timestamp")?;
                let ts = self.zone.resolve(&c, off).ok_or("bad timestamp")?;
                self.cache.put(stamp, (ts, 19));
                ts
            }
        };
        let rest = &line[19..];
        let rest = rest.strip_prefix(b" [").ok_or("no [level]")?;
        let le = memchr(b']', rest).ok_or("no [level]")?;
        f.put_str("level", &rest[..le], Esc::None);
        let mut msg = util_trim(&rest[le + 1..]);
        let pe = util::token_end(msg, 0);
        if let Some(h) = memchr(b'#', &msg[..pe]) {
            if let Some(p) = uint(&msg[..h]) {
                f.put("pid", Val::Num(p as i64));
            }
            let tid = msg[h + 1..pe].strip_suffix(b":").unwrap_or(&msg[h + 1..pe]);
            if let Some(t) = uint(tid) {
                f.put("tid", Val::Num(t as i64));
            }
            msg = util_trim(&msg[pe..]);
        }
        if msg.first() == Some(&b'*') {
            let ce = util::token_end(msg, 0);
            if let Some(c) = uint(&msg[1..ce]) {
                f.put("connection", Val::Num(c as i64));
            }
            msg = util_trim(&msg[ce..]);
        }
        f.put_str("message", msg, Esc::None);
        for (key, name) in [
            (&b", client: "[..], "c-ip"),
            (b", server: ", "server"),
            (b", upstream: \"", "upstream"),
            (b", host: \"", "cs-host"),
            (b", referrer: \"", "cs-referer"),
        ] {
            if let Some(v) = util::value_after(msg, key) {
                f.put_str(name, v, Esc::None);
            }
        }
        if let Some(p) = memchr::memmem::find(msg, b", request: \"") {
            let r = &msg[p + 12..];
            let e = memchr::memmem::find(r, b"\", ").or_else(|| memchr::memrchr(b'"', r));
            f.put_str("cs-request", &r[..e.unwrap_or(r.len())], Esc::None);
        }
        Ok(Outcome::Event(Some(ts)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;

    #[test]
    fn apache_error_22_and_24() {
        let (ts, f) = parse_fmt(Format::ApacheError, "[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.4] File does not exist: /var/www/html/.env").unwrap();
        assert_eq!(ts.as_deref(), Some("2005-12-04T04:47:44Z"));
        assert_eq!(
            (f["level"].as_str(), f["c-ip"].as_str()),
            ("error", "192.0.2.4")
        );
        assert_eq!(f["message"], "File does not exist: /var/www/html/.env");
        let (ts, f) = parse_fmt(Format::ApacheError, "[Thu Sep 25 09:27:18.813902 2014] [cgi:error] [pid 16860:tid 4328636416] [client 89.207.132.76:59635] AH01215: /bin/bash: warning").unwrap();
        assert_eq!(ts.as_deref(), Some("2014-09-25T09:27:18.813902Z"));
        assert_eq!(
            (f["module"].as_str(), f["level"].as_str(), f["pid"].as_str()),
            ("cgi", "error", "16860")
        );
        assert_eq!(
            (f["c-port"].as_str(), f["error_code"].as_str()),
            ("59635", "AH01215")
        );
        assert_eq!(f["message"], "/bin/bash: warning");
        assert!(!f.contains_key("cs-request"));
        let (_, f) = parse_fmt(Format::ApacheError, "[Fri Oct 08 17:08:41.203277 2021] [core:error] [pid 7005:tid 140667133085440] [client 192.0.2.87:14532] AH00126: Invalid URI in request GET /cgi-bin/.%2E/%2E%2E/etc/passwd HTTP/1.1 ").unwrap();
        assert_eq!(
            f["cs-request"],
            "GET /cgi-bin/.%2E/%2E%2E/etc/passwd HTTP/1.1"
        );
        assert_eq!(f["c-ip"], "192.0.2.87");
    }

    #[test]
    fn nginx_error() {
        let l = r#"2012/04/09 11:53:29 [error] 2865#0: *66647 user "xyz" was not found in "/var/www/.htpasswd", client: 192.0.43.10, server: www.myhost.com, request: "GET / HTTP/1.1", host: "www.myhost.com""#;
        let (ts, f) = parse_fmt(Format::NginxError, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2012-04-09T11:53:29Z"));
        assert_eq!(
            (
                f["level"].as_str(),
                f["pid"].as_str(),
                f["connection"].as_str()
            ),
            ("error", "2865", "66647")
        );
        assert_eq!(
            (f["c-ip"].as_str(), f["server"].as_str()),
            ("192.0.43.10", "www.myhost.com")
        );
        assert_eq!(
            (f["cs-request"].as_str(), f["cs-host"].as_str()),
            ("GET / HTTP/1.1", "www.myhost.com")
        );
    }
}
