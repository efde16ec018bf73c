//! Gaps: a silence inside an otherwise busy log source — logging stopped, a rotation missing,
//! a file deleted. Activity is kept per file in five-minute buckets (first and last event of
//! each); at the end files are grouped into sources and the silences become findings.
//!
//! With three days or more of a source, its own hour-of-day baseline (the median events in each
//! hour of the day, over the days it covers) decides: a silence in hours that usually hold many
//! events is a medium finding; one in hours that are usually quiet (a night) is not reported.
//! With less history, the half hour on each side gives the usual rate and a silence is a low
//! finding.

use super::finding::Finding;
use super::{MAX_EVIDENCE, Ref};
use std::collections::BTreeMap;

/// Bucket length.
pub const BUCKET: i64 = 5 * 60 * 1_000_000_000;
/// A silence shorter than this is not reported.
pub const MIN_GAP: i64 = 30 * 60 * 1_000_000_000;
/// The half hour (six buckets) on each side of a silence gives the source's usual rate.
const SIDE: i64 = 6;
/// A silence is reported when at the usual rate at least this many events would have been
/// written in it (the chance of such a silence by accident is then negligible).
const EXPECTED: f64 = 40.0;
/// Days of history a source needs for its hour-of-day baseline.
const BASELINE_DAYS: usize = 3;
const HOUR: i64 = 3600 * 1_000_000_000;
const DAY: i64 = 24 * HOUR;
/// The rule id of gap findings.
pub const RULE_ID: &str = "leaktrail-log-gap";

/// First and last event of one bucket.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub first: (i64, Ref),
    pub last: (i64, Ref),
    pub count: u64,
}

impl Span {
    fn merge(&mut self, o: Span) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.count += o.count;
    }
}

/// Activity per (file, bucket). The bucket being filled is kept aside (events of a chunk come
/// in time order, so nearly every event lands in it) and enters the map when the next begins.
#[derive(Clone, Debug, Default)]
pub struct Activity(
    pub BTreeMap<(usize, i64), Span>,
    Option<((usize, i64), Span)>,
);

impl Activity {
    /// Records an event.
    pub fn add(&mut self, file: usize, ts: i64, r: Ref) {
        let s = Span {
            first: (ts, r),
            last: (ts, r),
            count: 1,
        };
        let key = (file, ts.div_euclid(BUCKET));
        match &mut self.1 {
            Some((k, open)) if *k == key => open.merge(s),
            open => {
                if let Some((k, o)) = open.replace((key, s)) {
                    self.0.entry(k).and_modify(|x| x.merge(o)).or_insert(o);
                }
            }
        }
    }

    /// Puts the bucket being filled into the map.
    pub fn flush(&mut self) {
        if let Some((k, o)) = self.1.take() {
            self.0.entry(k).and_modify(|x| x.merge(o)).or_insert(o);
        }
    }

    /// Adds another part.
    pub fn merge(&mut self, mut o: Activity) {
        self.flush();
        o.flush();
        for (k, s) in o.0 {
            self.0.entry(k).and_modify(|x| x.merge(s)).or_insert(s);
        }
    }
}

