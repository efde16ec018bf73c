//! AWS access logs: S3 server access, Application Load Balancer and Classic Load Balancer.
//! All three are space-separated tokens with quoted and bracketed fields, read by position.

use super::access;
use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, Timestamp, TsCache};
use super::util::{self, has_backslash, quoted, then_space_or_end, uint};
use super::{Outcome, ParseCtx, RecordParser, Reject};
use memchr::memchr;

const MAX_TOKENS: usize = 40;

/// Splits a line into at most [`MAX_TOKENS`] tokens: plain, `"quoted"` or `[bracketed]`.
/// Returns the number of tokens; each is (start, end) of its content.
fn tokens(line: &[u8], out: &mut [(usize, usize); MAX_TOKENS]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < line.len() && n < MAX_TOKENS {
        i = util::skip_spaces(line, i);
        if i >= line.len() {
            break;
        }
        let (s, e, next) = match line[i] {
            b'"' => quoted(line, i, then_space_or_end).unwrap_or((i + 1, line.len(), line.len())),
            b'[' => match memchr(b']', &line[i..]) {
                Some(p) => (i + 1, i + p, i + p + 1),
                None => (i, line.len(), line.len()),
            },
            _ => {
                let e = util::token_end(line, i);
                (i, e, e)
            }
        };
        out[n] = (s, e);
        n += 1;
        i = next;
    }
    n
}

fn esc(s: &[u8]) -> Esc {
    if has_backslash(s) {
        Esc::Backslash
    } else {
        Esc::None
    }
}

fn num<'a>(f: &mut Fields<'a>, name: &'static str, v: &[u8]) {
    if let Some(x) = uint(v) {
        f.put(name, Val::Num(x as i64));
    }
}

/// A request line whose target may be an absolute URL (`GET https://h:443/p?q HTTP/1.1`).
fn request_url<'a>(r: &'a [u8], f: &mut Fields<'a>) {
    let mut parts = r.splitn(3, |&c| c == b' ');
    let (Some(m), Some(url)) = (parts.next(), parts.next()) else {
        f.put_str("cs-request", r, esc(r));
        return;
    };
    f.put_str("cs-method", m, Esc::None);
    let target = match memchr::memmem::find(url, b"://") {
        Some(p) => {
            let after = &url[p + 3..];
            let slash = memchr(b'/', after).unwrap_or(after.len());
            let (host, _) = util::split_host_port(&after[..slash]);
            f.put_str("cs-host", host, Esc::None);
            &after[slash..]
        }
        None => url,
    };
    access::uri(target, esc(target), f);
    if let Some(v) = parts.next() {
        f.put_str("cs-version", v, Esc::None);
    }
}

fn client<'a>(f: &mut Fields<'a>, v: &'a [u8], ip: &'static str, port: &'static str) {
    let (h, p) = util::split_host_port(v);
    f.put_str(ip, h, Esc::None);
    if let Some(p) = p {
        num(f, port, p);
    }
}

struct Clock {
    cache: TsCache,
    zone: LocalZone,
}

impl Clock {
    fn new(ctx: &ParseCtx) -> Self {
        Clock {
            cache: TsCache::default(),
            zone: ctx.local(),
        }
    }

    fn iso(&mut self, b: &[u8]) -> Result<Timestamp, Reject> {
        if let Some((ts, _)) = self.cache.get(b) {
            return Ok(ts);
        }
        let (c, off, end) = time::parse_iso(b).ok_or("bad ISO timestamp")?;
        if end != b.len() {
            return Err("bad ISO timestamp");
        }
        let ts = self.zone.resolve(&c, off).ok_or("bad ISO timestamp")?;
        self.cache.put(b, (ts, end));
        Ok(ts)
    }
}

/// Amazon S3 server access log.
pub struct S3 {
    clock: Clock,
}

impl S3 {
    pub fn new(ctx: &ParseCtx) -> Self {
        S3 {
            clock: Clock::new(ctx),
        }
    }
}

