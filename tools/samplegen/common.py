"""Shared constants, the Entry record, time helpers and deterministic writers."""
from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field

UTC = dt.timezone.utc
EASTERN = dt.timezone(dt.timedelta(hours=-5))  # web2 logs in -0500 (as specified)

SEED = 20261013
START = dt.datetime(2026, 10, 10, 0, 0, 0, tzinfo=UTC)
END = dt.datetime(2026, 10, 13, 12, 0, 0, tzinfo=UTC)

SHOP = "shop.larkspur.example"
ACCOUNT = "123456789012"

# --- actors -------------------------------------------------------------
ATTACKER_SCAN = "203.0.113.66"
STUFFERS = [f"198.51.100.{i}" for i in range(23, 31)]
STUFF_WIN = "198.51.100.23"
GOOGLEBOT = "66.249.66.1"
MONITOR = "10.0.0.10"
BASTION = "10.0.1.5"
BACKUP_HOST = "10.0.1.20"
REPORTS_HOST = "10.0.1.30"
CI_HOST = "10.0.3.15"
DB_HOST = "10.0.2.10"
APP_HOSTS = ["10.0.2.21", "10.0.2.22"]
OFFICE = "192.0.2.10"
FINANCE = "192.0.2.44"
SSH_NOISE = ["192.0.2.77", "198.51.100.140", "203.0.113.201"]

SVC_REPORTS_KEY = "AKIAJ7SVCRPTEXAMPLE1"     # leaked via /.env
ATTACKER_NEW_KEY = "AKIAQ3PERSISTEXAMPL2"    # created by the attacker
VICTIM_USER = "j.miller"
VICTIM_UID = 1187

RESERVED = {ATTACKER_SCAN, OFFICE, FINANCE, *SSH_NOISE}


def T(s: str) -> dt.datetime:
    """'2026-10-13 09:13:55[.123]' -> aware UTC datetime."""
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in s else "%Y-%m-%d %H:%M:%S"
    return dt.datetime.strptime(s, fmt).replace(tzinfo=UTC)


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand_uuid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rand_hex(rng, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def rand_alnum(rng, n: int, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def shopper_ips(rng, n: int) -> list[str]:
    """Shopper addresses from the documentation ranges, away from the attackers."""
    pool = []
    for net in ("192.0.2", "198.51.100", "203.0.113"):
        for i in range(2, 254):
            ip = f"{net}.{i}"
            if ip in RESERVED:
                continue
            if net == "198.51.100" and 15 <= i <= 40:
                continue
            if net == "203.0.113" and 55 <= i <= 75:
                continue
            pool.append(ip)
    return rng.sample(pool, n)


@dataclass
class Entry:
    ts: dt.datetime
    text: object                 # str line(s); for CloudTrail a record dict
    step: str | None = None      # attack step id
    nbytes: int | None = None    # bytes sent to the attacker
    records: int | None = None   # rows taken
    ips: tuple = ()
    users: tuple = ()
    keys: tuple = ()
    tag: str | None = None       # benign category, for counting
    eol: str = "\n"


class Tracker:
    """Accumulates per-step facts from what was actually written."""

    def __init__(self):
        self.steps: dict[str, dict] = {}
        self.tags: Counter = Counter()
        self.files: dict[str, dict] = {}

    def file(self, relpath, raw_size, disk_size, entries):
        ts = [e.ts for e in entries]
        self.files[relpath] = {
            "bytes": raw_size, "disk": disk_size, "entries": len(entries),
            "first": min(ts) if ts else None, "last": max(ts) if ts else None,
        }
        for e in entries:
            self.add(relpath, e)

    def add(self, relpath, e: Entry):
        if e.tag:
            self.tags[e.tag] += 1
        if not e.step:
            return
        s = self.steps.setdefault(e.step, {
            "first": e.ts, "last": e.ts, "files": Counter(), "events": 0,
            "bytes": None, "records": None, "ips": set(), "users": set(), "keys": set(),
            "bytes_src": Counter(),
        })
        s["first"] = min(s["first"], e.ts)
        s["last"] = max(s["last"], e.ts)
        s["files"][relpath] += 1
        s["events"] += 1
        if e.nbytes is not None:
            s["bytes"] = (s["bytes"] or 0) + e.nbytes
            s["bytes_src"][relpath.split("/")[0]] += e.nbytes
        if e.records is not None:
            s["records"] = (s["records"] or 0) + e.records
        s["ips"].update(e.ips)
        s["users"].update(e.users)
        s["keys"].update(e.keys)


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as g:
        g.write(data)
    return buf.getvalue()


def write_file(outdir, relpath, data: bytes, gz: bool, tracker: Tracker, entries):
    path = os.path.join(outdir, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    disk = gzip_bytes(data) if gz else data
    with open(path, "wb") as f:
        f.write(disk)
    tracker.file(relpath, len(data), len(disk), entries)


def write_lines(outdir, relpath, entries, tracker, gz=False):
    entries = sorted(entries, key=lambda e: e.ts)
    data = "".join(e.text + e.eol for e in entries).encode("utf-8")
    write_file(outdir, relpath, data, gz, tracker, entries)


def rotate(entries, spec):
    """spec: list of (relpath, start, end, gz) -> list of (relpath, gz, entries)."""
    out = []
    for rel, a, b, gz in spec:
        out.append((rel, gz, [e for e in entries if a <= e.ts < b]))
    kept = sum(len(x[2]) for x in out)
    assert kept == len(entries), (spec[0][0], kept, len(entries))
    return out
