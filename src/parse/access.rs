//! Apache and nginx access logs: common and combined formats, an optional virtual-host prefix
//! (`%v:%p`), and extra trailing fields (request time, X-Forwarded-For). Quoted fields honour
//! Apache's `\"` and nginx's `\x22` escapes. This is the hottest parser: it only slices.

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, TsCache};
use super::util::{self, has_backslash, quoted, then_space_or_end, uint};
use super::{Outcome, ParseCtx, RecordParser, Reject};
use memchr::memchr;

/// The access-log parser.
pub struct Access {
    cache: TsCache,
    zone: LocalZone,
}

impl Access {
    pub fn new(ctx: &ParseCtx) -> Self {
        Access {
            cache: TsCache::default(),
            zone: ctx.local(),
        }
    }
}

/// The escape mode of a field: only lines with a backslash somewhere (one memchr per line)
/// look at each field.
#[inline]
fn esc(bs: bool, s: &[u8]) -> Esc {
    if bs && has_backslash(s) {
        Esc::Backslash
    } else {
        Esc::None
    }
}

/// After the request's closing quote comes ` 200` or ` -`.
fn request_end_ok(rest: &[u8]) -> bool {
    rest.first() == Some(&b' ')
        && rest
            .get(1)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'-')
}

impl RecordParser for Access {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let bs = has_backslash(line);
        let lb = memchr(b'[', line).ok_or("no [time] field")?;
        let head = line[..lb].strip_suffix(b" ").ok_or("no [time] field")?;
        self.head(head, bs, f)?;
        let (ts, end) = self.time(&line[lb + 1..])?;
        let mut i = lb + 1 + end;
        if line.get(i) != Some(&b']') || line.get(i + 1) != Some(&b' ') {
            return Err("no [time] field");
        }
        i += 2;
        let (rs, re, next) = quoted(line, i, request_end_ok).ok_or("no quoted request")?;
        request(&line[rs..re], bs, f);
        i = next + 1;
        let se = util::token_end(line, i);
        let status = line.get(i..se).and_then(uint).ok_or("no status code")?;
        f.put("sc-status", Val::Num(status as i64));
        i = se + 1;
        let be = util::token_end(line, i);
        match &line[i.min(be)..be] {
            b"-" => f.put("sc-bytes", Val::Num(0)),
            s => f.put(
                "sc-bytes",
                Val::Num(uint(s).ok_or("bad byte count")? as i64),
            ),
        }
        trailer(line, be, bs, f);
        Ok(Outcome::Event(Some(ts)))
    }
}

impl Access {
    /// `[vhost[:port] ]host ident user`.
    fn head<'a>(&self, head: &'a [u8], bs: bool, f: &mut Fields<'a>) -> Result<(), Reject> {
        let mut toks = [(0usize, 0usize); 4];
        let mut n = 0;
        let mut i = 0;
        while i <= head.len() {
            let e = util::token_end(head, i);
            if n == 4 {
                return Err("unexpected fields before the timestamp");
            }
            toks[n] = (i, e);
            n += 1;
            i = e + 1;
        }
        let t = |k: usize| &head[toks[k].0..toks[k].1];
        let base = match n {
            3 => 0,
            4 => {
                let (host, port) = util::split_host_port(t(0));
                f.put_str("cs-host", host, Esc::None);
                if let Some(p) = port.and_then(uint) {
                    f.put("s-port", Val::Num(p as i64));
                }
                1
            }
            _ => return Err("unexpected fields before the timestamp"),
        };
        let ip = t(base);
        if ip.is_empty() {
            return Err("no client address");
        }
        f.put_str("c-ip", ip, Esc::None);
        f.put_str("cs-ident", t(base + 1), Esc::None);
        f.put_str("cs-username", t(base + 2), esc(bs, t(base + 2)));
        Ok(())
    }

    fn time(&mut self, b: &[u8]) -> Result<(time::Timestamp, usize), Reject> {
        let key = &b[..b.len().min(26)];
        if let Some(hit) = self.cache.get(key) {
            return Ok(hit);
        }
        let (c, off, end) = time::parse_clf(b).ok_or("bad [time] field")?;
        let ts = self.zone.resolve(&c, off).ok_or("bad [time] field")?;
        self.cache.put(&b[..end], (ts, end));
        Ok((ts, end))
    }
}