/// Gap findings. `sources[file]` names the source a file belongs to (files of one source are
/// one stream: a CloudTrail folder, a web server's rotated logs).
pub fn gaps(a: &Activity, sources: &[String], paths: &[String]) -> Vec<Finding> {
    let mut by: BTreeMap<&str, BTreeMap<i64, Span>> = BTreeMap::new();
    // The bucket still open joins the map's (the same bucket may be in both).
    for (&(file, bucket), &s) in a.0.iter().chain(a.1.iter().map(|(k, s)| (k, s))) {
        let Some(src) = sources.get(file) else {
            continue;
        };
        by.entry(src)
            .or_default()
            .entry(bucket)
            .and_modify(|x| x.merge(s))
            .or_insert(s);
    }
    // The evidence's last event, in any source: a source silent from some time until then
    // (logging stopped and never restarted) is a silence too.
    let end = by
        .values()
        .filter_map(|b| b.last_key_value().map(|(_, s)| s.last))
        .max();
    // A log stopped while its neighbours went on writing: another source wrote in the hour
    // before its last event and again within the hour after the silence began. A log of
    // another period (a collection of unrelated logs, years apart) is not silent, just
    // elsewhere in time.
    let surrounded = |src: &str, t: i64| {
        let (b, h) = (t.div_euclid(BUCKET), HOUR / BUCKET);
        let gap = MIN_GAP / BUCKET;
        by.iter().any(|(o, other)| {
            *o != src
                && other.range(b - h..=b).next().is_some()
                && other.range(b + gap..=b + gap + h).next().is_some()
        })
    };
    let mut out = Vec::new();
    for (&src, buckets) in &by {
        let keys: Vec<i64> = buckets.keys().copied().collect();
        let baseline = Baseline::of(buckets);
        if let (Some(end), Some(&z)) = (end, keys.last())
            && surrounded(src, buckets[&z].last.0)
        {
            let tail = buckets[&z].last;
            let silence = end.0 - tail.0;
            let expected = match &baseline {
                Some(base) => base.expected(tail.0, end.0),
                None => {
                    // Busy in most of its last half hour, at a pace that would have filled
                    // the silence with many events.
                    let recent = buckets.range(z - SIDE + 1..z + 1);
                    let (slots, events) =
                        recent.fold((0, 0), |(n, e), (_, s)| (n + 1, e + s.count));
                    if slots < SIDE - 1 {
                        0.0
                    } else {
                        events as f64 / (SIDE * BUCKET) as f64 * silence as f64
                    }
                }
            };
            if silence >= MIN_GAP && expected >= EXPECTED {
                let mut f = finding(src, tail, end, silence, paths);
                f.open_end = true;
                // A log collected earlier than the others ends earlier too: by itself this is
                // a fact to know, not an alarm. Joined to the tampering that began it, it is
                // the blind window of an incident.
                f.level = "informational";
                f.detail = format!(
                    "{src}: silent from its last event until the evidence ends (other logs go on until {}); at its pace it would have held about {} events",
                    crate::timeline::utc(end.0),
                    expected.round()
                );
                out.push(f);
            }
        }
        for w in keys.windows(2) {
            let (a, b) = (w[0], w[1]);
            let before = &buckets[&a];
            let after = &buckets[&b];
            let silence = after.first.0 - before.last.0;
            if silence < MIN_GAP {
                continue;
            }
            if let Some(base) = &baseline {
                let expected = base.expected(before.last.0, after.first.0);
                if expected >= EXPECTED {
                    let mut f = finding(src, before.last, after.first, silence, paths);
                    f.level = "medium";
                    f.detail = format!(
                        "{src}: silent between its last event before and its first event after; over the {} days of this source, these hours usually hold about {} events",
                        base.days,
                        expected.round()
                    );
                    out.push(f);
                    continue;
                }
                if expected < EXPECTED / 4.0 {
                    // Usually quiet at these hours: a night, not a stopped log.
                    continue;
                }
            }
            // Both sides busy in most five-minute slots (bursts alone do not count), and busy
            // enough that the silence would have held many events at that pace.
            let busy = |from: i64, to: i64| buckets.range(from..to).count() as i64;
            if busy(a - SIDE + 1, a + 1) < SIDE - 1 || busy(b, b + SIDE) < SIDE - 1 {
                continue;
            }
            let events =
                |from: i64, to: i64| -> u64 { buckets.range(from..to).map(|(_, s)| s.count).sum() };
            let around = events(a - SIDE + 1, a + 1) + events(b, b + SIDE);
            let rate_per_ns = around as f64 / (2 * SIDE * BUCKET) as f64;
            if rate_per_ns * (silence as f64) < EXPECTED {
                continue;
            }
            out.push(finding(src, before.last, after.first, silence, paths));
        }
    }
    out
}

/// A source's events per hour of the day (UTC), the median over the days it covers.
struct Baseline {
    per_hour: [f64; 24],
    days: usize,
}

