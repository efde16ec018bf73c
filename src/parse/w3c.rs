//! W3C extended log format (IIS and others): `#Fields:` names the columns and may change in the
//! middle of a file (IIS rewrites the header when its logging settings change), so this parser
//! keeps the current header as state and files in this format are read whole, in order.

use super::event::{Esc, Fields, Val};
use super::time::{self, LocalZone, TsCache};
use super::util::uint;
use super::{Outcome, ParseCtx, RecordParser, Reject};

/// Earlier `#Fields` layouts kept per file.
const MAX_LAYOUTS: usize = 8;

/// The W3C parser.
pub struct W3c {
    zone: LocalZone,
    cache: TsCache,
    columns: Vec<Vec<u8>>,
    /// The file's earlier `#Fields` layouts, most recent last: a line whose values do not fit
    /// the current header is read with the latest one they fit (files joined from several
    /// logs, or a server that wrote lines of an older layout after a new header).
    earlier: Vec<Vec<Vec<u8>>>,
    date: Option<(i32, u32, u32)>,
    /// Value spans of the current line, reused from line to line.
    spans: Vec<(usize, usize)>,
}

impl W3c {
    pub fn new(ctx: &ParseCtx) -> Self {
        W3c {
            zone: ctx.local(),
            cache: TsCache::default(),
            columns: Vec::new(),
            earlier: Vec::new(),
            date: None,
            spans: Vec::new(),
        }
    }
}

/// Sigma's names for W3C columns: lower case, `cs(User-Agent)` → `cs-user-agent`.
fn column_name(raw: &[u8]) -> Vec<u8> {
    let lower = raw.to_ascii_lowercase();
    if let Some(inner) = lower.strip_suffix(b")").and_then(|s| {
        s.iter()
            .position(|&c| c == b'(')
            .map(|p| (s[..p].to_vec(), s[p + 1..].to_vec()))
    }) {
        let (dir, header) = inner;
        if header == b"x-forwarded-for" {
            return header;
        }
        let mut out = dir;
        out.push(b'-');
        out.extend_from_slice(&header);
        return out;
    }
    lower
}

impl W3c {
    fn header(&mut self, line: &[u8]) -> Outcome {
        if let Some(rest) = line.strip_prefix(b"#Fields:") {
            let columns: Vec<Vec<u8>> = rest
                .split(|&c| c == b' ' || c == b'\t')
                .filter(|s| !s.is_empty())
                .map(column_name)
                .collect();
            let old = std::mem::replace(&mut self.columns, columns);
            if !old.is_empty() && old != self.columns {
                self.earlier.retain(|c| *c != old);
                self.earlier.push(old);
                if self.earlier.len() > MAX_LAYOUTS {
                    self.earlier.remove(0);
                }
            }
        } else if let Some(rest) = line.strip_prefix(b"#Date:") {
            let rest = rest.trim_ascii();
            if let Some((c, _, _)) = time::parse_iso(rest) {
                self.date = Some((c.year, c.month, c.day));
                // Cached times of a date-less layout belong to the previous date.
                self.cache = TsCache::default();
            }
        }
        Outcome::Meta
    }

    fn time(&mut self, date: Option<&[u8]>, clock: &[u8]) -> Option<time::Timestamp> {
        let mut key = [0u8; 48];
        let d = date.unwrap_or_default();
        if d.len() + clock.len() + 1 > key.len() {
            return None;
        }
        key[..d.len()].copy_from_slice(d);
        key[d.len()] = b' ';
        key[d.len() + 1..d.len() + 1 + clock.len()].copy_from_slice(clock);
        let key = &key[..d.len() + 1 + clock.len()];
        if let Some((ts, _)) = self.cache.get(key) {
            return Some(ts);
        }
        let ts = match date {
            Some(_) => {
                let (c, off, _) = time::parse_iso(key)?;
                // W3C times are UTC unless the log says otherwise.
                self.zone.resolve(&c, Some(off.unwrap_or(0)))?
            }
            None => {
                let (y, m, dd) = self.date?;
                let mut synth = format!("{y:04}-{m:02}-{dd:02} ").into_bytes();
                synth.extend_from_slice(clock);
                let (c, off, _) = time::parse_iso(&synth)?;
                self.zone.resolve(&c, Some(off.unwrap_or(0)))?
            }
        };
        self.cache.put(key, (ts, 0));
        Some(ts)
    }
}

/// Values separated by runs of spaces or tabs; a value in double quotes may hold spaces
/// (the quotes are dropped). Fills `out` with (start, end) spans.
fn split_values(line: &[u8], out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let end = if line[i] == b'"' {
            memchr::memchr(b'"', &line[i + 1..]).map_or(line.len(), |p| i + p + 2)
        } else {
            line[i..]
                .iter()
                .position(|&c| c == b' ' || c == b'\t')
                .map_or(line.len(), |p| i + p)
        };
        let (mut a, mut z) = (i, end.min(line.len()));
        if z - a >= 2 && line[a] == b'"' && line[z - 1] == b'"' {
            a += 1;
            z -= 1;
        }
        out.push((a, z));
        i = end;
    }
}

impl RecordParser for W3c {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        if line.first() == Some(&b'#') {
            return Ok(self.header(line));
        }
        if self.columns.is_empty() {
            return Err("no #Fields header before this line");
        }
        let mut spans = std::mem::take(&mut self.spans);
        split_values(line, &mut spans);
        let r = self.fields(line, &spans, f);
        self.spans = spans;
        r
    }
}

