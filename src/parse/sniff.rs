//! Format detection: each candidate parser tries the first lines of a file and the one that
//! parses most of them wins (ties go to the more specific format, earlier in [`Format::ALL`]).

use super::event::Fields;
use super::{Format, Outcome, ParseCtx};

/// How many lines detection looks at.
const SAMPLE_LINES: usize = 40;

/// Detects the format of a file from its first bytes (decompressed).
pub fn detect(head: &[u8], ctx: &ParseCtx) -> Format {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = head.iter().position(|c| !c.is_ascii_whitespace());
    let Some(first) = first else {
        return Format::Generic;
    };
    if (head[first] == b'{' || head[first] == b'[')
        && let Some(f) = detect_json(&head[first..])
    {
        return f;
    }
    let lines = sample(head);
    let mut best = (0usize, Format::Generic);
    for &fmt in Format::ALL {
        if matches!(fmt, Format::CloudTrailDelivery | Format::Generic) {
            continue;
        }
        let score = score(fmt, &lines, ctx);
        if score > best.0 {
            best = (score, fmt);
        }
    }
    // A specific format wins when it reads a third of what the generic parser reads: lines it
    // does not recognise still fall back to the generic parser one by one, so nothing is lost
    // and the lines it does recognise keep their fields.
    let generic = score(Format::Generic, &lines, ctx);
    if best.0 > 0 && best.0 * 3 >= generic {
        best.1
    } else {
        Format::Generic
    }
}

/// JSON documents: a CloudTrail delivery file, CloudTrail records per line, or app JSON.
fn detect_json(doc: &[u8]) -> Option<Format> {
    let open = &doc[1..doc.len().min(200)];
    let key_pos = open.iter().position(|c| !c.is_ascii_whitespace())?;
    if doc[0] == b'{' && open[key_pos..].starts_with(b"\"Records\"") {
        return Some(Format::CloudTrailDelivery);
    }
    let line_end = memchr::memchr(b'\n', doc).unwrap_or(doc.len());
    let line = &doc[..line_end];
    let has = |k: &[u8]| memchr::memmem::find(line, k).is_some();
    if has(b"\"eventSource\"")
        && has(b"\"eventName\"")
        && (has(b"\"eventVersion\"") || has(b"\"awsRegion\""))
    {
        return Some(Format::CloudTrailLines);
    }
    if doc[0] == b'{' {
        return Some(Format::Json);
    }
    None
}

/// Up to [`SAMPLE_LINES`] complete, non-empty lines (without `\r`).
fn sample(head: &[u8]) -> Vec<&[u8]> {
    let complete = match memchr::memrchr(b'\n', head) {
        Some(p) if head.len() >= 64 * 1024 => &head[..p],
        _ => head,
    };
    complete
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.trim_ascii().is_empty())
        .take(SAMPLE_LINES)
        .collect()
}

/// How many sample lines `fmt` turns into events with a time. Header lines (W3C `#Fields`)
/// count as parsed for their format; continuation lines are skipped.
fn score(fmt: Format, lines: &[&[u8]], ctx: &ParseCtx) -> usize {
    let mut parser = fmt.parser(ctx);
    let cont = match fmt.framing() {
        super::Framing::Continued(f) => Some(f),
        _ => None,
    };
    let mut n = 0;
    let mut events = 0;
    let mut timed = 0;
    for line in lines {
        if cont.is_some_and(|c| c(line)) {
            continue;
        }
        let mut f = Fields::default();
        match parser.parse(line, &mut f) {
            Ok(Outcome::Event(ts)) => {
                n += 1;
                events += 1;
                timed += usize::from(ts.is_some());
            }
            Ok(Outcome::Meta) => n += 1,
            _ => {}
        }
    }
    // Untimed events alone (a MySQL general log without stamps) must be most of the sample.
    if timed > 0 || (events > 0 && events * 2 >= lines.len()) {
        n
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::ctx;
    use super::*;

    fn d(s: &str) -> Format {
        detect(s.as_bytes(), &ctx())
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(
            d(r#"{"Records":[{"eventName":"x"}]}"#),
            Format::CloudTrailDelivery
        );
        assert_eq!(
            d(
                "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}\n"
            ),
            Format::CloudTrailLines
        );
        assert_eq!(
            d("{\"ts\":\"2026-10-13T09:13:55Z\",\"event\":\"login\"}\n"),
            Format::Json
        );
        assert_eq!(
            d("1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n"),
            Format::Access
        );
        assert_eq!(
            d(
                "Oct 13 10:02:11 bastion sshd[1]: Accepted publickey for a from 1.2.3.4 port 2 ssh2\n"
            ),
            Format::Syslog
        );
        assert_eq!(
            d("2026-10-13T10:02:11.483920+00:00 bastion sshd[2]: x\n"),
            Format::Syslog
        );
        assert_eq!(
            d("2026-10-13 10:21:07.311 UTC [41233] app_ro@shop LOG:  statement: SELECT 1\n"),
            Format::Postgres
        );
        assert_eq!(
            d("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\n"),
            Format::ApacheError
        );
        assert_eq!(
            d("2012/04/09 11:53:29 [error] 2865#0: *66647 x, client: 1.2.3.4\n"),
            Format::NginxError
        );
        assert_eq!(
            d(
                "#Software: IIS\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n2026-10-13 10:00:00 1.2.3.4 GET / 200\n"
            ),
            Format::W3c
        );
        assert_eq!(
            d(
                "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\n#types\ttime\tstring\taddr\n1320279554.496300\tC1\t10.0.0.5\n"
            ),
            Format::Zeek
        );
        assert_eq!(
            d("2013-01-04 17:03:46 login authenticator failed\n"),
            Format::Generic
        );
        assert_eq!(d("just some words\nwithout any time\n"), Format::Generic);
        assert_eq!(
            d(
                "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://example.com/ - DIRECT/93.184.216.34 text/html\n"
            ),
            Format::Squid
        );
        let mixed = "1.2.3.4 - - [13/Oct/2026:09:14:02 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n[Thu Oct 13 12:24:49.880562 2022] [core:error] [pid 1] x\n";
        assert_eq!(d(mixed), Format::Access);
        assert_eq!(
            d(
                "/usr/sbin/mysqld, Version: 5.7.1 (x). started with:\nTcp port: 3306  Unix socket: /tmp/s\nTime                 Id Command    Argument\n2016-06-07T19:07:02.558338Z    3 Connect\tphp@localhost on  using Socket\n"
            ),
            Format::MysqlGeneral
        );
        assert_eq!(
            d(
                "/usr/sbin/mysqld, Version: 8.0.36 (x). started with:\nTcp port: 3306  Unix socket: /tmp/s\nTime                 Id Command    Argument\n# Time: 2026-10-13T10:20:31.123456Z\n# User@Host: app_ro[app_ro] @  [10.0.1.5]  Id:    42\n# Query_time: 3.1  Lock_time: 0.0 Rows_sent: 120000  Rows_examined: 120000\nSET timestamp=1791886831;\nSELECT * FROM customers;\n"
            ),
            Format::MysqlSlow
        );
    }
}
