//! The case directory on sample-logs/: case.json against its JSON Schema, the top incidents
//! against the answer key (tests/data/sample_expected.json), Timesketch's mandatory fields,
//! the CSV's frozen header and inert cells, byte-for-byte determinism, and snapshots of
//! every output (insta).

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

const FILES: [&str; 5] = [
    "case.json",
    "timeline.jsonl",
    "timeline.csv",
    "report.md",
    "report.html",
];

/// One scan of sample-logs/ into a temporary directory, shared by the tests.
fn case_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        scan_into(&dir.path().join("case"));
        dir
    })
    .path()
}

fn scan_into(out: &Path) {
    Command::cargo_bin("leaktrail")
        .unwrap()
        .args([
            "scan",
            "sample-logs",
            "--exclude",
            "EXPECTED.md",
            "-q",
            "-o",
        ])
        .arg(out)
        .assert()
        .success();
}

fn read(name: &str) -> String {
    std::fs::read_to_string(case_dir().join("case").join(name)).unwrap()
}

fn case() -> Value {
    serde_json::from_str(&read("case.json")).unwrap()
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string("tests/data/sample_expected.json").unwrap())
        .unwrap()
}

/// The run's own times and the temporary output path, which differ from run to run.
fn masked(text: &str, out: &Path) -> String {
    let out = out.display().to_string();
    text.replace(&out, "<OUT>")
        .lines()
        .map(|l| {
            if l.contains("\"started_at\"") || l.contains("\"finished_at\"") {
                "<RUN TIME>".to_string()
            } else {
                mask_made(l)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reports say when they were made; that time is masked.
fn mask_made(line: &str) -> String {
    let re = regex::Regex::new(
        r"(made |Started: |Finished: |<th>Started</th><td>|<th>Finished</th><td>)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z",
    )
    .unwrap();
    re.replace_all(line, "${1}<RUN TIME>").into_owned()
}

#[test]
fn case_json_follows_its_schema() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("docs/case.schema.json").unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let case = case();
    let errors: Vec<String> = validator
        .iter_errors(&case)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is not vacuous: a broken case file fails it.
    let mut broken = case.clone();
    broken["findings"][0]["level"] = Value::from("severe");
    assert!(!validator.is_valid(&broken));
}

/// The steps of the answer key in which `ip` acts.
fn steps_of(ip: &str) -> Vec<Value> {
    expected()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["actors"]["ips"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == ip)
        })
        .cloned()
        .collect()
}

/// A JSON array of strings.
fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect()
}

fn within_1pct(got: u64, want: u64) -> bool {
    (got as f64 - want as f64).abs() <= want as f64 * 0.01
}

