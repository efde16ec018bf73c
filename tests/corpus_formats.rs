//! The corpus suite for the parsers: real third-party logs with known answers (see
//! ../shared/corpus and each folder's SOURCE.md). Each test prints its agreement rate; any
//! disagreement that remains is explained where it is asserted.

mod common;

use common::{Ev, corpus, pct, scan_collect};
use leaktrail::parse::{Format, Zone};
use leaktrail::scan::{Options, ScanResult, Status};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

fn scan(path: &Path) -> (ScanResult, Vec<Ev>) {
    scan_collect(&Options::new(vec![path.to_path_buf()]))
}

fn file<'a>(r: &'a ScanResult, name: &str) -> &'a leaktrail::scan::FileReport {
    r.files
        .iter()
        .find(|f| f.rel == name || f.rel.ends_with(&format!("/{name}")))
        .unwrap_or_else(|| panic!("{name} not in the report"))
}

fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect()
}

/// loghub's structured CSVs give host, program, pid and message per line. Known differences:
/// a program name with a space (`syslogd 1.4.1:`) or a leading `--` is not a syslog tag to
/// leaktrail, and the CSV trims whitespace that the raw lines keep.
#[test]
fn loghub_openssh_and_linux_fields() {
    let Some(dir) = corpus("loghub") else {
        return;
    };
    // (folder, host column, program column or fixed, pid column, content column)
    for (name, host_col, prog_col, pid_col, min) in [
        ("OpenSSH", "Component", None, "Pid", 100.0),
        ("Linux", "Level", Some("Component"), "PID", 98.0),
    ] {
        let log = dir.join(format!("{name}/{name}_2k.log"));
        let (r, events) = scan(&log);
        assert_eq!(
            file(&r, &format!("{name}_2k.log")).format,
            Some(Format::Syslog)
        );
        let by_line: HashMap<u64, &Ev> = events.iter().map(|e| (e.line, e)).collect();
        let rows = csv_rows(&dir.join(format!("{name}/{name}_2k.log_structured.csv")));
        let hdr = csv::Reader::from_path(dir.join(format!("{name}/{name}_2k.log_structured.csv")))
            .unwrap()
            .headers()
            .unwrap()
            .clone();
        let col = |row: &csv::StringRecord, c: &str| {
            row.get(hdr.iter().position(|h| h == c).unwrap())
                .unwrap()
                .trim()
                .to_string()
        };
        let mut ok = 0;
        for row in &rows {
            let line: u64 = col(row, "LineId").parse().unwrap();
            let Some(ev) = by_line.get(&line) else {
                continue;
            };
            let get = |k: &str| ev.get(k).unwrap_or("").trim().to_string();
            let prog = prog_col.map_or("sshd".to_string(), |c| col(row, c));
            // loghub keeps `sshd(pam_unix)` as the component; leaktrail reads the program
            // (sshd) and PAM's module apart.
            let (prog, module) = match prog.split_once("(pam_") {
                Some((p, m)) if m.ends_with(')') => {
                    (p.to_string(), format!("pam_{}", &m[..m.len() - 1]))
                }
                _ => (prog, String::new()),
            };
            if get("host") == col(row, host_col)
                && get("process") == prog
                && (module.is_empty() || get("pam_module") == module)
                && get("pid") == col(row, pid_col)
                && get("message") == col(row, "Content")
            {
                ok += 1;
            }
        }
        let rate = pct(ok, rows.len());
        println!(
            "loghub {name}: fields agree on {ok}/{} lines = {rate:.1}%",
            rows.len()
        );
        assert_eq!(events.len(), 2000, "every line is an event");
        assert!(rate >= min, "{name}: {rate:.1}% < {min}%");
    }
}