/// `METHOD target PROTOCOL`; a request that does not split that way (binary junk, a bare
/// path) is kept whole in `cs-request`.
fn request<'a>(r: &'a [u8], bs: bool, f: &mut Fields<'a>) {
    let (Some(s1), Some(s2)) = (memchr(b' ', r), memchr::memrchr(b' ', r)) else {
        // A bare word: no method, no target.
        f.put_str("cs-request", r, esc(bs, r));
        return;
    };
    let method = &r[..s1];
    if method.is_empty() || !method.iter().all(|c| c.is_ascii_alphabetic()) {
        f.put_str("cs-request", r, esc(bs, r));
        return;
    }
    f.put_str("cs-method", method, Esc::None);
    let version = &r[s2 + 1..];
    if s1 == s2 || !version.starts_with(b"HTTP/") {
        // HTTP/0.9 style `GET /path`, or a target with spaces and no protocol.
        uri(&r[s1 + 1..], esc(bs, &r[s1 + 1..]), f);
        return;
    }
    uri(&r[s1 + 1..s2], esc(bs, &r[s1 + 1..s2]), f);
    f.put_str("cs-version", version, esc(bs, version));
}

/// Sets `cs-uri-stem` (the path) and `cs-uri-query` (the full request target, as SigmaHQ's
/// web rules expect), plus `cs-uri` for the whole target.
pub fn uri<'a>(target: &'a [u8], e: Esc, f: &mut Fields<'a>) {
    let stem = memchr(b'?', target).map_or(target, |q| &target[..q]);
    f.put_str("cs-uri-stem", stem, e);
    f.put_str("cs-uri-query", target, e);
}

/// Referer, user agent and whatever follows (request time, X-Forwarded-For, ...).
fn trailer<'a>(line: &'a [u8], mut i: usize, bs: bool, f: &mut Fields<'a>) {
    let mut k = 0;
    while i < line.len() {
        i = util::skip_spaces(line, i);
        if i >= line.len() {
            break;
        }
        let (s, e, next) = if line[i] == b'"' {
            match quoted(line, i, then_space_or_end) {
                Some(q) => q,
                None => (i + 1, line.len(), line.len()),
            }
        } else {
            let e = util::token_end(line, i);
            (i, e, e)
        };
        let v = &line[s..e];
        match k {
            0 => f.put_str("cs-referer", v, esc(bs, v)),
            // An empty quoted agent (`""`) is a value (scripts send none), unlike `-`.
            1 if v.is_empty() && line[s - 1] == b'"' => {
                f.put("cs-user-agent", Val::Str(b"", Esc::None))
            }
            1 => f.put_str("cs-user-agent", v, esc(bs, v)),
            _ => extra(v, bs, f),
        }
        k += 1;
        i = next;
    }
}

