//! Deterministic synthetic combined-format access log, shared by `examples/genlog.rs` and the
//! criterion benchmarks. The lines vary like real traffic (clients, paths, statuses, sizes, user
//! agents, a new second every few lines) so timestamp caching and parsing behave as on real logs.

use std::io::Write;

const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/products?id=",
    "/api/customers?page=",
    "/static/app.js",
    "/static/site.css",
    "/search?q=boots+size+",
    "/cart",
    "/api/login",
    "/images/p/",
    "/healthz",
    "/account/orders/",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
];
const STATUS: &[u32] = &[200, 200, 200, 200, 200, 200, 304, 404, 302, 500];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Writes about `size` bytes of log lines to `w`.
pub fn generate(w: &mut impl Write, size: u64) -> std::io::Result<u64> {
    let mut rng = Lcg(42);
    let mut written = 0u64;
    let mut secs: u64 = 0;
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut line = String::with_capacity(512);
    while written < size {
        if rng.next().is_multiple_of(4) {
            secs += 1;
        }
        let day = 1 + (secs / 86_400) % 28;
        let month = months[((secs / (86_400 * 28)) % 12) as usize];
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let r = rng.next();
        // Clients come back: a pool of 50,000 addresses, as on a busy shop.
        let client = (r >> 7) % 50_000;
        let path = PATHS[(r % PATHS.len() as u64) as usize];
        line.clear();
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "{}.{}.{}.{} - - [{day:02}/{month}/2026:{h:02}:{m:02}:{s:02} +0000] \"GET {path}{} HTTP/1.1\" {} {} \"https://shop.example/\" \"{}\"",
            10 + client % 200,
            (client >> 8) % 256,
            (client * 7) % 256,
            1 + (client * 13) % 254,
            r % 5000,
            STATUS[((r >> 5) % STATUS.len() as u64) as usize],
            200 + (r >> 12) % 90_000,
            AGENTS[((r >> 3) % AGENTS.len() as u64) as usize],
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    Ok(written)
}

/// CloudTrail API calls the generator mixes, weighted like a busy account: (eventSource,
/// eventName, weight). Mostly reads; now and then a call SigmaHQ's rules look for.
const CT_CALLS: &[(&str, &str, u64)] = &[
    ("s3.amazonaws.com", "GetObject", 300),
    ("s3.amazonaws.com", "PutObject", 120),
    ("s3.amazonaws.com", "ListObjects", 60),
    ("ec2.amazonaws.com", "DescribeInstances", 120),
    ("sts.amazonaws.com", "AssumeRole", 90),
    ("kms.amazonaws.com", "Decrypt", 90),
    ("lambda.amazonaws.com", "Invoke", 40),
    ("logs.amazonaws.com", "CreateLogStream", 40),
    ("iam.amazonaws.com", "GetUser", 20),
    ("s3.amazonaws.com", "ListBuckets", 10),
    ("signin.amazonaws.com", "ConsoleLogin", 4),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", 2),
    ("iam.amazonaws.com", "CreateAccessKey", 1),
    ("cloudtrail.amazonaws.com", "StopLogging", 1),
    ("ec2.amazonaws.com", "ModifySnapshotAttribute", 1),
];

/// Writes about `size` bytes of CloudTrail records, one JSON object per line (a SIEM export),
/// shaped like real records (identity, session context, request and response elements, TLS
/// details), 1 to 2 KB each.
pub fn generate_cloudtrail(w: &mut impl Write, size: u64) -> std::io::Result<u64> {
    use std::fmt::Write as _;
    let mut rng = Lcg(7);
    let total: u64 = CT_CALLS.iter().map(|c| c.2).sum();
    let mut written = 0u64;
    let mut ms: u64 = 0;
    let mut line = String::with_capacity(2048);
    let mut n = 0u64;
    while written < size {
        ms += rng.next() % 40;
        let secs = ms / 1000;
        let (day, h, m, s) = (
            1 + (secs / 86_400) % 28,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        let r = rng.next();
        let mut pick = r % total;
        let &(source, name, _) = CT_CALLS
            .iter()
            .find(|c| {
                let hit = pick < c.2;
                pick = pick.saturating_sub(c.2);
                hit
            })
            .unwrap_or(&CT_CALLS[0]);
        let user = (r >> 11) % 400;
        let ip = (r >> 20) % 5000;
        let role = user.is_multiple_of(3);
        let identity = if role {
            format!(
                r#"{{"type":"AssumedRole","principalId":"AROA4EXAMPLE{user:05}:session-{user}","arn":"arn:aws:sts::123456789012:assumed-role/app-role-{}/session-{user}","accountId":"123456789012","accessKeyId":"ASIA4EXAMPLE{user:08}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA4EXAMPLE{user:05}","arn":"arn:aws:iam::123456789012:role/app-role-{}","accountId":"123456789012","userName":"app-role-{}"}},"attributes":{{"creationDate":"2026-10-{day:02}T{h:02}:00:00Z","mfaAuthenticated":"false"}}}}}}"#,
                user % 17,
                user % 17,
                user % 17
            )
        } else {
            format!(
                r#"{{"type":"IAMUser","principalId":"AIDA4EXAMPLE{user:05}","arn":"arn:aws:iam::123456789012:user/user{user}","accountId":"123456789012","accessKeyId":"AKIA4EXAMPLE{user:08}","userName":"user{user}"}}"#
            )
        };
        let (req, resp, extra) = match name {
            "GetObject" | "PutObject" => (
                format!(
                    r#"{{"bucketName":"data-{}","Host":"data-{}.s3.us-east-1.amazonaws.com","key":"exports/2026/10/{day:02}/part-{:05}.parquet"}}"#,
                    user % 9,
                    user % 9,
                    r % 100_000
                ),
                "null".to_string(),
                format!(
                    r#","additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"bytesTransferredOut":{},"AuthenticationMethod":"AuthHeader","x-amz-id-2":"k{r:x}"}},"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data-{}/exports/part-{:05}.parquet"}},{{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data-{}"}}]"#,
                    (r >> 7) % 5_000_000,
                    user % 9,
                    r % 100_000,
                    user % 9
                ),
            ),
            "DescribeInstances" => (
                r#"{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]}}"#.to_string(),
                "null".to_string(),
                String::new(),
            ),
            "AssumeRole" => (
                format!(
                    r#"{{"roleArn":"arn:aws:iam::123456789012:role/app-role-{}","roleSessionName":"session-{user}","durationSeconds":3600}}"#,
                    user % 17
                ),
                format!(
                    r#"{{"credentials":{{"accessKeyId":"ASIA4EXAMPLE{:08}","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLE{r:x}","expiration":"Oct {day}, 2026, {h}:{m:02}:{s:02} PM"}},"assumedRoleUser":{{"assumedRoleId":"AROA4EXAMPLE:session-{user}","arn":"arn:aws:sts::123456789012:assumed-role/app-role-{}/session-{user}"}}}}"#,
                    r % 100_000_000,
                    user % 17
                ),
                String::new(),
            ),
            _ => (
                format!(r#"{{"requestId":"{:x}"}}"#, r),
                "null".to_string(),
                String::new(),
            ),
        };
        n += 1;
        line.clear();
        let _ = writeln!(
            line,
            r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"2026-10-{day:02}T{h:02}:{m:02}:{s:02}Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{}.{}.{}.{}","userAgent":"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/{}#1.58.0","requestParameters":{req},"responseElements":{resp}{extra},"requestID":"{:016X}","eventID":"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}","readOnly":{},"eventType":"AwsApiCall","managementEvent":{},"recipientAccountId":"123456789012","eventCategory":"{}","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{}.us-east-1.amazonaws.com"}}}}"#,
            10 + ip % 200,
            (ip >> 3) % 256,
            (ip * 7) % 256,
            1 + (ip * 13) % 254,
            source.split('.').next().unwrap_or("s3"),
            r ^ n,
            n,
            r % 0xffff,
            (r >> 4) % 0xfff,
            (r >> 8) % 0xfff,
            r.wrapping_mul(n) % 0xffff_ffff_ffff,
            name.starts_with("Get") || name.starts_with("List") || name.starts_with("Describe"),
            !matches!(name, "GetObject" | "PutObject"),
            if matches!(name, "GetObject" | "PutObject") {
                "Data"
            } else {
                "Management"
            },
            source.split('.').next().unwrap_or("s3"),
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    Ok(written)
}