/// pgBadger's fixtures and the counts its tests assert.
#[test]
fn pgbadger_counts() {
    let Some(dir) = corpus("pgbadger-fixtures") else {
        return;
    };
    let (r, events) = scan(&dir);
    let of = |name: &'static str| events.iter().filter(move |e| e.path.ends_with(name));
    // light.postgres.log.bz2: 629 statements with a duration (all db=postgres), 630 lines.
    let light = file(&r, "light.postgres.log.bz2");
    assert_eq!(
        (light.format, light.stats.lines, light.stats.unparsed),
        (Some(Format::Postgres), 630, 0)
    );
    let stmts = of("light.postgres.log.bz2")
        .filter(|e| {
            e.get("duration_ms").is_some()
                && e.get("statement").is_some()
                && e.get("database") == Some("postgres")
        })
        .count();
    assert_eq!(stmts, 629);
    // stmt_type.log: 12 statements, one per line, UTF-8 text intact.
    let st: Vec<_> = of("stmt_type.log")
        .filter_map(|e| e.get("statement"))
        .collect();
    assert_eq!(st.len(), 12);
    assert!(st.iter().any(|s| s.contains("forêt & océan")));
    // begin_end.log: 8 disconnections (CET) at the listed local times.
    let disc: Vec<String> = of("begin_end.log")
        .filter(|e| {
            e.get("message")
                .is_some_and(|m| m.starts_with("disconnection:"))
        })
        .map(|e| utc(e.secs().unwrap()))
        .collect();
    assert_eq!(disc.len(), 8);
    assert_eq!(disc[0], "2021-02-14T00:34:02Z");
    // cloudsql.log.gz: 151 authorised connections of cloudsqladmin (JSON lines).
    let cs = of("cloudsql.log.gz")
        .filter(|e| {
            e.raw
                .contains("connection authorized: user=cloudsqladmin database=cloudsqladmin")
        })
        .count();
    assert_eq!(cs, 151);
    assert_eq!(file(&r, "cloudsql.log.gz").stats.parsed, 1343);
    // rds.log.bz2: 114,604 lines, each an event with the client of its prefix.
    let rds = file(&r, "rds.log.bz2");
    assert_eq!((rds.stats.lines, rds.stats.parsed), (114_604, 114_604));
    let client = of("rds.log.bz2")
        .filter(|e| e.raw.contains("192.168.1.201"))
        .count();
    assert_eq!(client, 113_784);
    // pg-timezones.log: the lines say UTC.
    let tz = file(&r, "pg-timezones.log");
    assert_eq!(
        tz.stats.first.map(|t| utc(t.secs())).as_deref(),
        Some("2021-05-27T17:00:00Z")
    );
    assert_eq!(
        tz.stats.last.map(|t| utc(t.secs())).as_deref(),
        Some("2021-05-27T17:46:39Z")
    );
    // csv_statement_without_duration.log: 2 csvlog records.
    assert_eq!(
        file(&r, "csv_statement_without_duration.log").stats.parsed,
        2
    );
    // pg_rawcsv.log is stderr format with two bare pg_ctl lines, reported as unparsed.
    let raw = file(&r, "pg_rawcsv.log");
    assert_eq!((raw.stats.parsed, raw.stats.unparsed), (12, 2));
    println!("pgbadger: all asserted counts agree (629, 12, 8, 151, 114604, 2)");
}

