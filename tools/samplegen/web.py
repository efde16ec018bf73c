"""Benign web + app traffic: shoppers, Googlebot, monitoring, staff."""
from __future__ import annotations

import datetime as dt

from .common import (START, END, GOOGLEBOT, MONITOR, OFFICE, FINANCE, SHOP, T, rand_hex,
                     shopper_ips)
from .formats import Req, app_event, http

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.2792.79",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
]
UTF8_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 341.0.0 (iPhone15,2; iOS 17_5; ja_JP; ja-JP; scale=3.00; 1179x2556; ストア)"
ESC_UA = "Mozilla/5.0 (Linux; Android 14; Redmi Note 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Mobile Safari/537.36 Navegación/2.1 Ñandú"
GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
MONITOR_UA = "Blackbox Exporter/0.25.0"
STAFF_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36"

ADJ = ["alpine", "summit", "cedar", "granite", "harbor", "meadow", "ridge", "tundra", "canyon",
       "glacier", "prairie", "coastal", "timber", "aspen", "basalt", "juniper"]
NOUN = ["rain-shell", "fleece", "trail-runner", "down-vest", "daypack", "beanie", "hiking-boot",
        "base-layer", "camp-mug", "headlamp", "trekking-pole", "sun-hoodie", "duffel", "gaiter"]
FIRST = ["anna", "ben", "carla", "dev", "elena", "farid", "grace", "hiro", "ines", "jon", "kai",
         "lena", "marco", "nora", "omar", "priya", "quinn", "rosa", "sam", "tara", "uma", "victor",
         "wen", "ximena", "yusuf", "zoe"]
LAST = ["adams", "baker", "costa", "dubois", "evans", "fischer", "garcia", "haddad", "ito",
        "jensen", "kowalski", "lopez", "morris", "nguyen", "okafor", "patel", "quintero", "rossi",
        "schmidt", "tanaka", "ueda", "varga", "walsh", "yilmaz", "zhang"]
SEARCH = ["rain+jacket", "merino", "boots+size+10", "tent", "gift+card", "waterproof", "kids",
          "sale", "headlamp", "wool+socks"]


def slugs(rng):
    return sorted({f"{rng.choice(ADJ)}-{rng.choice(NOUN)}" for _ in range(120)})


HOUR_W = [2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9, 9, 9, 10, 10, 10, 9, 7, 5, 3]


def _pick_time(rng, a, b):
    span = (b - a).total_seconds()
    while True:
        t = a + dt.timedelta(seconds=rng.random() * span)
        if rng.random() * 10 < HOUR_W[(t.hour - 5) % 24]:   # US-centric day
            return t


