//! The built-in pack against others' detection test cases: CrowdSec's hub scenarios (each
//! expected alert's source address should be named by a finding) and Wazuh's web and sshd rule
//! cases (each attack line that Wazuh alerts on at level 5 or more should raise a finding). The
//! rates are printed; the floors asserted are today's, so a regression fails.
//!
//! Known gaps, counted in the rates rather than hidden: CrowdSec scenarios that need a GeoIP
//! database (impossible travel), CVE-specific paths the generic pack does not list, brute-force
//! scenarios whose thresholds (5-6 events) sit below the pack's (20), and log types leaktrail
//! does not read natively (CloudFront, IIS event XML, HAProxy native).

mod common;

use common::{corpus, pct, wazuh_cases};
use leaktrail::detect::{self, Engine};
use leaktrail::rules::{RuleSet, builtin};
use leaktrail::scan::Options;
use std::collections::BTreeSet;
use std::path::Path;

fn engine() -> Engine {
    let mut set = RuleSet::default();
    builtin::load(&mut set);
    Engine::new(&set)
}

/// Runs the pack over `path`; returns every finding with the entities it names.
fn findings(engine: &Engine, path: &Path) -> Vec<(String, BTreeSet<String>, Vec<String>)> {
    let opts = Options::new(vec![path.to_path_buf()]);
    let (r, state) = detect::scan(&opts, engine, &|_| {});
    let paths = r.paths_by_index();
    detect::findings(engine, &state, &paths)
        .into_iter()
        .map(|f| {
            let names: BTreeSet<String> = f
                .ips
                .iter()
                .chain(&f.users)
                .chain(&f.keys)
                .cloned()
                .collect();
            let files = f.evidence.iter().map(|e| e.0.clone()).collect();
            (f.title, names, files)
        })
        .collect()
}

#[test]
fn crowdsec_scenarios() {
    let Some(dir) = corpus("crowdsec-hub-tests") else {
        return;
    };
    let engine = engine();
    let summary = std::fs::read_to_string(dir.join("SUMMARY.tsv")).unwrap();
    let (mut expected, mut found) = (0, 0);
    let mut missed = Vec::new();
    for row in summary.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 8 || cols[7].is_empty() {
            continue;
        }
        let log = dir.join(cols[0]).join(cols[2]);
        let got = findings(&engine, &log);
        for ip in cols[7]
            .split(',')
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        {
            expected += 1;
            if got.iter().any(|(_, names, _)| names.contains(ip)) {
                found += 1;
            } else {
                missed.push(format!("{}:{ip}", cols[0]));
            }
        }
    }
    let rate = pct(found, expected);
    println!(
        "crowdsec: expected attacks found with their source address: {found}/{expected} = {rate:.1}%"
    );
    println!("crowdsec: missed: {missed:?}");
    assert!(rate >= 50.0, "crowdsec detection rate fell to {rate:.1}%");
}

#[test]
fn wazuh_web_and_sshd_cases() {
    let Some(dir) = corpus("wazuh-ruleset-tests") else {
        return;
    };
    let engine = engine();
    let tmp = tempfile::tempdir().unwrap();
    // Today's rates, as floors: web_rules 4/6 (its syslog-wrapped SQL injection and CRLF
    // injection are read as access records), web_appsec 10/25.
    for (file, floor) in [("web_rules.ini", 66.0), ("web_appsec.ini", 40.0)] {
        let cases: Vec<_> = wazuh_cases(&dir.join(file))
            .into_iter()
            .filter(|c| c.1 >= 6)
            .collect();
        let (mut hit, total) = (0, cases.len());
        let mut missed = Vec::new();
        for (k, (section, _, line)) in cases.iter().enumerate() {
            let case_dir = tmp.path().join(format!("{file}-{k}"));
            std::fs::create_dir_all(&case_dir).unwrap();
            std::fs::write(case_dir.join("access.log"), format!("{line}\n")).unwrap();
            if findings(&engine, &case_dir).is_empty() {
                missed.push(section.clone());
            } else {
                hit += 1;
            }
        }
        println!(
            "wazuh {file}: attack lines (level >= 6) raising a finding: {hit}/{total} = {:.1}%",
            pct(hit, total)
        );
        println!("wazuh {file}: missed sections: {missed:?}");
        assert!(pct(hit, total) >= floor, "{file}: rate fell");
    }
}

/// The Honeynet Project's web server logs: years of internet background (worm probes answered
/// 404) around one real compromise. Failed probes must not become a list of incidents, and the
/// compromised session must lead.
#[test]
fn honeynet_background_stays_out_of_the_incidents() {
    let Some(dir) = corpus("honeynet-redhat-httpd") else {
        return;
    };
    let engine = engine();
    let opts = Options::new(vec![dir]);
    let (r, state) = detect::scan(&opts, &engine, &|_| {});
    let story = leaktrail::cli::scan::story(&engine, &state, &r, 0);
    let levels: Vec<&str> = story.incidents.iter().map(|i| i.level).collect();
    println!(
        "honeynet: {} findings, {} incidents ({} high or critical); top: {:?}",
        story.findings.len(),
        story.incidents.len(),
        levels
            .iter()
            .filter(|l| matches!(**l, "high" | "critical"))
            .count(),
        story.incidents.first().map(|i| &i.ips)
    );
    assert!(
        story.incidents.len() <= 20,
        "{} incidents",
        story.incidents.len()
    );
    let top = &story.incidents[0];
    assert_eq!(top.ips, ["68.49.152.86"]);
    assert!(
        levels[1..]
            .iter()
            .all(|l| !matches!(*l, "high" | "critical")),
        "{levels:?}"
    );
}