/// Percona's general-log samples: event counts from Percona's own tests, and fields.
#[test]
fn percona_general_log_events() {
    let Some(dir) = corpus("percona-mysql-genlogs") else {
        return;
    };
    let (r, events) = scan(&dir);
    for (name, want) in [
        ("genlog001.txt", 7),
        ("genlog002.txt", 2),
        ("genlog003.txt", 7),
        ("genlog004.txt", 4),
        ("pt-1573-general-log-system.log", 5),
    ] {
        let f = file(&r, name);
        assert_eq!(f.format, Some(Format::MysqlGeneral), "{name}");
        assert_eq!((f.stats.parsed, f.stats.unparsed), (want, 0), "{name}");
    }
    let g1: Vec<_> = events
        .iter()
        .filter(|e| e.path.ends_with("genlog001.txt"))
        .collect();
    assert_eq!(g1[0].get("user"), Some("root"));
    assert_eq!(g1[0].get("database"), Some("db1"));
    let q: Vec<&str> = g1[1].get("query").unwrap().split_whitespace().collect();
    assert_eq!(
        q.join(" "),
        "SELECT foo FROM tbl WHERE col=12345 ORDER BY col"
    );
    assert_eq!(
        g1[1].get("query").unwrap().lines().count(),
        4,
        "a four-line query"
    );
    assert_eq!(g1[1].ts, g1[0].ts, "inherits the previous timestamp");
    let g4: Vec<_> = events
        .iter()
        .filter(|e| e.path.ends_with("genlog004.txt"))
        .collect();
    assert_eq!(
        (g4[0].get("user"), g4[0].get("outcome")),
        (Some("nobody"), Some("failure"))
    );
    assert_eq!(
        (g4[3].get("user"), g4[3].get("c-ip"), g4[3].get("database")),
        (Some("payments_r"), Some("1.2.3.4"), Some("sar"))
    );
    println!("percona: 7/2/7/4/5 events as Percona's tests expect");
}

/// The 2004 honeypot: 26 rotations (24 gzipped, 3 of them empty), every line parsed or reported.
#[test]
fn honeynet_every_line() {
    let Some(dir) = corpus("honeynet-redhat-httpd") else {
        return;
    };
    let opts = Options {
        filter: leaktrail::input::Filter::new(&["access_log*".into()], &[]).unwrap(),
        ..Options::new(vec![dir])
    };
    let (r, events) = scan_collect(&opts);
    let files: Vec<_> = r
        .files
        .iter()
        .filter(|f| f.status == Status::Read)
        .collect();
    assert_eq!(files.len(), 26);
    let sum =
        |f: fn(&leaktrail::scan::Stats) -> u64| files.iter().map(|x| f(&x.stats)).sum::<u64>();
    assert_eq!(sum(|s| s.lines), 38_490);
    assert_eq!(sum(|s| s.blank), 3);
    assert_eq!((sum(|s| s.parsed), sum(|s| s.unparsed)), (38_487, 0));
    assert_eq!(sum(|s| s.invalid_utf8), 1_052);
    let mut methods: BTreeMap<&str, usize> = BTreeMap::new();
    let mut status: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        *methods
            .entry(e.get("cs-method").unwrap_or("-"))
            .or_default() += 1;
        *status.entry(e.get("sc-status").unwrap_or("?")).or_default() += 1;
    }
    println!("honeynet: methods {methods:?}");
    println!("honeynet: status {status:?}");
    for (m, n) in [
        ("GET", 18_388),
        ("PROPFIND", 15_244),
        ("OPTIONS", 2_798),
        ("SEARCH", 1_069),
        ("CONNECT", 427),
        ("HEAD", 180),
        ("POST", 42),
    ] {
        assert_eq!(methods.get(m), Some(&n), "{m}");
    }
    for (s, n) in [
        ("404", 23_682),
        ("200", 11_884),
        ("414", 1_048),
        ("405", 761),
        ("400", 748),
        ("408", 229),
    ] {
        assert_eq!(status.get(s), Some(&n), "{s}");
    }
    assert!(events.iter().all(|e| e.format == Format::Access));
    let ips: std::collections::HashSet<_> = events.iter().filter_map(|e| e.get("c-ip")).collect();
    assert_eq!(ips.len(), 9_269);
}

/// Elastic's Apache sample: 10,000 records, the one with an unterminated user agent included.
#[test]
fn elastic_apache_sample() {
    let Some(dir) = corpus("elastic-examples-apache/apache_logs") else {
        return;
    };
    let (r, events) = scan(&dir);
    assert_eq!(r.files[0].stats.parsed, 10_000);
    let ok = events
        .iter()
        .filter(|e| e.get("sc-status") == Some("200"))
        .count();
    assert_eq!(ok, 9_126);
    let cut = events.iter().find(|e| e.line == 8_899).unwrap();
    assert!(
        cut.get("cs-user-agent")
            .unwrap()
            .starts_with("Mozilla/5.0 (compatible; Googlebot/2.1")
    );
}

