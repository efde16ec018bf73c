//! The binary as a user runs it: `events`, `sources`, `scan` over evidence with bad input in
//! it, exit codes, determinism, and attacker-controlled text kept inert.

use assert_cmd::Command;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn leaktrail() -> Command {
    Command::cargo_bin("leaktrail").unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const A1: &str = "203.0.113.66 - - [12/Oct/2026:22:01:07 +0000] \"GET /.env HTTP/1.1\" 200 512 \"-\" \"nikto\"\n";
const A2: &str = "198.51.100.23 - - [13/Oct/2026:09:14:02 +0000] \"GET /api/customers?page=3 HTTP/1.1\" 200 48213 \"-\" \"Mozilla/5.0\"\r\n";

/// An evidence folder with rotations, damage and oddities.
fn evidence(dir: &Path) {
    let web = dir.join("web1");
    fs::create_dir_all(&web).unwrap();
    fs::write(web.join("access.log"), format!("{A2}{A1}")).unwrap();
    let mut two = gz(A1.as_bytes());
    two.extend(gz(A2.as_bytes()));
    fs::write(web.join("access.log.1.gz"), &two).unwrap();
    let big: String = (0..3000)
        .map(|i| A1.replace("/.env", &format!("/p{i}")))
        .collect();
    let z = gz(big.as_bytes());
    fs::write(web.join("access.log.2.gz"), &z[..z.len() / 2]).unwrap();
    fs::write(dir.join("empty.log"), b"").unwrap();
    fs::write(dir.join("core.bin"), b"\x7fELF\x02\x01\x01\0\0\0\0\0").unwrap();
    std::os::unix::fs::symlink(dir.join("gone.log"), dir.join("dangling.log")).unwrap();
    let mut odd = Vec::new();
    odd.extend_from_slice(b"2026-10-13T10:02:11+00:00 bastion sshd[1]: Failed password for root from 192.0.2.7 port 22 ssh2\n");
    odd.extend_from_slice(
        b"2026-10-13T10:02:12+00:00 bastion sshd[1]: bad \xff\xfe bytes \x1b[31mred\n",
    );
    odd.extend_from_slice(b"2026-10-13T10:02:13+00:00 bastion sshd[1]: ");
    odd.extend(std::iter::repeat_n(b'A', (1 << 20) + 100));
    odd.extend_from_slice(b"\nnot a log line at all\n");
    fs::write(dir.join("auth.log"), odd).unwrap();
}

/// Runs leaktrail with `args` then `path`, expects success, returns stdout.
fn stdout_of(args: &[&str], path: &Path) -> Vec<u8> {
    leaktrail()
        .args(args)
        .arg(path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

fn events_of(out: &[u8]) -> Vec<serde_json::Value> {
    out.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn events_over_damaged_evidence() {
    let dir = tempfile::tempdir().unwrap();
    evidence(dir.path());
    let out = leaktrail()
        .arg("events")
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let evs = events_of(&out.stdout);
    let by_file = |name: &str| {
        evs.iter()
            .filter(|e| e["source"]["path"].as_str().unwrap().ends_with(name))
            .count()
    };
    assert_eq!(by_file("web1/access.log"), 2);
    assert_eq!(by_file("access.log.1.gz"), 2, "both gzip members are read");
    let partial = by_file("access.log.2.gz");
    assert!(
        partial > 0 && partial < 3000,
        "a truncated gzip keeps what decoded: {partial}"
    );
    // The record the truncation cut is not read as a shorter one.
    let tail = A1.trim_end().rsplit_once(" 200 ").unwrap().1;
    for e in evs.iter().filter(|e| {
        e["source"]["path"]
            .as_str()
            .unwrap()
            .ends_with("access.log.2.gz")
    }) {
        assert!(e["raw"].as_str().unwrap().ends_with(tail), "{e}");
    }
    assert_eq!(by_file("auth.log"), 3);
    let plain: Vec<_> = evs
        .iter()
        .filter(|e| {
            e["source"]["path"]
                .as_str()
                .unwrap()
                .ends_with("web1/access.log")
        })
        .collect();
    assert_eq!(plain[0]["source"]["line"], 1);
    assert_eq!(plain[0]["source"]["offset"], 0);
    assert_eq!(plain[1]["source"]["line"], 2);
    assert_eq!(plain[1]["source"]["offset"], A2.len());
    assert_eq!(plain[0]["raw"], A2.trim_end());
    assert_eq!(plain[0]["fields"]["sc-bytes"], 48213);
    assert_eq!(plain[0]["fields"]["cs-uri-query"], "/api/customers?page=3");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}'),
        "escape sequences never reach the terminal"
    );
    assert!(text.contains("\\u001b[31mred"));
    assert!(text.contains("bad \u{fffd}\u{fffd} bytes"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not read"));
}

/// A gzip cut inside its first record: nothing is read as a record, and the problem says so.
#[test]
fn a_gzip_cut_inside_its_only_record_reads_none() {
    let (_dir, ev) = evidence_dir();
    let line = format!(
        "198.51.100.23 - - [13/Oct/2026:09:14:02 +0000] \"GET /{} HTTP/1.1\" 200 3476 \"-\" \"curl/8.0\"\n",
        (0..40_000)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect::<String>()
    );
    let z = gz(line.as_bytes());
    fs::write(ev.join("access.log.1.gz"), &z[..z.len() - 30]).unwrap();
    // Nothing was read: the file is unreadable, and the command says nothing could be read.
    let run = |args: &[&str]| {
        leaktrail()
            .args(args)
            .arg(&ev)
            .assert()
            .code(2)
            .get_output()
            .stdout
            .clone()
    };
    let out = run(&["events"]);
    assert!(
        events_of(&out).is_empty(),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&run(&["sources", "--json"])).unwrap();
    assert_eq!(v[0]["status"], "unreadable", "{v}");
    let p = first_problem(&v[0]);
    assert!(p.contains("the record it cut (line 1, "), "{p}");
}

#[test]
fn sources_reports_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    evidence(dir.path());
    let out = leaktrail()
        .args(["sources", "--json"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v.as_array().unwrap();
    let get = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()
    };
    assert_eq!(files.len(), 7);
    assert_eq!(get("empty.log")["status"], "empty");
    assert_eq!(get("core.bin")["status"], "binary");
    let dangling = get("dangling.log");
    assert_eq!(dangling["status"], "skipped");
    assert!(first_problem(dangling).starts_with("cannot read"));
    let trunc = get("access.log.2.gz");
    assert_eq!(trunc["compression"], "gzip");
    assert!(first_problem(trunc).contains("damaged or truncated"));
    let cut = format!(
        "the record it cut (line {}, ",
        trunc["lines"].as_u64().unwrap() + 1
    );
    assert!(first_problem(trunc).contains(&cut), "{trunc}");
    let auth = get("auth.log");
    assert_eq!(
        (
            auth["lines"].as_u64(),
            auth["parsed"].as_u64(),
            auth["unparsed"].as_u64()
        ),
        (Some(4), Some(3), Some(1))
    );
    let probs = auth["problems"].to_string();
    assert!(
        probs.contains("longer than the limit were cut (first: line 3)"),
        "{probs}"
    );
    assert!(probs.contains("not valid UTF-8 (first: line 2)"), "{probs}");
    assert_eq!(auth["unparsed_examples"][0]["line"], 4);
    let plain = get("web1/access.log");
    let want = sha256(&fs::read(dir.path().join("web1/access.log")).unwrap());
    assert_eq!(plain["sha256"], want);
    assert_eq!(plain["first_event"], "2026-10-12T22:01:07Z");
    assert_eq!(plain["last_event"], "2026-10-13T09:14:02Z");
    assert_eq!(plain["format"], "access");

    let table = stdout_of(&["sources"], dir.path());
    let table = String::from_utf8(table).unwrap();
    assert!(table.starts_with("PATH"));
    assert!(table.contains("Problems (") && table.contains("binary file"));
}

fn first_problem(entry: &serde_json::Value) -> &str {
    entry["problems"][0].as_str().unwrap_or_default()
}

fn sha256(b: &[u8]) -> String {
    leaktrail::input::sha256_hex(b)
}

/// Evidence that holds files but nothing readable still gets a case: its manifest says what
/// was examined and why nothing was read; the exit status says nothing could be read.
#[test]
fn unreadable_evidence_still_gets_its_manifest() {
    let (dir, ev) = evidence_dir();
    fs::write(ev.join("core.bin"), b"\x7fELF\x02\x01\x01\0\0\0\0\0").unwrap();
    fs::write(ev.join("empty.log"), b"").unwrap();
    let case = dir.path().join("case");
    leaktrail()
        .args(["scan", "-o"])
        .arg(&case)
        .arg(&ev)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nothing could be read"));
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(case.join("case.json")).unwrap()).unwrap();
    let files = v["evidence"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0]["status"], "binary");
    assert_eq!(files[0]["sha256"], sha256(b"\x7fELF\x02\x01\x01\0\0\0\0\0"));
    assert_eq!(files[1]["status"], "empty");
    let md = fs::read_to_string(case.join("report.md")).unwrap();
    assert!(
        md.contains("Nothing could be read: none of the 2 files examined"),
        "{md}"
    );
    // A gzip whose damage leaves nothing to decode is unreadable, not read.
    let z = gz(A1.repeat(50).as_bytes());
    fs::write(ev.join("access.log.2.gz"), &z[..12]).unwrap();
    let v = scan_json_exit(&[], &dir.path().join("case3"), &ev, 2);
    let cut = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "access.log.2.gz")
        .unwrap();
    assert_eq!(cut["status"], "unreadable", "{cut}");
    assert!(first_problem(cut).contains("damaged or truncated"), "{cut}");
    // No file at all: nothing to record.
    let none = dir.path().join("none");
    leaktrail()
        .args(["scan", "-o"])
        .arg(dir.path().join("case2"))
        .arg(&none)
        .assert()
        .code(2);
    assert!(!dir.path().join("case2").exists());
}

/// Two servers' logs of the same name, given as two roots, are told apart in the case.
#[test]
fn same_names_under_two_roots_are_told_apart() {
    let (dir, ev) = evidence_dir();
    for (web, ip) in [("web1", "198.51.100.23"), ("web2", "203.0.113.66")] {
        fs::create_dir(ev.join(web)).unwrap();
        fs::write(
            ev.join(web).join("access.log"),
            format!("{ip} - - [13/Oct/2026:09:14:02 +0000] \"GET /.env HTTP/1.1\" 200 930 \"-\" \"curl/8.0\"\n"),
        )
        .unwrap();
    }
    let case = dir.path().join("case");
    leaktrail()
        .args(["scan", "-q", "-o"])
        .arg(&case)
        .arg(ev.join("web1"))
        .arg(ev.join("web2"))
        .assert()
        .success();
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(case.join("case.json")).unwrap()).unwrap();
    let paths: Vec<&str> = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2);
    assert!(
        paths[0].ends_with("web1/access.log") && paths[1].ends_with("web2/access.log"),
        "{paths:?}"
    );
    let md = fs::read_to_string(case.join("report.md")).unwrap();
    assert!(md.contains("web2/access.log:1"), "{md}");
    // One root: paths stay relative to it.
    let v = scan_json(&[], &dir.path().join("one"), &ev);
    assert_eq!(v["evidence"][0]["path"], "web1/access.log");
}

