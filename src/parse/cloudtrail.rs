//! AWS CloudTrail: records keep their JSON paths as field names (`eventName`,
//! `userIdentity.arn`, `additionalEventData.bytesTransferredOut`). Delivery files
//! (`{"Records": [...]}`) are exploded into one record per array element by
//! [`record_spans`]; JSON-lines exports (one record per line, SIEM exports with `@timestamp`)
//! are parsed line by line.
//!
//! A call that gives another party access to a resource (a bucket policy, a snapshot's or
//! image's permissions, a role's trust policy, a Lambda permission) gets one more field,
//! `sharedWith`: the outside accounts it grants, or `public`, read from the request (see
//! [`shared_with`]).

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
        if f.get("eventName")
            .is_some_and(|v| grants_access(v, &rec[start..end]))
            && let Some(who) = shared_with(&rec[start..end])
        {
            let v = f.build(&[who.as_bytes()]);
            f.put("sharedWith", v);
        }
        Ok(Outcome::Event(ts))
    }
}

/// The calls whose request can give an outside party access to data or to the account.
const GRANTING: &[&str] = &[
    "PutBucketPolicy",
    "PutBucketAcl",
    "PutObjectAcl",
    "ModifySnapshotAttribute",
    "ModifyImageAttribute",
    "ModifyDBSnapshotAttribute",
    "ModifyDBClusterSnapshotAttribute",
    "UpdateAssumeRolePolicy",
    "CreateRole",
    "PutResourcePolicy",
    "SetRepositoryPolicy",
    "PutKeyPolicy",
    "CreateKey",
    "CreateGrant",
];

/// Object writes that can carry an ACL in their headers (`x-amz-acl`, `x-amz-grant-*`): read
/// only when the record holds one, as most of them are plain uploads.
const ACL_WRITES: &[&str] = &["PutObject", "CopyObject", "CreateMultipartUpload"];

fn grants_access(name: super::event::Val<'_>, rec: &[u8]) -> bool {
    let super::event::Val::Str(n, _) = name else {
        return false;
    };
    // Lambda's API versions are part of CloudTrail's event names (`AddPermission20150331v2`).
    GRANTING.iter().any(|g| n == g.as_bytes())
        || n.starts_with(b"AddPermission")
        || n.starts_with(b"AddLayerVersionPermission")
        || (ACL_WRITES.iter().any(|g| n == g.as_bytes())
            && (memchr::memmem::find(rec, b"x-amz-acl").is_some()
                || memchr::memmem::find(rec, b"x-amz-grant").is_some()))
}

