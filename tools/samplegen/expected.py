"""Ground truth: sample-logs/EXPECTED.md and tests/data/sample_expected.json."""
from __future__ import annotations

import datetime as dt
import json
import os

from .common import (END, ATTACKER_SCAN, STUFF_WIN, SVC_REPORTS_KEY, ATTACKER_NEW_KEY, GOOGLEBOT, MONITOR,
                     BACKUP_HOST, REPORTS_HOST, CI_HOST, OFFICE, FINANCE, SSH_NOISE, rfc3339)
from .cloudtrail import STOP, START_AGAIN

# id, title, tactic, story
STEPS = [
    ("web-recon", "Content discovery scan of both web servers (gobuster, nikto)", "reconnaissance",
     "203.0.113.66 runs gobuster and nikto against web1 and web2: mostly 404, some 403. web2 serves /.env "
     "(200, small body: the DB password for app_ro and the AWS key {svc_key} of IAM user svc-reports); web1 serves "
     "/.git/config and /.git/HEAD. The attacker re-fetches both with curl at the end."),
    ("web-sqli", "SQL injection attempts with sqlmap against /products?id= on web1 (failed)", "initial-access",
     "Same address, sqlmap/1.7.2 user agent, UNION/boolean/time-based payloads; answered with 500/400 (and 200 for "
     "the harmless boolean probes). Includes a payload with a raw double quote, logged by nginx as \\x22."),
    ("credential-stuffing", "Credential stuffing on POST /api/login; j.miller compromised", "credential-access",
     "198.51.100.23-.30 rotate through a combo list of hundreds of usernames (401, a few 429), then 198.51.100.23 "
     "logs in as j.miller (support agent, whose normal logins come from the office 192.0.2.10)."),
    ("app-privesc", "j.miller grants itself the admin role", "privilege-escalation",
     "Broken access control on POST /api/admin/users/1187/roles: role_changed with actor = target = j.miller, "
     "support -> admin."),
    ("app-api-key", "API key created for scripted access", "persistence",
     "api_key_created ({api_key}); the scraper that follows authenticates with it (python-requests)."),
    ("customer-scrape", "Customer records scraped through /api/customers", "collection",
     "/api/customers?page=1..400 (first 3 pages in the browser) then /api/customers/10001..12000 one by one "
     "(a few ids are 404). records = rows returned (50 per page, 33 on the last, 1 per id found)."),
    ("customer-export", "Full customer CSV export downloaded", "exfiltration",
     "GET /admin/export/customers.csv, a single ~48 MB response; the app logs customer_export segment=all "
     "row_count=120000. Compare r.chen's legitimate 250-row export the day before."),
    ("ssh-bruteforce", "SSH password guessing against the bastion", "credential-access",
     "203.0.113.66: Failed password lines for invalid users (admin, test, oracle, ...) and for root/deploy."),
    ("bastion-login", "SSH login as deploy with a guessed password", "initial-access",
     "Accepted password for deploy from 203.0.113.66 (deploy normally never logs in by password from outside)."),
    ("shadow-read", "sudo cat /etc/shadow (and /etc/sudoers)", "credential-access",
     "deploy has password-less sudo."),
    ("backdoor-account", "Local account backup2 created and added to sudo", "persistence",
     "useradd backup2 (UID 1002), passwd, usermod -aG sudo, su - backup2 to test it. The name mimics the system "
     "'backup' account used by the nightly cron job."),
    ("db-dump", "customers, payment_methods and addresses dumped from the bastion as app_ro", "collection",
     "From 10.0.1.5 with the app_ro password taken from /.env: a sudo pg_dump of customers, then psql: "
     "SELECT * FROM customers, a JOIN with payment_methods (multi-line), COPY ... TO '/tmp/c.csv' (ERROR: "
     "permission denied), COPY customers TO STDOUT WITH CSV HEADER, SELECT * FROM payment_methods and addresses, "
     "all without WHERE. Row counts are not in the PostgreSQL log, so records is null. The same user app_ro is "
     "used legitimately by the reports host 10.0.1.30 with aggregate queries."),
    ("history-wipe", "Shell history removed", "defense-evasion",
     "sudo rm -f .bash_history for deploy and root, then .bash_history linked to /dev/null. auth.log itself was "
     "not touched."),
    ("aws-discovery", "AWS discovery with the stolen svc-reports key", "discovery",
     "GetCallerIdentity the evening the key was stolen (2026-10-12 22:51), then GetCallerIdentity, ListBuckets, "
     "GetBucketAcl (one AccessDenied) and ListObjects on 2026-10-13."),
    ("s3-exfil", "Bulk GetObject from s3://larkspur-customer-exports", "exfiltration",
     "300 daily export objects downloaded with the stolen key (bytesTransferredOut summed)."),
    ("s3-public", "larkspur-customer-exports made public", "exfiltration",
     "DeletePublicAccessBlock then PutBucketPolicy with Principal \"*\" s3:GetObject."),
    ("aws-access-key", "Second access key created for svc-reports", "persistence",
     "CreateAccessKey returns {new_key}; the original key stays active too."),
    ("stop-logging", "CloudTrail trail org-trail stopped", "defense-evasion",
     "StopLogging; no CloudTrail files are delivered until alice (responder) runs StartLogging."),
    ("s3-exfil-resumed", "Exfiltration continues with the new key after logging resumed", "exfiltration",
     "GetObject of monthly exports with {new_key} from 203.0.113.66 until the end of the logs."),
]


