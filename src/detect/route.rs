//! Logsource routing: which events a rule's `logsource` (category, product, service) applies
//! to. Each format declares the logsources it produces; syslog's services depend on the
//! program that wrote the line.

use super::view::View;
use crate::parse::Format;

/// A rule's logsource, lower-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Logsource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
}

impl Logsource {
    pub fn from_sigma(ls: &rsigma_parser::LogSource) -> Self {
        let low = |s: &Option<String>| s.as_ref().map(|s| s.to_ascii_lowercase());
        Logsource {
            category: low(&ls.category),
            product: low(&ls.product),
            service: low(&ls.service),
        }
    }
}

/// (categories, products, services) a format produces; syslog's services are added per line.
fn produces(
    f: Format,
) -> (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
) {
    match f {
        Format::Access => (&["webserver"], &["apache", "nginx"], &["access"]),
        Format::W3c => (&["webserver"], &["iis", "windows"], &["w3c"]),
        Format::Alb | Format::Elb => (&["webserver"], &["aws"], &["elb", "alb"]),
        Format::S3Access => (&["webserver"], &["aws"], &["s3"]),
        Format::ApacheError => (&[], &["apache"], &["error"]),
        Format::NginxError => (&[], &["nginx"], &["error"]),
        Format::Syslog => (&[], &["linux"], &["syslog"]),
        Format::CloudTrailDelivery | Format::CloudTrailLines => (&[], &["aws"], &["cloudtrail"]),
        Format::Postgres | Format::PostgresCsv => (&["database"], &["postgresql", "postgres"], &[]),
        Format::MysqlGeneral => (&["database"], &["mysql"], &[]),
        Format::Json => (&["application"], &[], &[]),
        Format::Generic => (&[], &[], &[]),
    }
}

/// Programs whose lines belong to Sigma's `service: auth` (auth.log / secure).
const AUTH: &[&str] = &[
    "sshd",
    "sshd-session",
    "sudo",
    "su",
    "login",
    "passwd",
    "useradd",
    "usermod",
    "userdel",
    "groupadd",
    "groupmod",
    "chpasswd",
    "chage",
    "gpasswd",
    "systemd-logind",
    "cron",
    "polkitd",
    "dropbear",
];

/// True when the rule applies to this event.
pub fn applies(ls: &Logsource, f: Format, v: &mut View<'_, '_>) -> bool {
    if ls.category.is_none() && ls.product.is_none() && ls.service.is_none() {
        return false;
    }
    let (cats, prods, svcs) = produces(f);
    if ls.category.as_deref().is_some_and(|c| !cats.contains(&c)) {
        return false;
    }
    if ls.product.as_deref().is_some_and(|p| !prods.contains(&p)) {
        return false;
    }
    let Some(svc) = ls.service.as_deref() else {
        return true;
    };
    if svcs.contains(&svc) {
        return true;
    }
    if f != Format::Syslog {
        return false;
    }
    let Some(prog) = v.value_lower("process") else {
        return false;
    };
    let prog = prog.split(|c| *c == b'(').next().unwrap_or_default();
    prog == svc.as_bytes() || (svc == "auth" && AUTH.iter().any(|a| a.as_bytes() == prog))
}

/// Every format a logsource could apply to (for `rules lint` and skipping unused rules).
pub fn formats_for(ls: &Logsource) -> Vec<Format> {
    Format::ALL
        .iter()
        .copied()
        .filter(|&f| {
            let (cats, prods, svcs) = produces(f);
            ls.category.as_deref().is_none_or(|c| cats.contains(&c))
                && ls.product.as_deref().is_none_or(|p| prods.contains(&p))
                && ls
                    .service
                    .as_deref()
                    .is_none_or(|s| svcs.contains(&s) || f == Format::Syslog)
                && (ls.category.is_some() || ls.product.is_some() || ls.service.is_some())
        })
        .collect()
}