const S3_NAMES: &[&str] = &[
    "bucket_owner",
    "bucket",
    "",
    "c-ip",
    "cs-username",
    "request_id",
    "operation",
    "key",
    "",
    "sc-status",
    "error_code",
    "sc-bytes",
    "object_size",
    "total_time",
    "turn_around_time",
    "cs-referer",
    "cs-user-agent",
    "version_id",
    "host_id",
    "signature_version",
    "cipher_suite",
    "auth_type",
    "cs-host",
    "tls_version",
    "access_point_arn",
    "acl_required",
];

impl RecordParser for S3 {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let mut t = [(0, 0); MAX_TOKENS];
        let n = tokens(line, &mut t);
        if n < 18 {
            return Err("too few S3 access-log fields");
        }
        let tok = |k: usize| &line[t[k].0..t[k].1];
        let op = tok(6);
        if !(op.starts_with(b"REST.") || op.starts_with(b"WEBSITE.") || op.starts_with(b"BATCH.")) {
            return Err("not an S3 operation");
        }
        let ts = {
            let b = tok(2);
            let (c, off, _) = time::parse_clf(b).ok_or("bad [time] field")?;
            self.clock.zone.resolve(&c, off).ok_or("bad [time] field")?
        };
        for (k, &name) in S3_NAMES.iter().enumerate().take(n) {
            let v = tok(k);
            match (k, name) {
                (2, _) => {}
                (8, _) => request_url(v, f),
                (
                    _,
                    "sc-status" | "sc-bytes" | "object_size" | "total_time" | "turn_around_time",
                ) => num(f, name, v),
                _ => f.put_str(name, v, esc(v)),
            }
        }
        Ok(Outcome::Event(Some(ts)))
    }
}

/// Classic Load Balancer access log.
pub struct Elb {
    clock: Clock,
}

impl Elb {
    pub fn new(ctx: &ParseCtx) -> Self {
        Elb {
            clock: Clock::new(ctx),
        }
    }
}

impl RecordParser for Elb {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let mut t = [(0, 0); MAX_TOKENS];
        let n = tokens(line, &mut t);
        if n < 13 {
            return Err("too few ELB access-log fields");
        }
        let tok = |k: usize| &line[t[k].0..t[k].1];
        let ts = self.clock.iso(tok(0))?;
        f.put_str("elb", tok(1), Esc::None);
        lb_common(line, &t, 2, f)?;
        for (k, name) in [(13, "ssl_cipher"), (14, "ssl_protocol")] {
            if k < n {
                f.put_str(name, tok(k), Esc::None);
            }
        }
        Ok(Outcome::Event(Some(ts)))
    }
}

/// Fields shared by ELB and ALB from the client address on: client, target, three timings,
/// two status codes, bytes in and out, request and user agent.
fn lb_common<'a>(
    line: &'a [u8],
    t: &[(usize, usize); MAX_TOKENS],
    at: usize,
    f: &mut Fields<'a>,
) -> Result<(), Reject> {
    let tok = |k: usize| &line[t[at + k].0..t[at + k].1];
    if !tok(0).contains(&b':') && tok(0) != b"-" {
        return Err("no client:port");
    }
    client(f, tok(0), "c-ip", "c-port");
    client(f, tok(1), "target-ip", "target-port");
    f.put_str("request_processing_time", tok(2), Esc::None);
    f.put_str("target_processing_time", tok(3), Esc::None);
    f.put_str("response_processing_time", tok(4), Esc::None);
    let status = uint(tok(5)).ok_or("no status code")?;
    f.put("sc-status", Val::Num(status as i64));
    num(f, "target_status_code", tok(6));
    num(f, "cs-bytes", tok(7));
    num(f, "sc-bytes", tok(8));
    request_url(tok(9), f);
    f.put_str("cs-user-agent", tok(10), esc(tok(10)));
    Ok(())
}

