//! AWS CloudTrail: records keep their JSON paths as field names (`eventName`,
//! `userIdentity.arn`, `additionalEventData.bytesTransferredOut`). Delivery files
//! (`{"Records": [...]}`) are exploded into one record per array element by
//! [`record_spans`]; JSON-lines exports (one record per line, SIEM exports with `@timestamp`)
//! are parsed line by line.

use super::event::Fields;
use super::json::{self, first_of, flatten, timestamp_of};
use super::time::LocalZone;
use super::{Outcome, ParseCtx, RecordParser, Reject};

/// Parses one CloudTrail record (an object).
pub struct CloudTrail {
    zone: LocalZone,
    prefix: Vec<u8>,
}

impl CloudTrail {
    pub fn new(ctx: &ParseCtx) -> Self {
        CloudTrail {
            zone: ctx.local(),
            prefix: Vec::new(),
        }
    }
}

impl RecordParser for CloudTrail {
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject> {
        let start = rec
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .ok_or("empty record")?;
        let end = flatten(rec, start, &mut self.prefix, f)?;
        if rec[end..].iter().any(|c| !c.is_ascii_whitespace()) {
            return Err("trailing bytes after JSON object");
        }
        if !f.has("eventName") {
            return Err("not a CloudTrail record (no eventName)");
        }
        let ts = first_of(f, &["eventTime", "@timestamp", "timestamp"])
            .and_then(|v| timestamp_of(f, v, &mut self.zone));
        Ok(Outcome::Event(ts))
    }
}

/// A problem found while splitting a delivery file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanError {
    /// Byte offset where splitting stopped.
    pub offset: usize,
    pub reason: Reject,
}

/// Splits a delivery file into the byte spans of its records. Stops at the first structural
/// error and reports where; the spans before it are still returned.
pub fn record_spans(doc: &[u8]) -> (Vec<(usize, usize)>, Option<SpanError>) {
    let mut spans = Vec::new();
    let err = |offset, reason| Some(SpanError { offset, reason });
    let Some(k) = memchr::memmem::find(doc, b"\"Records\"") else {
        return (spans, err(0, "no \"Records\" array"));
    };
    let mut i = k + 9;
    while i < doc.len() && doc[i] != b'[' {
        if !matches!(doc[i], b' ' | b':' | b'\n' | b'\r' | b'\t') {
            return (spans, err(i, "no \"Records\" array"));
        }
        i += 1;
    }
    i += 1;
    loop {
        while i < doc.len() && matches!(doc[i], b' ' | b',' | b'\n' | b'\r' | b'\t') {
            i += 1;
        }
        match doc.get(i) {
            Some(b']') => return (spans, None),
            Some(b'{') => match json::skip_value(doc, i) {
                Ok(e) => {
                    spans.push((i, e));
                    i = e;
                }
                Err(reason) => return (spans, err(i, reason)),
            },
            Some(_) => return (spans, err(i, "unexpected byte in \"Records\" array")),
            None => return (spans, err(i, "truncated \"Records\" array")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;
    use super::*;

    const REC: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/svc-reports","accessKeyId":"AKIAEXAMPLE"},"eventTime":"2026-10-13T10:31:02Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"203.0.113.66","additionalEventData":{"bytesTransferredOut":1048576.0}}"#;

    #[test]
    fn record_fields_keep_json_paths() {
        let (ts, f) = parse_fmt(Format::CloudTrailLines, REC).unwrap();
        assert_eq!(ts.as_deref(), Some("2026-10-13T10:31:02Z"));
        assert_eq!(f["eventName"], "GetObject");
        assert_eq!(
            f["userIdentity.arn"],
            "arn:aws:iam::123456789012:user/svc-reports"
        );
        assert_eq!(f["additionalEventData.bytesTransferredOut"], "1048576.0");
        let siem = r#"{"@timestamp":"2020-09-14T00:44:23.000Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com"}"#;
        let (ts, _) = parse_fmt(Format::CloudTrailLines, siem).unwrap();
        assert_eq!(ts.as_deref(), Some("2020-09-14T00:44:23Z"));
        assert!(parse_fmt(Format::CloudTrailLines, r#"{"a":1}"#).is_err());
    }

    #[test]
    fn delivery_spans() {
        let doc = format!("{{\"Records\": [\n{REC},\n {REC}\n]}}");
        let (spans, err) = record_spans(doc.as_bytes());
        assert_eq!(err, None);
        assert_eq!(spans.len(), 2);
        assert_eq!(&doc[spans[1].0..spans[1].1], REC);
        let cut = &doc[..doc.len() - 40];
        let (spans, err) = record_spans(cut.as_bytes());
        assert_eq!(spans.len(), 1);
        assert!(err.is_some());
        let (spans, err) = record_spans(br#"{"Records":[]}"#);
        assert!(spans.is_empty() && err.is_none());
    }
}