/// A silence in a log directly under the evidence folder names that folder as its source.
#[test]
fn a_silence_names_its_source_folder() {
    let (dir, ev) = evidence_dir();
    let line = |h: u32, m: u32, s: u32| {
        format!(
            "192.0.2.10 - - [13/Oct/2026:{h:02}:{m:02}:{s:02} +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n"
        )
    };
    let mut log = String::new();
    for (h, m) in (0..60)
        .map(|m| (9, m))
        .chain((45..60).map(|m| (10, m)))
        .chain((0..60).map(|m| (11, m)))
    {
        for s in [0, 20, 40] {
            log.push_str(&line(h, m, s));
        }
    }
    fs::write(ev.join("access.log"), log).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let gap = *by_rule(&v, "leaktrail-log-gap")
        .first()
        .expect("the silence from 10:00 to 10:45");
    assert!(
        gap["detail"]
            .as_str()
            .unwrap()
            .starts_with("evidence (access): silent"),
        "{gap}"
    );
}

/// CloudTrail stopped by the attacker and never restarted, while the web logs go on: the
/// silence runs to the end of the evidence, joins the attacker's incident, and the incident
/// is not called over.
#[test]
fn logging_stopped_and_never_restarted_is_a_silence_to_the_end() {
    let (dir, ev) = evidence_dir();
    let ct = |t: &str, name: &str, user: &str, ip: &str| {
        let source = if name == "StopLogging" {
            "cloudtrail"
        } else {
            "ec2"
        };
        format!(
            "{{\"eventVersion\":\"1.09\",\"userIdentity\":{{\"type\":\"IAMUser\",\"userName\":\"{user}\",\"accessKeyId\":\"AKIA{}\"}},\"eventTime\":\"{t}\",\"eventSource\":\"{source}.amazonaws.com\",\"eventName\":\"{name}\",\"sourceIPAddress\":\"{ip}\"}}\n",
            user.to_uppercase()
        )
    };
    let mut trail = String::new();
    for m in 0..60 {
        for s in [0, 20, 40] {
            trail.push_str(&ct(
                &format!("2026-10-13T09:{m:02}:{s:02}Z"),
                "DescribeInstances",
                "ops",
                "10.0.0.5",
            ));
        }
    }
    trail.push_str(&ct(
        "2026-10-13T10:00:30Z",
        "StopLogging",
        "svc",
        "203.0.113.66",
    ));
    fs::write(ev.join("trail.jsonl"), trail).unwrap();
    let mut web = String::new();
    for h in 9..12 {
        for m in 0..60 {
            web.push_str(&format!("192.0.2.10 - - [13/Oct/2026:{h:02}:{m:02}:00 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n"));
        }
    }
    fs::write(ev.join("access.log"), web).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let gap = *by_rule(&v, "leaktrail-log-gap")
        .first()
        .expect("CloudTrail silent from the StopLogging on");
    assert_eq!(gap["first_seen"], "2026-10-13T10:00:30Z", "{gap}");
    assert_eq!(gap["last_seen"], "2026-10-13T11:59:00Z", "{gap}");
    assert!(
        gap["detail"]
            .as_str()
            .unwrap()
            .contains("until the evidence ends"),
        "{gap}"
    );
    let inc = &v["incidents"][0];
    assert_eq!(gap["incident"], inc["id"]);
    assert_eq!(inc["entities"]["ips"][0], "203.0.113.66", "{inc}");
    assert_eq!(inc["ongoing"], true, "{inc}");
    assert!(
        inc["summary"]
            .as_str()
            .unwrap()
            .contains("May still be going on"),
        "{inc}"
    );
}

/// An attacker's address seen quietly before its first finding: the summary says since when.
#[test]
fn an_address_seen_before_its_first_finding_says_since_when() {
    let (dir, ev) = evidence_dir();
    let line = |t: &str, path: &str| {
        format!(
            "203.0.113.66 - - [13/Oct/2026:{t} +0000] \"GET {path} HTTP/1.1\" 200 930 \"-\" \"curl/8.0\"\n"
        )
    };
    let log = [
        line("09:00:00", "/"),
        line("09:30:00", "/about"),
        line("10:00:00", "/.env"),
    ]
    .concat();
    fs::write(ev.join("access.log"), log).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let summary = v["incidents"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("Its addresses were first seen in the evidence at 2026-10-13T09:00:00Z, 60 minutes before the first finding."),
        "{summary}"
    );
}

#[test]
fn scan_writes_case_and_refuses_evidence_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence");
    evidence(&ev);
    leaktrail()
        .args(["scan", "-o"])
        .arg(ev.join("case"))
        .arg(&ev)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("inside the evidence folder"));
    assert!(
        !ev.join("case").exists(),
        "nothing written inside the evidence"
    );
    // A file given alone: its folder is evidence too, and the message names that folder.
    let file = fs::read_dir(&ev)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_file())
        .unwrap();
    leaktrail()
        .args(["scan", "-o"])
        .arg(ev.join("case"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("the folder of evidence file"))
        .stderr(predicates::str::contains(
            ev.file_name().unwrap().to_str().unwrap(),
        ));
    assert!(!ev.join("case").exists());
    let case = dir.path().join("case");
    leaktrail()
        .args(["scan", "-q", "-o"])
        .arg(&case)
        .arg(&ev)
        .assert()
        .success();
    let first = fs::read_to_string(case.join("case.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["run"]["timezone_assumed"], "UTC");
    assert_eq!(v["evidence"].as_array().unwrap().len(), 7);
    leaktrail()
        .args(["scan", "-q", "-o"])
        .arg(&case)
        .arg(&ev)
        .assert()
        .success();
    let second = fs::read_to_string(case.join("case.json")).unwrap();
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&first),
        strip(&second),
        "same evidence, same case file"
    );
}

#[test]
fn events_are_deterministic_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    evidence(dir.path());
    let a = stdout_of(&["events"], dir.path());
    let b = stdout_of(&["--threads", "1", "events"], dir.path());
    assert_eq!(a, b);
    leaktrail()
        .args(["events", "--tz", "Mars/Base"])
        .arg(dir.path())
        .assert()
        .code(2);
    leaktrail()
        .args(["events", "--format", "*.log=nope"])
        .arg(dir.path())
        .assert()
        .code(2);
    leaktrail()
        .args(["events", "--format", "nothing"])
        .arg(dir.path())
        .assert()
        .code(2);
    leaktrail()
        .args(["events"])
        .arg(dir.path().join("missing"))
        .assert()
        .code(2);
    leaktrail().arg("frobnicate").assert().code(2);
}

#[test]
fn tz_year_and_format_override() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("app.txt"),
        "Oct 13 10:00:00 host prog: hello\n",
    )
    .unwrap();
    let out = stdout_of(
        &["events", "--tz", "America/New_York", "--year", "2025"],
        dir.path(),
    );
    let e = &events_of(&out)[0];
    assert_eq!(e["ts"], "2025-10-13T14:00:00Z");
    assert_eq!(e["ts_local"], "2025-10-13T10:00:00-04:00");
    assert_eq!(e["format"], "syslog");
    let out = stdout_of(
        &["events", "--year", "2025", "--format", "*.txt=text"],
        dir.path(),
    );
    assert_eq!(events_of(&out)[0]["format"], "text");
}

/// Zone-less times read in a zone whose clocks changed within the file: the file says so;
/// one whose times carry their offset does not.
#[test]
fn a_clock_change_inside_zone_less_times_is_a_problem() {
    let (_dir, ev) = evidence_dir();
    let mut auth = String::new();
    // The second pass of the repeated hour (01:20, 01:45) reads as the first: the file ends,
    // in UTC, before the change itself.
    for t in ["00:50:00", "01:10:00", "01:40:00", "01:20:00", "01:45:00"] {
        auth.push_str(&format!(
            "Nov  1 {t} bastion sshd[1]: Accepted publickey for deploy from 192.0.2.7 port 22 ssh2\n"
        ));
    }
    fs::write(ev.join("auth.log"), auth).unwrap();
    fs::write(
        ev.join("access.log"),
        A1.replace("12/Oct/2026:22:01:07 +0000", "01/Nov/2026:01:30:00 -0400"),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&stdout_of(
        &[
            "sources",
            "--json",
            "--tz",
            "America/New_York",
            "--year",
            "2026",
        ],
        &ev,
    ))
    .unwrap();
    let get = |name: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == name)
            .unwrap()
            .clone()
    };
    let auth = get("auth.log");
    let p = first_problem(&auth);
    assert!(
        p.contains(
            "read as America/New_York, whose clocks went from 2026-11-01 02:00 to 01:00 local time"
        ),
        "{p}"
    );
    assert!(get("access.log")["problems"].as_array().unwrap().is_empty());
}

