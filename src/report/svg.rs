//! The charts, as inline SVG (no scripts, no network): a swimlane of the attack per actor
//! with the tactics marked where they were first reached, and bytes out over time.

use super::html::esc;
use crate::rules::tags;
use crate::timeline::{Story, human_bytes};
use std::fmt::Write;

/// How many incidents the charts show.
const SHOWN: usize = 3;
const MAX_LANES: usize = 16;
const HOUR: i64 = 3_600_000_000_000;

/// A colour per tactic (kill-chain order), readable on white and in print.
const COLOURS: [&str; 14] = [
    "#4e79a7", "#9c755f", "#e15759", "#b07aa1", "#f28e2b", "#edc948", "#76b7b2", "#ff9da7",
    "#59a14f", "#86bcb6", "#d37295", "#8cd17d", "#c0392b", "#7f7f7f",
];

/// The colour of a tactic.
pub fn colour(tactic: Option<&str>) -> &'static str {
    tactic.map_or("#7f7f7f", |t| {
        COLOURS[tags::order(t).min(COLOURS.len() - 1)]
    })
}

fn short_time(n: i64) -> String {
    let s = crate::timeline::utc(n);
    // 2026-10-13T09:00:00Z → 10-13 09:00
    s.get(5..16).map_or(s.clone(), |x| x.replace('T', " "))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

struct Axis {
    from: i64,
    to: i64,
    x0: f64,
    width: f64,
}

impl Axis {
    fn x(&self, t: i64) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        self.x0 + (t - self.from) as f64 / span * self.width
    }

    fn ticks(&self, out: &mut String, y: f64, bottom: f64) {
        for i in 0..=5 {
            let t = self.from + (self.to - self.from) / 5 * i;
            let x = self.x(t);
            let anchor = match i {
                0 => "start",
                5 => "end",
                _ => "middle",
            };
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="{anchor}" fill="#555">{}</text>"##,
                bottom + 12.0,
                short_time(t)
            );
        }
    }
}

