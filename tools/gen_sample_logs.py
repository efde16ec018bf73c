#!/usr/bin/env python3
"""Generate the deterministic Larkspur Outfitters sample logs for leaktrail.

Usage: python3 tools/gen_sample_logs.py [OUTDIR]     (default: <repo>/sample-logs)

OUTDIR is deleted and rewritten. Python 3.11, stdlib only; every random choice
comes from random.Random(20261013) and gzip members carry mtime=0 and no file
name, so two runs produce byte-identical files. Also writes OUTDIR/EXPECTED.md
and <repo>/tests/data/sample_expected.json (ground truth computed from what
was written).
"""
from __future__ import annotations

import os
import random
import shutil
import sys

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from samplegen.common import SEED, START, END, T, Tracker, rotate, write_lines  # noqa: E402
from samplegen.formats import nginx, apache  # noqa: E402
from samplegen.web import build_benign  # noqa: E402
from samplegen.attack_web import build_attack_web  # noqa: E402
from samplegen.bastion import build_auth  # noqa: E402
from samplegen.db import build_pg  # noqa: E402
from samplegen.cloudtrail import build_ct, write_ct  # noqa: E402
from samplegen.expected import write_expected  # noqa: E402

D10, D11, D12, D13 = (T(f"2026-10-{d} 00:00:00") for d in (10, 11, 12, 13))
TAIL = T("2026-10-14 00:00:00")

ROTATION = {
    # nginx on web1: daily at 00:00 UTC, delaycompress (".1" stays plain)
    "web1": [("web1/access.log.3.gz", D10, D11, True), ("web1/access.log.2.gz", D11, D12, True),
             ("web1/access.log.1", D12, D13, False), ("web1/access.log", D13, TAIL, False)],
    # Apache on web2: daily at local midnight (05:00 UTC)
    "web2": [("web2/access_log.2.gz", D10, T("2026-10-11 05:00:00"), True),
             ("web2/access_log.1", T("2026-10-11 05:00:00"), T("2026-10-12 05:00:00"), False),
             ("web2/access_log", T("2026-10-12 05:00:00"), TAIL, False)],
    "app": [("app/api.log.1.gz", D12, D13, True), ("app/api.log", D13, TAIL, False)],
    # Debian weekly rotation ran on Sunday 2026-10-11 00:00
    "auth": [("bastion/auth.log.1", D10, D11, False), ("bastion/auth.log", D11, TAIL, False)],
    "db": [("db/postgresql-2026-10-12.log", D12, D13, False), ("db/postgresql-2026-10-13.log", D13, TAIL, False)],
}


def main(argv):
    repo = os.path.dirname(HERE)
    out = os.path.abspath(argv[1]) if len(argv) > 1 else os.path.join(repo, "sample-logs")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    rng = random.Random(SEED)

    web = build_benign(rng)
    api_key = build_attack_web(web, rng)
    streams = {
        "web1": [nginx(r) for r in web.reqs["web1"]],
        "web2": [apache(r) for r in web.reqs["web2"]],
        "app": [e for e in web.app if e.ts >= D12],   # app logs are kept two days
        "auth": build_auth(rng),
        "db": build_pg(rng),
    }
    ct = build_ct(rng)
    for name, ents in streams.items():
        assert all(START <= e.ts < END for e in ents), name

    tracker = Tracker()
    for name, ents in streams.items():
        for rel, gz, part in rotate(ents, ROTATION[name]):
            write_lines(out, rel, part, tracker, gz)
    ct_files = write_ct(out, ct, tracker, rng)

    json_path = os.path.join(repo, "tests", "data", "sample_expected.json")
    write_expected(out, json_path, tracker, ct, ct_files, api_key)
    print(f"wrote {len(tracker.files)} log files to {out}")
    print(f"wrote {json_path}")


if __name__ == "__main__":
    main(sys.argv)