#[test]
fn since_and_until_limit_the_events() {
    let dir = tempfile::tempdir().unwrap();
    evidence(dir.path());
    let out = leaktrail()
        .args([
            "events",
            "--since",
            "2026-10-13",
            "--until",
            "2026-10-13T10:00:00Z",
        ])
        .arg(dir.path().join("web1/access.log"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let evs = events_of(&out);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["ts"], "2026-10-13T09:14:02Z");
    leaktrail()
        .args(["events", "--since", "yesterday"])
        .arg(dir.path())
        .assert()
        .code(2);
    // A window that holds no instant is a mistake in the command, not an empty case.
    for (since, until) in [
        ("2026-10-13T10:00:00Z", "2026-10-13T09:00:00Z"),
        ("2026-10-13", "2026-10-13"),
    ] {
        leaktrail()
            .args(["scan", "--since", since, "--until", until, "-o"])
            .arg(dir.path().join("case"))
            .arg(dir.path().join("web1"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains("is not before --until"));
        assert!(!dir.path().join("case").exists());
    }
}

/// With `--until`, "still active" is judged at the end of the window read, and the reports say
/// which window that was.
#[test]
fn until_judges_ongoing_at_the_end_of_the_window() {
    let (dir, ev) = evidence_dir();
    let mut log: String = (0..55)
        .map(|m| format!("198.51.100.23 - - [13/Oct/2026:09:{m:02}:00 +0000] \"GET /export/{m} HTTP/1.1\" 200 1000000 \"-\" \"curl/8.5.0\"\n"))
        .collect();
    log.push_str("192.0.2.10 - - [13/Oct/2026:11:59:37 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n");
    fs::write(ev.join("access.log"), log).unwrap();
    let ongoing = |v: &serde_json::Value| v["incidents"][0]["ongoing"].clone();
    let all = scan_json(&[], &dir.path().join("all"), &ev);
    assert_eq!(ongoing(&all), false, "{}", all["incidents"]);
    let case = dir.path().join("until");
    let v = scan_json(
        &["--until".as_ref(), "2026-10-13T10:00:00Z".as_ref()],
        &case,
        &ev,
    );
    assert_eq!(ongoing(&v), true, "{}", v["incidents"]);
    let md = fs::read_to_string(case.join("report.md")).unwrap();
    assert!(
        md.contains(
            "evidence up to 2026-10-13T10:00:00Z · only events before 2026-10-13T10:00:00Z"
        ),
        "{}",
        &md[..300]
    );
    let html = fs::read_to_string(case.join("report.html")).unwrap();
    assert!(html.contains("only events before 2026-10-13T10:00:00Z"));
}

#[test]
fn broken_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let line = A1.repeat(200_000);
    fs::write(dir.path().join("big.log"), line).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leaktrail"))
        .arg("events")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    use std::io::Read;
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(&first, b"{\"ts\":\"202");
}

const GOOD_RULE: &str = r#"title: Env file fetched
id: 11111111-2222-3333-4444-555555555555
logsource:
  category: webserver
detection:
  selection:
    cs-uri-stem|endswith: '/.env'
  condition: selection
level: high
"#;

const BAD_RULE: &str = r#"title: Uses a placeholder
id: 66666666-7777-8888-9999-000000000000
logsource:
  category: webserver
detection:
  selection:
    cs-uri-query|expand: '%allowed%'
  condition: selection
level: low
"#;

#[test]
fn user_rules_validate_and_a_broken_one_never_stops_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir_all(&rules).unwrap();
    fs::write(rules.join("good.yml"), GOOD_RULE).unwrap();
    fs::write(rules.join("bad.yml"), BAD_RULE).unwrap();
    let out = leaktrail()
        .args(["rules", "validate"])
        .arg(&rules)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("bad.yml:7: rule 66666666-7777-8888-9999-000000000000: "),
        "{text}"
    );
    assert!(
        text.contains("placeholder `%allowed%` has no values"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("loaded 1 of 2 rule files (1 rules, 0 correlations, 0 filters)"),
        "{text}"
    );

    let ev = dir.path().join("evidence");
    evidence(&ev);
    let case = dir.path().join("case");
    let assert = leaktrail()
        .args([
            "scan",
            "--no-builtin-rules",
            "--min-level",
            "medium",
            "--fail-on",
            "high",
            "--rules",
        ])
        .arg(&rules)
        .arg("-o")
        .arg(&case)
        .arg(&ev)
        .assert()
        .code(1);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("skipped: selection: placeholder `%allowed%` has no values"),
        "{err}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0]["rule_id"],
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(findings[0]["entities"]["ips"][0], "203.0.113.66");
    assert_eq!(
        findings[0]["count"], 2,
        "the plain copy and the first gzip member"
    );
    assert_eq!(v["run"]["rules"]["count"], 1);
}

#[test]
fn broken_leaktrail_extensions_are_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |name: &str, ext: &str| {
        format!(
            "title: {name}\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-uri-query|contains: 'x'\n  condition: selection\nlevel: low\nleaktrail:\n{ext}"
        )
    };
    fs::write(
        dir.path().join("level.yml"),
        rule(
            "Bad level",
            "  escalate:\n    - bytes: 10\n      level: severe\n",
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("regex.yml"),
        rule(
            "Bad regex",
            "  extract:\n    oid:\n      field: cs-uri-stem\n      regex: '(unclosed'\n",
        ),
    )
    .unwrap();
    let out = leaktrail()
        .args(["rules", "validate"])
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("level.yml") && text.contains("unknown level `severe`"),
        "{text}"
    );
    assert!(
        text.contains("regex.yml") && text.contains("bad regular expression"),
        "{text}"
    );
}

/// `scan -q --no-builtin-rules --rules R...` over `ev` into `dir/case`; its case.json.
/// The addresses named by the findings of a title, in finding order.
/// A temporary directory with an empty `evidence` folder in it.
fn evidence_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence");
    fs::create_dir(&ev).unwrap();
    (dir, ev)
}

/// The findings with this value under `key`.
fn findings_where<'c>(
    case: &'c serde_json::Value,
    key: &str,
    value: &str,
) -> Vec<&'c serde_json::Value> {
    case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f[key] == value)
        .collect()
}

/// The findings with this title.
fn titled<'c>(case: &'c serde_json::Value, title: &str) -> Vec<&'c serde_json::Value> {
    findings_where(case, "title", title)
}

/// The findings of this rule.
fn by_rule<'c>(case: &'c serde_json::Value, rule_id: &str) -> Vec<&'c serde_json::Value> {
    findings_where(case, "rule_id", rule_id)
}