/// CloudTrail: every record of the Stratus delivery files is an event, and each labelled event
/// is there with its time; the OTRF JSON-lines export gives its 11 attacker events.
#[test]
fn cloudtrail_sets() {
    let Some(dir) = corpus("invictus-aws-stratus") else {
        return;
    };
    let (r, events) = scan(&dir.join("CloudTrail"));
    assert!(
        r.files
            .iter()
            .all(|f| f.format == Some(Format::CloudTrailDelivery))
    );
    assert_eq!(events.len(), 2_900);
    let by_id: HashMap<&str, &Ev> = events
        .iter()
        .filter_map(|e| Some((e.get("eventID")?, e)))
        .collect();
    assert_eq!(by_id.len(), 2_900);
    let labels = csv_rows(&dir.join("labels_events.csv"));
    let mut ok = 0;
    for row in &labels {
        let (time, id) = (&row[0], &row[1]);
        if by_id
            .get(id)
            .is_some_and(|e| utc(e.secs().unwrap()) == time)
        {
            ok += 1;
        }
    }
    println!(
        "invictus: {ok}/{} labelled events found with their time",
        labels.len()
    );
    assert_eq!(ok, labels.len());
    let bytes = events
        .iter()
        .filter(|e| e.get("additionalEventData.bytesTransferredOut").is_some())
        .count();
    assert_eq!(bytes, 267);

    let Some(otrf) =
        corpus("otrf-aws-ec2-proxy-s3-exfil/ec2_proxy_s3_exfiltration_2020-09-14011940.json")
    else {
        return;
    };
    let (r, events) = scan(&otrf);
    assert_eq!(r.files[0].format, Some(Format::CloudTrailLines));
    assert_eq!(events.len(), 103);
    let attacker: Vec<_> = events
        .iter()
        .filter(|e| e.get("userIdentity.accessKeyId") == Some("ASIA5FLZVX4OPVKKVBMX"))
        .collect();
    assert_eq!(attacker.len(), 11);
    let first = attacker.iter().min_by_key(|e| e.ts).unwrap();
    assert_eq!(
        (first.line, utc(first.secs().unwrap()).as_str()),
        (99, "2020-09-14T01:00:04Z")
    );
    let gets: Vec<_> = attacker
        .iter()
        .filter(|e| e.get("eventName") == Some("GetObject"))
        .collect();
    assert_eq!(gets.len(), 2);
    assert!(
        gets.iter()
            .all(|e| e.get("additionalEventData.bytesTransferredOut") == Some("89.0"))
    );
    println!("otrf: 103 events, 11 attacker events, 2 GetObject of 89 bytes");
}