/// The swimlane: one lane per actor of the top incidents, each finding a bar from its first
/// to its last event in its tactic's colour; dashed lines where the top incident first reached
/// each tactic.
pub fn swimlane(story: &Story) -> Option<String> {
    let shown = &story.incidents[..story.incidents.len().min(SHOWN)];
    let mut lanes: Vec<(String, String)> = Vec::new();
    for inc in shown {
        let ents = inc.ips.iter().chain(&inc.users).chain(&inc.keys);
        for v in ents.take(6) {
            if lanes.len() < MAX_LANES && !lanes.iter().any(|(_, x)| x == v) {
                lanes.push((inc.id.clone(), v.clone()));
            }
        }
    }
    if lanes.is_empty() {
        return None;
    }
    // Convergence findings restate the others over the whole span: not drawn.
    let fs: Vec<usize> = shown
        .iter()
        .flat_map(|i| i.findings.iter().copied())
        .filter(|&i| story.findings[i].rule_id != crate::detect::convergence::RULE_ID)
        .collect();
    let from = fs.iter().map(|&i| story.findings[i].first_seen).min()?;
    let to = fs.iter().map(|&i| story.findings[i].last_seen).max()?;
    let pad = ((to - from) / 50).max(60_000_000_000);
    let (label_w, width, lane_h, top) = (230.0, 900.0, 22.0, 96.0);
    let axis = Axis {
        from: from - pad,
        to: to + pad,
        x0: label_w,
        width: width - label_w - 10.0,
    };
    let bottom = top + lane_h * lanes.len() as f64;
    let height = bottom + 60.0;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="Attack timeline per actor" font-family="sans-serif">"#
    );
    axis.ticks(&mut out, top, bottom);
    for (n, (inc, v)) in lanes.iter().enumerate() {
        let y = top + lane_h * n as f64;
        let fill = if n % 2 == 0 { "#f6f6f6" } else { "#ffffff" };
        let _ = write!(
            out,
            r##"<rect x="0" y="{y:.1}" width="{width}" height="{lane_h}" fill="{fill}"/><text x="4" y="{:.1}" font-size="11" fill="#222">{} · {}</text>"##,
            y + 15.0,
            esc(inc),
            esc(&truncate(v, 30))
        );
        for &i in &fs {
            let f = &story.findings[i];
            let names = crate::timeline::actors::named(f).any(|(_, x)| x == v);
            if !names {
                continue;
            }
            let x1 = axis.x(f.first_seen);
            let w = (axis.x(f.last_seen) - x1).max(3.0);
            let _ = write!(
                out,
                r#"<rect x="{x1:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}" opacity="0.85"><title>{} ({}) {} → {}</title></rect>"#,
                y + 4.0,
                lane_h - 8.0,
                colour(f.tactics.first().copied()),
                esc(&f.title),
                f.level,
                short_time(f.first_seen),
                short_time(f.last_seen)
            );
        }
    }
    if let Some(top_inc) = shown.first() {
        for (k, (t, at)) in top_inc.tactics.iter().enumerate() {
            let x = axis.x(*at);
            let ly = 12.0 + (k % 6) as f64 * 13.0;
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{ly:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="{c}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{c}">{t}</text>"#,
                x + 2.0,
                ly + 8.0,
                c = colour(Some(t)),
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

/// Bytes out per time bucket to the top incidents' addresses, stacked by incident.
pub fn bytes_chart(story: &Story) -> Option<String> {
    let shown: Vec<_> = story
        .incidents
        .iter()
        .filter(|i| !i.hours.is_empty())
        .take(SHOWN)
        .collect();
    let from = shown
        .iter()
        .filter_map(|i| i.hours.first())
        .map(|h| h.0)
        .min()?;
    let to = shown
        .iter()
        .filter_map(|i| i.hours.last())
        .map(|h| h.0)
        .max()?;
    // At most 96 bars: an hour each, or wider buckets for long spans.
    let hours = to - from + 1;
    let per = (hours + 95) / 96;
    let nbars = (hours + per - 1) / per;
    let mut bars = vec![vec![0u64; shown.len()]; nbars as usize];
    for (k, inc) in shown.iter().enumerate() {
        for (h, b) in &inc.hours {
            bars[((h - from) / per) as usize][k] += b;
        }
    }
    let max = bars.iter().map(|b| b.iter().sum::<u64>()).max()?.max(1);
    let (x0, width, top, plot_h) = (80.0, 900.0, 20.0, 180.0);
    let bw = (width - x0 - 10.0) / nbars as f64;
    let bottom = top + plot_h;
    let axis = Axis {
        from: from * HOUR,
        to: (from + nbars * per) * HOUR,
        x0,
        width: width - x0 - 10.0,
    };
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {:.0}" width="100%" role="img" aria-label="Bytes out over time" font-family="sans-serif">"#,
        bottom + 60.0
    );
    axis.ticks(&mut out, top, bottom);
    let _ = write!(
        out,
        r##"<text x="4" y="{:.1}" font-size="10" fill="#555">{}</text><text x="4" y="{bottom:.1}" font-size="10" fill="#555">0</text>"##,
        top + 8.0,
        human_bytes(max)
    );
    const SERIES: [&str; 3] = ["#c0392b", "#2c7fb8", "#7b6f9e"];
    for (n, bar) in bars.iter().enumerate() {
        let mut y = bottom;
        for (k, &b) in bar.iter().enumerate().filter(|(_, b)| **b > 0) {
            let h = (b as f64 / max as f64 * plot_h).max(1.0);
            y -= h;
            let t = (from + n as i64 * per) * HOUR;
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {} from {}</title></rect>"#,
                x0 + bw * n as f64,
                (bw - 1.0).max(1.0),
                SERIES[k],
                esc(&shown[k].id),
                human_bytes(b),
                short_time(t)
            );
        }
    }
    for (k, inc) in shown.iter().enumerate() {
        let x = x0 + 150.0 * k as f64;
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{} ({})</text>"#,
            bottom + 30.0,
            SERIES[k],
            x + 14.0,
            bottom + 39.0,
            esc(&inc.id),
            human_bytes(inc.bytes_out)
        );
    }
    out.push_str("</svg>");
    Some(out)
}