fn ips_of(case: &serde_json::Value, title: &str) -> Vec<String> {
    case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == title)
        .flat_map(|f| f["entities"]["ips"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn scan_with_rules(dir: &Path, rules: &[&Path], ev: &Path) -> serde_json::Value {
    let mut args = vec![std::ffi::OsStr::new("--no-builtin-rules")];
    for r in rules {
        args.extend([std::ffi::OsStr::new("--rules"), r.as_os_str()]);
    }
    scan_json(&args, &dir.join("case"), ev)
}

/// `scan -q ARGS -o out ev`; its case.json.
fn scan_json(args: &[&std::ffi::OsStr], out: &Path, ev: &Path) -> serde_json::Value {
    scan_json_exit(args, out, ev, 0)
}

/// As [`scan_json`], expecting exit status `code`.
fn scan_json_exit(
    args: &[&std::ffi::OsStr],
    out: &Path,
    ev: &Path,
    code: i32,
) -> serde_json::Value {
    leaktrail()
        .args(["scan", "-q"])
        .args(args)
        .arg("-o")
        .arg(out)
        .arg(ev)
        .assert()
        .code(code);
    serde_json::from_slice(&fs::read(out.join("case.json")).unwrap()).unwrap()
}

/// `wide` before `base64`/`base64offset`: the UTF-16LE text, base64-encoded (PowerShell's
/// -EncodedCommand), at each of the three offsets.
#[test]
fn wide_base64_finds_utf16_text_in_base64() {
    let (dir, ev) = evidence_dir();
    // "secret" as UTF-16LE in base64, at offset 0, and after one UTF-16 character ("x").
    fs::write(
        ev.join("app.log"),
        "{\"ts\":\"2026-10-13T10:00:00Z\",\"cmd\":\"powershell -enc cwBlAGMAcgBlAHQA\"}\n{\"ts\":\"2026-10-13T10:00:01Z\",\"cmd\":\"powershell -enc eABzAGUAYwByAGUAdAA=\"}\n{\"ts\":\"2026-10-13T10:00:02Z\",\"cmd\":\"powershell -enc c2VjcmV0\"}\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    let rule = |id: &str, m: &str| {
        format!(
            "title: {id}\nid: {id}\nlogsource:\n  category: application\ndetection:\n  sel:\n    cmd|{m}: secret\n  condition: sel\nlevel: high\n"
        )
    };
    fs::write(
        &rules,
        [
            rule("w-b64", "wide|base64|contains"),
            rule("w-b64off", "wide|base64offset|contains"),
        ]
        .join("---\n"),
    )
    .unwrap();
    let case = scan_with_rules(dir.path(), &[&rules], &ev);
    let lines = |id: &str| -> Vec<u64> {
        case["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == id)
            .flat_map(|f| f["evidence"].as_array().unwrap().clone())
            .map(|e| e["line"].as_u64().unwrap())
            .collect()
    };
    // Plain base64 of "secret" (line 3, not UTF-16) matches neither.
    assert_eq!(lines("w-b64"), [1]);
    assert_eq!(lines("w-b64off"), [1, 2]);
}

/// A Sigma filter excludes its events from the rules it names, and only those.
#[test]
fn sigma_filters_exclude_events_from_their_rules() {
    let (dir, ev) = evidence_dir();
    let mut log = String::new();
    for (i, ip) in ["10.0.9.9", "203.0.113.7"].iter().enumerate() {
        log.push_str(&format!(
            "{ip} - - [12/Oct/2026:22:0{i}:00 +0000] \"GET /x HTTP/1.1\" 200 10 \"-\" \"sqlmap/1.7\"\n"
        ));
    }
    fs::write(ev.join("access.log"), log).unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    fs::write(
        rules.join("scanner.yml"),
        "title: Test scanner\nid: 5f0c4b7e-0000-4000-8000-000000000001\nname: test_scanner\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-user-agent|contains: sqlmap\n  condition: selection\nlevel: high\n---\ntitle: Our own scanner host\nid: 5f0c4b7e-0000-4000-8000-000000000002\nlogsource:\n  category: webserver\nfilter:\n  rules:\n    - test_scanner\n  selection:\n    c-ip|cidr: 10.0.0.0/8\n  condition: not selection\n",
    )
    .unwrap();
    let case = scan_with_rules(dir.path(), &[&rules], &ev);
    let ips = ips_of(&case, "Test scanner");
    assert_eq!(
        ips,
        ["203.0.113.7"],
        "the filtered address is gone, the other stays"
    );
}

/// A Sigma filter and a correlation, each in a file of its own (given by separate `--rules`),
/// apply to a rule loaded from a third; `rules validate` names references to rules not loaded.
#[test]
fn filters_and_correlations_from_other_files_apply_and_are_checked() {
    let (dir, ev) = evidence_dir();
    let mut log = String::new();
    for ip in ["10.0.9.9", "203.0.113.7"] {
        for i in 0..3 {
            log.push_str(&format!(
                "{ip} - - [12/Oct/2026:22:0{i}:00 +0000] \"GET /x HTTP/1.1\" 200 10 \"-\" \"sqlmap/1.7\"\n"
            ));
        }
    }
    fs::write(ev.join("access.log"), log).unwrap();
    let (a, b, c) = (
        dir.path().join("rule.yml"),
        dir.path().join("filter.yml"),
        dir.path().join("corr.yml"),
    );
    fs::write(
        &a,
        "title: Test scanner\nid: 5f0c4b7e-0000-4000-8000-000000000011\nname: test_scanner\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    c-useragent|contains: sqlmap\n  condition: selection\nlevel: low\n",
    )
    .unwrap();
    fs::write(
        &b,
        "title: Our own scanner host\nid: 5f0c4b7e-0000-4000-8000-000000000012\nlogsource:\n  category: webserver\nfilter:\n  rules:\n    - test_scanner\n  selection:\n    c-ip|cidr: 10.0.0.0/8\n  condition: not selection\n",
    )
    .unwrap();
    fs::write(
        &c,
        "title: Scanner keeps going\nid: 5f0c4b7e-0000-4000-8000-000000000013\ncorrelation:\n  type: event_count\n  rules:\n    - test_scanner\n  group-by:\n    - c-ip\n  timespan: 10m\n  condition:\n    gte: 3\nlevel: high\n",
    )
    .unwrap();
    let case = scan_with_rules(dir.path(), &[&a, &b, &c], &ev);
    let by_title = |t: &str| -> Vec<String> {
        case["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["title"] == t)
            .flat_map(|f| f["entities"]["ips"].as_array().unwrap().clone())
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    // The base rule's own findings are hidden (Sigma's `generate: false` default).
    assert!(by_title("Test scanner").is_empty());
    assert_eq!(
        by_title("Scanner keeps going"),
        ["203.0.113.7"],
        "the correlation counts only what the filter lets through"
    );
    // References to rules that are not loaded are named, and validation fails.
    fs::write(
        dir.path().join("orphans.yml"),
        "title: Orphan filter\nid: 5f0c4b7e-0000-4000-8000-000000000014\nlogsource:\n  category: webserver\nfilter:\n  rules:\n    - no_such_rule\n  selection:\n    c-ip: 10.0.0.1\n  condition: not selection\n---\ntitle: Orphan correlation\nid: 5f0c4b7e-0000-4000-8000-000000000015\ncorrelation:\n  type: event_count\n  rules:\n    - missing_base\n  group-by:\n    - c-ip\n  timespan: 5m\n  condition:\n    gte: 2\nlevel: low\n",
    )
    .unwrap();
    let v = leaktrail()
        .args(["rules", "validate"])
        .arg(dir.path().join("orphans.yml"))
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&v.get_output().stdout).into_owned();
    assert!(
        text.contains("names rule `no_such_rule`, which is not loaded"),
        "{text}"
    );
    assert!(
        text.contains("`missing_base`, which is not loaded"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("correlations, 1 filters)"),
        "{text}"
    );
}

/// `rules lint` names the rules that can never fire: a logsource no format produces, a field
/// no format of the rule produces (after the pipeline's mapping), a format absent from the
/// evidence; a `--pipeline` that declares the field quiets it.
#[test]
fn rules_lint_names_rules_that_can_never_fire() {
    let (dir, ev) = evidence_dir();
    fs::write(ev.join("access.log"), A1).unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    let rule = |name: &str, ls: &str, det: &str| {
        fs::write(
            rules.join(format!("{name}.yml")),
            format!("title: {name}\nid: {name}\nlogsource:\n{ls}detection:\n  sel:\n{det}  condition: sel\nlevel: low\n"),
        )
        .unwrap();
    };
    rule(
        "web-ok",
        "  category: webserver\n",
        "    c-uri|contains: /.env\n",
    );
    rule(
        "windows",
        "  product: windows\n  service: security\n",
        "    EventID: 4624\n",
    );
    rule(
        "web-extension",
        "  category: webserver\n",
        "    c-uri-extension: exe\n",
    );
    rule(
        "trail",
        "  product: aws\n  service: cloudtrail\n",
        "    eventName: StopLogging\n",
    );
    let run = |extra: &[&str]| {
        let out = leaktrail()
            .args(["rules", "lint", "--no-builtin-rules", "--rules"])
            .arg(&rules)
            .args(extra)
            .arg(&ev)
            .assert()
            .code(1);
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    let text = run(&[]);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.contains(&format!("rule {id}:")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("windows").contains("logsource `windows/security`: no format"),
        "{text}"
    );
    assert!(
        line("web-extension").contains("`c-uri-extension`"),
        "{text}"
    );
    assert!(line("trail").contains("no file in the evidence"), "{text}");
    assert_eq!(line("web-ok"), "", "{text}");
    assert!(text.contains("evidence formats: access 1"), "{text}");
    assert!(
        text.trim_end().ends_with(
            "4 rules: 1 can fire, 1 test fields no format produces, 1 have a logsource no format produces, 1 read no format present in the evidence"
        ),
        "{text}"
    );
    // A pipeline that says the access log carries the field.
    let pipe = dir.path().join("pipe.yml");
    fs::write(
        &pipe,
        "name: ours\nformats:\n  - format: access\n    fields: [c-uri-extension]\n",
    )
    .unwrap();
    let text = run(&["--pipeline", pipe.to_str().unwrap()]);
    assert!(!text.contains("rule web-extension:"), "{text}");
}

/// A mistyped rule or pipeline path is a usage error, not a quieter scan; `rules validate`
/// counts a missing path as a file that failed.
#[test]
fn missing_rule_paths_are_usage_errors() {
    let (dir, ev) = evidence_dir();
    fs::write(ev.join("access.log"), A1).unwrap();
    for opt in ["--rules", "--pipeline"] {
        let out = leaktrail()
            .args(["scan", "-q", opt])
            .arg(dir.path().join("nope.yml"))
            .arg("-o")
            .arg(dir.path().join("case"))
            .arg(&ev)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            err.contains(&format!("{opt} ")) && err.contains("no such file"),
            "{err}"
        );
    }
    assert!(!dir.path().join("case").exists());
    let good = dir.path().join("good.yml");
    fs::write(
        &good,
        "title: t\nid: t\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    c-uri|contains: /.env\n  condition: sel\nlevel: low\n",
    )
    .unwrap();
    let out = leaktrail()
        .args(["rules", "validate"])
        .arg(dir.path().join("nope"))
        .arg(&good)
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("no such file or folder"), "{text}");
    assert!(text.contains("loaded 1 of 2 rule files"), "{text}");
}

/// `--working-hours` and `--workdays` move the working day of the off-hours rules: the
/// stuffing pool's 09:00 bulk is working time by default and off hours in a 21-24 day.
#[test]
fn working_hours_come_from_the_command_line() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let dir = tempfile::tempdir().unwrap();
    let off_hours = |extra: &[&str]| -> Vec<(String, String)> {
        let out = dir.path().join(format!("case{}", extra.len()));
        leaktrail()
            .args(["scan", "-q", "--exclude", "EXPECTED.md", "-o"])
            .arg(&out)
            .args(extra)
            .arg(&sample)
            .assert()
            .code(predicates::ord::lt(2));
        let case: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("case.json")).unwrap()).unwrap();
        case["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == "4c718f82-3560-5749-a591-a0b77382312d")
            .map(|f| {
                (
                    f["first_seen"].as_str().unwrap().to_string(),
                    f["entities"]["ips"][0].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(off_hours(&[]).is_empty());
    let late = off_hours(&["--working-hours", "21-24", "--workdays", "mon-fri"]);
    assert!(
        late.iter()
            // From the first bucket that carries volume: the 401 answers of the credential
            // stuffing since 09:00 add under 1% of the bytes.
            .any(|(t, ip)| t == "2026-10-13T09:12:05Z" && ip.starts_with("198.51.100.")),
        "{late:?}"
    );
    let bad = leaktrail()
        .args(["scan", "--workdays", "funday", "-o"])
        .arg(dir.path().join("x"))
        .arg(&sample)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(err.contains("\"funday\" is not a day"), "{err}");
}

/// `|expand` takes its values from `--placeholder`; without them the rule is skipped, named.
#[test]
fn expand_placeholders_come_from_the_command_line() {
    let (dir, ev) = evidence_dir();
    fs::write(
        ev.join("access.log"),
        "203.0.113.7 - admin [12/Oct/2026:22:00:00 +0000] \"GET /x HTTP/1.1\" 200 10 \"-\" \"curl/8\"\n\
         203.0.113.8 - guest [12/Oct/2026:22:00:01 +0000] \"GET /x HTTP/1.1\" 200 10 \"-\" \"curl/8\"\n",
    )
    .unwrap();
    let rules = dir.path().join("admins.yml");
    fs::write(
        &rules,
        "title: Admin account on the web\nid: 5f0c4b7e-0000-4000-8000-000000000003\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-username|expand: '%admins%'\n  condition: selection\nlevel: high\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = dir.path().join(format!("case{}", extra.len()));
        let assert = leaktrail()
            .args(["scan", "--no-builtin-rules", "--rules"])
            .arg(&rules)
            .args(extra)
            .arg("-o")
            .arg(&out)
            .arg(&ev)
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        let case: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("case.json")).unwrap()).unwrap();
        (case, stderr)
    };
    let (case, _) = run(&[
        "--placeholder",
        "admins=root",
        "--placeholder",
        "admins=admin",
    ]);
    let f = &case["findings"][0];
    assert_eq!(f["title"], "Admin account on the web");
    assert_eq!(f["entities"]["ips"][0], "203.0.113.7");
    assert_eq!(case["findings"].as_array().unwrap().len(), 1);
    let (case, stderr) = run(&[]);
    assert!(case["findings"].as_array().unwrap().is_empty());
    assert!(
        stderr.contains("placeholder `%admins%` has no values"),
        "{stderr}"
    );
}

/// A numeric field (an access log's status) equals a rule's number however the rule writes it
/// (`404` or `'404'`), and never a spelling that is not the number's (`'0404'`, `'404.0'`).
#[test]
fn numeric_fields_match_numbers_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"203.0.113.66 - - [12/Oct/2026:22:00:07 +0000] "GET /admin.php HTTP/1.1" 404 153 "-" "gobuster/3.6""#;
    let rule = |id: &str, value: &str, positive: bool| {
        let (pos, neg) = if positive { (line, "") } else { ("", line) };
        let examples = |l: &str| {
            if l.is_empty() {
                "[]".to_string()
            } else {
                format!("\n    - '{l}'")
            }
        };
        format!(
            "title: status {value}\nid: {id}\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    sc-status: {value}\n  condition: selection\nlevel: low\nleaktrail:\n  positive: {}\n  negative: {}\n",
            examples(pos),
            examples(neg)
        )
    };
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    for (i, (value, positive)) in [
        ("404", true),
        ("'404'", true),
        ("[403, 404]", true),
        ("'0404'", false),
        ("'404.0'", false),
        ("200", false),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("6b0c9c1e-0000-4000-8000-00000000000{i}");
        fs::write(rules.join(format!("r{i}.yml")), rule(&id, value, *positive)).unwrap();
    }
    let out = leaktrail()
        .args(["rules", "test", "--no-builtin-rules", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("6 passed, 0 failed"), "{text}");
}

/// `rules test` with nothing to test (an empty pack from a broken build, a wrong path) fails
/// instead of reporting a pass; the built-in pack is never empty.
#[test]
fn rules_test_with_no_examples_fails_and_the_pack_is_embedded() {
    let out = leaktrail()
        .args(["rules", "test", "--no-builtin-rules"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("nothing was tested"), "{text}");
    let list = leaktrail().args(["rules", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    let rows = listed.lines().count();
    assert!(rows > 60, "built-in pack lists {rows} lines");
    // Each rule says what it is, not only its id.
    assert!(listed.lines().next().unwrap().ends_with("TITLE"));
    assert!(
        listed.lines().any(|l| l.contains("builtin:web/sqli.yml")
            && l.ends_with("SQL injection attempt in a request")),
        "{listed}"
    );
}

/// `scan` skips its own UTF-8 check of a buffer found to be ASCII while searching it: a file
/// with invalid bytes is still reported as `sources` reports it, line and all.
#[test]
fn scan_reports_invalid_utf8_as_sources_does() {
    let (dir, ev) = evidence_dir();
    let mut web = A1.as_bytes().to_vec();
    web.extend_from_slice(A2.as_bytes());
    let bad = web.len() - 10;
    web[bad] = 0xff;
    web.extend_from_slice(A1.as_bytes());
    fs::write(ev.join("access.log"), &web).unwrap();
    fs::write(ev.join("clean.log"), format!("{A1}{A2}")).unwrap();
    let sources: serde_json::Value =
        serde_json::from_slice(&stdout_of(&["sources", "--json"], &ev)).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let problems = |files: &serde_json::Value, name: &str| {
        files
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()["problems"]
            .to_string()
    };
    let scanned = problems(&v["evidence"], "access.log");
    assert!(
        scanned.contains("not valid UTF-8 (first: line 2)"),
        "{scanned}"
    );
    assert_eq!(scanned, problems(&sources, "access.log"));
    assert_eq!(problems(&v["evidence"], "clean.log"), "[]");
}

/// A web server's access records sent through syslog (nginx `access_log syslog:`) are read by
/// the web rules, with the client as the actor, while the file stays a syslog file.
#[test]
fn access_records_inside_syslog_meet_the_web_rules() {
    let (dir, ev) = evidence_dir();
    fs::write(
        ev.join("messages"),
        concat!(
            "Mar 27 13:41:05 web01 nginx: 203.0.113.9 - - [27/Mar/2026:13:41:05 +0000] ",
            "\"GET /download?file=../../../../etc/passwd HTTP/1.1\" 200 1841 \"-\" \"curl/8.0\"\n",
            "Mar 27 13:41:06 web01 sshd[123]: Accepted password for deploy from 198.51.100.3 port 22 ssh2\n",
            "Mar 27 13:41:07 web01 nginx: 198.51.100.7 - - [27/Mar/2026:13:41:07 +0000] ",
            "\"GET /products?id=4711 HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0\"\n",
        ),
    )
    .unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    assert_eq!(v["evidence"][0]["format"], "syslog", "{}", v["evidence"]);
    let traversal: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"].as_str().unwrap().contains("traversal"))
        .collect();
    assert_eq!(traversal.len(), 1, "{}", v["findings"]);
    assert_eq!(
        traversal[0]["entities"]["ips"],
        serde_json::json!(["203.0.113.9"])
    );
    assert_eq!(traversal[0]["first_seen"], "2026-03-27T13:41:05Z");
    assert_eq!(traversal[0]["evidence"][0]["line"], 1, "{}", traversal[0]);
}

#[test]
fn database_password_guessing_is_found_in_error_logs_and_syslog() {
    let (dir, ev) = evidence_dir();
    // MariaDB's own error log (a space-padded hour), and mysqld through syslog from another
    // address: each address is counted on its own, each reaches ten in ten minutes.
    let mut err = String::new();
    for i in 0..12 {
        err.push_str(&format!(
            "2026-03-27  9:4{}:0{} 8 [Warning] Access denied for user 'user{i}'@'203.0.113.66' (using password: YES)\n",
            i / 10,
            i % 10
        ));
    }
    fs::write(ev.join("mariadb.err"), err).unwrap();
    let mut sys = String::new();
    for i in 0..10 {
        sys.push_str(&format!(
            "Mar 27 09:41:0{i} db1 mysqld: 260327  9:41:0{i} [Warning] Access denied for user 'root'@'198.51.100.20' (using password: NO)\n"
        ));
    }
    fs::write(ev.join("syslog"), sys).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let mut brute: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == "Database login brute force from one source")
        .collect();
    brute.sort_by_key(|f| f["count"].as_u64());
    assert_eq!(brute.len(), 2, "{}", v["findings"]);
    assert_eq!(
        brute[0]["entities"]["ips"],
        serde_json::json!(["198.51.100.20"])
    );
    assert_eq!(brute[0]["count"], 10);
    assert_eq!(brute[0]["evidence"][0]["path"], "syslog", "{}", brute[0]);
    assert_eq!(
        brute[1]["entities"]["ips"],
        serde_json::json!(["203.0.113.66"])
    );
    assert_eq!(brute[1]["count"], 12);
    assert_eq!(brute[1]["first_seen"], "2026-03-27T09:40:00Z");
    assert_eq!(brute[1]["level"], "high");
}

/// Two streams of `compression` appended in one file give both lines; a long one cut in its
/// middle keeps what came before the cut and says it is damaged or truncated.
fn rotated_and_cut(ext: &str, compression: &str, encode: &dyn Fn(&[u8]) -> Vec<u8>) {
    let line = |i: u32| {
        format!(
            "203.0.113.9 - - [27/Mar/2026:13:41:{:02} +0000] \"GET /item/{i} HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"\n",
            i % 60
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let mut two = encode(line(1).as_bytes());
    two.extend(encode(line(2).as_bytes()));
    fs::write(dir.path().join(format!("access.log.1.{ext}")), two).unwrap();
    let long: String = (0..4000).map(line).collect();
    let cut = encode(long.as_bytes());
    fs::write(
        dir.path().join(format!("access.log.2.{ext}")),
        &cut[..cut.len() / 2],
    )
    .unwrap();
    let out = leaktrail()
        .args(["sources", "--json"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files[0]["compression"], compression);
    assert_eq!(
        (files[0]["format"].as_str(), files[0]["parsed"].as_u64()),
        (Some("access"), Some(2))
    );
    let parsed = files[1]["parsed"].as_u64().unwrap();
    assert!(parsed > 100 && parsed < 4000, "{}", files[1]);
    assert!(
        first_problem(&files[1]).contains("damaged or truncated"),
        "{}",
        files[1]
    );
}

#[test]
fn xz_rotated_logs_are_read_and_a_cut_one_keeps_its_start() {
    use std::io::Read;
    rotated_and_cut("xz", "xz", &|d| {
        let mut out = Vec::new();
        liblzma::read::XzEncoder::new(d, 6)
            .read_to_end(&mut out)
            .unwrap();
        out
    });
}

#[test]
fn lz4_rotated_logs_are_read_and_a_cut_one_keeps_its_start() {
    // 64 KiB blocks (lz4 -B4): what a cut file keeps is its whole blocks.
    rotated_and_cut("lz4", "lz4", &|d| {
        let info =
            lz4_flex::frame::FrameInfo::new().block_size(lz4_flex::frame::BlockSize::Max64KB);
        let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        std::io::Write::write_all(&mut e, d).unwrap();
        e.finish().unwrap()
    });
}

/// A journal file of the repository's fixtures (made by systemd-journal-remote 252 from
/// tests/data/journal-export.txt), decompressed into `dir`.
fn journal_fixture(dir: &Path, name: &str) -> std::path::PathBuf {
    use std::io::Read;
    let gz = fs::read(format!("tests/data/{name}.journal.gz")).unwrap();
    let mut data = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut data)
        .unwrap();
    let path = dir.join(format!("{name}.journal"));
    fs::write(&path, data).unwrap();
    path
}

#[test]
fn systemd_journal_files_are_read_entry_by_entry() {
    let dir = tempfile::tempdir().unwrap();
    // The regular layout and systemd 252's compact one; the long message is a zstd object.
    for name in ["regular", "compact"] {
        let path = journal_fixture(dir.path(), name);
        let out = leaktrail()
            .arg("events")
            .arg(&path)
            .assert()
            .success()
            .get_output()
            .clone();
        let ev: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(ev.len(), 7, "{name}");
        assert_eq!(ev[0]["ts"], "2026-10-13T09:50:00.123456Z");
        assert_eq!(ev[0]["format"], "syslog");
        assert_eq!(ev[0]["source"]["line"], 1);
        let f = &ev[0]["fields"];
        assert_eq!(
            (f["host"].as_str(), f["process"].as_str(), f["pid"].as_u64()),
            (Some("bastion"), Some("sshd"), Some(4100))
        );
        assert_eq!(
            (f["outcome"].as_str(), f["src_ip"].as_str()),
            (Some("failure"), Some("203.0.113.66"))
        );
        assert_eq!(ev[4]["fields"]["command"], "/usr/bin/cat /etc/shadow");
        let long = ev[5]["fields"]["message"].as_str().unwrap();
        assert_eq!((long.len(), &long[..13]), (2013, "long message "));
        assert_eq!(ev[6]["fields"]["message"], "two#012lines");
        assert_eq!(ev[6]["source"]["line"], 7);
    }
    // The attacker's sudo read of /etc/shadow is found, pointing at the journal's entry 5.
    let ev = dir.path();
    let v = scan_json(&[], &tempfile::tempdir().unwrap().path().join("case"), ev);
    let sudo: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["title"]
                .as_str()
                .unwrap()
                .starts_with("sudo used to read")
        })
        .collect();
    assert!(!sudo.is_empty(), "{}", v["findings"]);
    assert_eq!(sudo[0]["entities"]["users"], serde_json::json!(["deploy"]));
    assert_eq!(sudo[0]["evidence"][0]["line"], 5);
    let files = v["evidence"].as_array().unwrap();
    assert!(
        files.iter().all(|f| f["compression"] == "systemd-journal"),
        "{files:?}"
    );
}

#[test]
fn a_cut_journal_keeps_the_entries_before_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_fixture(dir.path(), "compact");
    // Cut inside the fifth entry object (offsets read off the fixture).
    let data = fs::read(&path).unwrap();
    fs::write(&path, &data[..3_737_186]).unwrap();
    let out = leaktrail()
        .args(["sources", "--json"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v[0];
    assert_eq!(f["parsed"], 4, "{f}");
    let p = first_problem(f);
    assert!(
        p.contains("systemd-journal data damaged or truncated"),
        "{p}"
    );
    assert!(p.contains("object at byte 3737136"), "{p}");
}

#[test]
fn a_journal_copied_while_written_is_read_past_its_stale_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_fixture(dir.path(), "compact");
    // The header's tail object set back to the fourth entry, as in a copy taken while journald
    // was appending: the entries after it are still read; the zeros after them end the file.
    let mut data = fs::read(&path).unwrap();
    data[136..144].copy_from_slice(&3_736_592u64.to_le_bytes());
    fs::write(&path, &data).unwrap();
    let out = leaktrail()
        .arg("events")
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .clone();
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), 7, "{lines}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("damaged"));
}

#[test]
fn wtmp_and_btmp_login_records_are_read_and_guessing_is_found() {
    let (dir, ev) = evidence_dir();
    // Made by utmpdump -r from tests/data/*.utmpdump.txt: a boot and logins (wtmp), 25
    // failed logins from one address and one from another (btmp).
    fs::copy("tests/data/wtmp", ev.join("wtmp")).unwrap();
    fs::copy("tests/data/btmp", ev.join("btmp.1")).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    for f in v["evidence"].as_array().unwrap() {
        assert_eq!(
            (f["format"].as_str(), f["compression"].as_str()),
            (Some("syslog"), Some("utmp")),
            "{f}"
        );
    }
    let guessing: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"].as_str().unwrap().contains("(btmp)"))
        .collect();
    assert_eq!(guessing.len(), 1, "{}", v["findings"]);
    assert_eq!(
        guessing[0]["entities"]["ips"],
        serde_json::json!(["203.0.113.66"])
    );
    assert_eq!(guessing[0]["count"], 25);
    assert_eq!(guessing[0]["evidence"][0]["path"], "btmp.1");
    assert_eq!(guessing[0]["evidence"][0]["line"], 1);
    // The login after the guessing is critical and joins the guessing's incident; its wtmp
    // record is a timeline row of that incident. alice's one typo before her login is not.
    let after: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["title"]
                .as_str()
                .unwrap()
                .starts_with("Login after failed logins")
        })
        .collect();
    assert_eq!(after.len(), 1, "{}", v["findings"]);
    assert_eq!(after[0]["level"], "critical");
    assert_eq!(
        after[0]["entities"]["ips"],
        serde_json::json!(["203.0.113.66"])
    );
    // The account that logged in is named: the question the finding raises first.
    assert_eq!(after[0]["entities"]["users"], serde_json::json!(["deploy"]));
    assert!(
        after[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("203.0.113.66 logged in as deploy after a run of failed logins"),
        "{}",
        after[0]["message"]
    );
    // Its first evidence is the login, then the first failure.
    let ev = &after[0]["evidence"];
    assert_eq!(
        (&ev[0]["path"], &ev[0]["line"]),
        (&"wtmp".into(), &3.into())
    );
    assert_eq!(
        (&ev[1]["path"], &ev[1]["line"]),
        (&"btmp.1".into(), &1.into())
    );
    assert_eq!(after[0]["incident"], guessing[0]["incident"]);
    assert!(!v["findings"].to_string().contains("192.0.2.10"));
    let timeline = fs::read_to_string(dir.path().join("case/timeline.jsonl")).unwrap();
    let login: serde_json::Value = timeline
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| {
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("Login recorded in wtmp — 203.0.113.66, deploy")
        })
        .expect("the wtmp login row");
    assert_eq!(
        (login["source_path"].as_str(), login["source_line"].as_u64()),
        (Some("wtmp"), Some(3))
    );
    assert_eq!(login["incident_id"], after[0]["incident"]);
}

#[test]
fn slow_query_log_rows_sent_are_what_was_taken() {
    let (dir, ev) = evidence_dir();
    let mut log = String::from(
        "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\nTcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\nTime                 Id Command    Argument\n",
    );
    // A report every morning, then three whole tables read out from the bastion.
    log.push_str("# Time: 2026-10-13T06:00:03.000000Z\n# User@Host: report[report] @ reports.internal [10.0.1.30]  Id:    40\n# Query_time: 2.5  Lock_time: 0.0 Rows_sent: 31  Rows_examined: 2400000\nSET timestamp=1791871203;\nSELECT date(placed_at), count(*) FROM orders GROUP BY 1;\n");
    for (i, (table, rows)) in [
        ("customers", 120_000),
        ("payment_methods", 180_000),
        ("addresses", 105_000),
    ]
    .iter()
    .enumerate()
    {
        log.push_str(&format!(
            "# Time: 2026-10-13T10:2{i}:31.000000Z\n# User@Host: app_ro[app_ro] @  [10.0.1.5]  Id:    42\n# Query_time: 3.1  Lock_time: 0.0 Rows_sent: {rows}  Rows_examined: {rows}\nuse shop;\nSET timestamp={};\nSELECT * FROM {table};\n",
            1_791_886_831 + 60 * i
        ));
    }
    fs::write(ev.join("mysql-slow.log"), log).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    assert_eq!(v["evidence"][0]["format"], "mysql-slow");
    assert_eq!(v["evidence"][0]["parsed"], 4);
    let huge: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == "Query returned a huge result set")
        .collect();
    assert_eq!(huge.len(), 1, "{}", v["findings"]);
    assert_eq!(
        (huge[0]["count"].as_u64(), huge[0]["level"].as_str()),
        (Some(3), Some("high"))
    );
    assert_eq!(huge[0]["entities"]["ips"], serde_json::json!(["10.0.1.5"]));
    assert_eq!(huge[0]["first_seen"], "2026-10-13T10:20:31Z");
    let whole = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == "Whole sensitive table read without a filter")
        .count();
    assert!(whole >= 1, "{}", v["findings"]);
    assert!(!v["findings"].to_string().contains("10.0.1.30"));
    let app_ro = v["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["value"] == "app_ro")
        .expect("app_ro among the actors");
    assert_eq!(app_ro["records"], 405_000, "{app_ro}");
}

/// A Zeek conn.log (TSV with its header): a host inside that sends 120 MB to one outside
/// address within the hour is found, naming the host and the destination; its traffic to an
/// inside server of the same size, and small uploads elsewhere, are not.
#[test]
fn zeek_conn_log_large_upload() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-10-13-09-00-00\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tmissed_bytes\thistory\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tstring\n",
    );
    let t0 = 1_791_882_000u64; // 2026-10-13T09:00:00Z
    for i in 0..200u64 {
        let (src, dst, sent) = match i {
            50 | 90 | 130 => ("10.0.4.17", "198.51.100.9", 40_000_000),
            60 | 100 | 140 => ("10.0.4.18", "10.0.9.3", 40_000_000),
            _ => ("10.0.4.19", "203.0.113.80", 2_000 + i),
        };
        log.push_str(&format!(
            "{}.{:06}\tC{i}\t{src}\t{}\t{dst}\t443\ttcp\tssl\t1.5\t{sent}\t5120\tSF\t0\tShADadFf\n",
            t0 + i * 10,
            i * 7,
            40000 + i
        ));
    }
    log.push_str("#close\t2026-10-13-10-00-00\n");
    let ev = dir.path().join("evidence");
    fs::create_dir(&ev).unwrap();
    fs::write(ev.join("conn.log"), log).unwrap();
    let out = dir.path().join("case");
    leaktrail()
        .args(["scan", "-q", "-o"])
        .arg(&out)
        .arg(&ev)
        .assert()
        .code(predicates::ord::lt(2));
    let case: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("case.json")).unwrap()).unwrap();
    let ev = &case["evidence"][0];
    assert_eq!(
        (ev["format"].as_str(), ev["parsed"].as_u64()),
        (Some("zeek"), Some(200))
    );
    let found: Vec<&serde_json::Value> = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "47b0d157-5f5e-50cf-bf95-8cadb2ad397d")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let f = found[0];
    assert_eq!(f["level"], "high");
    assert_eq!(f["entities"]["ips"][0], "10.0.4.17");
    assert_eq!(f["entities"]["targets"][0], "198.51.100.9");
    assert_eq!(f["bytes"].as_f64(), Some(120_000_000.0));
    assert_eq!(
        f["message"],
        "10.0.4.17 sent 120.0 MB to 198.51.100.9 in 3 connections"
    );
}

