//! Squid's native access log (`logformat squid`), the forward-proxy log Sigma's `proxy` rules
//! are written for:
//! `time elapsed client result/status bytes method URL user hierarchy/peer type`, e.g.
//! `1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://example.com/a.exe - DIRECT/93.184.216.34 application/octet-stream`.
//!
//! Fields follow Sigma's proxy taxonomy: `c-uri` is the URL as requested (and `cs-uri-query`,
//! like the web formats, the full target), `c-uri-query` its query, `c-uri-extension` the
//! file extension of its path, `cs-host` and `r-dns` its host, `dst_ip` the server the proxy
//! reached. A quoted field at the end of the line (a common custom format) is the user agent.

use super::event::{Esc, Fields, Val};
use super::time;
use super::util::{self, uint};
use super::{Outcome, ParseCtx, RecordParser, Reject};
use memchr::memchr;

/// Squid native access log.
pub struct Squid;

impl Squid {
    pub fn new(_ctx: &ParseCtx) -> Self {
        Squid
    }
}

impl RecordParser for Squid {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let mut tok = line
            .split(|&c| c == b' ' || c == b'\t')
            .filter(|t| !t.is_empty());
        let mut next = || tok.next().ok_or("too few Squid access-log fields");
        let when = next()?;
        if !when.contains(&b'.') || !when[0].is_ascii_digit() {
            return Err("no epoch time");
        }
        let ts = time::from_epoch_number(when).ok_or("no epoch time")?;
        let elapsed = uint(next()?).ok_or("no elapsed time")?;
        f.put("time-taken", Val::Num(elapsed as i64));
        let client = next()?;
        if !util::is_ip(client)
            && !client
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b".-:".contains(c))
        {
            return Err("no client address");
        }
        f.put_str("c-ip", client, Esc::None);
        let result = next()?;
        let slash = memchr(b'/', result).ok_or("no result/status")?;
        if !result[..slash]
            .iter()
            .all(|c| c.is_ascii_uppercase() || *c == b'_')
        {
            return Err("no Squid result code");
        }
        f.put_str("x-squid-result", &result[..slash], Esc::None);
        let status = uint(&result[slash + 1..]).ok_or("no status code")?;
        f.put("sc-status", Val::Num(status as i64));
        f.put(
            "sc-bytes",
            Val::Num(uint(next()?).ok_or("no byte count")? as i64),
        );
        f.put_str("cs-method", next()?, Esc::None);
        url(next()?, f);
        if let Some(user) = tok.next().filter(|u| *u != b"-") {
            f.put_str("cs-username", user, Esc::None);
        }
        if let Some(h) = tok.next() {
            let (code, peer) = match memchr(b'/', h) {
                Some(p) => (&h[..p], &h[p + 1..]),
                None => (h, &b""[..]),
            };
            f.put_str("x-squid-hierarchy", code, Esc::None);
            if util::is_ip(peer) {
                f.put_str("dst_ip", peer, Esc::None);
            }
        }
        if let Some(t) = tok.next().filter(|t| *t != b"-" && !t.starts_with(b"\"")) {
            f.put_str("cs-content-type", t, Esc::None);
        }
        // A common custom format appends the user agent, quoted: `... %mt "%{User-Agent}>h"`.
        if let Some(q) = memchr(b'"', line)
            && let Some(end) = memchr::memrchr(b'"', line).filter(|&e| e > q)
        {
            let ua = &line[q + 1..end];
            if ua != b"-" {
                // `""`: the client sent no user agent, a value Sigma rules test.
                f.put("cs-user-agent", Val::Str(ua, Esc::None));
            }
        }
        Ok(Outcome::Event(Some(ts)))
    }
}