/// Who a granting call gives access to, outside the account that owns the resource: account ids in the
/// order the request names them, `public` for everyone (`*`, the S3 groups AllUsers and
/// AuthenticatedUsers, a canned public ACL, the snapshot group `all`), `public (conditional)`
/// when a policy's public statement carries a condition. None when the request grants nothing
/// outside the account (a service principal, the account itself, a permission removed).
///
/// Granting calls are rare, so the record is read again here as a JSON document.
pub fn shared_with(rec: &[u8]) -> Option<String> {
    use serde_json::Value;
    let doc: Value = serde_json::from_slice(rec).ok()?;
    let name = doc.get("eventName")?.as_str()?;
    let rp = doc.get("requestParameters")?;
    // The account that owns the resource is the one the event was delivered to; the caller's
    // account only stands in when that is missing (a cross-account caller writing its own
    // account into the victim's policy is the outside party).
    let own: Vec<&str> = doc
        .get("recipientAccountId")
        .or_else(|| doc.pointer("/userIdentity/accountId"))
        .and_then(Value::as_str)
        .into_iter()
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut add = |who: String| {
        if !out.contains(&who) {
            out.push(who);
        }
    };
    // One principal: `everyone` names what `*` means here (`public`, or `public (conditional)`
    // under a policy condition).
    let account =
        |id: &str, everyone: &str, add: &mut dyn FnMut(String)| match principal_account(id) {
            Some(Principal::Everyone) => add(everyone.into()),
            Some(Principal::Account(a)) if !own.contains(&a) => add(a.to_string()),
            _ => {}
        };
    match name {
        "ModifySnapshotAttribute" | "ModifyImageAttribute" => {
            let perm = rp
                .get("createVolumePermission")
                .or_else(|| rp.get("launchPermission"));
            let items = perm
                .and_then(|p| p.pointer("/add/items"))
                .and_then(Value::as_array);
            for it in items.into_iter().flatten() {
                if it.get("group").and_then(Value::as_str) == Some("all") {
                    add("public".into());
                }
                if let Some(u) = it.get("userId").and_then(Value::as_str) {
                    account(u, "public", &mut add);
                }
            }
        }
        "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute" => {
            if rp.get("attributeName").and_then(Value::as_str) == Some("restore") {
                let values = rp.get("valuesToAdd").and_then(Value::as_array);
                for v in values.into_iter().flatten().filter_map(Value::as_str) {
                    if v == "all" {
                        add("public".into());
                    } else {
                        account(v, "public", &mut add);
                    }
                }
            }
        }
        "PutBucketAcl" | "PutObjectAcl" | "PutObject" | "CopyObject" | "CreateMultipartUpload" => {
            let text = rp.to_string();
            let canned = rp
                .get("x-amz-acl")
                .map(|a| a.to_string())
                .unwrap_or_default();
            if text.contains("acs.amazonaws.com/groups/global/AllUsers")
                || text.contains("acs.amazonaws.com/groups/global/AuthenticatedUsers")
                || ["public-read", "public-read-write", "authenticated-read"]
                    .iter()
                    .any(|c| canned.contains(c))
            {
                add("public".into());
            }
            for who in acl_grantees(rp) {
                add(who);
            }
        }
        "CreateGrant" => {
            // KMS: the grantee may use the key (to read an encrypted snapshot shared with it).
            if let Some(p) = rp.get("granteePrincipal").and_then(Value::as_str) {
                account(p, "public", &mut add);
            }
        }
        n if n.starts_with("AddPermission") || n.starts_with("AddLayerVersionPermission") => {
            let source = doc.get("eventSource").and_then(Value::as_str);
            if source == Some("lambda.amazonaws.com") {
                // Lambda: `principal` is `*`, an account id or ARN, or a service. Limited to
                // an organization (`principalOrgID`, `organizationId`) it stays inside;
                // limited to a source account or ARN it is conditional.
                let org = rp
                    .get("principalOrgID")
                    .or_else(|| rp.get("organizationId"));
                let scoped = rp.get("sourceAccount").or_else(|| rp.get("sourceArn"));
                match rp.get("principal").and_then(Value::as_str) {
                    _ if org.is_some() => {}
                    Some("*") if scoped.is_some() => add("public (conditional)".into()),
                    Some(p) => account(p, "public", &mut add),
                    None => {}
                }
            } else {
                // SNS and SQS: the accounts are listed.
                for k in ["aWSAccountId", "aWSAccountIds", "AWSAccountIds"] {
                    for a in one_or_many(rp.get(k)) {
                        account(a, "public", &mut add);
                    }
                }
            }
        }
        _ => {
            let policy = [
                "bucketPolicy",
                "policyDocument",
                "assumeRolePolicyDocument",
                "resourcePolicy",
                "policyText",
                "policy",
            ]
            .iter()
            .find_map(|k| {
                rp.get(*k)
                    .filter(|v| !v.as_str().is_some_and(str::is_empty))
            });
            let policy = match policy {
                Some(Value::String(s)) => serde_json::from_str(s).ok(),
                Some(v) => Some(v.clone()),
                None => None,
            };
            for st in policy.as_ref().map(statements).unwrap_or_default() {
                if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
                    continue;
                }
                // A bucket policy hands data out only through reading actions: the write-only
                // grants of AWS's log-delivery accounts (ELB, CloudFront) share nothing.
                if name == "PutBucketPolicy" && !reads_s3(st) {
                    continue;
                }
                let conditional = st.get("Condition").is_some_and(|c| !c.is_null());
                // Everyone, on condition that the caller is this account or its organization
                // (KMS's default `kms:CallerAccount` statements): nobody outside.
                if st.get("Condition").is_some_and(|c| scoped_inside(c, &own)) {
                    continue;
                }
                let everyone = if conditional {
                    "public (conditional)"
                } else {
                    "public"
                };
                // `NotPrincipal` with Allow: everyone but those named.
                if st.get("NotPrincipal").is_some_and(|p| !p.is_null()) {
                    add(everyone.into());
                }
                // A web-identity provider (GitHub Actions, another OIDC issuer) trusted without a
                // condition on the token's subject: any identity of that provider can assume it.
                for f in federated(st.get("Principal")) {
                    let cond = st
                        .get("Condition")
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    if f.contains('.') && !cond.contains(":sub") {
                        add(format!("{f} (any identity)"));
                    }
                }
                for p in principals(st.get("Principal")) {
                    account(p, everyone, &mut add);
                }
            }
        }
    }
    (!out.is_empty()).then(|| out.join(", "))
}