/// A correlation over rules that do not select failures counts its window's failed events: a
/// burst of refused `GetPasswordData` calls is an attempt (its message says so), the same burst
/// allowed is not, and a run of failed web logins (the brute-force rule selects 401s) is the
/// pattern itself, never an attempt.
#[test]
fn refused_bursts_are_attempts_and_failed_logins_are_the_pattern() {
    let (dir, ev) = evidence_dir();
    let call = |who: &str, i: u32, refused: bool| {
        format!(
            "{{\"eventVersion\":\"1.09\",\"userIdentity\":{{\"type\":\"AssumedRole\",\"accountId\":\"123456789012\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/{who}/s1\",\"accessKeyId\":\"ASIA{who}\"}},\"eventTime\":\"2026-10-13T11:54:{i:02}Z\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"GetPasswordData\",{}\"sourceIPAddress\":\"203.0.113.66\",\"recipientAccountId\":\"123456789012\",\"requestParameters\":{{\"instanceId\":\"i-0a3404{i:02}\"}}}}\n",
            if refused {
                "\"errorCode\":\"Client.UnauthorizedOperation\","
            } else {
                ""
            }
        )
    };
    let mut trail = String::new();
    for i in 0..8 {
        trail.push_str(&call("refusedrole", i, true));
        trail.push_str(&call("allowedrole", i, false));
    }
    fs::write(ev.join("cloudtrail.jsonl"), trail).unwrap();
    let web: String = (0..60)
        .map(|i| {
            format!(
                "198.51.100.23 - - [13/Oct/2026:09:{:02}:{:02} +0000] \"POST /login HTTP/1.1\" 401 38 \"-\" \"python-requests/2.31\"\n",
                i / 10,
                (i % 10) * 6
            )
        })
        .collect();
    fs::write(ev.join("access.log"), web).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let findings = v["findings"].as_array().unwrap();
    let harvest = |role: &str| {
        findings
            .iter()
            .find(|f| {
                f["title"]
                    .as_str()
                    .unwrap()
                    .starts_with("Passwords or user data of many instances")
                    && f["entities"].to_string().contains(role)
            })
            .unwrap_or_else(|| panic!("no harvest finding for {role}: {findings:?}"))
    };
    let refused = harvest("refusedrole");
    assert_eq!(
        (refused["count"].as_u64(), refused["failed"].as_u64()),
        (Some(8), Some(8))
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("Attempted, every call refused: "),
        "{refused}"
    );
    let allowed = harvest("allowedrole");
    assert_eq!(
        (allowed["count"].as_u64(), allowed["failed"].as_u64()),
        (Some(8), Some(0))
    );
    assert!(
        !allowed["message"]
            .as_str()
            .unwrap()
            .starts_with("Attempted")
    );
    let brute = findings
        .iter()
        .find(|f| f["title"] == "Web login brute force or credential stuffing from one client")
        .unwrap_or_else(|| panic!("no brute force finding: {findings:?}"));
    assert_eq!(brute["failed"], 0, "{brute}");
}