/// Names an extra trailing field by its shape.
fn extra<'a>(v: &'a [u8], bs: bool, f: &mut Fields<'a>) {
    if v.is_empty() || v == b"-" {
        return;
    }
    let first = v.split(|&c| c == b',').next().unwrap_or(v);
    let first = first.strip_prefix(b" ").unwrap_or(first);
    if util::is_ip(first) {
        f.put_str("x-forwarded-for", v, Esc::None);
    } else if v.iter().all(|c| c.is_ascii_digit() || *c == b'.') && v.iter().any(u8::is_ascii_digit)
    {
        f.put_str("time-taken", v, Esc::None);
    } else {
        f.put_str("extra", v, esc(bs, v));
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;

    #[test]
    fn an_empty_quoted_user_agent_is_a_value() {
        let (_, f) = parse_fmt(
            Format::Access,
            "1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"\"",
        )
        .unwrap();
        assert_eq!(f.get("cs-user-agent").map(String::as_str), Some(""));
        assert!(!f.contains_key("cs-referer"));
        let (_, f) = parse_fmt(
            Format::Access,
            "1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
        )
        .unwrap();
        assert!(!f.contains_key("cs-user-agent"));
    }

    #[test]
    fn combined_nginx_with_extras() {
        let l = r#"198.51.100.23 - - [13/Oct/2026:09:14:02 +0000] "GET /api/customers?page=3 HTTP/1.1" 200 48213 "https://shop.example/admin" "Mozilla/5.0 (X11; Linux x86_64)" 0.043 "10.1.1.1, 10.2.2.2""#;
        let (ts, f) = parse_fmt(Format::Access, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T09:14:02Z"));
        assert_eq!(f["c-ip"], "198.51.100.23");
        assert_eq!(f["cs-method"], "GET");
        assert_eq!(f["cs-uri-stem"], "/api/customers");
        assert_eq!(f["cs-uri-query"], "/api/customers?page=3");
        assert_eq!(f["sc-status"], "200");
        assert_eq!(f["sc-bytes"], "48213");
        assert_eq!(f["cs-referer"], "https://shop.example/admin");
        assert_eq!(f["cs-user-agent"], "Mozilla/5.0 (X11; Linux x86_64)");
        assert_eq!(f["time-taken"], "0.043");
        assert_eq!(f["x-forwarded-for"], "10.1.1.1, 10.2.2.2");
        assert!(!f.contains_key("cs-username"));
    }

    #[test]
    fn vhost_apache_escapes_and_offsets() {
        let l = r#"shop.example:443 203.0.113.66 - bob [12/Oct/2026:18:01:07 -0500] "GET /search?q=\"x\" HTTP/1.1" 404 209 "-" "sqlmap/1.7 \"test\"""#;
        let (ts, f) = parse_fmt(Format::Access, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-12T23:01:07Z"));
        assert_eq!(f["cs-host"], "shop.example");
        assert_eq!(f["s-port"], "443");
        assert_eq!(f["cs-username"], "bob");
        assert_eq!(f["cs-uri-query"], r#"/search?q="x""#);
        assert_eq!(f["cs-user-agent"], r#"sqlmap/1.7 "test""#);
        assert!(!f.contains_key("cs-referer"));
    }

    #[test]
    fn nginx_hex_escape_and_common_format() {
        let l = r#"203.0.113.66 - - [12/Oct/2026:22:10:00 +0000] "GET /?id=1\x22%20OR%201=1 HTTP/1.1" 400 0"#;
        let (_, f) = parse_fmt(Format::Access, l).unwrap();
        assert_eq!(f["cs-uri-query"], r#"/?id=1"%20OR%201=1"#);
        assert_eq!(f["sc-bytes"], "0");
        let l = r#"10.0.0.1 - - [12/Oct/2026:22:10:00 +0000] "\x16\x03\x01\x02\x00\x01" 400 157 "-" "-""#;
        let (_, f) = parse_fmt(Format::Access, l).unwrap();
        assert_eq!(f["cs-request"], "\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}");
        assert!(!f.contains_key("cs-method"));
        let l = r#"10.0.0.1 - - [12/Oct/2026:22:10:00 +0000] "-" 408 - "-" "-""#;
        let (_, f) = parse_fmt(Format::Access, l).unwrap();
        assert_eq!(f["sc-status"], "408");
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "hello world",
            r#"1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] "GET / HTTP/1.1" abc 1"#,
            r#"1.2.3.4 - - [13/Foo/2026:09:14:02 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] "GET / HTTP/1.1"#,
        ] {
            assert!(parse_fmt(Format::Access, bad).is_err(), "{bad}");
        }
    }
}
