//! report.md: the same story as the HTML report, for tickets and wikis. Log-derived text is
//! escaped for Markdown (and for the HTML a Markdown renderer lets through); evidence lines
//! sit in code fences longer than any backtick run they hold.

use super::ReportInput;
use crate::detect::Finding;
use crate::timeline::{Story, grouped, human_bytes, utc};
use std::fmt::Write;

/// Escapes text for Markdown prose and table cells: markup characters are backslash-escaped,
/// `<`, `>` and `&` become entities, line breaks become spaces.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Only an `&` that would start a character reference (`&#x202e;`, `&lt;`) is
            // escaped: `ATT&CK` stays readable in the raw file.
            '&' if starts_reference(&s[i + 1..]) => out.push_str("\\&"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '(' | ')' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether text after an `&` makes it a character reference: a name or `#` number, then `;`.
fn starts_reference(rest: &str) -> bool {
    let body = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#');
    let n = body.count();
    n > 0 && rest.as_bytes().get(n) == Some(&b';')
}

/// A fenced block that the content cannot close.
fn fenced(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", lines.join("\n"))
}

fn who(f: &Finding) -> String {
    let v: Vec<&str> = crate::timeline::actors::named(f).map(|(_, v)| v).collect();
    esc(&v.iter().take(4).copied().collect::<Vec<_>>().join(", "))
}

fn finding(out: &mut String, f: &Finding, input: &ReportInput<'_>) {
    let bytes = if f.bytes >= 1.0 {
        format!(", {}", human_bytes(f.bytes.round() as u64))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "#### [{}] {}\n\n{}{}{} to {} — {}{bytes}{}  \nrule `{}` · finding `{}` · tactic {}\n",
        f.level,
        esc(&f.title),
        if f.message.is_empty() {
            String::new()
        } else {
            format!("**{}**  \n", esc(&f.message))
        },
        match who(f) {
            w if w.is_empty() => w,
            w => format!("{w} — "),
        },
        utc(f.first_seen),
        utc(f.last_seen),
        crate::timeline::events(f.count),
        if f.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(&f.detail))
        },
        f.rule_id.replace('`', "'"),
        f.id,
        f.tactics.first().copied().unwrap_or("-"),
    );
    let lines: Vec<String> = f
        .evidence
        .iter()
        .map(|(p, l, o)| {
            let text = input.excerpts.get(&(p.clone(), *o)).map_or_else(
                || "(line not read back)".to_string(),
                |b| crate::report::sanitize::terminal_bytes(b),
            );
            format!("{p}:{l} {text}")
        })
        .collect();
    if !lines.is_empty() {
        out.push_str(&fenced(&lines));
        out.push('\n');
    }
}

fn incidents(out: &mut String, input: &ReportInput<'_>) {
    let story: &Story = input.story;
    out.push_str("## Incidents\n\n");
    for inc in &story.incidents {
        let _ = writeln!(
            out,
            "### {} — {} (score {})\n\n{}\n\n- First seen: {}\n- Last activity: {}{}\n- Data out: {} ({} bytes)\n- Records: {}\n- Tactics reached: {}\n",
            inc.id,
            inc.level,
            inc.score,
            esc(&inc.summary),
            utc(inc.first_seen),
            utc(inc.last_activity),
            if inc.silenced {
                " — **not seen to stop: a log they silenced stays silent to the end of the evidence**"
            } else if inc.ongoing {
                " — **still active at the end of the evidence**"
            } else {
                ""
            },
            human_bytes(inc.bytes_out),
            grouped(inc.bytes_out),
            inc.records.map_or("not in the logs".into(), grouped),
            inc.tactics
                .iter()
                .map(|(t, at)| format!("{t} ({})", utc(*at)))
                .collect::<Vec<_>>()
                .join(" → "),
        );
        let events = story.incident_rows(&inc.id);
        if !events.is_empty() {
            out.push_str("#### Timeline\n\n| Time | Finding or event | Source |\n|---|---|---|\n");
            for r in events.iter().take(80) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {}:{} |",
                    utc(r.time),
                    esc(&r.message),
                    esc(&r.path),
                    r.line.unwrap_or(0)
                );
            }
            if events.len() > 80 {
                let _ = writeln!(out, "\n… and {} more in timeline.jsonl.", events.len() - 80);
            }
            out.push('\n');
        }
        for &i in &inc.findings {
            finding(out, &story.findings[i], input);
        }
    }
    let loose = story.loose_findings();
    if !loose.is_empty() {
        out.push_str("### Findings outside any incident\n\n");
        for f in loose {
            finding(out, f, input);
        }
    }
}