/// Stolen instance-role credentials used from a laptop to read two objects: the finding names
/// each object (`s3://bucket/key`) and the incident's summary says what was read.
#[test]
fn objects_read_with_stolen_instance_credentials_are_named() {
    let (dir, ev) = evidence_dir();
    let call = |t: &str, name: &str, params: &str| {
        format!(
            "{{\"eventVersion\":\"1.08\",\"userIdentity\":{{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/web-proxy-role/i-0abc1234def567890\",\"accountId\":\"123456789012\",\"accessKeyId\":\"ASIAEXAMPLEKEY000009\"}},\"eventTime\":\"2026-10-13T09:{t}Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"{name}\",\"sourceIPAddress\":\"198.51.100.23\",\"userAgent\":\"[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.5]\",\"requestParameters\":{params},\"recipientAccountId\":\"123456789012\"}}\n"
        )
    };
    let mut trail = call("10:00", "ListBuckets", "{}");
    for (t, key) in [
        ("12:00", "exports/b.csv"),
        ("12:30", "exports/a.csv"),
        ("13:00", "exports/a.csv"),
    ] {
        trail.push_str(&call(
            t,
            "GetObject",
            &format!("{{\"bucketName\":\"larkspur-customer-exports\",\"key\":\"{key}\"}}"),
        ));
    }
    fs::write(ev.join("trail.jsonl"), trail).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let read = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["title"] == "S3 object read with EC2 instance-role credentials from a workstation"
        })
        .unwrap_or_else(|| panic!("{}", v["findings"]));
    assert_eq!(read["count"], 3);
    assert_eq!(
        read["entities"]["targets"],
        serde_json::json!([
            "s3://larkspur-customer-exports/exports/a.csv",
            "s3://larkspur-customer-exports/exports/b.csv"
        ])
    );
    let summary = v["incidents"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(
            "Objects read: s3://larkspur-customer-exports/exports/a.csv, s3://larkspur-customer-exports/exports/b.csv."
        ),
        "{summary}"
    );
}