/// The outside grantees of an S3 ACL: in the request body, canonical users other than the
/// ACL's owner (their canonical ids) and e-mail grantees; in `x-amz-grant-*` headers, e-mail
/// grantees and ids given less than full control by a request that does not also give them
/// full control. CloudFront's log-delivery user is not a share.
fn acl_grantees(rp: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let mut out = Vec::new();
    let acp = rp.get("AccessControlPolicy");
    let owner = acp
        .and_then(|a| a.pointer("/Owner/ID"))
        .and_then(Value::as_str);
    let grants = match acp.and_then(|a| a.pointer("/AccessControlList/Grant")) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(g @ Value::Object(_)) => vec![g],
        _ => Vec::new(),
    };
    for g in grants {
        let Some(grantee) = g.get("Grantee") else {
            continue;
        };
        let text = |k: &str| grantee.get(k).and_then(Value::as_str).map(str::trim);
        if let Some(id) = text("ID").filter(|id| !id.is_empty())
            && owner.is_some_and(|o| o.trim() != id)
            && id != AWSLOGSDELIVERY
        {
            out.push(id.to_string());
        }
        if let Some(mail) = text("EmailAddress").filter(|m| !m.is_empty()) {
            out.push(mail.to_string());
        }
    }
    // Grant headers: (header, grantee kind, grantee).
    let mut granted: Vec<(String, String, String)> = Vec::new();
    if let Some(headers) = rp.as_object() {
        for (k, v) in headers {
            let k = k.to_ascii_lowercase();
            if !k.starts_with("x-amz-grant-") {
                continue;
            }
            for part in one_or_many(Some(v)).iter().flat_map(|s| s.split(',')) {
                let (kind, val) = part.split_once('=').unwrap_or(("", ""));
                let val = val.trim().trim_matches('"');
                if !val.is_empty() {
                    granted.push((k.clone(), kind.trim().to_ascii_lowercase(), val.to_string()));
                }
            }
        }
    }
    // An `id=` grant is the owner's own when the request also gives that id full control
    // (a header-set ACL replaces the whole list, so owners name themselves there).
    let full: Vec<&str> = granted
        .iter()
        .filter(|(h, kind, _)| h == "x-amz-grant-full-control" && kind == "id")
        .map(|(_, _, v)| v.as_str())
        .collect();
    for (h, kind, val) in &granted {
        let outside = match kind.as_str() {
            "emailaddress" => true,
            "id" => h != "x-amz-grant-full-control" && !full.contains(&val.as_str()),
            _ => false,
        };
        if outside && val != AWSLOGSDELIVERY && !out.contains(val) {
            out.push(val.clone());
        }
    }
    out
}

/// The canonical user CloudFront's standard logging writes its log files as: the grant a
/// distribution's logging setup adds to the log bucket's ACL, not a share.
const AWSLOGSDELIVERY: &str = "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0";

/// Whether a policy condition limits the caller to `own` accounts or to an organization:
/// `kms:CallerAccount`, `aws:PrincipalAccount` or `aws:SourceAccount` naming only them, or any
/// `aws:PrincipalOrgID`.
fn scoped_inside(cond: &serde_json::Value, own: &[&str]) -> bool {
    use serde_json::Value;
    let Some(ops) = cond.as_object() else {
        return false;
    };
    ops.values().filter_map(Value::as_object).any(|keys| {
        keys.iter().any(|(k, v)| {
            let k = k.to_ascii_lowercase();
            if k == "aws:principalorgid" {
                return true;
            }
            if !matches!(
                k.as_str(),
                "kms:calleraccount" | "aws:principalaccount" | "aws:sourceaccount"
            ) {
                return false;
            }
            let ids = one_or_many(Some(v));
            !ids.is_empty() && ids.iter().all(|id| own.contains(id))
        })
    })
}

enum Principal<'a> {
    Everyone,
    Account(&'a str),
}