def _benign(tags):
    c = lambda k: tags.get(k, 0)
    return [
        {"kind": "ip", "value": GOOGLEBOT, "why": f"Googlebot crawling both sites ({c('googlebot')} requests, some 404s "
                                                  "on retired product URLs); in Google's crawler range"},
        {"kind": "ip", "value": MONITOR, "why": f"monitoring: GET /healthz every 60 s on both servers ({c('monitoring')} requests)"},
        {"kind": "ip", "value": BACKUP_HOST, "why": "nightly 02:00 backup: pg_dump as user backup (COPY of every table), "
                                                    "ssh publickey to the bastion, large S3 PutObject to larkspur-db-backups"},
        {"kind": "user", "value": "backup", "why": "PostgreSQL backup role and the bastion cron user; runs every night at 02:00"},
        {"kind": "role", "value": "backup-role", "why": "instance role of the backup host; PutObject into larkspur-db-backups (data in, not out)"},
        {"kind": "user", "value": "alice", "why": "admin: ssh publickey from the office 192.0.2.10, sudo apt/systemctl/journalctl; "
                                                  "promoted k.osei in the app; as responder ran StartLogging/GetTrailStatus/LookupEvents"},
        {"kind": "ip", "value": OFFICE, "why": "Larkspur office NAT (alice, and j.miller's normal logins on 2026-10-12)"},
        {"kind": "user", "value": "r.chen", "why": "finance: one legitimate filtered customer export (row_count 250) from 192.0.2.44"},
        {"kind": "ip", "value": FINANCE, "why": "r.chen's workstation"},
        {"kind": "role", "value": "ci-deploy", "why": "CI deployments from 10.0.3.15: ECR token, artifact PutObject, ECS update/describe"},
        {"kind": "ip", "value": CI_HOST, "why": "self-hosted CI runner"},
        {"kind": "ip", "value": REPORTS_HOST, "why": "reports host: app_ro aggregate queries at 06:00 and the daily export PutObject "
                                                     "with the svc-reports key (same key the attacker stole, different source)"},
        {"kind": "ip", "value": "192.0.2.200", "why": "corporate proxy of a customer; shopper requests carry X-Forwarded-For 10.44.x.x"},
        {"kind": "user", "value": "k.osei", "why": "support -> support_lead role change performed by alice (actor != target)"},
        {"kind": "user", "value": "shop_app", "why": "application DB pool from 10.0.2.21/22; occasional duplicate-key ERROR"},
        *({"kind": "ip", "value": ip, "why": "internet SSH background noise: a few failed attempts, never succeeded, "
                                             "unrelated to the incident"} for ip in SSH_NOISE),
        {"kind": "ip", "value": "many", "why": f"shoppers from the documentation ranges ({c('shopper')} web requests), "
                                               "including occasional mistyped logins (single 401 then 200)"},
    ]