class Web:
    """Collects requests per server and app events."""

    def __init__(self, rng):
        self.rng = rng
        self.reqs = {"web1": [], "web2": []}
        self.app = []
        self.slugs = slugs(rng)
        self.ips = shopper_ips(rng, 420)
        self.ip_ua = {}
        self.users = sorted({f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.choice(['', '', str(rng.randint(1, 99))])}"
                             for _ in range(300)})
        self.order_no = 884000

    def add(self, server, r: Req):
        self.reqs[server].append(r)

    # -- shoppers ---------------------------------------------------------
    def shoppers(self, server, nsessions):
        rng = self.rng
        for _ in range(nsessions):
            t = _pick_time(rng, START, END - dt.timedelta(minutes=15))
            if rng.random() < 0.03:
                ip, xff = "192.0.2.200", f"10.44.{rng.randint(1, 9)}.{rng.randint(2, 250)}"
            else:
                ip, xff = rng.choice(self.ips), "-"
            ua = self.ip_ua.setdefault((ip, xff), rng.choice(BROWSERS))
            self.session(server, t, ip, ua, xff)

    def session(self, server, t, ip, ua, xff):
        rng = self.rng
        sess = "s_" + rand_hex(rng, 24)
        user = None
        ref = rng.choice(["https://www.google.com/", "-", "https://www.bing.com/", "https://duckduckgo.com/", "-"])
        first = rng.choice(["/", "/", f"/products/{rng.choice(self.slugs)}", f"/search?q={rng.choice(SEARCH)}",
                            f"/products?id={rng.randint(1, 400)}"])
        rt = lambda: round(rng.uniform(0.004, 0.180), 3)

        def req(path, status=200, size=None, method="GET", api_ms=None):
            nonlocal t, ref
            if size is None:
                size = rng.randint(9000, 42000) if not path.startswith(("/api", "/static")) else rng.randint(300, 6000)
            self.add(server, Req(t, ip, method, path, status, size, ref, ua, rt(), xff, tag="shopper"))
            if path.startswith("/api") and path != "/api/login" and t >= T("2026-10-12 00:00:00"):
                self.app.append(app_event(t + dt.timedelta(milliseconds=rng.randint(1, 30)), "request",
                                          user=user, ip=ip, session=sess, tag="shopper",
                                          http=http(method, path.split("?")[0], status, api_ms or rng.randint(3, 90))))

        req(first)
        for asset in ("/static/css/site.css", "/static/js/app.js"):
            t += dt.timedelta(milliseconds=rng.randint(40, 300))
            ref = f"https://{SHOP}{first}"
            if rng.random() < 0.4:
                req(asset, 304, 0)
            else:
                req(asset, 200, rng.randint(18000, 96000))
        page = first
        for _ in range(rng.randint(2, 9)):
            t += dt.timedelta(seconds=rng.randint(4, 95))
            ref = f"https://{SHOP}{page}"
            r = rng.random()
            if r < 0.45:
                page = f"/products/{rng.choice(self.slugs)}"
                req(page)
                t += dt.timedelta(milliseconds=rng.randint(200, 900))
                req(f"/api/products/{rng.randint(1, 400)}/stock", 200, rng.randint(80, 400))
            elif r < 0.55:
                req(f"/img/p/{rng.randint(1, 400)}-{rng.randint(1, 4)}.jpg", rng.choice([200, 200, 304]), rng.randint(20000, 180000))
            elif r < 0.70:
                req("/api/cart/items", 201, rng.randint(200, 900), "POST")
            elif r < 0.80:
                page = f"/search?q={rng.choice(SEARCH)}"
                req(page)
            elif r < 0.85 and rng.random() < 0.2:
                req(f"/products/{rng.choice(self.slugs)}-old", 404, 1520)
            else:
                req("/api/cart", 200, rng.randint(200, 3000))
        if rng.random() < 0.35:
            t += dt.timedelta(seconds=rng.randint(5, 40))
            u = rng.choice(self.users)
            if rng.random() < 0.12:  # typo first
                self.add(server, Req(t, ip, "POST", "/api/login", 401, 38, ref, ua, rt(), xff, tag="shopper"))
                if t >= T("2026-10-12 00:00:00"):
                    self.app.append(app_event(t, "login_failed", level="warn", user=u, ip=ip, session=sess,
                                              tag="shopper", http=http("POST", "/api/login", 401)))
                t += dt.timedelta(seconds=rng.randint(6, 30))
            self.add(server, Req(t, ip, "POST", "/api/login", 200, 412, ref, ua, rt(), xff, tag="shopper"))
            sess = "s_" + rand_hex(rng, 24)
            user = u
            if t >= T("2026-10-12 00:00:00"):
                self.app.append(app_event(t, "login_success", user=u, ip=ip, session=sess, tag="shopper",
                                          http=http("POST", "/api/login", 200)))
            if rng.random() < 0.5:
                t += dt.timedelta(seconds=rng.randint(30, 240))
                ref = f"https://{SHOP}/checkout"
                req("/checkout")
                t += dt.timedelta(seconds=rng.randint(20, 120))
                req("/api/orders", 201, rng.randint(400, 900), "POST")
                self.order_no += rng.randint(1, 3)
                if t >= T("2026-10-12 00:00:00"):
                    self.app.append(app_event(t + dt.timedelta(milliseconds=35), "order_placed", user=u, ip=ip,
                                              session=sess, tag="shopper", order_id=f"LO-{self.order_no}",
                                              items=rng.randint(1, 4),
                                              amount=round(rng.uniform(19, 480), 2), currency="USD"))

    # -- crawlers / monitoring ---------------------------------------------
    def googlebot(self, server, per_day):
        rng = self.rng
        day = START
        while day < END:
            for _ in range(per_day):
                t = day + dt.timedelta(seconds=rng.random() * 86400)
                if t >= END:
                    continue
                r = rng.random()
                if r < 0.08:
                    path, st, sz = f"/products/{rng.choice(self.slugs)}-{rng.choice(['2019', 'old', 'v1'])}", 404, 1520
                elif r < 0.12:
                    path, st, sz = rng.choice(["/robots.txt", "/sitemap.xml"]), 200, rng.randint(300, 9000)
                elif r < 0.2:
                    path, st, sz = f"/products?id={rng.randint(1, 400)}", 301, 0
                else:
                    path, st, sz = f"/products/{rng.choice(self.slugs)}", 200, rng.randint(9000, 42000)
                self.add(server, Req(t, GOOGLEBOT, "GET", path, st, sz, "-", GOOGLEBOT_UA,
                                     round(rng.uniform(0.01, 0.2), 3), tag="googlebot"))
            day += dt.timedelta(days=1)

    def monitoring(self, server, offset_s):
        rng = self.rng
        t = START + dt.timedelta(seconds=offset_s)
        while t < END:
            jt = t + dt.timedelta(microseconds=rng.randint(0, 400000))
            self.add(server, Req(jt, MONITOR, "GET", "/healthz", 200, 2, "-", MONITOR_UA,
                                 round(rng.uniform(0.001, 0.004), 3), tag="monitoring"))
            t += dt.timedelta(seconds=60)

    # -- staff --------------------------------------------------------------
    def staff(self):
        rng = self.rng
        # r.chen, finance: one legitimate, small, filtered export on 2026-10-12
        t = T("2026-10-12 15:09:41.220")
        s1 = "s_" + rand_hex(rng, 24)
        self.add("web1", Req(t, FINANCE, "POST", "/api/login", 200, 412, f"https://{SHOP}/login", STAFF_UA, 0.061, tag="finance"))
        self.app.append(app_event(t, "login_success", user="r.chen", ip=FINANCE, session=s1, tag="finance",
                                  http=http("POST", "/api/login", 200)))
        t += dt.timedelta(seconds=18)
        self.add("web1", Req(t, FINANCE, "GET", "/admin/reports", 200, 15874, f"https://{SHOP}/", STAFF_UA, 0.044, tag="finance"))
        t += dt.timedelta(seconds=47)
        self.add("web1", Req(t, FINANCE, "GET", "/admin/export/customers.csv?segment=vip_refund_review", 200, 41230,
                             f"https://{SHOP}/admin/reports", STAFF_UA, 0.412, tag="finance"))
        self.app.append(app_event(t + dt.timedelta(milliseconds=402), "customer_export", user="r.chen", ip=FINANCE,
                                  session=s1, tag="finance", segment="vip_refund_review", row_count=250, bytes=41230,
                                  http=http("GET", "/admin/export/customers.csv", 200)))
        # alice (admin) promotes k.osei from the office, legitimately
        t = T("2026-10-12 16:40:03.510")
        s2 = "s_" + rand_hex(rng, 24)
        self.add("web1", Req(t, OFFICE, "POST", "/api/login", 200, 412, f"https://{SHOP}/login", STAFF_UA, 0.058, tag="admin"))
        self.app.append(app_event(t, "login_success", user="alice", ip=OFFICE, session=s2, tag="admin",
                                  http=http("POST", "/api/login", 200)))
        t += dt.timedelta(seconds=35)
        self.add("web1", Req(t, OFFICE, "POST", "/api/admin/users/1042/roles", 200, 212,
                             f"https://{SHOP}/admin/users/1042", STAFF_UA, 0.037, tag="admin"))
        self.app.append(app_event(t, "request", user="alice", ip=OFFICE, session=s2, tag="admin",
                                  http=http("POST", "/api/admin/users/1042/roles", 200, 31)))
        self.app.append(app_event(t + dt.timedelta(milliseconds=12), "role_changed", user="alice", ip=OFFICE,
                                  session=s2, tag="admin", actor="alice", target_user="k.osei",
                                  old_role="support", new_role="support_lead"))
        # j.miller's own ordinary work on 2026-10-12 from the support office
        t = T("2026-10-12 14:02:12.901")
        s3 = "s_" + rand_hex(rng, 24)
        self.add("web1", Req(t, OFFICE, "POST", "/api/login", 200, 412, f"https://{SHOP}/login", STAFF_UA, 0.052, tag="support"))
        self.app.append(app_event(t, "login_success", user="j.miller", ip=OFFICE, session=s3, tag="support",
                                  http=http("POST", "/api/login", 200)))
        for cid in (20417, 55310, 91002):
            t += dt.timedelta(seconds=rng.randint(60, 400))
            self.add("web1", Req(t, OFFICE, "GET", f"/api/customers/{cid}", 200, rng.randint(600, 900),
                                 f"https://{SHOP}/admin/tickets", STAFF_UA, 0.021, tag="support"))
            self.app.append(app_event(t, "request", user="j.miller", ip=OFFICE, session=s3, tag="support",
                                      http=http("GET", f"/api/customers/{cid}", 200, 17)))


def build_benign(rng):
    w = Web(rng)
    w.monitoring("web1", 7)
    w.monitoring("web2", 37)
    w.shoppers("web1", 330)
    w.shoppers("web2", 330)
    w.googlebot("web1", 90)
    w.googlebot("web2", 60)
    w.staff()
    return w