/// The account a principal names: `*`, a 12-digit id, or an ARN holding one (`arn:aws:iam::
/// 123456789012:root`). Services and federated providers name none.
fn principal_account(p: &str) -> Option<Principal<'_>> {
    let p = p.trim();
    if p == "*" {
        return Some(Principal::Everyone);
    }
    let id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if id(p) {
        return Some(Principal::Account(p));
    }
    let a = p.strip_prefix("arn:")?.split(':').nth(3)?;
    id(a).then_some(Principal::Account(a))
}

/// Whether a bucket policy statement allows reading: `s3:Get*`, `s3:List*`, `s3:*`, `*`, or
/// any `NotAction` (everything but some).
fn reads_s3(st: &serde_json::Value) -> bool {
    use serde_json::Value;
    if st.get("NotAction").is_some_and(|a| !a.is_null()) {
        return true;
    }
    let actions: Vec<&str> = match st.get("Action") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    actions.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        a == "*" || a == "s3:*" || a.starts_with("s3:get") || a.starts_with("s3:list")
    })
}

/// A policy's statements (one object or a list).
fn statements(policy: &serde_json::Value) -> Vec<&serde_json::Value> {
    match policy.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(o @ serde_json::Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// A JSON value that is one string or a list of them (IAM's and S3's way), as strings.
fn one_or_many(v: Option<&serde_json::Value>) -> Vec<&str> {
    use serde_json::Value;
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The AWS principals of a statement: `"*"`, or the `AWS` member's one or many.
fn principals(p: Option<&serde_json::Value>) -> Vec<&str> {
    match p {
        Some(serde_json::Value::Object(o)) => one_or_many(o.get("AWS")),
        p => one_or_many(p.filter(|p| p.is_string())),
    }
}

/// The web-identity and SAML providers a statement's principal trusts (`Federated`), by name:
/// the provider part of an ARN (`.../token.actions.githubusercontent.com`) or the name itself.
fn federated(p: Option<&serde_json::Value>) -> Vec<&str> {
    one_or_many(p.and_then(|p| p.get("Federated")))
        .into_iter()
        .map(|n| n.rsplit_once(":oidc-provider/").map_or(n, |(_, name)| name))
        .collect()
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

    /// A CloudTrail record of account 123456789012 with these name and request parameters.
    fn call(name: &str, params: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","accountId":"123456789012","userName":"ops"}},"eventTime":"2023-07-10T12:22:41Z","eventSource":"x.amazonaws.com","eventName":"{name}","requestParameters":{params},"recipientAccountId":"123456789012"}}"#
        )
    }

    fn shared(name: &str, params: &str) -> Option<String> {
        let mut rec = call(name, params);
        if name.starts_with("AddPermission") {
            rec = rec.replace("x.amazonaws.com", "lambda.amazonaws.com");
        }
        let (_, f) = parse_fmt(Format::CloudTrailLines, &rec).unwrap();
        f.get("sharedWith").cloned()
    }

    #[test]
    fn granting_calls_name_who_gets_access() {
        // A bucket policy for another account (Stratus s3-backdoor-bucket-policy).
        let backdoor = r#"{"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::193672423079:root"},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}]},"bucketName":"b"}"#;
        assert_eq!(
            shared("PutBucketPolicy", backdoor).as_deref(),
            Some("193672423079")
        );
        // CloudTrail's own delivery policy and a policy for the account itself share nothing.
        let service = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"}]}}"#;
        assert_eq!(shared("PutBucketPolicy", service), None);
        let own = r#"{"bucketPolicy":{"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012"]},"Action":"s3:*"}}}"#;
        assert_eq!(shared("PutBucketPolicy", own), None);
        let public = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"},{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:*"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}}"#;
        assert_eq!(
            shared("PutBucketPolicy", public).as_deref(),
            Some("public, public (conditional)")
        );
        // A role trust policy, sent as a JSON string (Stratus iam-backdoor-role).
        let trust = r#"{"roleName":"r","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"},{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::193672423079:root\"},\"Action\":\"sts:AssumeRole\"}]}"}"#;
        assert_eq!(
            shared("UpdateAssumeRolePolicy", trust).as_deref(),
            Some("193672423079")
        );
        // Snapshot and image permissions: added is shared, removed is not.
        let add = r#"{"snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"userId":"012345678912"}]}},"attributeType":"CREATE_VOLUME_PERMISSION"}"#;
        let remove = add.replace("\"add\"", "\"remove\"");
        assert_eq!(
            shared("ModifySnapshotAttribute", add).as_deref(),
            Some("012345678912")
        );
        assert_eq!(shared("ModifySnapshotAttribute", &remove), None);
        let ami = r#"{"imageId":"ami-1","launchPermission":{"add":{"items":[{"group":"all"}]}}}"#;
        assert_eq!(
            shared("ModifyImageAttribute", ami).as_deref(),
            Some("public")
        );
        let rds = r#"{"dBSnapshotIdentifier":"x","attributeName":"restore","valuesToAdd":["193672423079","all"]}"#;
        assert_eq!(
            shared("ModifyDBSnapshotAttribute", rds).as_deref(),
            Some("193672423079, public")
        );
        let rds_off = r#"{"dBSnapshotIdentifier":"x","attributeName":"restore","valuesToRemove":["193672423079"]}"#;
        assert_eq!(shared("ModifyDBSnapshotAttribute", rds_off), None);
        // Lambda permissions and public ACLs.
        let lambda = r#"{"functionName":"f","statementId":"backdoor","action":"lambda:InvokeFunction","principal":"*"}"#;
        assert_eq!(
            shared("AddPermission20150331v2", lambda).as_deref(),
            Some("public")
        );
        let s3svc = r#"{"functionName":"f","principal":"s3.amazonaws.com"}"#;
        assert_eq!(shared("AddPermission20150331v2", s3svc), None);
        let acl = r#"{"bucketName":"b","AccessControlPolicy":{"AccessControlList":{"Grant":{"Grantee":{"URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}}}}"#;
        assert_eq!(shared("PutBucketAcl", acl).as_deref(), Some("public"));
        assert_eq!(
            shared(
                "PutBucketAcl",
                r#"{"bucketName":"b","x-amz-acl":["private"]}"#
            ),
            None
        );
        // Not a granting call.
        assert_eq!(shared("GetObject", backdoor), None);
        // ELB's log delivery account may only write: nothing is handed out.
        let elb = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::127311923021:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/*"}]}}"#;
        assert_eq!(shared("PutBucketPolicy", elb), None);
        let not_principal = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject"}]}}"#;
        assert_eq!(
            shared("PutBucketPolicy", not_principal).as_deref(),
            Some("public")
        );
        // An outside caller writing its own account into this account's role: outside still.
        let cross = call("UpdateAssumeRolePolicy", trust).replace(
            r#""accountId":"123456789012""#,
            r#""accountId":"193672423079""#,
        );
        let (_, f) = parse_fmt(Format::CloudTrailLines, &cross).unwrap();
        assert_eq!(f["sharedWith"], "193672423079");
        // Lambda permissions held inside an organization, or to one source, and SQS's list.
        let org = r#"{"functionName":"f","principal":"*","principalOrgID":"o-a1b2c3"}"#;
        assert_eq!(shared("AddPermission20150331v2", org), None);
        let src = r#"{"functionName":"f","principal":"*","sourceArn":"arn:aws:s3:::b"}"#;
        assert_eq!(
            shared("AddPermission20150331v2", src).as_deref(),
            Some("public (conditional)")
        );
        let sqs = call(
            "AddPermission",
            r#"{"queueUrl":"q","aWSAccountIds":["444455556666"],"actions":["ReceiveMessage"]}"#,
        )
        .replace("x.amazonaws.com", "sqs.amazonaws.com");
        let (_, f) = parse_fmt(Format::CloudTrailLines, &sqs).unwrap();
        assert_eq!(f["sharedWith"], "444455556666");
        // GitHub Actions trusted for any repository (no condition on the token's subject),
        // and the same scoped to one repository.
        let oidc = |cond: &str| {
            format!(
                r#"{{"roleName":"deploy","policyDocument":"{{\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\"}},\"Action\":\"sts:AssumeRoleWithWebIdentity\"{cond}}}]}}"}}"#
            )
        };
        assert_eq!(
            shared("UpdateAssumeRolePolicy", &oidc("")).as_deref(),
            Some("token.actions.githubusercontent.com (any identity)")
        );
        let scoped = oidc(
            r#",\"Condition\":{\"StringLike\":{\"token.actions.githubusercontent.com:sub\":\"repo:acme/app:*\"}}"#,
        );
        assert_eq!(shared("UpdateAssumeRolePolicy", &scoped), None);
        // ACL grants to another account's canonical user or an e-mail address; the owner's
        // own grant and the log-delivery group share nothing.
        let owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
        let other = "be4a6c5d8f0e2b7a9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b";
        let grants = format!(
            r#"{{"bucketName":"b","AccessControlPolicy":{{"Owner":{{"ID":"{owner}"}},"AccessControlList":{{"Grant":[{{"Grantee":{{"xsi:type":"CanonicalUser","ID":"{owner}"}},"Permission":"FULL_CONTROL"}},{{"Grantee":{{"xsi:type":"Group","URI":"http://acs.amazonaws.com/groups/s3/LogDelivery"}},"Permission":"WRITE"}},{{"Grantee":{{"xsi:type":"CanonicalUser","ID":"{other}"}},"Permission":"READ"}},{{"Grantee":{{"xsi:type":"AmazonCustomerByEmail","EmailAddress":"drop@example.net"}},"Permission":"READ"}}]}}}}}}"#
        );
        assert_eq!(
            shared("PutBucketAcl", &grants).as_deref(),
            Some(format!("{other}, drop@example.net").as_str())
        );
        let only_owner = grants.replace(other, owner).replace("drop@example.net", "");
        assert_eq!(shared("PutBucketAcl", &only_owner), None);
        // An upload made public by its headers, or readable by an e-mail grantee; a plain
        // upload and one handed to the bucket owner are not read at all.
        let put = |headers: &str| {
            shared(
                "PutObject",
                &format!(r#"{{"bucketName":"b","key":"customers.csv"{headers}}}"#),
            )
        };
        assert_eq!(
            put(r#","x-amz-acl":"public-read""#).as_deref(),
            Some("public")
        );
        assert_eq!(
            put(r#","x-amz-grant-read":"emailAddress=\"drop@example.net\", id=\"abc\"""#)
                .as_deref(),
            Some("drop@example.net, abc")
        );
        assert_eq!(put(""), None);
        // Header grants: another id given read access is listed; the owner naming itself with
        // full control is not, nor CloudFront's log delivery user.
        let other_id =
            r#","x-amz-grant-read":"id=be4a6c5d","x-amz-grant-full-control":"id=79a59df9""#;
        assert_eq!(put(other_id).as_deref(), Some("be4a6c5d"));
        let own = r#","x-amz-grant-read":"id=79a59df9","x-amz-grant-full-control":"id=79a59df9""#;
        assert_eq!(put(own), None);
        let cloudfront = grants
            .replace(other, AWSLOGSDELIVERY)
            .replace("drop@example.net", "");
        assert_eq!(shared("PutBucketAcl", &cloudfront), None);
        assert_eq!(put(r#","x-amz-acl":"bucket-owner-full-control""#), None);
        // KMS's default statement: everyone, provided the caller is this account.
        let default_key = r#"{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"kms:Decrypt\"],\"Condition\":{\"StringEquals\":{\"kms:CallerAccount\":\"123456789012\",\"kms:ViaService\":\"ec2.us-east-1.amazonaws.com\"}}}]}"}"#;
        assert_eq!(shared("CreateKey", default_key), None);
        let other_caller = default_key.replace(
            "kms:CallerAccount\\\":\\\"123456789012",
            "kms:CallerAccount\\\":\\\"193672423079",
        );
        assert_eq!(
            shared("CreateKey", &other_caller).as_deref(),
            Some("public (conditional)")
        );
        // A key created with a policy that lets another account decrypt.
        let key = r#"{"keyUsage":"ENCRYPT_DECRYPT","policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},\"Action\":\"kms:*\"},{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::193672423079:root\"},\"Action\":[\"kms:Decrypt\",\"kms:CreateGrant\"]}]}"}"#;
        assert_eq!(shared("CreateKey", key).as_deref(), Some("193672423079"));
        assert_eq!(
            shared("CreateKey", r#"{"keyUsage":"ENCRYPT_DECRYPT"}"#),
            None
        );
        // A KMS grant to another account.
        let grant = r#"{"keyId":"k","granteePrincipal":"arn:aws:iam::193672423079:root","operations":["Decrypt"]}"#;
        assert_eq!(
            shared("CreateGrant", grant).as_deref(),
            Some("193672423079")
        );
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