impl Baseline {
    /// None when the source covers fewer than [`BASELINE_DAYS`] whole days.
    fn of(buckets: &BTreeMap<i64, Span>) -> Option<Baseline> {
        let first = buckets.first_key_value()?.1.first.0;
        let last = buckets.last_key_value()?.1.last.0;
        let (d0, d1) = (first.div_euclid(DAY), last.div_euclid(DAY));
        // Whole days only: the first and last may be partial.
        let days = (d1 - d0 - 1).max(0) as usize;
        if days < BASELINE_DAYS {
            return None;
        }
        let mut counts = vec![[0u64; 24]; days];
        for (&k, s) in buckets {
            let t = k * BUCKET;
            let d = t.div_euclid(DAY) - d0 - 1;
            if (0..days as i64).contains(&d) {
                counts[d as usize][(t.rem_euclid(DAY) / HOUR) as usize] += s.count;
            }
        }
        let mut per_hour = [0.0; 24];
        for (h, slot) in per_hour.iter_mut().enumerate() {
            let mut v: Vec<u64> = counts.iter().map(|c| c[h]).collect();
            v.sort_unstable();
            *slot = v[v.len() / 2] as f64;
        }
        Some(Baseline { per_hour, days })
    }

    /// Events the baseline expects between two times.
    fn expected(&self, from: i64, to: i64) -> f64 {
        let mut t = from;
        let mut sum = 0.0;
        while t < to {
            let hour_end = (t.div_euclid(HOUR) + 1) * HOUR;
            let end = hour_end.min(to);
            let h = (t.rem_euclid(DAY) / HOUR) as usize;
            sum += self.per_hour[h] * (end - t) as f64 / HOUR as f64;
            t = end;
        }
        sum
    }
}

