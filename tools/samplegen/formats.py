"""Line formatters: nginx (web1), Apache vhost_combined-ish (web2), app JSON."""
from __future__ import annotations

import json
from dataclasses import dataclass

from .common import EASTERN, UTC, SHOP, Entry

APACHE_HDR = {200: 318, 201: 301, 204: 236, 301: 289, 302: 281, 304: 201, 400: 236,
              401: 262, 403: 241, 404: 238, 429: 244, 500: 246, 503: 251}


@dataclass
class Req:
    ts: object
    ip: str
    method: str
    path: str
    status: int
    size: int
    ref: str = "-"
    ua: str = "-"
    rt: float = 0.01
    xff: str = "-"
    step: str | None = None
    tag: str | None = None
    users: tuple = ()
    keys: tuple = ()
    raw_ua: bool = False     # oddity: unescaped UTF-8 user agent
    odd: str | None = None   # 'truncate' | 'crlf'
    proto: str = "HTTP/1.1"


def nginx_escape(s: str) -> str:
    out = []
    for b in s.encode("utf-8"):
        if b == 0x22 or b == 0x5C or b < 0x20 or b > 0x7E:
            out.append("\\x%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def apache_escape(s: str) -> str:
    out = []
    for b in s.encode("utf-8"):
        if b == 0x22:
            out.append('\\"')
        elif b == 0x5C:
            out.append("\\\\")
        elif b < 0x20 or b > 0x7E:
            out.append("\\x%02x" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def _entry(r: Req, text: str, nbytes: int) -> Entry:
    eol = "\n"
    if r.odd == "crlf":
        eol = "\r\n"
    elif r.odd == "truncate":
        text = text[: int(len(text) * 0.55)]
    return Entry(ts=r.ts, text=text, step=r.step, nbytes=nbytes if r.step else None,
                 ips=(r.ip,) if r.step else (), users=r.users, keys=r.keys, tag=r.tag, eol=eol)


def nginx(r: Req) -> Entry:
    t = r.ts.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    ua = r.ua if r.raw_ua else nginx_escape(r.ua)
    line = (f'{r.ip} - - [{t}] "{nginx_escape(f"{r.method} {r.path} {r.proto}")}" {r.status} '
            f'{r.size} "{nginx_escape(r.ref)}" "{ua}" {r.rt:.3f} "{r.xff}"')
    return _entry(r, line, r.size)


def apache(r: Req) -> Entry:
    t = r.ts.astimezone(EASTERN).strftime("%d/%b/%Y:%H:%M:%S -0500")
    sent = r.size + APACHE_HDR.get(r.status, 240)
    ua = r.ua if r.raw_ua else apache_escape(r.ua)
    line = (f'{SHOP}:443 {r.ip} - - [{t}] "{apache_escape(f"{r.method} {r.path} {r.proto}")}" '
            f'{r.status} {sent} "{apache_escape(r.ref)}" "{ua}"')
    return _entry(r, line, sent)


def app_event(ts, event, *, level="info", user=None, ip=None, session=None,
              http=None, step=None, tag=None, users=(), keys=(), records=None, **extra) -> Entry:
    obj = {"ts": ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ts.microsecond // 1000),
           "level": level, "event": event, "user": user, "client_ip": ip, "session": session}
    obj.update(extra)
    if http is not None:
        obj["http"] = http
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return Entry(ts=ts, text=text, step=step, ips=(ip,) if step and ip else (),
                 users=users, keys=keys, tag=tag,
                 records=(records if records is not None else extra.get("row_count")) if step else None)


def http(method, path, status, ms=None):
    d = {"method": method, "path": path, "status": status}
    if ms is not None:
        d["duration_ms"] = ms
    return d
