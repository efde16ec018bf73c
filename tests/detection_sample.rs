//! Detection on sample-logs/: every step of the leak in tests/data/sample_expected.json is
//! found by at least one finding that names one of the step's actors and overlaps its time
//! window, and no high or critical finding names a benign actor. Runs the real binary.

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn secs(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

fn strings(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_step_found_and_no_benign_actor_ranked_high() {
    let out = tempfile::tempdir().unwrap();
    let case = out.path().join("case");
    Command::cargo_bin("leaktrail")
        .unwrap()
        .args(["scan", "-q", "--exclude", "EXPECTED.md", "-o"])
        .arg(&case)
        .arg(root().join("sample-logs"))
        .assert()
        .success();
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/sample_expected.json")).unwrap(),
    )
    .unwrap();
    let findings = c["findings"].as_array().unwrap();
    let actors_of = |f: &serde_json::Value| -> BTreeSet<String> {
        let e = &f["entities"];
        let mut s = strings(&e["ips"]);
        s.extend(strings(&e["users"]));
        s.extend(strings(&e["keys"]));
        s
    };
    let mut missing = Vec::new();
    for step in expected["steps"].as_array().unwrap() {
        let a = &step["actors"];
        let mut actors = strings(&a["ips"]);
        actors.extend(strings(&a["users"]));
        actors.extend(strings(&a["keys"]));
        let (first, last) = (
            secs(step["first"].as_str().unwrap()),
            secs(step["last"].as_str().unwrap()),
        );
        let hits: Vec<&str> = findings
            .iter()
            .filter(|f| {
                secs(f["first_seen"].as_str().unwrap()) <= last
                    && secs(f["last_seen"].as_str().unwrap()) >= first
                    && !actors_of(f).is_disjoint(&actors)
            })
            .map(|f| f["title"].as_str().unwrap())
            .collect();
        println!("step {}: {} finding(s): {:?}", step["id"], hits.len(), hits);
        if hits.is_empty() {
            missing.push(step["id"].to_string());
        }
    }
    assert!(missing.is_empty(), "steps without a finding: {missing:?}");
    // Every evidence reference points at the start of a line holding the event: the line
    // number matches the offset, and the record names one of the finding's actors.
    let mut checked = 0;
    for f in findings {
        let names = actors_of(f);
        for e in f["evidence"].as_array().unwrap() {
            let path = PathBuf::from(e["location"].as_str().unwrap());
            let raw = std::fs::read(&path).unwrap();
            // The reference names the file by its path under the root and by its content.
            assert!(path.ends_with(e["path"].as_str().unwrap()), "{e}");
            assert_eq!(
                e["sha256"].as_str().unwrap(),
                leaktrail::input::sha256_hex(&raw),
                "{e}"
            );
            let data = if path.extension().is_some_and(|x| x == "gz") {
                let mut out = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::MultiGzDecoder::new(&raw[..]),
                    &mut out,
                )
                .unwrap();
                out
            } else {
                raw
            };
            let off = e["offset"].as_u64().unwrap() as usize;
            let line = data[..off].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
            assert_eq!(line, e["line"].as_u64().unwrap(), "{} {e}", f["title"]);
            let end = data[off..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(data.len(), |p| off + p);
            let record = String::from_utf8_lossy(&data[off..end]);
            if !names.is_empty() {
                assert!(
                    names.iter().any(|n| record.contains(n.as_str())),
                    "{} {e}: {record}",
                    f["title"]
                );
            }
            checked += 1;
        }
    }
    println!("evidence references checked: {checked}");
    let benign: BTreeSet<String> = expected["benign"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["value"].as_str().map(str::to_string))
        .collect();
    for f in findings {
        if matches!(f["level"].as_str(), Some("high" | "critical")) {
            let named: Vec<_> = actors_of(f).intersection(&benign).cloned().collect();
            assert!(named.is_empty(), "{} names benign {:?}", f["title"], named);
        }
    }
}

#[test]
fn builtin_rule_examples_pass() {
    Command::cargo_bin("leaktrail")
        .unwrap()
        .args(["rules", "test"])
        .assert()
        .success()
        .stdout(predicates::str::contains(" passed, 0 failed"));
}