fn finding(
    src: &str,
    last: (i64, Ref),
    next: (i64, Ref),
    silence: i64,
    paths: &[String],
) -> Finding {
    let ev = |r: Ref| {
        (
            paths.get(r.file).cloned().unwrap_or_default(),
            r.line,
            r.offset,
        )
    };
    let id = crate::input::sha256_hex(format!("{RULE_ID}\0{src}\0{}", last.0).as_bytes())[..16]
        .to_string();
    let mut evidence = vec![ev(last.1), ev(next.1)];
    evidence.truncate(MAX_EVIDENCE);
    Finding {
        // The silence starts after the event before it and ends at the event after it.
        first_at: Some(ev(last.1)),
        last_at: Some(ev(next.1)),
        id,
        rule_id: RULE_ID.to_string(),
        title: format!(
            "No events for {} in a busy log source",
            crate::timeline::human_duration(silence)
        ),
        // Without an hour-of-day baseline, a heuristic over event times: worth a look, not an
        // alarm (the baseline raises it to medium).
        level: "low",
        tactics: vec!["defense-evasion"],
        technique: Some("T1562.002".into()),
        first_seen: last.0,
        last_seen: next.0,
        count: 0,
        bytes: 0.0,
        evidence,
        detail: format!("{src}: silent between its last event before and its first event after"),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    const MIN: i64 = 60_000_000_000;

    #[test]
    fn a_silence_between_busy_stretches_is_a_gap() {
        let mut a = Activity::default();
        let r = |n: u64| Ref {
            file: 0,
            line: n,
            offset: n,
        };
        for m in 0..60 {
            a.add(0, m * MIN, r(m as u64));
        }
        for m in 102..160 {
            a.add(0, m * MIN, r(m as u64));
        }
        // A sparse source with the same silence is not reported.
        a.add(1, 0, r(1));
        a.add(1, 100 * MIN, r(2));
        let g = gaps(
            &a,
            &["web1".into(), "bastion".into()],
            &["a.log".into(), "b.log".into()],
        );
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].first_seen, g[0].last_seen), (59 * MIN, 102 * MIN));
        assert_eq!(g[0].title, "No events for 43 minutes in a busy log source");
        assert_eq!(g[0].evidence[0].1, 59);
        assert_eq!(g[0].level, "low", "no baseline yet: a heuristic");
    }

    /// A busy log that stops while another goes on writing is silent to the end of the
    /// evidence; a log of another period (years before the other) is not.
    #[test]
    fn a_log_stopped_while_another_writes_is_silent_to_the_end() {
        let r = |n: u64| Ref {
            file: 0,
            line: n,
            offset: n,
        };
        let sources = ["trail".into(), "web".into()];
        let paths = ["t.json".into(), "w.log".into()];
        let mut a = Activity::default();
        for m in 0..60 {
            a.add(0, m * MIN, r(m as u64));
        }
        for m in 0..180 {
            a.add(1, m * MIN, r(m as u64));
        }
        let g = gaps(&a, &sources, &paths);
        assert_eq!(g.len(), 1, "{g:?}");
        assert!(g[0].open_end);
        // By itself only a fact (the log may have been collected earlier): informational.
        assert_eq!(g[0].level, "informational");
        assert_eq!((g[0].first_seen, g[0].last_seen), (59 * MIN, 179 * MIN));
        // The other log written years later does not make this one silent.
        let mut apart = Activity::default();
        for m in 0..60 {
            apart.add(0, m * MIN, r(m as u64));
        }
        let years = 20 * 365 * 24 * 60 * MIN;
        for m in 0..180 {
            apart.add(1, years + m * MIN, r(m as u64));
        }
        assert!(gaps(&apart, &sources, &paths).is_empty());
    }

    /// The bucket being filled reaches the map whatever the order: events of two files
    /// interleaved, a bucket reopened, parts merged.
    #[test]
    fn activity_counts_every_event_in_its_bucket() {
        let r = |n: u64| Ref {
            file: 0,
            line: n,
            offset: n,
        };
        let (mut a, mut b) = (Activity::default(), Activity::default());
        for (i, (f, m)) in [(0, 0), (1, 0), (0, 1), (0, 7), (0, 2), (1, 9)]
            .iter()
            .enumerate()
        {
            a.add(*f, m * MIN, r(i as u64));
        }
        b.add(0, 3 * MIN, r(9));
        a.merge(b);
        let counts: Vec<((usize, i64), u64)> = a.0.iter().map(|(k, s)| (*k, s.count)).collect();
        // Buckets are five minutes: minutes 0-4 are bucket 0, 7 and 9 bucket 1.
        assert_eq!(counts, [((0, 0), 4), ((0, 1), 1), ((1, 0), 1), ((1, 1), 1)]);
    }

    /// Five days of a source busy by day (08:00-20:00, 60 events an hour) and quiet by night
    /// (3 an hour): a silence by day is a medium finding; the same silence at night is not
    /// reported, even with busy neighbours on both sides.
    #[test]
    fn the_hour_of_day_baseline_tells_a_stopped_log_from_a_quiet_night() {
        let mut a = Activity::default();
        let mut line = 0;
        let silent = |t: i64| {
            let day_min = t / MIN;
            // Day 3, 13:00-14:00 (a stopped log) and day 2, 02:00-03:00 (a quiet night's
            // hour, with a burst of a nightly job on each side).
            (3 * 1440 + 13 * 60..3 * 1440 + 14 * 60).contains(&day_min)
                || (2 * 1440 + 2 * 60..2 * 1440 + 3 * 60).contains(&day_min)
        };
        for m in 0..5 * 1440 {
            let t = m * MIN;
            let h = (m % 1440) / 60;
            let busy = (8..20).contains(&h);
            let night_job = m % 1440 >= 60 && m % 1440 < 120 || m % 1440 >= 180 && m % 1440 < 240;
            let n = if busy || (night_job && m / 1440 == 2) {
                1
            } else {
                i64::from(m % 20 == 0)
            };
            if silent(t) {
                continue;
            }
            for _ in 0..n {
                line += 1;
                a.add(
                    0,
                    t,
                    Ref {
                        file: 0,
                        line,
                        offset: line,
                    },
                );
            }
        }
        let g = gaps(&a, &["web1".into()], &["a.log".into()]);
        assert_eq!(g.len(), 1, "{g:#?}");
        assert_eq!(g[0].level, "medium");
        assert_eq!(g[0].first_seen / MIN, 3 * 1440 + 13 * 60 - 1);
        assert!(
            g[0].detail.contains("usually hold about"),
            "{}",
            g[0].detail
        );
    }
}
