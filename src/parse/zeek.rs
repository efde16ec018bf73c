//! Zeek (formerly Bro) TSV logs: `conn.log`, `http.log`, `dns.log`, ... Each file starts with
//! a header (`#separator \x09`, `#unset_field -`, `#path conn`, `#fields ts uid id.orig_h ...`)
//! and holds one record per line, its values separated by the separator. Fields keep Zeek's
//! names (`id.orig_h`, `orig_bytes`, `resp_bytes`, `uri`), as Sigma's Zeek rules use them;
//! added: `_path` (the log's kind, from the header), `src_ip` and `dst_ip` (the connection's
//! originator and responder). `ts` is the time (epoch seconds, UTC).

use super::event::{Esc, Fields, Val};
use super::time;
use super::util::uint;
use super::{Outcome, ParseCtx, RecordParser, Reject};

/// The Zeek TSV parser (one per file: the header carries over).
pub struct Zeek {
    sep: u8,
    unset: Vec<u8>,
    empty: Vec<u8>,
    path: Vec<u8>,
    columns: Vec<Vec<u8>>,
}

impl Zeek {
    pub fn new(_ctx: &ParseCtx) -> Self {
        Zeek {
            sep: b'\t',
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
            path: Vec::new(),
            columns: Vec::new(),
        }
    }

    fn header(&mut self, line: &[u8]) -> Result<Outcome, Reject> {
        if let Some(v) = line.strip_prefix(b"#separator ") {
            // Written escaped: `\x09`.
            self.sep = match v.trim_ascii() {
                [b'\\', b'x', h, l] => {
                    let hex = |c: u8| (c as char).to_digit(16);
                    (hex(*h).ok_or("bad #separator")? * 16 + hex(*l).ok_or("bad #separator")?) as u8
                }
                [c] => *c,
                _ => return Err("bad #separator"),
            };
            return Ok(Outcome::Meta);
        }
        let mut parts = line.split(|&c| c == self.sep);
        let key = parts.next().unwrap_or_default();
        let rest: Vec<&[u8]> = parts.collect();
        match key {
            b"#fields" => self.columns = rest.iter().map(|c| c.to_vec()).collect(),
            b"#path" => self.path = rest.first().map(|p| p.to_vec()).unwrap_or_default(),
            b"#unset_field" => self.unset = rest.first().map(|p| p.to_vec()).unwrap_or_default(),
            b"#empty_field" => self.empty = rest.first().map(|p| p.to_vec()).unwrap_or_default(),
            _ => {}
        }
        Ok(Outcome::Meta)
    }
}

impl RecordParser for Zeek {
    fn parse<'a>(&mut self, line: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        if line.first() == Some(&b'#') {
            return self.header(line);
        }
        if self.columns.is_empty() {
            return Err("no #fields header before this line");
        }
        let n = line.iter().filter(|&&c| c == self.sep).count() + 1;
        if n != self.columns.len() {
            return Err("field count differs from #fields");
        }
        let mut ts = None;
        if !self.path.is_empty() {
            let v = f.build(&[&self.path]);
            f.put("_path", v);
        }
        for (name, v) in self.columns.iter().zip(line.split(|&c| c == self.sep)) {
            if v.is_empty() || *v == self.unset[..] || *v == self.empty[..] {
                continue;
            }
            match name.as_slice() {
                b"ts" => {
                    ts = Some(time::from_epoch_number(v).ok_or("bad ts")?);
                }
                b"id.orig_h" => f.put("src_ip", Val::Str(v, Esc::None)),
                b"id.resp_h" => f.put("dst_ip", Val::Str(v, Esc::None)),
                _ => {}
            }
            let val = match uint(v) {
                Some(n) if v.len() < 19 => Val::Num(n as i64),
                // Zeek writes non-printable bytes as `\xHH`.
                _ if v.contains(&b'\\') => Val::Str(v, Esc::Backslash),
                _ => Val::Str(v, Esc::None),
            };
            f.put_path(b"", name, val);
        }
        let ts = ts.ok_or("no ts")?;
        Ok(Outcome::Event(Some(ts)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::{ctx, parse_one};

    const HEADER: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#open\t2017-04-16-21-36-10",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\ttunnel_parents",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tset[string]",
    ];

    #[test]
    fn conn_records_keep_zeek_names() {
        let mut p = Format::Zeek.parser(&ctx());
        assert!(parse_one(p.as_mut(), "1320279554.496300\tC1\t10.0.0.5").is_err());
        for h in HEADER {
            parse_one(p.as_mut(), h).unwrap();
        }
        let (ts, f) = parse_one(p.as_mut(), "1320279554.496300\tCg9xqq3JAcZusspA86\t10.0.0.5\t52025\t198.51.100.9\t443\ttcp\tssl\t2.125850\t734003200\t1092\tSF\t(empty)").unwrap();
        assert_eq!(ts.as_deref(), Some("2011-11-03T00:19:14.496300Z"));
        assert_eq!(f["_path"], "conn");
        assert_eq!(
            (f["src_ip"].as_str(), f["dst_ip"].as_str()),
            ("10.0.0.5", "198.51.100.9")
        );
        assert_eq!(f["id.resp_p"], "443");
        assert_eq!(f["orig_bytes"], "734003200");
        assert!(!f.contains_key("tunnel_parents"));
        // An unset value is left out; a line of another width is refused.
        let (_, f) = parse_one(p.as_mut(), "1320279567.181431\tC2\t10.0.0.5\t52034\t198.51.100.9\t80\ttcp\t-\t-\t-\t-\tS0\t(empty)").unwrap();
        assert!(!f.contains_key("service") && !f.contains_key("orig_bytes"));
        assert!(parse_one(p.as_mut(), "1320279567.181431\tC2\t10.0.0.5").is_err());
    }
}