fn actors(out: &mut String, story: &Story) {
    out.push_str("## Actors\n\n| Kind | Value | First seen | Last seen | Events | Bytes out | Records | Findings |\n|---|---|---|---|---:|---:|---:|---:|\n");
    for a in story.actors_by_bytes() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            a.kind,
            esc(&a.value),
            a.first_seen.map(utc).unwrap_or_default(),
            a.last_seen.map(utc).unwrap_or_default(),
            grouped(a.events),
            human_bytes(a.bytes_out),
            grouped(a.records),
            if a.by_bytes_only {
                "top by bytes".to_string()
            } else {
                a.finding_ids.len().to_string()
            },
        );
    }
    out.push('\n');
}

fn evidence(out: &mut String, input: &ReportInput<'_>) {
    out.push_str("## Evidence\n\n| File | Size | SHA-256 | Format | Lines | Parsed | Unparsed | First event | Last event | Problems |\n|---|---:|---|---|---:|---:|---:|---|---|---|\n");
    for f in input.files {
        let s = &f.stats;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            esc(&f.rel),
            grouped(f.size),
            f.sha256.as_deref().unwrap_or("-"),
            f.format.map_or("-", |x| x.name()),
            grouped(s.lines),
            grouped(s.parsed),
            grouped(s.unparsed),
            s.first.map(|t| t.to_utc_string()).unwrap_or_default(),
            s.last.map(|t| t.to_utc_string()).unwrap_or_default(),
            esc(&f.problems.join("; ")),
        );
    }
    out.push('\n');
}

/// The whole report.
pub fn render(input: &ReportInput<'_>) -> String {
    let story = input.story;
    let r = input.run;
    let mut out = String::from("# leaktrail case report\n\n");
    let _ = writeln!(
        out,
        "{} files · evidence up to {}{} · made {} · all times UTC\n",
        input.files.len(),
        story.evidence_end.map(utc).unwrap_or_else(|| "-".into()),
        story.window_words(),
        esc(&r.finished)
    );
    out.push_str("## What happened\n\n");
    match story.incidents.first() {
        Some(top) => {
            let _ = writeln!(out, "**Read first: {}** — {}\n", top.id, esc(&top.summary));
        }
        None => {
            let _ = writeln!(out, "{}\n", esc(&super::no_incident(input.files)));
        }
    }
    if !story.incidents.is_empty() {
        out.push_str("| Incident | Level | Score | Actors | First seen | Last activity | Data out |\n|---|---|---:|---|---|---|---:|\n");
        for inc in &story.incidents {
            let actors: Vec<&String> = inc.ips.iter().chain(&inc.users).chain(&inc.keys).collect();
            let names = actors
                .iter()
                .take(4)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}{} | {} | {} | {} |",
                inc.id,
                inc.level,
                inc.score,
                esc(&names),
                if actors.len() > 4 {
                    format!(" +{}", actors.len() - 4)
                } else {
                    String::new()
                },
                utc(inc.first_seen),
                utc(inc.last_activity),
                human_bytes(inc.bytes_out)
            );
        }
        out.push('\n');
    }
    incidents(&mut out, input);
    actors(&mut out, story);
    evidence(&mut out, input);
    let _ = writeln!(
        out,
        "## How this report was made\n\n- Tool: leaktrail {}\n- Command: `{}`\n- Started: {}\n- Finished: {}\n- Zone assumed for times without one: {}\n- Rules: {} (rule-set SHA-256 {})",
        r.version,
        format!("leaktrail {}", r.args.join(" ")).replace('`', "'"),
        esc(&r.started),
        esc(&r.finished),
        esc(&r.zone),
        r.rules,
        r.rules_sha256
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_is_inert() {
        assert_eq!(esc("<img src=x onerror=1>"), "&lt;img src=x onerror=1&gt;");
        assert_eq!(esc("a|b [x](y)"), "a\\|b \\[x\\]\\(y\\)");
        assert_eq!(esc("line\nbreak"), "line break");
        // A character reference is not one once escaped; plain ampersands stay as written.
        assert_eq!(esc("a&#x202e;b &lt;x"), "a\\&\\#x202e;b \\&lt;x");
        assert_eq!(esc("ATT&CK & more"), "ATT&CK & more");
    }

    #[test]
    fn fences_outgrow_backticks() {
        let f = fenced(&["a ```` b".to_string()]);
        assert!(f.starts_with("`````text\n"));
        assert!(f.ends_with("\n`````\n"));
    }
}