/// lnav's edge cases: each parses or is reported, never lost.
#[test]
fn lnav_edge_cases() {
    let Some(dir) = corpus("lnav-test-logs") else {
        return;
    };
    let (r, events) = scan(&dir);
    for f in r.files.iter().filter(|f| f.status == Status::Read) {
        let s = &f.stats;
        assert_eq!(
            s.records,
            s.parsed + s.unparsed + s.meta,
            "{}: every record accounted for",
            f.rel
        );
    }
    let ev =
        |name: &str| -> Vec<&Ev> { events.iter().filter(|e| e.path.ends_with(name)).collect() };
    // Year rollover: Dec then Jan is the next year.
    let y = ev("logfile_syslog.1");
    let year = |e: &Ev| utc(e.secs().unwrap())[..4].parse::<i32>().unwrap();
    assert_eq!(year(y.last().unwrap()), year(y[0]) + 1);
    // Mixed zones, all the same minute in UTC, in order.
    let z: Vec<String> = ev("logfile_with_zones.0")
        .iter()
        .map(|e| utc(e.secs().unwrap()))
        .collect();
    assert_eq!(z, ["2022-08-27T14:22:01Z"; 3]);
    assert_eq!(
        utc(ev("logfile_yday.0")[1].secs().unwrap()),
        "2014-11-29T16:56:38Z"
    );
    assert_eq!(
        utc(ev("logfile_epoch.0")[0].secs().unwrap()),
        "2015-04-10T02:58:07Z"
    );
    // W3C FTP log without a date column: the date comes from #Date and changes mid-file.
    let w = ev("logfile_w3c.2");
    assert_eq!(w.len(), 14);
    assert!(utc(w.last().unwrap().secs().unwrap()).starts_with("2000-10-10"));
    assert!(file(&r, "logfile_invalid_utf8.0").stats.invalid_utf8 >= 1);
    let gz = file(&r, "textfile_broken_gz.txt.gz");
    assert!(
        gz.problems
            .iter()
            .any(|p| p.contains("damaged or truncated")),
        "{:?}",
        gz.problems
    );
    let crlf = ev("logfile_crlf.0");
    assert!(crlf.iter().all(|e| !e.raw.ends_with('\r')));
    println!(
        "lnav: {} files, every record parsed or reported",
        r.files.len()
    );
}

/// Elastic Beats samples: the cloud and IIS formats and the PostgreSQL csvlog.
#[test]
fn elastic_beats_samples() {
    let Some(dir) = corpus("elastic-beats-samples") else {
        return;
    };
    let (r, events) = scan(&dir);
    for (name, fmt, parsed) in [
        ("aws-s3-server-access.log", Format::S3Access, 5),
        ("aws-elb-example-http.log", Format::Elb, 2),
        ("aws-alb-example-http.log", Format::Alb, 9),
        ("linux-auth-test.log", Format::Syslog, 10),
        (
            "postgresql-11-connection-disconnection.csv.log",
            Format::PostgresCsv,
            20,
        ),
    ] {
        let f = file(&r, name);
        assert_eq!((f.format, f.stats.parsed), (Some(fmt), parsed), "{name}");
    }
    let iis = file(&r, "iis-access-test.log");
    assert_eq!(iis.format, Some(Format::W3c));
    assert_eq!(
        iis.stats.parsed, 5,
        "the two Struts injection lines fall back to the text parser"
    );
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.get("level") == Some("FATAL") && e.get("sql_state_code") == Some("28P01"))
        .collect();
    assert_eq!(failed.len(), 4);
    assert!(failed.iter().all(|e| e.get("c-ip") == Some("172.24.0.1")));
    let auth: Vec<_> = events
        .iter()
        .filter(|e| e.path.ends_with("linux-auth-test.log"))
        .collect();
    assert_eq!(
        (
            auth[0].get("user"),
            auth[0].get("src_ip"),
            auth[0].get("outcome")
        ),
        (Some("vagrant"), Some("10.0.2.2"), Some("success"))
    );
}

/// Every file of the whole corpus is listed (read or with the reason it was not), and the scan
/// finishes.
#[test]
fn whole_corpus_is_accounted_for() {
    let Some(dir) = corpus("") else {
        return;
    };
    let mut opts = Options::new(vec![dir.clone()]);
    opts.zone = Zone::Utc;
    let (r, _) = scan_collect(&opts);
    let on_disk = walkdir::WalkDir::new(&dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .count();
    assert_eq!(r.files.len(), on_disk);
    let read = r.read_count();
    let parsed: u64 = r.files.iter().map(|f| f.stats.parsed).sum();
    println!(
        "whole corpus: {} files, {read} read, {parsed} events",
        r.files.len()
    );
    assert!(
        r.files
            .iter()
            .all(|f| f.status != Status::Read || f.sha256.as_ref().is_some_and(|h| h.len() == 64))
    );
}
