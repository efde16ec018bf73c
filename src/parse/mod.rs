//! Parsing: log formats, record framing, format detection and the normalized [`Event`].
//!
//! Each format is a [`RecordParser`] that fills a reusable [`Fields`] buffer from one record's
//! bytes. [`Format`] names the formats, says how records are framed (one line, or a line plus
//! continuation lines) and whether a file may be cut into chunks parsed in parallel.

pub mod access;
pub mod auth;
pub mod cloud_access;
pub mod cloudtrail;
pub mod errorlog;
pub mod event;
pub mod generic;
pub mod json;
pub mod mysql;
pub mod mysqlslow;
pub mod postgres;
pub mod sniff;
pub mod squid;
pub mod syslog;
pub mod time;
pub mod util;
pub mod w3c;
pub mod zeek;

pub use event::{Esc, Event, Fields, Key, Val};
pub use time::{LocalZone, Timestamp, YearRef, Zone};

/// What parsing one record produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An event, with its time when the record carries one.
    Event(Option<Timestamp>),
    /// A header or comment line that describes the file (W3C `#Fields`, MySQL banners).
    Meta,
}

/// Why a record could not be parsed (a short, fixed phrase for the report).
pub type Reject = &'static str;

/// Parses records of one format. One instance parses one chunk or one whole file, so it may keep
/// state (a timestamp cache, a W3C header, the previous MySQL timestamp).
pub trait RecordParser: Send {
    /// Parses `rec` (no line terminator; several lines for multi-line records) into `f`.
    fn parse<'a>(&mut self, rec: &'a [u8], f: &mut Fields<'a>) -> Result<Outcome, Reject>;
}

/// Settings every parser may need.
#[derive(Clone, Debug)]
pub struct ParseCtx {
    /// Zone for timestamps without one.
    pub zone: Zone,
    /// Year for year-less timestamps.
    pub year: YearRef,
}

impl ParseCtx {
    /// A fresh zone resolver (each parser keeps its own cache).
    pub fn local(&self) -> LocalZone {
        LocalZone::new(self.zone.clone())
    }
}

/// How a format's records are delimited.
#[derive(Clone, Copy, Debug)]
pub enum Framing {
    /// One record per line.
    Lines,
    /// A line plus the following lines for which the function returns true.
    Continued(fn(&[u8]) -> bool),
    /// CSV records whose quoted fields may contain newlines.
    Csv,
    /// A JSON document `{"Records": [...]}`: one record per array element.
    JsonRecords,
}

impl Framing {
    /// True for CSV framing (quoted fields may hold newlines).
    pub fn is_csv(self) -> bool {
        matches!(self, Framing::Csv)
    }
}

macro_rules! formats {
    ($($v:ident => $name:literal, $dtype:literal, $desc:literal;)*) => {
        /// The formats leaktrail reads.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Format { $($v),* }

        impl Format {
            /// Every format, in detection priority order.
            pub const ALL: &'static [Format] = &[$(Format::$v),*];

            /// The name used on the command line and in outputs.
            pub fn name(self) -> &'static str {
                match self { $(Format::$v => $name),* }
            }

            /// Timesketch-style data type (`webserver:access`).
            pub fn data_type(self) -> &'static str {
                match self { $(Format::$v => $dtype),* }
            }

            /// One line for `--help` and the README.
            pub fn description(self) -> &'static str {
                match self { $(Format::$v => $desc),* }
            }

            /// Looks a format up by its name.
            pub fn from_name(s: &str) -> Option<Format> {
                match s { $($name => Some(Format::$v),)* _ => None }
            }
        }
    };
}

formats! {
    CloudTrailDelivery => "cloudtrail", "aws:cloudtrail", "AWS CloudTrail delivery file {\"Records\": [...]}";
    CloudTrailLines => "cloudtrail-jsonl", "aws:cloudtrail", "CloudTrail records one per line (SIEM exports)";
    Json => "json", "application:json", "application JSON lines";
    Access => "access", "webserver:access", "Apache/nginx access log (common, combined, vhost, extra fields)";
    Alb => "alb", "aws:alb:access", "AWS Application Load Balancer access log";
    Elb => "elb", "aws:elb:access", "AWS Classic Load Balancer access log";
    S3Access => "s3-access", "aws:s3:access", "Amazon S3 server access log";
    Squid => "squid", "proxy:squid", "Squid native access log (forward proxy)";
    Zeek => "zeek", "network:zeek", "Zeek (Bro) TSV log (#fields header): conn, http, dns, ...";
    W3c => "w3c", "webserver:w3c", "IIS / W3C extended log (#Fields header)";
    PostgresCsv => "postgres-csv", "database:postgresql", "PostgreSQL csvlog";
    Postgres => "postgres", "database:postgresql", "PostgreSQL stderr log (log_line_prefix forms)";
    MysqlSlow => "mysql-slow", "database:mysql", "MySQL, MariaDB and Percona slow query log";
    MysqlGeneral => "mysql-general", "database:mysql", "MySQL general query log";
    Syslog => "syslog", "syslog:line", "syslog: RFC 3164, RFC 5424, ISO-timestamped rsyslog";
    ApacheError => "apache-error", "webserver:error", "Apache error log";
    NginxError => "nginx-error", "webserver:error", "nginx error log";
    Generic => "text", "text:line", "any text log with a leading timestamp";
}

