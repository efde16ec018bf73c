//! The processing pipeline: which Sigma logsources each format's events belong to, which fields
//! they carry, and how rule field names map onto them (pySigma-style `field_name_mapping`
//! transformations). The built-in pipeline is `pipelines/leaktrail.yml`; `--pipeline FILE` adds
//! a user's file of the same shape.

use crate::parse::Format;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The built-in pipeline's text.
pub const BUILTIN: &str = include_str!("../../pipelines/leaktrail.yml");

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

    /// True when the rule names no logsource at all.
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.product.is_none() && self.service.is_none()
    }

    /// True when every key this logsource sets is `other`'s too (a filter's or a
    /// transformation's logsource against a rule's).
    pub fn covers(&self, other: &Logsource) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| {
            a.as_ref()
                .is_none_or(|a| b.as_ref().is_some_and(|b| a.eq_ignore_ascii_case(b)))
        };
        same(&self.category, &other.category)
            && same(&self.product, &other.product)
            && same(&self.service, &other.service)
    }

    /// `category/product/service`, the keys set.
    pub fn display(&self) -> String {
        [&self.category, &self.product, &self.service]
            .iter()
            .filter_map(|x| x.as_deref())
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDecl {
    name: String,
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    formats: Vec<FormatDecl>,
    #[serde(default)]
    transformations: Vec<TransDecl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatDecl {
    format: String,
    #[serde(default)]
    logsource: LsDecl,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    service_from_field: Option<String>,
    #[serde(default)]
    service_groups: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LsDecl {
    #[serde(default)]
    category: Vec<String>,
    #[serde(default)]
    product: Vec<String>,
    #[serde(default)]
    service: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransDecl {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    mapping: BTreeMap<String, String>,
    #[serde(default)]
    rule_conditions: Vec<CondDecl>,
    #[serde(default)]
    rule_cond_op: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CondDecl {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    service: Option<String>,
}

/// What one format's events are, for rules.
#[derive(Clone, Debug, Default)]
pub struct FormatSpec {
    pub category: Vec<String>,
    pub product: Vec<String>,
    pub service: Vec<String>,
    /// Field names or `prefix.*` / `*` patterns.
    pub fields: Vec<String>,
    /// The field whose value (a program name) is a Sigma service of its own.
    pub service_from_field: Option<String>,
    /// Sigma services that gather several programs.
    pub service_groups: BTreeMap<String, Vec<String>>,
}

/// True when `v` is in the list, or the list has `*` and no format names `v` explicitly
/// (`claimed`): a wildcard takes what no other format reads.
fn listed(list: &[String], v: &str, claimed: &[&str]) -> bool {
    list.iter()
        .any(|x| x.eq_ignore_ascii_case(v) || (x == "*" && !claimed.contains(&v)))
}

impl FormatSpec {
    /// True when the format carries the field (or a pattern covers it).
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => p == name,
        })
    }
}

/// A field-name mapping, and the rules it applies to.
#[derive(Clone, Debug)]
pub struct Transformation {
    pub id: String,
    pub mapping: BTreeMap<String, String>,
    /// Logsources (each key set must equal the rule's); none means every rule.
    pub conditions: Vec<Logsource>,
    /// `rule_cond_op: or` — one condition suffices (default: all of them).
    pub any: bool,
    pub priority: i64,
}

impl Transformation {
    fn applies(&self, ls: &Logsource) -> bool {
        if self.conditions.is_empty() {
            return true;
        }
        if self.any {
            self.conditions.iter().any(|c| c.covers(ls))
        } else {
            self.conditions.iter().all(|c| c.covers(ls))
        }
    }
}

/// The pipeline in force: built-in, plus any user files.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// The names of the files loaded, in order.
    pub names: Vec<String>,
    /// By position in [`Format::ALL`].
    pub formats: Vec<FormatSpec>,
    pub transformations: Vec<Transformation>,
}

impl Default for Pipeline {
    fn default() -> Self {
        static BUILT: std::sync::LazyLock<Pipeline> = std::sync::LazyLock::new(|| {
            let mut p = Pipeline::empty();
            p.add_text(BUILTIN)
                .unwrap_or_else(|e| panic!("the built-in pipeline does not load: {e}"));
            p
        });
        BUILT.clone()
    }
}

impl Pipeline {
    /// A pipeline that maps nothing and routes nothing.
    pub fn empty() -> Pipeline {
        Pipeline {
            names: Vec::new(),
            formats: vec![FormatSpec::default(); Format::ALL.len()],
            transformations: Vec::new(),
        }
    }

    /// Adds a pipeline file's formats and transformations; on an error nothing is added.
    pub fn add_text(&mut self, text: &str) -> Result<(), String> {
        let mut next = self.clone();
        next.merge(text)?;
        *self = next;
        Ok(())
    }

    fn merge(&mut self, text: &str) -> Result<(), String> {
        let f: FileDecl = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        for d in f.formats {
            let Some(fmt) = Format::from_name(&d.format) else {
                return Err(format!(
                    "format `{}` is not one leaktrail reads (`leaktrail sources --help` lists them)",
                    d.format
                ));
            };
            let i = Format::ALL.iter().position(|&x| x == fmt).unwrap_or(0);
            let spec = &mut self.formats[i];
            let low = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase());
            spec.category.extend(low(d.logsource.category));
            spec.product.extend(low(d.logsource.product));
            spec.service.extend(low(d.logsource.service));
            spec.fields.extend(d.fields);
            if d.service_from_field.is_some() {
                spec.service_from_field = d.service_from_field;
            }
            for (k, v) in d.service_groups {
                spec.service_groups
                    .entry(k.to_ascii_lowercase())
                    .or_default()
                    .extend(low(v));
            }
        }
        for t in f.transformations {
            if t.kind != "field_name_mapping" {
                return Err(format!(
                    "transformation `{}`: type `{}` is not supported (only field_name_mapping)",
                    t.id, t.kind
                ));
            }
            let any = match t.rule_cond_op.as_deref() {
                None | Some("and") => false,
                Some("or") => true,
                Some(o) => {
                    return Err(format!(
                        "transformation `{}`: rule_cond_op `{o}` is neither and nor or",
                        t.id
                    ));
                }
            };
            let mut conditions = Vec::new();
            for c in t.rule_conditions {
                if c.kind != "logsource" {
                    return Err(format!(
                        "transformation `{}`: rule condition type `{}` is not supported (only logsource)",
                        t.id, c.kind
                    ));
                }
                let low = |s: Option<String>| s.map(|s| s.to_ascii_lowercase());
                conditions.push(Logsource {
                    category: low(c.category),
                    product: low(c.product),
                    service: low(c.service),
                });
            }
            self.transformations.push(Transformation {
                id: t.id,
                mapping: t.mapping,
                conditions,
                any,
                priority: f.priority,
            });
        }
        // Stable: files of the same priority keep their order.
        self.transformations.sort_by_key(|t| t.priority);
        self.names.push(f.name);
        Ok(())
    }

    /// Adds a user's pipeline file (errors do not repeat the path).
    pub fn add_path(&mut self, path: &std::path::Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        self.add_text(&text)
    }

    /// The format's spec.
    pub fn spec(&self, f: Format) -> &FormatSpec {
        let i = Format::ALL.iter().position(|&x| x == f).unwrap_or(0);
        &self.formats[i]
    }

    /// The field-name mapping for rules of a logsource: (Sigma name, event name), applied in
    /// order (a later transformation may map the result of an earlier one).
    pub fn field_map(&self, ls: &Logsource) -> FieldMap {
        FieldMap(
            self.transformations
                .iter()
                .filter(|t| t.applies(ls))
                .map(|t| t.mapping.clone())
                .collect(),
        )
    }

    /// Where a rule of this logsource applies: each format, and for formats whose services are
    /// program names, the programs whose lines it reads.
    pub fn route(&self, ls: &Logsource) -> Route {
        let mut formats = Vec::new();
        if ls.is_empty() {
            return Route { formats };
        }
        let claimed = |key: fn(&FormatSpec) -> &Vec<String>| -> Vec<&str> {
            self.formats
                .iter()
                .flat_map(|s| key(s).iter().map(String::as_str))
                .filter(|x| *x != "*")
                .collect()
        };
        let (cats, prods, svcs) = (
            claimed(|s| &s.category),
            claimed(|s| &s.product),
            claimed(|s| &s.service),
        );
        for (&f, spec) in Format::ALL.iter().zip(&self.formats) {
            let cat = ls
                .category
                .as_deref()
                .is_none_or(|c| listed(&spec.category, c, &cats));
            let prod = ls
                .product
                .as_deref()
                .is_none_or(|p| listed(&spec.product, p, &prods));
            if !cat || !prod {
                continue;
            }
            let programs = match ls.service.as_deref() {
                None => None,
                Some(s) if listed(&spec.service, s, &svcs) => None,
                Some(s) => match &spec.service_from_field {
                    Some(field) => {
                        let mut progs = spec.service_groups.get(s).cloned().unwrap_or_default();
                        progs.push(s.to_string());
                        Some((field.clone(), progs))
                    }
                    None => continue,
                },
            };
            formats.push((f, programs));
        }
        Route { formats }
    }
}

