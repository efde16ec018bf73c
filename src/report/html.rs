//! report.html: what a person reads first. One self-contained page (inline CSS and SVG, no
//! scripts, no network), printable. Every string from the evidence goes through [`esc`].

use super::{ReportInput, svg};
use crate::detect::Finding;
use crate::timeline::{Incident, Story, grouped, human_bytes, utc};
use std::fmt::Write;

/// Escapes text for HTML element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (terminal escapes, NUL) are shown, not passed through.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Log bytes as escaped text (invalid UTF-8 shown as U+FFFD).
pub fn esc_bytes(b: &[u8]) -> String {
    esc(&String::from_utf8_lossy(b))
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0 auto;max-width:1100px;padding:0 24px 48px}
h1{font-size:24px;margin:24px 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #e3e3e3;padding-bottom:4px}
h3{font-size:16px;margin:20px 0 6px}.meta{color:#555;margin:0 0 12px}
nav{font-size:13px;margin:8px 0 16px}nav a{margin-right:14px;color:#2c5aa0}
table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:13px}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f6;font-weight:600}td.n{text-align:right;white-space:nowrap}td.t{white-space:nowrap}td.v{min-width:11em;overflow-wrap:anywhere}td.h{font-size:10px;max-width:9em;overflow-wrap:anywhere}
.lvl{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:12px;font-weight:600}
.critical{background:#8e1b1b}.high{background:#d0452f}.medium{background:#e08e0b}.low{background:#4f7cac}.informational{background:#888}
.card{border:1px solid #ddd;border-left:6px solid #8e1b1b;border-radius:6px;padding:12px 16px;margin:12px 0;background:#fffaf9}
.card.q{border-left-color:#4f7cac;background:#fafcff}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:8px 0 0}.facts div{min-width:140px}.facts b{display:block;font-size:12px;color:#666;font-weight:500}
.ongoing{color:#8e1b1b;font-weight:700}.tac{display:inline-block;padding:1px 6px;margin:1px 2px;border-radius:4px;color:#fff;font-size:12px}
pre.ev{background:#f7f7f9;border:1px solid #e6e6e6;padding:6px 8px;margin:4px 0 10px;font-size:12px;white-space:pre-wrap;word-break:break-all}
.src{color:#666}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.muted{color:#777}
@media print{nav{display:none}body{max-width:none;padding:0}h2{break-after:avoid}.card,pre.ev,tr{break-inside:avoid}}
"#;

fn level(l: &str) -> String {
    format!(r#"<span class="lvl {l}">{l}</span>"#)
}

fn tactic_badge(t: &str) -> String {
    format!(
        r#"<span class="tac" style="background:{}">{}</span>"#,
        svg::colour(Some(t)),
        esc(t)
    )
}

fn who(f: &Finding) -> String {
    let v: Vec<&str> = crate::timeline::actors::named(f).map(|(_, v)| v).collect();
    let mut s = v.iter().take(4).copied().collect::<Vec<_>>().join(", ");
    if v.len() > 4 {
        let _ = write!(s, " +{}", v.len() - 4);
    }
    esc(&s)
}

fn facts(out: &mut String, inc: &Incident, story: &Story) {
    let status = if inc.silenced {
        r#"<span class="ongoing">not seen to stop: a log they silenced stays silent to the end of the evidence</span>"#.to_string()
    } else if inc.ongoing {
        r#"<span class="ongoing">still active at the end of the evidence</span>"#.to_string()
    } else {
        "stopped before the evidence ends".to_string()
    };
    let records = inc.records.map_or("not in the logs".into(), grouped);
    let _ = write!(
        out,
        r#"<div class="facts"><div><b>First seen</b>{}</div><div><b>Last activity</b>{}</div><div><b>Data out</b>{} ({} bytes)</div><div><b>Records</b>{}</div><div><b>Status</b>{}</div><div><b>Score</b>{}</div></div>"#,
        utc(inc.first_seen),
        utc(inc.last_activity),
        human_bytes(inc.bytes_out),
        grouped(inc.bytes_out),
        records,
        status,
        inc.score
    );
    let _ = story;
}

fn summary_section(out: &mut String, input: &ReportInput<'_>) {
    let story = input.story;
    out.push_str(r#"<section id="summary"><h2>What happened</h2>"#);
    match story.incidents.first() {
        None => {
            let _ = write!(out, "<p>{}</p>", esc(&super::no_incident(input.files)));
        }
        Some(top) => {
            let _ = write!(
                out,
                r#"<div class="card"><h3>{} {} — read this first</h3><p>{}</p>"#,
                esc(&top.id),
                level(top.level),
                esc(&top.summary)
            );
            facts(out, top, story);
            out.push_str("<p>");
            for (t, _) in &top.tactics {
                out.push_str(&tactic_badge(t));
            }
            out.push_str("</p></div>");
        }
    }
    let _ = write!(
        out,
        "<p>{}, {}.</p>",
        crate::timeline::counted(story.incidents.len() as u64, "incident"),
        crate::detect::finding::tally_words(&story.findings)
    );
    if story.incidents.len() > 1 {
        out.push_str("<table><tr><th>Incident</th><th>Level</th><th>Score</th><th>Actors</th><th>First seen</th><th>Last activity</th><th class=n>Data out</th></tr>");
        for inc in &story.incidents {
            let actors: Vec<&String> = inc.ips.iter().chain(&inc.users).chain(&inc.keys).collect();
            let mut a = actors
                .iter()
                .take(4)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if actors.len() > 4 {
                let _ = write!(a, " +{}", actors.len() - 4);
            }
            let _ = write!(
                out,
                r##"<tr><td><a href="#{id}">{id}</a></td><td>{}</td><td class=n>{}</td><td>{}</td><td class="t">{}</td><td class="t">{}</td><td class=n>{}</td></tr>"##,
                level(inc.level),
                inc.score,
                esc(&a),
                utc(inc.first_seen),
                utc(inc.last_activity),
                human_bytes(inc.bytes_out),
                id = esc(&inc.id),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

fn charts(out: &mut String, story: &Story) {
    out.push_str(r#"<section id="charts"><h2>The attack over time</h2>"#);
    match svg::swimlane(story) {
        Some(s) => {
            out.push_str("<p class=muted>One lane per actor of the top incidents; each bar is a finding from its first to its last event, coloured by tactic. Dashed lines: where the top incident first reached each tactic.</p>");
            out.push_str(&s);
        }
        None => out.push_str("<p>Nothing to chart.</p>"),
    }
    if let Some(s) = svg::bytes_chart(story) {
        out.push_str("<h3>Data out over time</h3><p class=muted>Bytes sent to the incidents' addresses (web responses, S3 bytesTransferredOut), per hour or wider buckets.</p>");
        out.push_str(&s);
    }
    out.push_str("</section>");
}

/// ", all failed: an attempt" or ", N failed" (empty when every event succeeded).
fn failed_note(f: &Finding) -> String {
    if f.attempt_only() {
        ", all failed: an attempt".to_string()
    } else if f.failed > 0 {
        format!(", {} failed", grouped(f.failed))
    } else {
        String::new()
    }
}

fn finding_block(out: &mut String, f: &Finding, input: &ReportInput<'_>) {
    let bytes = if f.bytes >= 1.0 {
        format!(", {}", human_bytes(f.bytes.round() as u64))
    } else {
        String::new()
    };
    let tactic = f.tactics.first().map_or(String::new(), |t| tactic_badge(t));
    let _ = write!(
        out,
        r#"<h4 id="f-{id}">{} {} {tactic}</h4><p>{}{}{} to {} — {}{bytes}{}<br><span class="src">rule {} · finding {id}</span></p>"#,
        level(f.level),
        esc(&f.title),
        if f.message.is_empty() {
            String::new()
        } else {
            format!("<b>{}</b><br>", esc(&f.message))
        },
        match who(f) {
            w if w.is_empty() => w,
            w => format!("{w} — "),
        },
        utc(f.first_seen),
        utc(f.last_seen),
        crate::timeline::events(f.count),
        failed_note(f)
            + &if f.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&f.detail))
            },
        esc(&f.rule_id),
        id = esc(&f.id),
    );
    if f.evidence.is_empty() {
        return;
    }
    out.push_str(r#"<pre class="ev">"#);
    for (path, line, offset) in &f.evidence {
        let text = input
            .excerpts
            .get(&(path.clone(), *offset))
            .map_or_else(|| "(line not read back)".to_string(), |b| esc_bytes(b));
        // Records inside one long line (a CloudTrail file) are told apart by their offset.
        let at = if *line == 1 && *offset > 0 {
            format!(":1 @{offset}")
        } else {
            format!(":{line}")
        };
        let _ = writeln!(out, r#"<span class="src">{}{at}</span> {text}"#, esc(path));
    }
    if f.count > f.evidence.len() as u64 {
        let _ = writeln!(
            out,
            r#"<span class="src">… {} more events (first {} shown)</span>"#,
            grouped(f.count - f.evidence.len() as u64),
            f.evidence.len()
        );
    }
    out.push_str("</pre>");
}

/// How many notable events an incident's table shows.
const KEY_EVENTS: usize = 80;

/// The incident's timeline: where each of its findings starts and its notable events (logins,
/// role changes, exports, policy changes), in order.
fn key_events(out: &mut String, story: &Story, incident: &str) {
    let rows = story.incident_rows(incident);
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<h4>Timeline</h4><table><tr><th>Time</th><th>Finding or event</th><th>Source</th></tr>",
    );
    for r in rows.iter().take(KEY_EVENTS) {
        let _ = write!(
            out,
            r#"<tr><td class="t">{}</td><td>{}</td><td class="mono">{}:{}</td></tr>"#,
            utc(r.time),
            esc(&r.message),
            esc(&r.path),
            r.line.unwrap_or(0)
        );
    }
    out.push_str("</table>");
    if rows.len() > KEY_EVENTS {
        let _ = write!(
            out,
            "<p class=muted>… and {} more in timeline.jsonl.</p>",
            rows.len() - KEY_EVENTS
        );
    }
}

fn incidents(out: &mut String, input: &ReportInput<'_>) {
    let story = input.story;
    out.push_str(r#"<section id="incidents"><h2>Incidents</h2>"#);
    for inc in &story.incidents {
        let card = if crate::detect::finding::level_rank(inc.level) >= 3 {
            "card"
        } else {
            "card q"
        };
        let _ = write!(
            out,
            r#"<div class="{card}" id="{id}"><h3>{id} {}</h3><p>{}</p>"#,
            level(inc.level),
            esc(&inc.summary),
            id = esc(&inc.id)
        );
        facts(out, inc, story);
        out.push_str("</div><table><tr><th>Tactic</th><th>First reached</th></tr>");
        for (t, at) in &inc.tactics {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                tactic_badge(t),
                utc(*at)
            );
        }
        out.push_str("</table>");
        key_events(out, story, &inc.id);
        for &i in &inc.findings {
            finding_block(out, &story.findings[i], input);
        }
    }
    let loose = story.loose_findings();
    if !loose.is_empty() {
        out.push_str("<h3>Findings outside any incident</h3><p class=muted>Informational findings, and findings that name no actor (such as silence in a busy log).</p>");
        for f in loose {
            finding_block(out, f, input);
        }
    }
    out.push_str("</section>");
}

fn actors(out: &mut String, story: &Story) {
    out.push_str(r#"<section id="actors"><h2>Actors</h2><table><tr><th>Kind</th><th>Value</th><th>First seen</th><th>Last seen</th><th class=n>Events</th><th class=n>Bytes out</th><th class=n>Records</th><th class=n>Findings</th><th>Sources</th></tr>"#);
    for a in story.actors_by_bytes() {
        let mut src = a
            .sources
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if a.sources.len() > 3 {
            let _ = write!(src, " +{}", a.sources.len() - 3);
        }
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="mono v">{}</td><td class="t">{}</td><td class="t">{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class="mono">{}</td></tr>"#,
            a.kind,
            esc(&a.value),
            a.first_seen.map(utc).unwrap_or_default(),
            a.last_seen.map(utc).unwrap_or_default(),
            grouped(a.events),
            human_bytes(a.bytes_out),
            grouped(a.records),
            if a.by_bytes_only {
                "— (top by bytes)".to_string()
            } else {
                a.finding_ids.len().to_string()
            },
            esc(&src)
        );
    }
    out.push_str("</table></section>");
}

fn manifest(out: &mut String, input: &ReportInput<'_>) {
    out.push_str(r#"<section id="evidence"><h2>Evidence</h2><table><tr><th>File</th><th class=n>Size</th><th>SHA-256</th><th>Format</th><th class=n>Lines</th><th class=n>Parsed</th><th class=n>Unparsed</th><th>First event</th><th>Last event</th><th>Problems</th></tr>"#);
    for f in input.files {
        let s = &f.stats;
        let _ = write!(
            out,
            r#"<tr><td class="mono">{}</td><td class=n>{}</td><td class="mono h">{}</td><td>{}{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&f.rel),
            grouped(f.size),
            f.sha256.as_deref().unwrap_or("—"),
            f.format.map_or("—", |x| x.name()),
            f.compression
                .filter(|c| c.name() != "none")
                .map_or(String::new(), |c| format!(" ({})", c.name())),
            grouped(s.lines),
            grouped(s.parsed),
            grouped(s.unparsed),
            s.first.map(|t| t.to_utc_string()).unwrap_or_default(),
            s.last.map(|t| t.to_utc_string()).unwrap_or_default(),
            esc(&f.problems.join("; "))
        );
    }
    out.push_str("</table></section>");
}

fn run(out: &mut String, input: &ReportInput<'_>) {
    let r = input.run;
    let _ = write!(
        out,
        r#"<section id="run"><h2>How this report was made</h2><table><tr><th>Tool</th><td>leaktrail {}</td></tr><tr><th>Command</th><td class="mono">leaktrail {}</td></tr><tr><th>Started</th><td>{}</td></tr><tr><th>Finished</th><td>{}</td></tr><tr><th>Zone assumed for times without one</th><td>{}</td></tr><tr><th>Rules</th><td>{} (SHA-256 of the rule set {})</td></tr></table><p class=muted>All times are UTC. Every finding points to its evidence by file, line and byte offset; the files' SHA-256 are in the evidence table and in case.json. The same evidence gives the same case file, apart from the start and finish times.</p></section>"#,
        r.version,
        esc(&r.args.join(" ")),
        esc(&r.started),
        esc(&r.finished),
        esc(&r.zone),
        r.rules,
        esc(&r.rules_sha256)
    );
}

/// The whole page.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = String::with_capacity(1 << 16);
    let _ = write!(
        out,
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><title>leaktrail case report</title><style>{STYLE}</style></head><body><h1>leaktrail case report</h1><p class="meta">{} files, {} lines · evidence up to {}{} · made {}</p><nav><a href="#summary">What happened</a><a href="#charts">Timeline</a><a href="#incidents">Incidents</a><a href="#actors">Actors</a><a href="#evidence">Evidence</a><a href="#run">How it was made</a></nav>"##,
        input.files.len(),
        grouped(input.files.iter().map(|f| f.stats.lines).sum()),
        input
            .story
            .evidence_end
            .map(utc)
            .unwrap_or_else(|| "—".into()),
        input.story.window_words(),
        esc(&input.run.finished),
    );
    summary_section(&mut out, input);
    charts(&mut out, input.story);
    incidents(&mut out, input);
    actors(&mut out, input.story);
    manifest(&mut out, input);
    run(&mut out, input);
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(esc("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }
}