def write_expected(out, json_path, tr, ct_entries, ct_files, api_key):
    fmt = {"svc_key": SVC_REPORTS_KEY, "new_key": ATTACKER_NEW_KEY, "api_key": api_key}
    steps = []
    web_bytes = s3_bytes = records = 0
    for sid, title, tactic, _ in STEPS:
        s = tr.steps[sid]
        web_bytes += s["bytes_src"]["web1"] + s["bytes_src"]["web2"]
        s3_bytes += s["bytes_src"]["cloudtrail"]
        records += s["records"] or 0
        steps.append({
            "id": sid, "title": title, "tactic": tactic,
            "actors": {"ips": sorted(s["ips"]), "users": sorted(s["users"]), "keys": sorted(s["keys"])},
            "first": rfc3339(s["first"]), "last": rfc3339(s["last"]),
            "files": sorted(s["files"]), "events": s["events"], "events_by_file": dict(sorted(s["files"].items())),
            "bytes": s["bytes"], "records": s["records"],
        })
    assert set(tr.steps) == {x[0] for x in STEPS}, set(tr.steps) ^ {x[0] for x in STEPS}
    ct_sorted = sorted(e.ts for e in ct_entries)
    before = max(t for t in ct_sorted if t <= STOP)
    after = min(t for t in ct_sorted if t > STOP)
    last_attack = tr.steps["s3-exfil-resumed"]["last"]
    ongoing = last_attack >= END - dt.timedelta(minutes=10)
    doc = {
        "scenario": "Larkspur Outfitters (shop.larkspur.example) customer-data leak, 2026-10-12/13",
        "log_window": {"first": rfc3339(min(f["first"] for f in tr.files.values())),
                       "last": rfc3339(max(f["last"] for f in tr.files.values()))},
        "steps": steps,
        "benign": _benign(tr.tags),
        "totals": {"attacker_bytes_out_web": web_bytes, "attacker_bytes_out_s3": s3_bytes,
                   "records_taken": records,
                   "records_taken_note": "sum of per-step rows returned to the attacker (web scrape + CSV export); "
                                         "rows overlap, the customers table has 120000 rows; DB dumps not counted "
                                         "(row counts are not logged)"},
        "gaps": [{"source": "cloudtrail", "from": rfc3339(before), "to": rfc3339(after),
                  "minutes": round((after - before).total_seconds() / 60, 1),
                  "reason": "StopLogging on org-trail by svc-reports; StartLogging by alice"}],
        "still_ongoing": ongoing,
        "still_ongoing_why": "at the end of the logs the attacker's second key is still downloading from "
                             "larkspur-customer-exports, the bucket policy is still public, both svc-reports keys "
                             "are active, backup2 still has sudo and the j.miller API key was never revoked",
        "files": {k: {"bytes": v["bytes"], "stored_bytes": v["disk"], "entries": v["entries"],
                      "first": rfc3339(v["first"]) if v["first"] else None,
                      "last": rfc3339(v["last"]) if v["last"] else None} for k, v in sorted(tr.files.items())},
    }
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    _write_md(out, doc, fmt, ct_files)


def _mb(n):
    return f"{n / 1e6:,.1f} MB"


