//! The detection engine's guarantees that no single finding shows: searching whole buffers
//! finds what searching record by record finds (case-insensitive, escaped backslashes), and
//! the partial states of a scan merge to the same findings whatever order they finish in.

use leaktrail::detect::{self, DetectFactory, Engine};
use leaktrail::parse::time::{YearRef, Zone};
use leaktrail::parse::{Event, Fields, Format, Outcome, ParseCtx};
use leaktrail::rules::{RuleSet, builtin};
use leaktrail::scan::records::{FileCtx, Sink, SinkFactory};

fn engine() -> Engine {
    let mut set = RuleSet::default();
    builtin::load(&mut set);
    Engine::new(&set)
}

/// An access log with attacks in odd letter case and escaping, between ordinary requests,
/// and enough failed logins and errors from one client to fire correlations.
fn log() -> String {
    let mut out = String::new();
    for i in 0..400 {
        let s = i % 60;
        let m = i / 60;
        let line = match i % 40 {
            3 => format!(
                r#"203.0.113.66 - - [12/Oct/2026:22:{m:02}:{s:02} +0000] "GET /p?id=1%27%20UnIoN%20sElEcT%20null-- HTTP/1.1" 500 0 "-" "curl/8.0""#
            ),
            7 => format!(
                r#"203.0.113.66 - - [12/Oct/2026:22:{m:02}:{s:02} +0000] "GET /download?f=..\\..\\windows\\win.ini HTTP/1.1" 404 0 "-" "curl/8.0""#
            ),
            11 => format!(
                r#"203.0.113.66 - - [12/Oct/2026:22:{m:02}:{s:02} +0000] "GET /x HTTP/1.1" 200 10 "-" "SQLMap/1.7.2""#
            ),
            _ if i % 3 == 0 => format!(
                r#"203.0.113.66 - - [12/Oct/2026:22:{m:02}:{s:02} +0000] "POST /login HTTP/1.1" 401 20 "-" "python-requests/2.31""#
            ),
            _ => format!(
                r#"198.51.100.{} - - [12/Oct/2026:22:{m:02}:{s:02} +0000] "GET /products/{i} HTTP/1.1" 200 5120 "-" "Mozilla/5.0""#,
                i % 7
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Feeds `lines` (each a slice of `data`) to a sink, announcing the buffer first or not.
fn feed(sink: &mut impl Sink, data: &[u8], whole_buffer: bool, range: std::ops::Range<usize>) {
    let ctx = ParseCtx {
        zone: Zone::Utc,
        year: YearRef::fixed(2026),
    };
    let file = FileCtx {
        index: 0,
        path: "access.log".into(),
        format: Format::Access,
        window: (None, None),
    };
    if whole_buffer {
        sink.buffer(data, Format::Access);
    }
    let mut parser = Format::Access.parser(&ctx);
    let mut offset = 0;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let at = offset;
        offset += line.len() + 1;
        if line.is_empty() || !range.contains(&i) {
            continue;
        }
        let mut fields = Fields::default();
        let Ok(Outcome::Event(ts)) = parser.parse(line, &mut fields) else {
            panic!("line {i} does not parse");
        };
        let ev = Event {
            ts,
            line: i as u64 + 1,
            offset: at as u64,
            raw: line,
            fields: &fields,
        };
        sink.event(&file, Format::Access, &ev);
    }
}

fn findings_json(engine: &Engine, f: DetectFactory<'_>) -> Vec<String> {
    let state = f.into_state();
    detect::findings(engine, &state, &["access.log".to_string()])
        .iter()
        .map(|f| f.to_json().to_string())
        .collect()
}

#[test]
fn whole_buffer_search_finds_what_record_search_finds() {
    let engine = engine();
    let data = log();
    let mut out = Vec::new();
    for whole in [true, false] {
        let f = DetectFactory::new(&engine);
        let mut sink = f.make();
        feed(&mut sink, data.as_bytes(), whole, 0..usize::MAX);
        sink.finish();
        out.push(findings_json(&engine, f));
    }
    assert_eq!(out[0], out[1]);
    let titles = out[0].join("\n");
    for want in [
        "SQL injection",
        "Path traversal",
        "Attack or scanning tool user agent",
        "brute force",
    ] {
        assert!(titles.contains(want), "no finding for {want} in {titles}");
    }
}

#[test]
fn parts_merge_to_the_same_findings_in_any_order() {
    let engine = engine();
    let data = log();
    let parts = [0..130, 130..260, 260..usize::MAX];
    let run = |order: [usize; 3]| {
        let f = DetectFactory::new(&engine);
        let mut sinks: Vec<_> = (0..3).map(|_| f.make()).collect();
        for (sink, range) in sinks.iter_mut().zip(parts.clone()) {
            feed(sink, data.as_bytes(), true, range);
        }
        let mut sinks: Vec<Option<_>> = sinks.into_iter().map(Some).collect();
        for i in order {
            sinks[i].take().unwrap().finish();
        }
        findings_json(&engine, f)
    };
    let whole = {
        let f = DetectFactory::new(&engine);
        let mut sink = f.make();
        feed(&mut sink, data.as_bytes(), true, 0..usize::MAX);
        sink.finish();
        findings_json(&engine, f)
    };
    assert!(!whole.is_empty());
    assert_eq!(run([0, 1, 2]), whole);
    assert_eq!(run([2, 0, 1]), whole);
    assert_eq!(run([1, 2, 0]), whole);
}

/// A file of one size downloaded in full by many clients is public content: those large
/// responses, and the bytes-out sums they make, are lowered to low and say why. An export
/// fetched by one client from the same site stays high, and so does a download of the public
/// path at another size (a dynamic export that shares its path).
#[test]
fn a_file_many_clients_download_is_public_content() {
    let engine = engine();
    let mut log = String::new();
    // Over six days: a site's public download.
    for c in 1..=6 {
        log.push_str(&format!(
            "192.0.2.{c} - - [1{c}/Oct/2026:10:00:00 +0000] \"GET /misc/sample.log HTTP/1.1\" 200 54306753 \"-\" \"Mozilla/5.0\"\n"
        ));
    }
    // Within an hour from six addresses: a stolen dump passed around, not public content.
    for c in 1..=6 {
        log.push_str(&format!(
            "198.51.100.{c} - - [19/Oct/2026:03:0{c}:00 +0000] \"GET /backup/db.tar HTTP/1.1\" 200 734003200 \"-\" \"curl/8.0\"\n"
        ));
    }
    log.push_str("203.0.113.66 - - [12/Oct/2026:18:00:00 +0000] \"GET /admin/export/customers.csv HTTP/1.1\" 200 52244618 \"-\" \"python-requests/2.31\"\n");
    log.push_str("203.0.113.77 - - [12/Oct/2026:19:00:00 +0000] \"GET /misc/sample.log HTTP/1.1\" 200 61000000 \"-\" \"curl/8.0\"\n");
    let factory = DetectFactory::new(&engine);
    let mut sink = factory.make();
    feed(&mut sink, log.as_bytes(), true, 0..usize::MAX);
    sink.finish();
    let state = factory.into_state();
    let found = detect::findings(&engine, &state, &["access.log".to_string()]);
    let large = |ip: &str| {
        found
            .iter()
            .find(|f| f.title == "Single very large response" && f.ips == [ip])
            .unwrap_or_else(|| panic!("no large response for {ip}"))
    };
    let public = large("192.0.2.3");
    assert_eq!(public.level, "low");
    assert_eq!(public.targets, ["/misc/sample.log (54306753 bytes)"]);
    assert!(
        public.detail.contains("public content") && public.detail.contains("6 clients"),
        "{}",
        public.detail
    );
    assert_eq!(large("203.0.113.66").level, "high");
    assert_eq!(large("198.51.100.4").level, "high");
    assert_eq!(large("203.0.113.77").level, "high");
    // The same client's bytes out (value sum by address) is those downloads: lowered too.
    let sum = found
        .iter()
        .find(|f| f.title == "Large volume of data sent to one client" && f.ips == ["192.0.2.3"])
        .expect("bytes-out finding");
    assert_eq!(sum.level, "low");
    assert!(
        sum.detail.contains("mostly public content"),
        "{}",
        sum.detail
    );
    let export = found
        .iter()
        .find(|f| f.title == "Large volume of data sent to one client" && f.ips == ["203.0.113.66"])
        .expect("bytes-out finding of the export");
    assert_eq!(export.level, "high");
}
