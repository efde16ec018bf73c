"""CloudTrail: org-trail delivering 5-minute files (management + S3 data events)."""
from __future__ import annotations

import datetime as dt
import json

from .common import (ACCOUNT, ATTACKER_SCAN, ATTACKER_NEW_KEY, BACKUP_HOST, CI_HOST, OFFICE, REPORTS_HOST,
                     SVC_REPORTS_KEY, END, T, Entry, rand_alnum, rand_hex, rand_uuid, write_file)

REGION = "us-east-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/org-trail"
EXPORTS = "larkspur-customer-exports"
STOP = T("2026-10-13 10:56:12")
START_AGAIN = T("2026-10-13 11:38:27")
ATT_UA = "aws-cli/2.13.0 Python/3.11.4 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off command/{}"
CI_UA = "aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#{}"
BOTO_UA = "Boto3/1.34.110 md/Botocore#1.34.110 ua/2.0 os/linux#6.1.0-25-cloud-amd64 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.110"
ALICE_UA = "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython md/installer#exe md/prompt#off md/command#{}"


def iam_user(name, principal, key):
    return {"type": "IAMUser", "principalId": principal, "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT, "accessKeyId": key, "userName": name}


def role(name, principal, session, key, created):
    return {"type": "AssumedRole", "principalId": f"{principal}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}", "accountId": ACCOUNT,
            "accessKeyId": key, "userName": name,
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": principal,
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                                                 "accountId": ACCOUNT, "userName": name},
                               "attributes": {"creationDate": created, "mfaAuthenticated": "false"}}}


SVC = lambda key: iam_user("svc-reports", "AIDAJ7SVCREPORTSQ4XZ1", key)
ALICE = iam_user("alice", "AIDA5ALICEADMINW3R7K2", "ASIA5ALICECONSOLE7Q2")