/// A user's Sigma rule on the request target meets payloads percent-encoded once or twice, in
/// the path or the query; the same payload encoded in the user agent (not a request target)
/// stays as logged, a target without the payload does not match, and an `all` test may meet
/// one needle as logged and another decoded.
#[test]
fn request_target_rules_match_percent_decoded_payloads() {
    let (dir, ev) = evidence_dir();
    let lines = [
        (
            "203.0.113.1",
            "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
            "Mozilla/5.0",
        ),
        ("203.0.113.2", "/%253Cscript%253E/x", "Mozilla/5.0"),
        ("203.0.113.3", "/plain", "%3Cscript%3E"),
        ("203.0.113.4", "/search?q=script", "Mozilla/5.0"),
        ("203.0.113.5", "/p?x=%0d%0a%3Cscript%3E", "Mozilla/5.0"),
    ];
    let log: String = lines
        .iter()
        .enumerate()
        .map(|(i, (ip, target, agent))| {
            format!("{ip} - - [12/Oct/2026:22:0{i}:00 +0000] \"GET {target} HTTP/1.1\" 200 10 \"-\" \"{agent}\"\n")
        })
        .collect();
    fs::write(ev.join("access.log"), log).unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    fs::write(
        rules.join("xss.yml"),
        "title: Test script tag\nid: 5f0c4b7e-0000-4000-8000-000000000011\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-uri-query|contains: '<script>'\n  condition: selection\nlevel: high\n---\ntitle: Test header and script\nid: 5f0c4b7e-0000-4000-8000-000000000013\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-uri-query|contains|all:\n      - '%0d%0a'\n      - '<script'\n  condition: selection\nlevel: high\n---\ntitle: Test script tag in agent\nid: 5f0c4b7e-0000-4000-8000-000000000012\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-user-agent|contains: '<script>'\n  condition: selection\nlevel: high\n",
    )
    .unwrap();
    let case = scan_with_rules(dir.path(), &[&rules], &ev);
    let ips = |title: &str| ips_of(&case, title);
    assert_eq!(
        ips("Test script tag"),
        ["203.0.113.1", "203.0.113.2", "203.0.113.5"]
    );
    // `all`: one needle as logged, the other decoded.
    assert_eq!(ips("Test header and script"), ["203.0.113.5"]);
    assert!(ips("Test script tag in agent").is_empty());
}