def _write_md(out, doc, fmt, ct_files):
    L = []
    a = L.append
    a("# Larkspur Outfitters sample logs - expected findings\n")
    a("Generated by `tools/gen_sample_logs.py` (seed 20261013). Every number below was computed from the files as "
      "written; the machine-readable copy is `tests/data/sample_expected.json`. All external addresses are in the "
      "documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24; 10.x is internal; 66.249.66.1 is Googlebot.\n")
    a(f"Logs cover {doc['log_window']['first']} .. {doc['log_window']['last']}.\n")
    a("## Story\n")
    a("The attacker scanned the shop on the evening of 2026-10-12 and found a world-readable `/.env` on web2 holding "
      f"the PostgreSQL password of `app_ro` and the AWS access key `{fmt['svc_key']}` of IAM user `svc-reports`. "
      "SQL injection failed. The next morning a credential-stuffing run took over the support agent `j.miller`, who "
      "then made itself admin, minted an API key, scraped and finally exported the whole customer table. In parallel "
      "the first address brute-forced SSH on the bastion, got in as `deploy`, read /etc/shadow, planted a sudo-capable "
      "account `backup2`, dumped customers, payment_methods and addresses from PostgreSQL, and wiped shell history. "
      "With the stolen AWS key it downloaded 300 export objects from S3, made the bucket public, created a second "
      "key and stopped CloudTrail.\n")
    for i, (st, (_, _, _, story)) in enumerate(zip(doc["steps"], STEPS), 1):
        act = ", ".join(st["actors"]["ips"] + st["actors"]["users"] + st["actors"]["keys"])
        extra = []
        if st["bytes"] is not None:
            extra.append(f"{st['bytes']:,} bytes to the attacker")
        if st["records"] is not None:
            extra.append(f"{st['records']:,} rows")
        a(f"{i}. **{st['title']}** (`{st['id']}`, {st['tactic']}) - {st['first']} .. {st['last']}, "
          f"{st['events']} events in {', '.join('`' + f + '`' for f in st['files'][:4])}"
          f"{' and %d more' % (len(st['files']) - 4) if len(st['files']) > 4 else ''}"
          f"{'; ' + '; '.join(extra) if extra else ''}. Actors: {act}. {story.format(**fmt)}")
    a("")
    a("## Step table\n")
    a("| # | step | tactic | first | last | events | bytes out | rows |")
    a("|---|------|--------|-------|------|-------:|----------:|-----:|")
    for i, st in enumerate(doc["steps"], 1):
        b = f"{st['bytes']:,}" if st["bytes"] is not None else "-"
        r = f"{st['records']:,}" if st["records"] is not None else "-"
        a(f"| {i} | {st['id']} | {st['tactic']} | {st['first']} | {st['last']} | {st['events']} | {b} | {r} |")
    a("")
    t = doc["totals"]
    g = doc["gaps"][0]
    a("## Totals\n")
    a(f"- Bytes sent to attacker addresses by the web servers: {t['attacker_bytes_out_web']:,} ({_mb(t['attacker_bytes_out_web'])})")
    a(f"- Bytes downloaded from S3 by the attacker (bytesTransferredOut): {t['attacker_bytes_out_s3']:,} ({_mb(t['attacker_bytes_out_s3'])})")
    a(f"- Rows returned to the attacker by the web app: {t['records_taken']:,} ({t['records_taken_note']})")
    a(f"- CloudTrail gap: no records between {g['from']} and {g['to']} ({g['minutes']} minutes); no file is "
      "delivered for those windows, although CI tried to deploy at 11:05.")
    a("")
    a("## Is it still going on?\n")
    a(("**Yes.** " if doc["still_ongoing"] else "**No.** ") + doc["still_ongoing_why"][0].upper()
      + doc["still_ongoing_why"][1:] + ". The responder restarted CloudTrail but revoked nothing; the last "
      f"attacker GetObject is at {doc['steps'][-1]['last']}.\n")
    a("## Benign activity that must not be flagged\n")
    for b in doc["benign"]:
        a(f"- {b['kind']} `{b['value']}`: {b['why']}")
    a("")
    a("## Format oddities (on purpose)\n")
    a("- `web1/access.log.1`: one truncated line (2026-10-12 13:22:05, 198.51.100.87) with no closing fields.")
    a("- `web2/access_log.1`: one line ending in CRLF (192.0.2.131, 2026-10-11 18:40:00 UTC).")
    a("- `web1/access.log`: one user agent with raw UTF-8 (203.0.113.144, Instagram in-app browser, `ストア`).")
    a("- `web2/access_log`: one user agent with non-ASCII bytes escaped by Apache as `\\xc3\\xb3` etc.")
    a("- nginx escapes a double quote as `\\x22` (sqlmap payloads and nikto probes on web1); Apache writes `\\\"` "
      "(nikto `<script>alert(\\\"nikto\\\")</script>` on web2).")
    a("- web2 times are in -0500; web1, app, auth, PostgreSQL and CloudTrail are UTC. Apache's byte field is %O "
      "(headers included), nginx's is the body only.")
    a("- The app log only keeps 2026-10-12 and 2026-10-13; PostgreSQL logs only those two days too.")
    a("- PostgreSQL multi-line statements continue on lines starting with a TAB; ERROR entries are followed by "
      "DETAIL/HINT/STATEMENT lines.")
    a("")
    a("## Files\n")
    a("| file | size (uncompressed) | stored | entries | first | last |")
    a("|------|------:|------:|-----:|-------|------|")
    for k, v in doc["files"].items():
        if k.startswith("cloudtrail/"):
            continue
        a(f"| {k} | {v['bytes']:,} | {v['stored_bytes']:,} | {v['entries']} | {v['first']} | {v['last']} |")
    ctv = [v for k, v in doc["files"].items() if k.startswith("cloudtrail/")]
    a(f"| cloudtrail/... ({len(ctv)} files) | {sum(v['bytes'] for v in ctv):,} | {sum(v['stored_bytes'] for v in ctv):,} "
      f"| {sum(v['entries'] for v in ctv)} | {min(v['first'] for v in ctv)} | {max(v['last'] for v in ctv)} |")
    a("")
    with open(os.path.join(out, "EXPECTED.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(L))