/// The built-in pack on the Invictus Stratus CloudTrail run: each labelled technique counts
/// as found when a rule's finding of its tactic overlaps its time window (failed attempts included:
/// several detonations were refused). The rate is printed; the secrets harvest must be found.
#[test]
fn invictus_stratus_techniques() {
    let Some(dir) = corpus("invictus-aws-stratus") else {
        return;
    };
    let engine = engine();
    let opts = Options::new(vec![dir.join("CloudTrail")]);
    let (r, state) = detect::scan(&opts, &engine, &|_| {});
    let found = detect::findings(&engine, &state, &r.paths_by_index());
    let secs = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    };
    let labels = std::fs::read_to_string(dir.join("labels_techniques.csv")).unwrap();
    let (mut hit, mut total) = (0, 0);
    let mut missed = Vec::new();
    for row in labels.lines().skip(1) {
        let c: Vec<&str> = row.split(',').collect();
        let tactic = c[1].to_lowercase().replace(' ', "-");
        let (a, b) = (secs(c[2]), secs(c[3]));
        total += 1;
        // leaktrail's own convergence findings span every tactic of an actor: not counted.
        let ok = found.iter().any(|f| {
            !f.rule_id.starts_with("leaktrail-")
                && f.first_seen <= b + 1_000_000_000
                && f.last_seen >= a - 1_000_000_000
                && f.tactics.iter().any(|t| *t == tactic)
        });
        if ok {
            hit += 1;
        } else {
            missed.push(c[0].to_string());
        }
    }
    println!(
        "invictus pack: labelled techniques with a finding of their tactic in their window: {hit}/{total} = {:.1}%",
        pct(hit, total)
    );
    println!("invictus pack: missed: {missed:?}");
    assert!(
        !missed.contains(&"aws.credential-access.secretsmanager-retrieve-secrets".to_string()),
        "the secrets harvest was not found"
    );
    assert!(hit >= 18, "the pack found only {hit}/{total} techniques");
}

/// The built-in pack on OTRF's S3 exfiltration (CloudGoat "cloud_breach_s3"): the attacker
/// stole an EC2 instance's role credentials through its proxy and used them from a Mac to list
/// and read a bucket. Ground truth (corpus notes): the attacker's events are the 11 made with
/// the key ASIA5FLZVX4OPVKKVBMX. The console user `pedro`, browsing EC2 from the same
/// (anonymised) address, must not be named by a high finding.
#[test]
fn otrf_stolen_instance_credentials() {
    let Some(dir) = corpus("otrf-aws-ec2-proxy-s3-exfil") else {
        return;
    };
    let file = dir.join("ec2_proxy_s3_exfiltration_2020-09-14011940.json");
    let engine = engine();
    let opts = Options::new(vec![file.clone()]);
    let (r, state) = detect::scan(&opts, &engine, &|_| {});
    let found = detect::findings(&engine, &state, &r.paths_by_index());
    let text = std::fs::read_to_string(&file).unwrap();
    let attacker: BTreeSet<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| {
                v["userIdentity"]["accessKeyId"].as_str() == Some("ASIA5FLZVX4OPVKKVBMX")
            })
        })
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(attacker.len(), 11);
    let stolen: Vec<_> = found
        .iter()
        .filter(|f| f.title == "EC2 instance-role credentials used from a workstation")
        .collect();
    assert_eq!(stolen.len(), 1, "{found:#?}");
    let f = stolen[0];
    assert_eq!(f.level, "high");
    assert_eq!(f.keys, vec!["ASIA5FLZVX4OPVKKVBMX".to_string()]);
    assert_eq!(f.count, 11, "every one of the attacker's events");
    assert!(f.evidence.iter().all(|e| attacker.contains(&e.1)));
    // 01:00:04 (the first ListBuckets) to 01:13:20 (the second GetObject of ring.txt).
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    };
    assert_eq!(
        (f.first_seen, f.last_seen),
        (t("2020-09-14T01:00:04Z"), t("2020-09-14T01:13:20Z"))
    );
    // The actors table counts what S3 sent the key (`bytesTransferredOut` is a decimal:
    // `500.0`), as the finding does.
    let act = state
        .seen
        .get(detect::seen::KEY, "ASIA5FLZVX4OPVKKVBMX")
        .expect("the key's activity");
    assert_eq!((act.events, act.bytes_out), (11, 3726));
    assert_eq!(f.bytes, 3726.0);
    // The collection step: the two GetObject calls, naming the object that left.
    let read: Vec<_> = found
        .iter()
        .filter(|f| {
            f.title == "S3 object read with EC2 instance-role credentials from a workstation"
        })
        .collect();
    assert_eq!(read.len(), 1, "{found:#?}");
    let r = read[0];
    assert_eq!((r.count, r.bytes, r.level), (2, 178.0, "high"));
    assert_eq!(r.tactics, vec!["collection"]);
    assert_eq!(
        r.targets,
        vec!["s3://mordors3stack-s3bucket-llp2yingx64a/ring.txt".to_string()]
    );
    assert_eq!(
        (r.first_seen, r.last_seen),
        (t("2020-09-14T01:02:34Z"), t("2020-09-14T01:13:20Z"))
    );
    // Calls made with an access key are grouped by the key: pedro's console browsing and the
    // attacker's ListBuckets, from one (anonymised) address, are not one finding.
    assert!(
        !found
            .iter()
            .any(|f| f.keys.iter().any(|k| k == "ASIA5FLZVX4OPVKKVBMX")
                && f.users.iter().any(|u| u.contains("pedro"))),
        "{found:#?}"
    );
    for f in &found {
        if matches!(f.level, "high" | "critical") {
            assert!(
                !f.users.iter().any(|u| u.contains("pedro")),
                "a high finding names the console user: {f:?}"
            );
        }
    }
}