impl Format {
    /// How records are delimited.
    pub fn framing(self) -> Framing {
        match self {
            Format::CloudTrailDelivery => Framing::JsonRecords,
            Format::PostgresCsv => Framing::Csv,
            Format::Postgres => Framing::Continued(postgres::is_continuation),
            Format::MysqlGeneral => Framing::Continued(mysql::is_continuation),
            Format::MysqlSlow => Framing::Continued(mysqlslow::is_continuation),
            // An indented line in a syslog file continues the message above (macOS ASL notices,
            // multi-line messages written unescaped).
            Format::Generic | Format::Syslog => Framing::Continued(generic::is_continuation),
            _ => Framing::Lines,
        }
    }

    /// Whether a file may be cut into chunks parsed independently. Formats whose parser
    /// carries state from line to line (a header, an inherited timestamp) or whose records may
    /// span lines in ways a chunk boundary cannot see are read whole.
    pub fn splittable(self) -> bool {
        !matches!(
            self,
            Format::CloudTrailDelivery
                | Format::W3c
                | Format::Zeek
                | Format::MysqlGeneral
                | Format::MysqlSlow
                | Format::PostgresCsv
        )
    }

    /// A parser for one chunk or file.
    pub fn parser(self, ctx: &ParseCtx) -> Box<dyn RecordParser> {
        match self {
            Format::CloudTrailDelivery | Format::CloudTrailLines => {
                Box::new(cloudtrail::CloudTrail::new(ctx))
            }
            Format::Json => Box::new(json::AppJson::new(ctx)),
            Format::Access => Box::new(access::Access::new(ctx)),
            Format::Alb => Box::new(cloud_access::Alb::new(ctx)),
            Format::Elb => Box::new(cloud_access::Elb::new(ctx)),
            Format::S3Access => Box::new(cloud_access::S3::new(ctx)),
            Format::Squid => Box::new(squid::Squid::new(ctx)),
            Format::W3c => Box::new(w3c::W3c::new(ctx)),
            Format::Zeek => Box::new(zeek::Zeek::new(ctx)),
            Format::PostgresCsv => Box::new(postgres::PostgresCsv::new(ctx)),
            Format::Postgres => Box::new(postgres::Postgres::new(ctx)),
            Format::MysqlGeneral => Box::new(mysql::MysqlGeneral::new(ctx)),
            Format::MysqlSlow => Box::new(mysqlslow::MysqlSlow::new(ctx)),
            Format::Syslog => Box::new(syslog::Syslog::new(ctx)),
            Format::ApacheError => Box::new(errorlog::ApacheError::new(ctx)),
            Format::NginxError => Box::new(errorlog::NginxError::new(ctx)),
            Format::Generic => Box::new(generic::Generic::new(ctx)),
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers for parser unit tests: parse one line, get the fields as strings.
    use super::*;
    use std::collections::BTreeMap;

    /// A context with UTC and a fixed year.
    pub fn ctx() -> ParseCtx {
        ParseCtx {
            zone: Zone::Utc,
            year: YearRef::fixed(2026),
        }
    }

    /// Parses one record and returns (timestamp as RFC 3339 UTC, fields as text).
    pub fn parse_one(
        p: &mut dyn RecordParser,
        line: &str,
    ) -> Result<(Option<String>, BTreeMap<String, String>), Reject> {
        let mut f = Fields::default();
        let out = p.parse(line.as_bytes(), &mut f)?;
        let ts = match out {
            Outcome::Event(ts) => ts.map(|t| t.to_utc_string()),
            Outcome::Meta => Some("meta".into()),
        };
        let mut map = BTreeMap::new();
        for i in 0..f.len() {
            let mut v = Vec::new();
            f.decode(f.value(i), &mut v);
            map.entry(String::from_utf8_lossy(f.name(i)).into_owned())
                .or_insert_with(|| String::from_utf8_lossy(&v).into_owned());
        }
        Ok((ts, map))
    }

    /// Parses with a fresh parser of `fmt`.
    pub fn parse_fmt(
        fmt: Format,
        line: &str,
    ) -> Result<(Option<String>, BTreeMap<String, String>), Reject> {
        let mut p = fmt.parser(&ctx());
        parse_one(p.as_mut(), line)
    }
}