fn entities(inc: &Value) -> BTreeSet<String> {
    ["ips", "users", "keys"]
        .iter()
        .flat_map(|k| inc["entities"][k].as_array().unwrap().iter())
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn top_incident_tells_the_answer_keys_story() {
    let case = case();
    let exp = expected();
    let top = &case["incidents"][0];
    assert_eq!(top["id"], "INC-1");
    assert_eq!(top["level"], "critical");
    let steps = steps_of("203.0.113.66");
    let mut want_actors = BTreeSet::new();
    for s in &steps {
        for k in ["ips", "users", "keys"] {
            for v in s["actors"][k].as_array().unwrap() {
                want_actors.insert(v.as_str().unwrap().to_string());
            }
        }
    }
    let got = entities(top);
    assert!(
        want_actors.is_subset(&got),
        "missing {:?}",
        want_actors.difference(&got).collect::<Vec<_>>()
    );
    // The dump from the bastion with the stolen database password is the same attack:
    // `sudo pg_dump -U app_ro` by the attacker's account links app_ro's findings to it.
    let dump = exp["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "db-dump")
        .expect("the db-dump step");
    for u in dump["actors"]["users"].as_array().unwrap() {
        assert!(got.contains(u.as_str().unwrap()), "{u} not in INC-1");
    }
    // No benign actor in it.
    for b in exp["benign"].as_array().unwrap() {
        assert!(
            !got.contains(b["value"].as_str().unwrap()),
            "benign {b} in INC-1"
        );
    }
    let start = steps
        .iter()
        .map(|s| s["first"].as_str().unwrap())
        .min()
        .unwrap();
    assert_eq!(top["first_seen"], start);
    // What was taken and how much: the web bytes and the S3 bytes of its steps.
    let bytes: u64 = steps.iter().map(|s| s["bytes"].as_u64().unwrap_or(0)).sum();
    let got_bytes = top["bytes_out"].as_u64().unwrap();
    assert!(within_1pct(got_bytes, bytes), "{got_bytes} vs {bytes}");
    assert_eq!(top["ongoing"], exp["still_ongoing"]);
    assert!(top["summary"].as_str().unwrap().contains("Still active"));
    let tactics = strings(&top["tactics"]);
    for t in [
        "reconnaissance",
        "initial-access",
        "persistence",
        "defense-evasion",
        "exfiltration",
    ] {
        assert!(tactics.contains(&t), "{t} not in {tactics:?}");
    }
    // CloudTrail's silence from the attacker's StopLogging to the responder's restart is part
    // of the attack, and its summary says what the logs cannot show.
    let gap = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "leaktrail-log-gap" && f["first_seen"] == "2026-10-13T10:56:12Z")
        .expect("the CloudTrail silence");
    assert_eq!(gap["incident"], "INC-1", "{gap}");
    assert!(
        top["summary"]
            .as_str()
            .unwrap()
            .contains("from 2026-10-13T10:56:12Z to 2026-10-13T11:38:27Z"),
        "{}",
        top["summary"]
    );
}

#[test]
fn second_incident_is_the_credential_stuffing_and_export() {
    let case = case();
    let inc = case["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| entities(i).contains("j.miller"))
        .expect("an incident names j.miller");
    let got = entities(inc);
    for v in [
        "198.51.100.23",
        "198.51.100.30",
        "j.miller",
        "lk_r071kyzqpqbmk98c3jys",
    ] {
        assert!(got.contains(v), "{v} not in {got:?}");
    }
    assert!(!got.contains("203.0.113.66"));
    let steps = steps_of("198.51.100.23");
    let bytes: u64 = steps.iter().map(|s| s["bytes"].as_u64().unwrap_or(0)).sum();
    assert!(within_1pct(inc["bytes_out"].as_u64().unwrap(), bytes));
    // The logs count rows only for the export (the scrape's rows are not logged).
    assert_eq!(inc["records"], 120000);
    assert_eq!(inc["first_seen"], "2026-10-13T09:00:00Z");
    assert_eq!(inc["ongoing"], false);
    // In the order reached: the hour of bytes out that began before the login reached
    // exfiltration when it crossed 50 MB, after the login, not at the window's first request.
    let tactics = strings(&inc["tactics"]);
    assert_eq!(
        tactics,
        [
            "credential-access",
            "initial-access",
            "privilege-escalation",
            "persistence",
            "collection",
            "exfiltration"
        ]
    );
    // The activity stopped, but the API key it minted was never revoked in these logs.
    let summary = inc["summary"].as_str().unwrap();
    assert!(
        summary.contains("Persistence set up") && summary.contains("lk_r071kyzqpqbmk98c3jys"),
        "{summary}"
    );
}

#[test]
fn findings_point_to_their_incident_and_incidents_to_their_findings() {
    let case = case();
    for inc in case["incidents"].as_array().unwrap() {
        for id in inc["finding_ids"].as_array().unwrap() {
            let f = case["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["id"] == *id)
                .unwrap();
            assert_eq!(f["incident"], inc["id"]);
        }
    }
    for a in case["actors"].as_array().unwrap() {
        for id in a["finding_ids"].as_array().unwrap() {
            assert!(
                case["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["id"] == *id)
            );
        }
    }
}

#[test]
fn timeline_jsonl_has_timesketchs_fields_in_time_order() {
    let text = read("timeline.jsonl");
    let mut last = i64::MIN;
    let mut n = 0;
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert!(!row["message"].as_str().unwrap().is_empty());
        assert!(!row["timestamp_desc"].as_str().unwrap().is_empty());
        let dt = chrono::DateTime::parse_from_rfc3339(row["datetime"].as_str().unwrap()).unwrap();
        let ts = row["timestamp"].as_i64().unwrap();
        assert_eq!(dt.timestamp_micros(), ts, "{line}");
        assert!(row["datetime"].as_str().unwrap().ends_with("+00:00"));
        assert!(ts >= last, "not sorted at {line}");
        last = ts;
        assert!(row["data_type"].as_str().unwrap().contains(':'), "{line}");
        assert!(row["tag"].is_array());
        n += 1;
    }
    assert_eq!(n, read("timeline.csv").lines().count() - 1);
}

#[test]
fn timeline_csv_has_the_frozen_header_and_inert_cells() {
    let text = read("timeline.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, leaktrail::report::timeline::CSV_HEADER);
    assert_eq!(header[0], "datetime");
    for rec in r.records() {
        let rec = rec.unwrap();
        assert_eq!(rec.len(), header.len());
        for cell in rec.iter() {
            assert!(!cell.contains(['\n', '\r']), "{cell}");
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t']), "{cell}");
        }
        assert_eq!(
            rec.get(17),
            Some(leaktrail::report::timeline::TIMELINE_VERSION)
        );
    }
}

#[test]
fn same_evidence_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("again");
    scan_into(&other);
    let first = case_dir().join("case");
    for name in FILES {
        let a = masked(&std::fs::read_to_string(first.join(name)).unwrap(), &first);
        let b = masked(&std::fs::read_to_string(other.join(name)).unwrap(), &other);
        assert!(a == b, "{name} differs between runs");
    }
}

#[test]
fn snapshots_of_every_output() {
    let dir = case_dir().join("case");
    for name in FILES {
        let text = masked(&std::fs::read_to_string(dir.join(name)).unwrap(), &dir);
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn html_report_is_self_contained() {
    let html = read("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "no scripts");
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(html.contains("INC-1"));
}

/// Attacker-controlled text (markup, formulas, terminal escapes) in the evidence stays inert
/// in every output.
#[test]
fn hostile_log_text_stays_inert() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    let mut log = String::new();
    for i in 0..3 {
        log.push_str(&format!(
            "203.0.113.9 - - [12/Oct/2026:22:00:0{i} +0000] \"GET /p?id=1%27%20UNION%20SELECT%20<script>alert(1)</script> HTTP/1.1\" 200 12 \"-\" \"sqlmap/1.7 =HYPERLINK(\\\"http://evil\\\") <img src=x onerror=alert(2)> \\x1b[31m\"\n"
        ));
    }
    std::fs::write(evidence.join("access.log"), log).unwrap();
    let out = dir.path().join("case");
    Command::cargo_bin("leaktrail")
        .unwrap()
        .args(["scan", "-q", "-o"])
        .arg(&out)
        .arg(&evidence)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the payload is shown, escaped"
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // Outside code fences, no raw markup; inside, a renderer shows text as is.
    let mut fence: Option<String> = None;
    let mut fenced_lines = 0;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|&c| c == '`').collect();
        match &fence {
            Some(f) if line == f.as_str() => fence = None,
            Some(_) => fenced_lines += 1,
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => assert!(
                !line.contains('<'),
                "raw markup outside a code block: {line}"
            ),
        }
    }
    assert!(fenced_lines >= 3, "the evidence lines are shown");
    assert!(!md.contains('\u{1b}'), "no terminal escape in the Markdown");
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    for rec in r.records() {
        for cell in rec.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
}

#[test]
fn notable_events_are_rows_of_their_own() {
    let rows: Vec<Value> = read("timeline.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let login = rows
        .iter()
        .find(|r| {
            r["timestamp_desc"] == "Event time"
                && r["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Successful SSH login — 203.0.113.66, deploy")
        })
        .expect("the attacker's SSH login is on the timeline");
    assert_eq!(login["incident_id"], "INC-1");
    assert_eq!(login["source_path"], "bastion/auth.log");
    assert!(
        login["datetime"]
            .as_str()
            .unwrap()
            .starts_with("2026-10-13T10:06:12")
    );
    let path = format!("sample-logs/{}", login["source_path"].as_str().unwrap());
    let text = std::fs::read(path).unwrap();
    let at = login["source_offset"].as_u64().unwrap() as usize;
    assert!(
        text[at..].starts_with(b"2026-10-13T10:06:12"),
        "the offset is the line's start"
    );
    assert!(
        std::str::from_utf8(&text[at..at + 120])
            .unwrap()
            .contains("Accepted password for deploy")
    );
    for title in [
        "Account granted an administrative role",
        "Large data export",
        "CloudTrail logging stopped",
    ] {
        assert!(
            rows.iter().any(|r| r["timestamp_desc"] == "Event time"
                && r["message"].as_str().unwrap().starts_with(title)),
            "{title} has an event row"
        );
    }
    // Context-only rules make rows, not findings.
    let case = case();
    assert!(
        !case["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["title"] == "Successful SSH login")
    );
}

#[test]
fn first_seen_finds_the_stolen_key_and_the_taken_over_account() {
    let case = case();
    let fs: Vec<&Value> = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"].as_str().unwrap().contains("never used before"))
        .collect();
    let key = fs
        .iter()
        .find(|f| f["entities"]["keys"][0] == "AKIAJ7SVCRPTEXAMPLE1")
        .expect("the stolen key from a new address");
    assert_eq!(key["entities"]["ips"][0], "203.0.113.66");
    assert_eq!(key["first_seen"], "2026-10-12T22:51:37Z");
    assert!(
        key["detail"]
            .as_str()
            .unwrap()
            .contains("before only from 10.0.1.0/24")
    );
    assert_eq!(key["incident"], "INC-1");
    let acct = fs
        .iter()
        .find(|f| f["entities"]["users"][0] == "j.miller")
        .expect("j.miller from a new network");
    assert_eq!(acct["entities"]["ips"][0], "198.51.100.23");
    assert!(acct["detail"].as_str().unwrap().contains("192.0.2.0/24"));
    assert_eq!(acct["incident"], "INC-2");
    // Customers hopping networks (one behind a benign corporate proxy) are low findings and make
    // no incident of their own; no medium one names a benign actor.
    let benign: BTreeSet<String> = expected()["benign"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["value"].as_str().unwrap().to_string())
        .collect();
    for f in &fs {
        if f["level"] == "low" {
            assert!(
                f["incident"].is_null() || f["incident"] == "INC-1" || f["incident"] == "INC-2",
                "{f}"
            );
            continue;
        }
        let ips = f["entities"]["ips"].as_array().unwrap();
        for v in ips.iter().chain(f["entities"]["users"].as_array().unwrap()) {
            assert!(!benign.contains(v.as_str().unwrap()), "benign {v} in {f}");
        }
    }
}

/// The nightly backup (pg_dump as `backup` at 02:00 on both nights) is said to be a scheduled
/// job and makes no incident; the attacker's dump as deploy, once, is in INC-1.
#[test]
fn the_nightly_backup_is_a_scheduled_job_not_an_incident() {
    let case = case();
    for inc in case["incidents"].as_array().unwrap() {
        let got = entities(inc);
        assert!(
            !got.contains("backup") && !got.contains("10.0.1.20"),
            "{inc}"
        );
    }
    let dumps: Vec<&Value> = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == "Database dump statement")
        .collect();
    let nightly = dumps
        .iter()
        .find(|f| f["entities"]["users"][0] == "backup")
        .expect("the backup's dump is a finding");
    assert!(
        nightly["detail"]
            .as_str()
            .unwrap()
            .contains("within the hour from 02:00 UTC, on 2 days: a scheduled job"),
        "{nightly}"
    );
    assert!(nightly["incident"].is_null());
    assert!(
        dumps
            .iter()
            .any(|f| f["incident"] == "INC-1"
                && !f["detail"].as_str().unwrap().contains("scheduled")),
        "{dumps:?}"
    );
}

#[test]
fn sequential_id_walking_is_found_for_the_scraper_only() {
    let case = case();
    let walks: Vec<&Value> = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == "Sequential id walking by one client")
        .collect();
    assert_eq!(walks.len(), 1, "{walks:?}");
    let w = walks[0];
    assert_eq!(w["entities"]["ips"][0], "198.51.100.23");
    assert_eq!(w["incident"], "INC-2");
    // The run is cut by the ids that answered 404; the longest is over a hundred, and the
    // finding names its ids and the collection walked.
    let run: u64 = w["detail"]
        .as_str()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(run >= 100, "{}", w["detail"]);
    assert_eq!(w["entities"]["targets"][0], "/api/customers/{id}");
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("fetched 1,963 ids between 10001 and 12000 of /api/customers/{id}"),
        "{w}"
    );
}

/// A probe that every server refused is an attempt: it does not count as a tactic reached,
/// and the summary says so.
#[test]
fn failed_attempts_are_not_steps_reached() {
    let case = case();
    let top = &case["incidents"][0];
    let reached: Vec<(&str, &str)> = top["tactics_reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tactic"].as_str().unwrap(),
                t["first_seen"].as_str().unwrap(),
            )
        })
        .collect();
    // The 404-answered injection and web-shell probes of 22:01-22:13 reach nothing; the
    // stolen key's first use from the attacker's address is the first access.
    assert!(
        reached.contains(&("initial-access", "2026-10-12T22:51:37Z")),
        "{reached:?}"
    );
    assert!(
        !reached.iter().any(|(t, _)| *t == "execution"),
        "{reached:?}"
    );
    let sqli = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "SQL injection attempt in a request")
        .unwrap();
    assert_eq!(sqli["failed"], sqli["count"]);
    assert!(
        top["summary"]
            .as_str()
            .unwrap()
            .contains("Tried without success: ")
    );
    assert!(
        top["summary"]
            .as_str()
            .unwrap()
            .contains("SQL injection attempt")
    );
}