/// Sigma field names → event field names, for one rule.
#[derive(Clone, Debug, Default)]
pub struct FieldMap(Vec<BTreeMap<String, String>>);

impl FieldMap {
    /// The event's name for a rule's field.
    pub fn map<'a>(&'a self, name: &'a str) -> &'a str {
        let mut n = name;
        for m in &self.0 {
            if let Some(to) = m.get(n) {
                n = to;
            }
        }
        n
    }
}

/// Lines of given programs only: (the field holding the program, the program names).
pub type Programs = (String, Vec<String>);

/// The formats a rule applies to; for some, only lines of given programs.
#[derive(Clone, Debug, Default)]
pub struct Route {
    pub formats: Vec<(Format, Option<Programs>)>,
}

impl Route {
    /// The formats, without their program conditions.
    pub fn format_list(&self) -> impl Iterator<Item = Format> + '_ {
        self.formats.iter().map(|(f, _)| *f)
    }

    /// True when the rule could read some events of this format.
    pub fn reads(&self, f: Format) -> bool {
        self.formats.iter().any(|(x, _)| *x == f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(c: Option<&str>, p: Option<&str>, s: Option<&str>) -> Logsource {
        Logsource {
            category: c.map(str::to_string),
            product: p.map(str::to_string),
            service: s.map(str::to_string),
        }
    }

    #[test]
    fn builtin_routes_and_maps() {
        let p = Pipeline::default();
        let web = ls(Some("webserver"), None, None);
        let r = p.route(&web);
        let fmts: Vec<Format> = r.format_list().collect();
        assert!(fmts.contains(&Format::Access) && fmts.contains(&Format::W3c));
        assert!(!fmts.contains(&Format::Syslog));
        let m = p.field_map(&web);
        assert_eq!(m.map("c-uri"), "cs-uri-query");
        assert_eq!(m.map("c-useragent"), "cs-user-agent");
        assert_eq!(m.map("sc-status"), "sc-status");
        // Web names are not rewritten in CloudTrail rules.
        let ct = ls(None, Some("aws"), Some("cloudtrail"));
        assert_eq!(p.field_map(&ct).map("c-uri"), "c-uri");
        let r = p.route(&ct);
        assert_eq!(
            r.format_list().collect::<Vec<_>>(),
            [Format::CloudTrailDelivery, Format::CloudTrailLines]
        );
        // A service that is a program name, and the auth group.
        let sshd = p.route(&ls(None, Some("linux"), Some("sshd")));
        assert_eq!(sshd.formats.len(), 1);
        let (f, progs) = &sshd.formats[0];
        assert_eq!(*f, Format::Syslog);
        assert_eq!(progs.as_ref().unwrap().1, ["sshd-session", "sshd"]);
        let auth = p.route(&ls(None, Some("linux"), Some("auth")));
        assert!(
            auth.formats[0]
                .1
                .as_ref()
                .unwrap()
                .1
                .contains(&"sudo".to_string())
        );
        // Sigma's proxy rules read Squid's log, with the proxy names mapped.
        let proxy = ls(Some("proxy"), None, None);
        assert_eq!(
            p.route(&proxy).format_list().collect::<Vec<_>>(),
            [Format::Squid]
        );
        assert_eq!(p.field_map(&proxy).map("c-useragent"), "cs-user-agent");
        // Plain syslog: every line.
        let sys = p.route(&ls(None, Some("linux"), Some("syslog")));
        assert!(sys.formats[0].1.is_none());
        // Application JSON takes products no format claims, never CloudTrail's or Linux's.
        let gh = p.route(&ls(None, Some("github"), Some("audit")));
        assert_eq!(gh.format_list().collect::<Vec<_>>(), [Format::Json]);
        let app = p.route(&ls(Some("application"), Some("django"), None));
        assert_eq!(
            app.format_list().collect::<Vec<_>>(),
            [Format::Json, Format::Generic]
        );
        // Nothing produces Windows events or an empty logsource.
        assert!(
            p.route(&ls(None, Some("windows"), Some("security")))
                .formats
                .is_empty()
        );
        assert!(p.route(&Logsource::default()).formats.is_empty());
        assert!(
            p.spec(Format::CloudTrailLines)
                .has_field("requestParameters.bucketName")
        );
        assert!(!p.spec(Format::Access).has_field("eventName"));
    }

    #[test]
    fn user_files_extend_and_errors_name_the_construct() {
        let mut p = Pipeline::default();
        p.add_text(
            "name: mine\npriority: 20\nformats:\n  - format: json\n    fields: [x]\ntransformations:\n  - id: t\n    type: field_name_mapping\n    mapping: {cs-uri-query: url}\n    rule_conditions: [{type: logsource, category: webserver}]\n",
        )
        .unwrap();
        // Applied after the built-in mapping: c-uri → cs-uri-query → url.
        let web = ls(Some("webserver"), None, None);
        assert_eq!(p.field_map(&web).map("c-uri"), "url");
        assert_eq!(p.names, ["leaktrail", "mine"]);
        let e = Pipeline::empty()
            .add_text("name: x\nformats:\n  - format: nosuch\n")
            .unwrap_err();
        assert!(e.contains("`nosuch`"), "{e}");
        let e = Pipeline::empty()
            .add_text("name: x\ntransformations:\n  - id: a\n    type: drop_detection_item\n")
            .unwrap_err();
        assert!(e.contains("drop_detection_item"), "{e}");
        let e = Pipeline::empty()
            .add_text("name: x\nbogus: 1\n")
            .unwrap_err();
        assert!(e.contains("bogus"), "{e}");
    }
}
