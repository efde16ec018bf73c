//! sample-logs/ is read completely, and every step of the leak its ground truth describes
//! (tests/data/sample_expected.json) is visible in the parsed events: the events in that
//! step's files, inside its time window, carry its actors, in the numbers the generator wrote.

mod common;

use common::{Ev, scan_collect};
use leaktrail::input::Filter;
use leaktrail::scan::{Options, Status};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

fn secs(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

fn names_actor(e: &Ev, ips: &[String], users: &[String], keys: &[String]) -> bool {
    e.fields
        .iter()
        .any(|(_, v)| ips.contains(v) || users.contains(v) || keys.contains(v))
}

#[test]
fn every_file_is_read_and_every_step_is_visible() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("../tests/data/sample_expected.json")).unwrap(),
    )
    .unwrap();
    let opts = Options {
        filter: Filter::new(&[], &["EXPECTED.md".into()]).unwrap(),
        ..Options::new(vec![root()])
    };
    let (r, events) = scan_collect(&opts);
    let read: Vec<_> = r
        .files
        .iter()
        .filter(|f| f.status == Status::Read)
        .collect();
    assert_eq!(read.len(), 39);
    for f in &read {
        assert_eq!(f.stats.unparsed, 0, "{}: {:?}", f.rel, f.stats.examples);
        assert_eq!(f.stats.untimed, 0, "{}", f.rel);
    }
    let strs = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    let (mut total_naming, mut total_want) = (0, 0);
    for step in expected["steps"].as_array().unwrap() {
        let id = step["id"].as_str().unwrap();
        let (first, last) = (
            secs(step["first"].as_str().unwrap()),
            secs(step["last"].as_str().unwrap()),
        );
        let files = strs(&step["files"]);
        let a = &step["actors"];
        let (ips, users, keys) = (strs(&a["ips"]), strs(&a["users"]), strs(&a["keys"]));
        let in_window: Vec<&Ev> = events
            .iter()
            .filter(|e| files.iter().any(|f| e.path.ends_with(f.as_str())))
            .filter(|e| e.secs().is_some_and(|t| t >= first && t <= last))
            .collect();
        let naming = in_window
            .iter()
            .filter(|e| names_actor(e, &ips, &users, &keys))
            .count();
        let want = step["events"].as_u64().unwrap() as usize;
        println!(
            "sample-logs step {id}: {} events in its window, {naming} naming the actor (generator wrote {want})",
            in_window.len()
        );
        assert!(
            in_window.len() >= want,
            "{id}: only {} of {want} events found",
            in_window.len()
        );
        // Session-close lines and the created account's own lines do not repeat the actor.
        assert!(naming >= 1, "{id}: no event names the actor");
        total_naming += naming;
        total_want += want;
    }
    println!("sample-logs: {total_naming} of {total_want} step events name their actor");
    assert!(total_naming * 10 >= total_want * 9);
}