/// Application Load Balancer access log.
pub struct Alb {
    clock: Clock,
}

impl Alb {
    pub fn new(ctx: &ParseCtx) -> Self {
        Alb {
            clock: Clock::new(ctx),
        }
    }
}

const ALB_TAIL: &[&str] = &[
    "ssl_cipher",
    "ssl_protocol",
    "target_group_arn",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target_port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
];

impl RecordParser for Alb {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let mut t = [(0, 0); MAX_TOKENS];
        let n = tokens(line, &mut t);
        if n < 14 {
            return Err("too few ALB access-log fields");
        }
        let tok = |k: usize| &line[t[k].0..t[k].1];
        if !matches!(
            tok(0),
            b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss"
        ) {
            return Err("not an ALB request type");
        }
        f.put_str("type", tok(0), Esc::None);
        let ts = self.clock.iso(tok(1))?;
        f.put_str("elb", tok(2), Esc::None);
        lb_common(line, &t, 3, f)?;
        for (k, name) in ALB_TAIL.iter().enumerate() {
            if 14 + k < n {
                f.put_str(name, tok(14 + k), Esc::None);
            }
        }
        Ok(Outcome::Event(Some(ts)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;

    #[test]
    fn s3_access() {
        let l = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be larkspur-exports [13/Oct/2026:10:31:02 +0000] 203.0.113.66 arn:aws:iam::123456789012:user/svc-reports 3E57427F3EXAMPLE REST.GET.OBJECT exports/customers-2026-10.csv.gz "GET /larkspur-exports/exports/customers-2026-10.csv.gz HTTP/1.1" 200 - 52428800 52428800 700 40 "-" "aws-cli/2.15.0" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader larkspur-exports.s3.us-east-1.amazonaws.com TLSv1.2 - -"#;
        let (ts, f) = parse_fmt(Format::S3Access, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:31:02Z"));
        assert_eq!(f["c-ip"], "203.0.113.66");
        assert_eq!(f["operation"], "REST.GET.OBJECT");
        assert_eq!(
            f["cs-uri-stem"],
            "/larkspur-exports/exports/customers-2026-10.csv.gz"
        );
        assert_eq!(
            (f["sc-status"].as_str(), f["sc-bytes"].as_str()),
            ("200", "52428800")
        );
        assert_eq!(f["cs-user-agent"], "aws-cli/2.15.0");
        assert!(!f.contains_key("error_code"));
    }

    #[test]
    fn alb_and_elb() {
        let l = r#"https 2026-10-13T10:00:00.186641Z app/web/50dc6c495c0c9188 198.51.100.23:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET https://shop.example:443/api/customers?page=2 HTTP/1.1" "curl/8.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "shop.example" "-" 0 2026-10-13T10:00:00.186000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#;
        let (ts, f) = parse_fmt(Format::Alb, l).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:00:00.186641Z"));
        assert_eq!(
            (f["c-ip"].as_str(), f["c-port"].as_str()),
            ("198.51.100.23", "2817")
        );
        assert_eq!(f["cs-host"], "shop.example");
        assert_eq!(f["cs-uri-query"], "/api/customers?page=2");
        assert_eq!(f["sc-bytes"], "366");
        assert_eq!(f["domain_name"], "shop.example");
        let l = r#"2026-10-13T10:00:00.080545Z my-elb 192.0.2.10:49759 10.0.0.5:80 0.000043 0.001337 0.000045 200 200 0 557 "GET http://shop.example:80/ HTTP/1.1" "curl/7.38.0" - -"#;
        let (_, f) = parse_fmt(Format::Elb, l).unwrap();
        assert_eq!(
            (
                f["elb"].as_str(),
                f["cs-uri-stem"].as_str(),
                f["sc-bytes"].as_str()
            ),
            ("my-elb", "/", "557")
        );
        assert!(parse_fmt(Format::Alb, &l[..60]).is_err());
    }
}