impl W3c {
    fn fields<'a>(
        &mut self,
        line: &'a [u8],
        spans: &[(usize, usize)],
        f: &mut Fields<'a>,
    ) -> Result<Outcome, Reject> {
        let columns = if spans.len() == self.columns.len() {
            &self.columns
        } else {
            // An earlier layout of the same width, if its address columns hold addresses (a
            // damaged line of the current layout must not be read with the wrong columns).
            let fits = |c: &&Vec<Vec<u8>>| {
                c.len() == spans.len()
                    && c.iter().zip(spans).all(|(name, &(a, z))| {
                        let v = &line[a..z];
                        !matches!(name.as_slice(), b"c-ip" | b"s-ip")
                            || v == b"-"
                            || super::util::is_ip(v)
                    })
            };
            self.earlier
                .iter()
                .rev()
                .find(fits)
                .ok_or("field count differs from #Fields")?
        };
        let (mut date, mut clock, mut stem, mut query) = (None, None, None, None);
        for (k, &(a, z)) in spans.iter().enumerate() {
            let v = &&line[a..z];
            let name = &columns[k];
            match name.as_slice() {
                b"date" => date = Some(*v),
                b"time" => clock = Some(*v),
                b"cs-uri-stem" => stem = Some(*v),
                b"cs-uri-query" => query = Some(*v),
                _ => {}
            }
            if *v == b"-" || v.is_empty() {
                continue;
            }
            let val = match name.as_slice() {
                b"sc-status" | b"sc-bytes" | b"cs-bytes" | b"s-port" | b"sc-substatus"
                | b"sc-win32-status" | b"time-taken" => match uint(v) {
                    Some(n) => Val::Num(n as i64),
                    None => Val::Str(v, Esc::None),
                },
                b"cs-user-agent" | b"cs-referer" | b"cs-cookie" => Val::Str(v, Esc::Plus),
                b"cs-uri-query" => continue,
                _ => Val::Str(v, Esc::None),
            };
            f.put_path(b"", name, val);
        }
        // Sigma's convention: cs-uri-query is the full request target (stem?query).
        match (stem, query.filter(|q| *q != b"-" && !q.is_empty())) {
            (Some(s), Some(q)) => {
                let v = f.build(&[s, b"?", q]);
                f.put("cs-uri-query", v);
            }
            (Some(s), None) if s != b"-" => f.put("cs-uri-query", Val::Str(s, Esc::None)),
            _ => {}
        }
        let clock = clock.ok_or("no time column")?;
        let ts = self.time(date, clock).ok_or("bad date/time")?;
        Ok(Outcome::Event(Some(ts)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::{ctx, parse_one};

    #[test]
    fn header_changes_mid_file() {
        let mut p = Format::W3c.parser(&ctx());
        assert!(parse_one(p.as_mut(), "2026-10-13 10:00:00 GET /").is_err());
        parse_one(
            p.as_mut(),
            "#Software: Microsoft Internet Information Services 10.0",
        )
        .unwrap();
        parse_one(p.as_mut(), "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken").unwrap();
        let (ts, f) = parse_one(p.as_mut(), "2026-10-13 10:00:00 10.0.0.5 GET /default.aspx id=1 443 - 203.0.113.66 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15").unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:00:00Z"));
        assert_eq!(f["cs-uri-query"], "/default.aspx?id=1");
        assert_eq!(f["cs-user-agent"], "Mozilla/5.0 (Windows NT 10.0)");
        assert_eq!(
            (f["c-ip"].as_str(), f["sc-status"].as_str()),
            ("203.0.113.66", "200")
        );
        assert!(!f.contains_key("cs-username"));
        parse_one(
            p.as_mut(),
            "#Fields: time c-ip cs-method cs-uri-stem sc-status",
        )
        .unwrap();
        parse_one(p.as_mut(), "#Date: 2026-10-14 00:00:00").unwrap();
        let (ts, f) = parse_one(p.as_mut(), "01:02:03 192.0.2.1 GET /x 404").unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-14T01:02:03Z"));
        assert_eq!(f["cs-uri-query"], "/x");
        assert!(parse_one(p.as_mut(), "01:02:03 192.0.2.1 GET").is_err());
        parse_one(p.as_mut(), "#Fields:  c-ip  date  time  cs(User-Agent)").unwrap();
        let (ts, f) = parse_one(
            p.as_mut(),
            "64.103.37.2   2001-10-31     00:00:18   \"Mozilla/4.0 (compatible)\"",
        )
        .unwrap();
        assert_eq!(ts.as_deref(), Some("2001-10-31T00:00:18Z"));
        assert_eq!(f["cs-user-agent"], "Mozilla/4.0 (compatible)");
        // A line of an earlier layout after a newer header (elastic's IIS samples): read with
        // the latest earlier layout it fits, not lost to the generic parser.
        let (ts, f) = parse_one(p.as_mut(), "2018-12-31 12:52:33 10.44.0.136 GET /${#context['xwork.MethodAccessor.denyMethodExecution']=true}.action - 443 - 10.50.6.188 Mozilla/4.0+(compatible) - 404 0 2 0").unwrap();
        assert_eq!(ts.as_deref(), Some("2018-12-31T12:52:33Z"));
        assert_eq!(
            (f["c-ip"].as_str(), f["sc-status"].as_str()),
            ("10.50.6.188", "404")
        );
        assert!(f["cs-uri-query"].starts_with("/${#context["));
        assert!(parse_one(p.as_mut(), "a b c d e f g").is_err());
        // Same width as the earlier layout, but no address where it has c-ip: refused.
        assert!(
            parse_one(
                p.as_mut(),
                "2018-12-31 12:52:33 10.44.0.136 GET / - 443 - not-an-ip Mozilla/4.0 - 404 0 2 0"
            )
            .is_err()
        );
    }
}