class CT:
    def __init__(self, rng):
        self.rng = rng
        self.out = []

    def rec(self, t, source, name, ident, ip, ua, req, resp=None, *, read_only, data=False, extra=None,
            resources=None, host=None, step=None, tag=None, nbytes=None, error=None):
        rng = self.rng
        r = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "eventSource": source, "eventName": name, "awsRegion": REGION, "sourceIPAddress": ip, "userAgent": ua}
        if error:
            r["errorCode"], r["errorMessage"] = error
        r["requestParameters"] = req
        r["responseElements"] = resp
        if extra is not None:
            r["additionalEventData"] = extra
        r["requestID"] = rand_alnum(rng, 16, "0123456789ABCDEF") if source == "s3.amazonaws.com" else rand_uuid(rng)
        r["eventID"] = rand_uuid(rng)
        r["readOnly"] = read_only
        if resources is not None:
            r["resources"] = resources
        r["eventType"] = "AwsApiCall"
        r["managementEvent"] = not data
        r["recipientAccountId"] = ACCOUNT
        r["eventCategory"] = "Data" if data else "Management"
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": host or f"{source.split('.')[0]}.{REGION}.amazonaws.com"}
        keys = (ident["accessKeyId"],) if step else ()
        users = (ident["userName"],) if step else ()
        self.out.append(Entry(t, r, step=step, tag=tag, nbytes=nbytes, ips=(ip,) if step else (),
                              users=users, keys=keys))

    def s3obj(self, t, name, ident, ip, ua, bucket, key, size, direction, **kw):
        rng = self.rng
        host = f"{bucket}.s3.{REGION}.amazonaws.com"
        extra = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                 "bytesTransferredIn": size if direction == "in" else 0, "AuthenticationMethod": "AuthHeader",
                 "x-amz-id-2": rand_alnum(rng, 76, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") + "=",
                 "bytesTransferredOut": size if direction == "out" else 0}
        res = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
               {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        self.rec(t, "s3.amazonaws.com", name, ident, ip, ua, {"bucketName": bucket, "Host": host, "key": key},
                 None, read_only=(name == "GetObject"), data=True, extra=extra, resources=res, host=host,
                 nbytes=size if (kw.get("step") and direction == "out") else None, **kw)

    # --- benign -------------------------------------------------------------
    def benign(self):
        rng = self.rng
        for day in ("2026-10-12", "2026-10-13"):
            # nightly backup upload
            t = T(f"{day} 02:09:14") + dt.timedelta(seconds=rng.randint(0, 40))
            ident = role("backup-role", "AROA4BACKUPROLEX7N2QW", "i-0a1b2c3d4e5f60718", "ASIA4BKP" + rand_alnum(rng, 12),
                         f"{day}T01:12:40Z")
            for k, size in ((f"pg/{day}/shop.dump", rng.randint(2_050_000_000, 2_150_000_000)),
                            (f"pg/{day}/globals.sql", rng.randint(9_000, 12_000))):
                self.s3obj(t, "PutObject", ident, BACKUP_HOST, BOTO_UA, "larkspur-db-backups", k, size, "in", tag="backup")
                t += dt.timedelta(seconds=rng.randint(40, 70))
            # reports host legitimately writes the daily export with svc-reports
            t = T(f"{day} 06:05:31") + dt.timedelta(seconds=rng.randint(0, 20))
            prev = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
            self.s3obj(t, "PutObject", SVC(SVC_REPORTS_KEY), REPORTS_HOST, BOTO_UA, EXPORTS,
                       f"exports/daily/customers-{prev}.csv.gz", rng.randint(1_300_000, 1_700_000), "in", tag="reports")
        ci_times = ["2026-10-12 10:14:02", "2026-10-12 13:41:19", "2026-10-12 16:05:44", "2026-10-12 19:32:08",
                    "2026-10-13 08:20:51", "2026-10-13 11:05:30", "2026-10-13 11:50:12"]
        for n, s in enumerate(ci_times):
            t = T(s)
            run = f"gha-run-{8800 + n * 7}"
            ident = role("ci-deploy", "AROA4CIDEPLOYROLE9K3M", run, "ASIA4CI" + rand_alnum(rng, 13), s.replace(" ", "T") + "Z")
            self.rec(t, "ecr.amazonaws.com", "GetAuthorizationToken", ident, CI_HOST, CI_UA.format("ecr.get-login-password"),
                     {}, None, read_only=True, tag="ci")
            t += dt.timedelta(seconds=rng.randint(30, 90))
            self.s3obj(t, "PutObject", ident, CI_HOST, CI_UA.format("s3.cp"), "larkspur-deploy-artifacts",
                       f"web/{run}/bundle.tar.gz", rng.randint(20_000_000, 40_000_000), "in", tag="ci")
            t += dt.timedelta(seconds=rng.randint(5, 20))
            svc = {"cluster": "shop-prod", "services": ["shop-api"]}
            self.rec(t, "ecs.amazonaws.com", "DescribeServices", ident, CI_HOST, CI_UA.format("ecs.describe-services"),
                     svc, None, read_only=True, tag="ci")
            t += dt.timedelta(seconds=rng.randint(2, 6))
            self.rec(t, "ecs.amazonaws.com", "UpdateService", ident, CI_HOST, CI_UA.format("ecs.update-service"),
                     {"cluster": "shop-prod", "service": "shop-api", "forceNewDeployment": True},
                     {"service": {"serviceName": "shop-api", "status": "ACTIVE", "desiredCount": 4}},
                     read_only=False, tag="ci")
            for _ in range(3):
                t += dt.timedelta(seconds=rng.randint(30, 60))
                self.rec(t, "ecs.amazonaws.com", "DescribeServices", ident, CI_HOST,
                         CI_UA.format("ecs.wait.services-stable"), svc, None, read_only=True, tag="ci")
        # the responder turns logging back on and looks around
        t = START_AGAIN
        self.rec(t, "cloudtrail.amazonaws.com", "StartLogging", ALICE, OFFICE, ALICE_UA.format("cloudtrail.start-logging"),
                 {"name": "org-trail"}, None, read_only=False, tag="responder")
        t += dt.timedelta(seconds=41)
        self.rec(t, "cloudtrail.amazonaws.com", "GetTrailStatus", ALICE, OFFICE, ALICE_UA.format("cloudtrail.get-trail-status"),
                 {"name": "org-trail"}, None, read_only=True, tag="responder")
        for _ in range(3):
            t += dt.timedelta(seconds=rng.randint(50, 140))
            self.rec(t, "cloudtrail.amazonaws.com", "LookupEvents", ALICE, OFFICE, ALICE_UA.format("cloudtrail.lookup-events"),
                     {"lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "StopLogging"}],
                      "maxResults": 50}, None, read_only=True, tag="responder")

    # --- attack ---------------------------------------------------------------
    def attack(self):
        rng = self.rng
        ip = ATTACKER_SCAN
        old = SVC(SVC_REPORTS_KEY)
        # key tested the evening it was stolen
        self.rec(T("2026-10-12 22:51:37"), "sts.amazonaws.com", "GetCallerIdentity", old, ip,
                 ATT_UA.format("sts.get-caller-identity"), None, None, read_only=True, step="aws-discovery")
        t = T("2026-10-13 10:28:05")
        self.rec(t, "sts.amazonaws.com", "GetCallerIdentity", old, ip, ATT_UA.format("sts.get-caller-identity"),
                 None, None, read_only=True, step="aws-discovery")
        t = T("2026-10-13 10:28:31")
        self.rec(t, "s3.amazonaws.com", "ListBuckets", old, ip, ATT_UA.format("s3.ls"),
                 {"Host": f"s3.{REGION}.amazonaws.com"}, None, read_only=True, host=f"s3.{REGION}.amazonaws.com",
                 step="aws-discovery")
        for s, b, err in (("10:29:02", EXPORTS, None),
                          ("10:29:15", "larkspur-db-backups", ("AccessDenied", "Access Denied")),
                          ("10:29:21", "larkspur-public-assets", None)):
            host = f"{b}.s3.{REGION}.amazonaws.com"
            self.rec(T("2026-10-13 " + s), "s3.amazonaws.com", "GetBucketAcl", old, ip, ATT_UA.format("s3api.get-bucket-acl"),
                     {"bucketName": b, "Host": host, "acl": ""}, None, read_only=True, host=host,
                     resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"}],
                     step="aws-discovery", error=err)
        host = f"{EXPORTS}.s3.{REGION}.amazonaws.com"
        self.rec(T("2026-10-13 10:29:48"), "s3.amazonaws.com", "ListObjects", old, ip, ATT_UA.format("s3.ls"),
                 {"list-type": "2", "bucketName": EXPORTS, "encoding-type": "url", "prefix": "", "delimiter": "/",
                  "Host": host}, None, read_only=True, data=True, host=host,
                 resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{EXPORTS}"}],
                 step="aws-discovery")
        # bulk download: 300 daily exports
        t = T("2026-10-13 10:30:10")
        day = dt.date(2026, 10, 11)
        for _ in range(300):
            self.s3obj(t, "GetObject", old, ip, ATT_UA.format("s3.cp"), EXPORTS,
                       f"exports/daily/customers-{day.isoformat()}.csv.gz", rng.randint(1_100_000, 1_900_000), "out",
                       step="s3-exfil")
            day -= dt.timedelta(days=1)
            t += dt.timedelta(milliseconds=rng.randint(3600, 4900))
        assert t < T("2026-10-13 10:53:00"), t
        # make the bucket public
        self.rec(T("2026-10-13 10:53:20"), "s3.amazonaws.com", "DeletePublicAccessBlock", old, ip,
                 ATT_UA.format("s3api.delete-public-access-block"),
                 {"publicAccessBlock": "", "bucketName": EXPORTS, "Host": host}, None, read_only=False, host=host,
                 resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{EXPORTS}"}],
                 step="s3-public")
        policy = {"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                                           "Action": "s3:GetObject",
                                                           "Resource": f"arn:aws:s3:::{EXPORTS}/*"}]}
        self.rec(T("2026-10-13 10:53:41"), "s3.amazonaws.com", "PutBucketPolicy", old, ip,
                 ATT_UA.format("s3api.put-bucket-policy"),
                 {"bucketPolicy": policy, "bucketName": EXPORTS, "Host": host, "policy": ""}, None, read_only=False,
                 host=host, resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{EXPORTS}"}],
                 step="s3-public")
        # second key for persistence
        self.rec(T("2026-10-13 10:54:03"), "iam.amazonaws.com", "CreateAccessKey", old, ip,
                 ATT_UA.format("iam.create-access-key"), {"userName": "svc-reports"},
                 {"accessKey": {"accessKeyId": ATTACKER_NEW_KEY, "status": "Active", "userName": "svc-reports",
                                "createDate": "Oct 13, 2026, 10:54:03 AM"}},
                 read_only=False, host="iam.amazonaws.com", step="aws-access-key")
        self.out[-1].keys = (SVC_REPORTS_KEY, ATTACKER_NEW_KEY)
        # blind the trail
        self.rec(STOP, "cloudtrail.amazonaws.com", "StopLogging", old, ip, ATT_UA.format("cloudtrail.stop-logging"),
                 {"name": TRAIL_ARN}, None, read_only=False, step="stop-logging")
        # ...after logging is back: the new key keeps pulling data
        new = SVC(ATTACKER_NEW_KEY)
        t = T("2026-10-13 11:44:06")
        month = dt.date(2026, 9, 1)
        while t < END - dt.timedelta(seconds=20):
            self.s3obj(t, "GetObject", new, ip, ATT_UA.format("s3.cp"), EXPORTS,
                       f"exports/monthly/customers-{month:%Y-%m}.csv.gz", rng.randint(6_000_000, 9_500_000), "out",
                       step="s3-exfil-resumed")
            month = (month - dt.timedelta(days=1)).replace(day=1)
            t += dt.timedelta(seconds=rng.randint(30, 45))


def build_ct(rng):
    c = CT(rng)
    c.benign()
    c.attack()
    # nothing is recorded while the trail is stopped
    c.out = [e for e in c.out if not (STOP < e.ts < START_AGAIN)]
    return c.out


def write_ct(outdir, entries, tracker, rng):
    """Group into 5-minute windows; file name stamped with the window end (delivery)."""
    windows = {}
    for e in sorted(entries, key=lambda e: e.ts):
        w0 = e.ts.replace(minute=e.ts.minute - e.ts.minute % 5, second=0, microsecond=0)
        windows.setdefault(w0, []).append(e)
    paths = []
    for w0 in sorted(windows):
        ents = windows[w0]
        w1 = w0 + dt.timedelta(minutes=5)
        name = (f"{ACCOUNT}_CloudTrail_{REGION}_{w1:%Y%m%dT%H%MZ}_"
                f"{rand_alnum(rng, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}.json.gz")
        rel = f"cloudtrail/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{w1:%Y/%m/%d}/{name}"
        data = json.dumps({"Records": [e.text for e in ents]}, separators=(",", ":")).encode("utf-8")
        write_file(outdir, rel, data, True, tracker, ents)
        paths.append(rel)
    return paths