/// A sequential walk names what it walked: the ids' range in its peak window and the
/// collection (`/api/orders/{id}`), from the walker's own fetches within that window and range
/// (not its fetches of another collection hours before, nor a blog page whose path ends in a
/// number, nor two products whose ids lie either side of the run), even when it skips every id the collection is sampled from; another client's
/// scattered fetches of the same collection are no walk.
#[test]
fn id_walking_names_the_range_and_the_collection() {
    let (dir, ev) = evidence_dir();
    let mut log = String::new();
    let line = |ip: &str, s: u32, path: &str| {
        format!(
            "{ip} - - [13/Oct/2026:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 812 \"-\" \"python-requests/2.31\"\n",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let nine = 9 * 3600;
    // Hours before: two products, with ids inside the later walk's range.
    log.push_str(&line("198.51.100.23", 7 * 3600, "/api/products/512"));
    log.push_str(&line("198.51.100.23", 7 * 3600 + 5, "/api/products/528"));
    // A listing page first (no id), then ids 500..=740 without 620 and 621 (deleted: 404,
    // not counted) nor any multiple of 16, every tenth id fetched twice, and a blog page.
    log.push_str(&line("198.51.100.23", nine, "/api/orders?page=1"));
    let (mut s, mut requests) = (nine + 1, 1);
    for id in 500..=740u32 {
        if id == 620 || id == 621 || id % 16 == 0 {
            continue;
        }
        log.push_str(&line("198.51.100.23", s, &format!("/api/orders/{id}")));
        requests += 1;
        if id % 10 == 0 {
            log.push_str(&line("198.51.100.23", s, &format!("/api/orders/{id}/")));
            requests += 1;
        }
        if id == 600 {
            log.push_str(&line("198.51.100.23", s, "/blog/2026/10/16"));
            // Two products far apart: a range between them was not read.
            log.push_str(&line("198.51.100.23", s, "/api/products/1"));
            log.push_str(&line("198.51.100.23", s, "/api/products/90000"));
            requests += 3;
        }
        s += 2;
    }
    for k in 0..150u32 {
        log.push_str(&line(
            "192.0.2.10",
            nine + k * 3,
            &format!("/api/orders/{}", 1000 + k * 37),
        ));
    }
    fs::write(ev.join("access.log"), log).unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let walks = titled(&v, "Sequential id walking by one client");
    assert_eq!(walks.len(), 1, "{walks:?}");
    let f = walks[0];
    assert_eq!(f["entities"]["ips"][0], "198.51.100.23");
    assert_eq!(
        f["entities"]["targets"],
        serde_json::json!(["/api/orders/{id}"])
    );
    assert_eq!(
        f["message"].as_str().unwrap(),
        format!(
            "198.51.100.23 fetched 224 ids between 500 and 740 of /api/orders/{{id}} within 30 minutes ({requests} requests in all)"
        ),
        "{f}"
    );
    assert!(f["detail"].as_str().unwrap().contains("(500–740)"), "{f}");
}

/// A bulk S3 read names the buckets read within its window: not one read by the same key hours
/// before and after, nor one whose reads were all refused.
#[test]
fn bulk_s3_reads_name_the_buckets_read_in_their_window() {
    let (dir, ev) = evidence_dir();
    let call = |name: &str, t: &str, bucket: &str, key: &str, refused: bool| {
        format!(
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","userName":"svc-reports","accessKeyId":"AKIAEXAMPLE1"}},"eventTime":"2026-10-13T{t}Z","eventSource":"s3.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66","requestParameters":{{"bucketName":"{bucket}","key":"{key}"}}{}{}}}"#,
            if refused {
                r#","errorCode":"AccessDenied""#
            } else {
                ""
            },
            if refused {
                ""
            } else {
                r#","additionalEventData":{"bytesTransferredOut":2000000.0}"#
            }
        )
    };
    let rec = |t: &str, bucket: &str, key: &str, refused: bool| {
        call("GetObject", t, bucket, key, refused)
    };
    let mut recs = vec![
        rec("07:00:00", "old-reports", "2026/q3.csv", false),
        rec("15:00:00", "old-reports", "2026/q4.csv", false),
        call("PutObject", "10:04:00", "uploads", "x.csv", false),
    ];
    for i in 0..60 {
        recs.push(rec(
            &format!("10:{:02}:{:02}", i / 6, (i % 6) * 10),
            "customer-exports",
            &format!("part-{i:03}.csv.gz"),
            false,
        ));
    }
    recs.push(rec("10:05:30", "payroll", "2026/10.csv", true));
    fs::write(
        ev.join("trail.json"),
        format!("{{\"Records\":[{}]}}", recs.join(",")),
    )
    .unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let bulk = titled(&v, "Bulk S3 downloads by one access key");
    assert_eq!(bulk.len(), 1, "{bulk:?}");
    assert_eq!(
        bulk[0]["entities"]["targets"],
        serde_json::json!(["s3://customer-exports/*"])
    );
    assert_eq!(
        bulk[0]["message"],
        "AKIAEXAMPLE1 requested 61 S3 objects from 203.0.113.66 (buckets: s3://customer-exports/*)"
    );
}

/// A payload spelled with `+` for spaces is found in an access log's query and in a W3C log's
/// (whose query the parser joins to the path with a `?`); a `+` in a path (also of a proxy's
/// absolute URL) or a user agent, and a search for words, are not payloads.
#[test]
fn plus_spelled_payloads_are_found_in_access_and_w3c_queries() {
    let (dir, ev) = evidence_dir();
    let access = [
        ("203.0.113.1", "/products?id=1'+or+1=1--"),
        (
            "203.0.113.2",
            "/products?id=-1+UNION+ALL+SELECT+NULL,NULL--",
        ),
        ("203.0.113.3", "/union+all+select/x"),
        ("203.0.113.4", "/search?q=all+or+nothing"),
        ("203.0.113.5", "http://shop.example/union+all+select/x"),
    ];
    let log: String = access
        .iter()
        .enumerate()
        .map(|(i, (ip, target))| {
            format!("{ip} - - [12/Oct/2026:22:0{i}:00 +0000] \"GET {target} HTTP/1.1\" 200 10 \"-\" \"Mozilla/5.0+(+http://x/)\"\n")
        })
        .collect();
    fs::write(ev.join("access.log"), log).unwrap();
    fs::write(
        ev.join("u_ex261012.log"),
        "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2026-10-12 22:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n\
2026-10-12 22:10:00 10.0.0.5 GET /products id=1'+or+1=1-- 443 - 203.0.113.11 Mozilla/5.0+(Windows+NT+10.0) - 500 0 0 15\n\
2026-10-12 22:11:00 10.0.0.5 GET /search q=union+jack+flag 443 - 203.0.113.12 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15\n",
    )
    .unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let mut ips = ips_of(&v, "SQL injection attempt in a request");
    ips.sort();
    assert_eq!(ips, ["203.0.113.1", "203.0.113.11", "203.0.113.2"], "{v}");
}

/// The same log collected twice, and once more gzipped, is counted once: the copies are in
/// the manifest, skipped, naming the file that was read.
#[test]
fn copies_of_a_log_are_counted_once() {
    let (dir, ev) = evidence_dir();
    let log: String = (0..60)
        .map(|m| format!("198.51.100.23 - - [13/Oct/2026:09:{m:02}:00 +0000] \"GET /export/{m} HTTP/1.1\" 200 1000000 \"-\" \"curl/8.5.0\"\n"))
        .collect();
    for d in ["a", "b"] {
        fs::create_dir(ev.join(d)).unwrap();
        fs::write(ev.join(d).join("access.log"), &log).unwrap();
    }
    fs::write(ev.join("b/access.log.1.gz"), gz(log.as_bytes())).unwrap();
    // Same length, other content: read.
    fs::write(
        ev.join("b/other.log"),
        log.replace("/export/1 ", "/export/X "),
    )
    .unwrap();
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let f = titled(&v, "Large volume of data sent to one client");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["bytes"], 120_000_000, "{}", f[0]);
    let files = v["evidence"].as_array().unwrap();
    let get = |p: &str| files.iter().find(|f| f["path"] == p).unwrap();
    assert_eq!(get("a/access.log")["status"], "read");
    assert_eq!(get("b/other.log")["status"], "read");
    let orig = get("a/access.log")["location"]
        .as_str()
        .unwrap()
        .to_string();
    for copy in ["b/access.log", "b/access.log.1.gz"] {
        let c = get(copy);
        assert_eq!(c["status"], "skipped", "{c}");
        assert!(first_problem(c).contains(&orig), "{c}");
        assert_eq!(c["sha256"].as_str().unwrap().len(), 64);
    }
}

/// Bytes out per client names its largest responses within the hour that fired, most bytes
/// per path first: not a large file the same client fetched a day before, nor small pages
/// (the quiet pages before the downloads are not part of the finding either).
#[test]
fn bytes_out_names_the_largest_responses_in_its_window() {
    let (dir, ev) = evidence_dir();
    let line = |day: u32, min: u32, path: &str, bytes: u64| {
        format!(
            "198.51.100.23 - - [{day}/Oct/2026:09:{min:02}:00 +0000] \"GET {path} HTTP/1.1\" 200 {bytes} \"-\" \"curl/8.5.0\"\n"
        )
    };
    let mut log = line(12, 0, "/backup/old.tar.gz", 40_000_000);
    for m in 0..30 {
        log.push_str(&line(13, m, &format!("/page/{m}"), 20_000));
    }
    log.push_str(&line(13, 31, "/admin/export/customers.csv", 30_000_000));
    log.push_str(&line(13, 32, "/admin/export/orders.csv", 12_000_000));
    log.push_str(&line(13, 33, "/admin/export/customers.csv", 15_000_000));
    log.push_str(&line(13, 34, "/reports/q3.pdf", 2_000_000));
    log.push_str(&line(13, 35, "/reports/q2.pdf", 1_500_000));
    // A padded path is cut, not left out.
    let long = format!("/dl/{}", "a".repeat(300));
    log.push_str(&line(13, 36, &long, 20_000_000));
    fs::write(ev.join("access.log"), log).unwrap();
    let cut = format!("{}…", &long[..200]);
    let v = scan_json(&[], &dir.path().join("case"), &ev);
    let f = titled(&v, "Large volume of data sent to one client");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0]["message"].as_str().unwrap(),
        format!(
            "198.51.100.23 received 80.5 MB in 6 responses; largest responses: /admin/export/customers.csv (45.0 MB), {cut} (20.0 MB), /admin/export/orders.csv (12.0 MB)"
        ),
        "{}",
        f[0]
    );
    assert_eq!(
        f[0]["entities"]["targets"],
        serde_json::json!([
            "/admin/export/customers.csv",
            "/admin/export/orders.csv",
            cut,
            "/reports/q2.pdf",
            "/reports/q3.pdf"
        ])
    );
}