/// The requested URL: `http://host:port/path?query`, or `host:port` for CONNECT.
fn url<'a>(u: &'a [u8], f: &mut Fields<'a>) {
    f.put_str("c-uri", u, Esc::None);
    f.put_str("cs-uri-query", u, Esc::None);
    // `error:invalid-request`, `error:transaction-end-before-headers`: no request was read.
    if u.starts_with(b"error:") {
        return;
    }
    let (host_part, path) = match memchr::memmem::find(u, b"://") {
        Some(p) => {
            let after = &u[p + 3..];
            let slash = memchr(b'/', after).unwrap_or(after.len());
            (&after[..slash], &after[slash..])
        }
        None if u.starts_with(b"/") => (&b""[..], u),
        None => (u, &b""[..]),
    };
    let (host, _) = util::split_host_port(host_part);
    if !host.is_empty() {
        f.put_str("cs-host", host, Esc::None);
        f.put_str("r-dns", host, Esc::None);
    }
    if path.is_empty() {
        return;
    }
    let (stem, query) = match memchr(b'?', path) {
        Some(q) => (&path[..q], Some(&path[q + 1..])),
        None => (path, None),
    };
    f.put_str("cs-uri-stem", stem, Esc::None);
    if let Some(q) = query {
        f.put_str("c-uri-query", q, Esc::None);
    }
    let name = &stem[memchr::memrchr(b'/', stem).map_or(0, |p| p + 1)..];
    if let Some(dot) = memchr::memrchr(b'.', name)
        && dot + 1 < name.len()
    {
        f.put_str("c-uri-extension", &name[dot + 1..], Esc::None);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;

    #[test]
    fn native_lines() {
        let (ts, f) = parse_fmt(
            Format::Squid,
            "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.example.com:8080/dl/a.exe?x=1 - DIRECT/93.184.216.34 application/octet-stream",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2010-10-08T11:11:48.779Z"));
        assert_eq!(f["c-ip"], "192.168.0.224");
        assert_eq!(f["x-squid-result"], "TCP_MISS");
        assert_eq!(f["sc-status"], "200");
        assert_eq!(f["sc-bytes"], "411");
        assert_eq!(f["time-taken"], "180");
        assert_eq!(f["c-uri"], "http://www.example.com:8080/dl/a.exe?x=1");
        assert_eq!(f["cs-host"], "www.example.com");
        assert_eq!(f["cs-uri-stem"], "/dl/a.exe");
        assert_eq!(f["c-uri-query"], "x=1");
        assert_eq!(f["c-uri-extension"], "exe");
        assert_eq!(f["dst_ip"], "93.184.216.34");
        assert_eq!(f["cs-content-type"], "application/octet-stream");
        assert!(!f.contains_key("cs-username"));
        // CONNECT, a user, no peer.
        let (_, f) = parse_fmt(
            Format::Squid,
            "1140701230.827    781 192.168.1.210 TCP_DENIED/407 1785 CONNECT mail.example.org:443 oahmet NONE/- text/html",
        )
        .unwrap();
        assert_eq!(f["cs-host"], "mail.example.org");
        assert_eq!(f["cs-username"], "oahmet");
        assert_eq!(f["sc-status"], "407");
        assert!(!f.contains_key("dst_ip"));
        // With the user agent appended.
        let (_, f) = parse_fmt(
            Format::Squid,
            "1286536308.779 180 10.0.0.5 TCP_MISS/200 411 GET http://x.example/ - DIRECT/93.184.216.34 text/html \"rclone/v1.62.2\"",
        )
        .unwrap();
        assert_eq!(f["cs-user-agent"], "rclone/v1.62.2");
        assert_eq!(f["cs-content-type"], "text/html");
        let (_, f) = parse_fmt(
            Format::Squid,
            "1286536308.779 180 10.0.0.5 TCP_MISS/200 411 GET http://x.example/ - DIRECT/93.184.216.34 text/html \"\"",
        )
        .unwrap();
        assert_eq!(f["cs-user-agent"], "");
        // A request Squid could not read has no host.
        let (_, f) = parse_fmt(
            Format::Squid,
            "1286536308.779      0 10.0.0.5 NONE/400 3718 NONE error:invalid-request - HIER_NONE/- text/html",
        )
        .unwrap();
        assert_eq!(f["c-uri"], "error:invalid-request");
        assert!(!f.contains_key("cs-host") && !f.contains_key("r-dns"));
        // Not Squid.
        assert!(
            parse_fmt(
                Format::Squid,
                "1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5"
            )
            .is_err()
        );
    }
}