/// A timeline row points at the record of its own time, not at the finding's first reference.
#[test]
fn rows_point_at_the_record_of_their_time() {
    let rows: Vec<Value> = read("timeline.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut checked = 0;
    for r in rows.iter().filter(|r| r["data_type"] == "webserver:access") {
        let Some(off) = r["source_offset"].as_u64() else {
            continue;
        };
        let path = format!("sample-logs/{}", r["source_path"].as_str().unwrap());
        let raw = std::fs::read(&path).unwrap();
        let data = if path.ends_with(".gz") {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
                .unwrap();
            out
        } else {
            raw
        };
        let line = &data[off as usize..];
        let line = &line[..line.iter().position(|&c| c == b'\n').unwrap_or(line.len())];
        let line = String::from_utf8_lossy(line);
        // The access log's local time, turned into UTC, is the row's time.
        let stamp = line.split('[').nth(1).unwrap().split(']').next().unwrap();
        let t = chrono::DateTime::parse_from_str(stamp, "%d/%b/%Y:%H:%M:%S %z").unwrap();
        let row_t = chrono::DateTime::parse_from_rfc3339(r["datetime"].as_str().unwrap()).unwrap();
        assert_eq!(t, row_t, "{} points at {line}", r["message"]);
        checked += 1;
    }
    assert!(checked >= 20, "{checked} rows checked");
}
