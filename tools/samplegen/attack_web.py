"""Attacker activity seen by the web servers and the app (steps 1-7) + web oddities."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from .common import ATTACKER_SCAN, STUFFERS, STUFF_WIN, SHOP, VICTIM_USER, VICTIM_UID, T, rand_hex, rand_alnum
from .formats import Req, app_event, http
from .web import UTF8_UA, ESC_UA, BROWSERS, FIRST, LAST

NIKTO = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:{})"
GOBUSTER = "gobuster/3.6"
SQLMAP = "sqlmap/1.7.2#stable (https://sqlmap.org)"
CURL = "curl/8.4.0"
STUFF_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"
ATT_BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
PYREQ = "python-requests/2.31.0"

WORDS = ["admin", "administrator", "backup", "backups", "bak", "old", "test", "dev", "staging", "api",
         "config", "conf", "db", "database", "dump", "sql", "uploads", "upload", "files", "tmp", "temp",
         "private", "secret", "logs", "log", "cgi-bin", "phpmyadmin", "pma", "wp-admin", "wp-login.php",
         "wp-content", "xmlrpc.php", "server-status", "server-info", ".htaccess", ".htpasswd", ".svn",
         ".DS_Store", "console", "manager", "jenkins", "actuator", "actuator/env", "debug", "phpinfo.php",
         "info.php", "install", "setup", "vendor", "node_modules", "composer.json", "package.json",
         "web.config", "config.php", "config.yml", "settings.py", "docker-compose.yml", "Dockerfile",
         ".aws/credentials", ".ssh/id_rsa", "id_rsa", "backup.zip", "backup.tar.gz", "site.tar.gz",
         "db.sql", "dump.sql", "database.sql", "shop.sql", "users.csv", "export", "exports", "reports",
         "internal", "portal", "login", "signin", "auth", "oauth", "graphql", "swagger", "swagger.json",
         "openapi.json", "api/v1", "api/v2", "api/docs", "status", "metrics", "health", "env", ".env.bak",
         ".env.local", ".env.production", "robots.txt", "sitemap.xml", "crossdomain.xml", "cart",
         "checkout", "account", "orders", "invoice", "invoices", "images", "img", "static", "assets",
         "js", "css", "fonts", "media", "download", "downloads", "old-site", "beta", "v1", "v2", "cms",
         "shop", "store", "admin.php", "login.php", "panel", "cpanel", "webmail", "mail", "owa",
         "solr", "elasticsearch", "kibana", "grafana", "prometheus", "redis", "adminer.php", "test.php",
         "shell.php", "cmd.php", "upload.php", "readme.html", "README.md", "CHANGELOG.md", "LICENSE",
         "license.txt", "error_log", "access.log", "logs/access.log", "storage", "storage/logs/laravel.log",
         "app", "application", "src", "include", "includes", "lib", "library", "system", "core", "data",
         "archive", "archives", "old_admin", "admin_old", "administrator/index.php", "user", "users",
         "member", "members", "staff", "support", "help", "contact", "about", "blog", "news", "feed",
         "rss", "search", "trace.axd", "elmah.axd", "web.config.bak", "index.php.bak", "index.bak",
         "_profiler", "telescope", "horizon", "nova", "sites/default/files", "jmx-console", "invoker",
         "struts", "axis2", "hudson", "script", "manager/html", "host-manager", "examples", "docs",
         "documentation", "sample", "samples", "demo", "portal/login", "remote", "rest", "services",
         "ws", "wsdl", "soap", "proxy", "gateway", "edge", "cdn", "origin", "internal-api", "private-api",
         "admin/api", "admin/login", "admin/config", "admin/backup", "admin/export", "keys", "certs",
         "ssl", "cert.pem", "key.pem", "server.key", "id_dsa", ".bash_history", ".mysql_history",
         ".git/HEAD", ".gitignore", ".npmrc", ".dockerignore", "composer.lock", "yarn.lock", "Gemfile",
         "Gemfile.lock", "requirements.txt", "pom.xml", "build.gradle", "Makefile", "Vagrantfile"]
FORBIDDEN = {".htaccess", ".htpasswd", "server-status", "server-info", ".git", ".svn", "cgi-bin",
             "admin", "admin/api", "admin/config", "admin/backup", "admin/export", "internal"}
EXISTS = {"robots.txt": 200, "sitemap.xml": 200, "login": 200, "cart": 200, "checkout": 302,
          "account": 302, "static": 403, "img": 403, "search": 200, "contact": 200, "about": 200,
          "help": 200, "health": 404, "api": 404}

NIKTO_TESTS = ["/", "/.env", "/.git/config", "/.git/HEAD", "/index.php?q=<script>alert(\"nikto\")</script>",
               "/cgi-bin/test-cgi", "/cgi-bin/printenv", "/icons/README", "/server-status", "/phpinfo.php",
               "/?=PHPB8B5F2A0-3C92-11d3-A3A9-4C7B08C10000", "/admin/", "/manager/html", "/.htpasswd",
               "/login.php?user=\"><script>alert(1)</script>", "/examples/servlets/index.html",
               "/%2e%2e/%2e%2e/etc/passwd", "/..%c0%af../..%c0%af../etc/passwd", "/.DS_Store",
               "/web.config", "/crossdomain.xml", "/clientaccesspolicy.xml", "/wp-login.php",
               "/xmlrpc.php", "/config.php.bak", "/backup.sql", "/db.sql", "/.svn/entries",
               "/WEB-INF/web.xml", "/etc/passwd", "/awstats/awstats.pl", "/jmx-console/",
               "/solr/admin/", "/actuator/env", "/debug/pprof/", "/.aws/credentials",
               "/console", "/_profiler/phpinfo", "/shell?cat+/etc/passwd", "/HNAP1/",
               "/boaform/admin/formLogin", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"]

COMBO_DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "mail.ru", "aol.com"]


def _scan(w, server, rng, t, n_gob, n_nik, order, hits):
    """order: ('gobuster','nikto') in time order. hits: {path: (status, size)} overrides."""
    for tool in order:
        if tool == "gobuster":
            words = list(WORDS)
            rng.shuffle(words)
            for word in words[:n_gob]:
                t += dt.timedelta(milliseconds=rng.randint(1200, 3600))
                path = "/" + word
                st = 403 if word in FORBIDDEN else EXISTS.get(word, 404)
                st, size = hits.get(path, (st, {200: rng.randint(2000, 30000), 302: 0, 403: 548, 404: 1520}[st]))
                w.add(server, Req(t, ATTACKER_SCAN, "GET", path, st, size, "-", GOBUSTER,
                                  round(rng.uniform(0.002, 0.03), 3), step="web-recon"))
        else:
            tests = list(NIKTO_TESTS) + [f"/{x}" for x in rng.sample(WORDS, n_nik - len(NIKTO_TESTS))]
            for i, path in enumerate(tests[:n_nik]):
                t += dt.timedelta(milliseconds=rng.randint(2500, 9000))
                if path in hits:
                    st, size = hits[path]
                elif path == "/":
                    st, size = 200, 28311
                elif path.rstrip("/") in ("/admin", "/server-status", "/.htpasswd", "/.svn/entries") or path.startswith("/WEB-INF"):
                    st, size = 403, 548
                elif "%c0%af" in path or "<script>" in path:
                    st, size = 400, 166
                else:
                    st, size = 404, 1520
                w.add(server, Req(t, ATTACKER_SCAN, "GET", path, st, size, "-",
                                  NIKTO.format("%06d" % (i * 17 + 3) if i else "Port Check"),
                                  round(rng.uniform(0.002, 0.03), 3), step="web-recon"))
    return t


def recon(w, rng):
    # web1 (nginx): gobuster then nikto; /.git/config is served
    _scan(w, "web1", rng, T("2026-10-12 22:00:04.200"), 250, 95, ("gobuster", "nikto"),
          {"/.git/config": (200, 264), "/.git/HEAD": (200, 23), "/.env": (404, 1520)})
    # web2 (Apache): nikto then gobuster; /.env is served (small body)
    t = _scan(w, "web2", rng, T("2026-10-12 22:00:51.700"), 240, 110, ("nikto", "gobuster"),
              {"/.env": (200, 612), "/.git/config": (403, 548), "/.git/HEAD": (403, 548)})
    assert t < T("2026-10-12 22:39:30"), t
    # manual confirmation with curl
    w.add("web2", Req(T("2026-10-12 22:39:41.003"), ATTACKER_SCAN, "GET", "/.env", 200, 612, "-", CURL,
                      step="web-recon"))
    w.add("web1", Req(T("2026-10-12 22:40:02.551"), ATTACKER_SCAN, "GET", "/.git/config", 200, 264, "-", CURL,
                      0.001, step="web-recon"))


def sqli(w, rng):
    t = T("2026-10-12 22:44:10.000")
    base = [
        ("1", 200), ("1'", 500), ("1\"", 500), ("1)", 500), ("1 AND 1=1", 200), ("1 AND 1=2", 200),
        ("1' AND '1'='1", 500), ("1' ORDER BY 1-- -", 500), ("1\" OR \"1\"=\"1", 500),
    ]
    payloads = list(base)
    for n in range(1, 11):
        cols = ",".join(["NULL"] * n)
        payloads.append((f"1' UNION SELECT {cols}-- -", 500))
        payloads.append((f"1 UNION ALL SELECT {cols}-- -", 400 if n % 3 else 500))
        payloads.append((f"-1' UNION ALL SELECT {cols},CONCAT(0x71787a7071,0x4a,0x716b787a71)-- -", 500))
    for n in range(60):
        k = rng.randint(1000, 9999)
        payloads.append(rng.choice([
            (f"1 AND {k}={k}", 200), (f"1 AND {k}={k + 1}", 200),
            (f"1' AND SLEEP(5) AND 'x'='x", 500), (f"1;SELECT PG_SLEEP(5)-- ", 400),
            (f"1 AND (SELECT {k} FROM (SELECT(SLEEP(5)))a)", 500),
            (f"1) AND {k}=CAST((CHR(113)||CHR(120))||(SELECT 1)::text AS NUMERIC) AND ({k}={k}", 500),
            (f"1 OR 1=1-- -", 400), (f"1%' AND {k}={k} AND '%'='", 500),
        ]))
    for p, st in payloads:
        t += dt.timedelta(milliseconds=rng.randint(500, 4000))
        if '"' in p:
            path = "/products?id=" + quote(p, safe="\"=()',-") .replace("'", "%27")
        else:
            path = "/products?id=" + quote(p, safe="")
        rt = round(rng.uniform(5.0, 5.2), 3) if "SLEEP" in p.upper() and st == 200 else round(rng.uniform(0.005, 0.09), 3)
        size = {200: rng.randint(24000, 26000), 400: 166, 500: 1722}[st]
        w.add("web1", Req(t, ATTACKER_SCAN, "GET", path, st, size, "-", SQLMAP, rt, step="web-sqli"))
    assert t < T("2026-10-12 23:10:00")


def stuffing(w, rng):
    t = T("2026-10-13 09:00:00.000")
    end = T("2026-10-13 09:12:20.000")
    names = set()
    while len(names) < 330:
        f, l = rng.choice(FIRST), rng.choice(LAST)
        names.add(rng.choice([f"{f}.{l}", f"{f[0]}{l}", f"{f}{rng.randint(1, 99)}",
                              f"{f}.{l}@{rng.choice(COMBO_DOMAINS)}", f"{l}{f[0]}"]))
    names = sorted(names) + ["admin", "test", "support", "k.osei", "r.chen", "alice", "info"]
    rng.shuffle(names)
    attempts = names + rng.sample(names, 120)
    step = (end - t) / len(attempts)
    for i, u in enumerate(attempts):
        ip = STUFFERS[i % len(STUFFERS)]
        ts = t + step * i + dt.timedelta(milliseconds=rng.randint(0, 400))
        st = 429 if (i % 97 == 13) else 401
        w.add("web1", Req(ts, ip, "POST", "/api/login", st, 38 if st == 401 else 61, f"https://{SHOP}/login",
                          STUFF_UA, round(rng.uniform(0.04, 0.12), 3), step="credential-stuffing"))
        if st == 401:
            w.app.append(app_event(ts + dt.timedelta(milliseconds=rng.randint(20, 60)), "login_failed", level="warn",
                                   user=u, ip=ip, session=None, step="credential-stuffing",
                                   http=http("POST", "/api/login", 401), reason="bad_password"))
    return len(attempts)


def takeover(w, rng):
    ip = STUFF_WIN
    V = (VICTIM_USER,)
    t = T("2026-10-13 09:12:31.404")
    sess = "s_" + rand_hex(rng, 24)
    w.add("web1", Req(t, ip, "POST", "/api/login", 200, 412, f"https://{SHOP}/login", STUFF_UA, 0.066,
                      step="credential-stuffing", users=V))
    w.app.append(app_event(t + dt.timedelta(milliseconds=41), "login_success", user=VICTIM_USER, ip=ip, session=sess,
                           step="credential-stuffing", users=V, http=http("POST", "/api/login", 200)))
    # privilege escalation via broken access control on the roles endpoint
    t = T("2026-10-13 09:12:49.120")
    w.add("web1", Req(t, ip, "GET", "/admin", 200, 18342, f"https://{SHOP}/account", ATT_BROWSER, 0.038,
                      step="app-privesc", users=V))
    t += dt.timedelta(seconds=9, milliseconds=233)
    path = f"/api/admin/users/{VICTIM_UID}/roles"
    w.add("web1", Req(t, ip, "POST", path, 200, 214, f"https://{SHOP}/admin", ATT_BROWSER, 0.029,
                      step="app-privesc", users=V))
    w.app.append(app_event(t, "request", user=VICTIM_USER, ip=ip, session=sess, step="app-privesc", users=V,
                           http=http("POST", path, 200, 24)))
    w.app.append(app_event(t + dt.timedelta(milliseconds=11), "role_changed", level="warn", user=VICTIM_USER, ip=ip,
                           session=sess, step="app-privesc", users=V, actor=VICTIM_USER, target_user=VICTIM_USER,
                           old_role="support", new_role="admin"))
    # API key for scripted access
    t = T("2026-10-13 09:13:10.877")
    key_id = "lk_" + rand_alnum(rng, 20, "abcdefghijklmnopqrstuvwxyz0123456789")
    K = (key_id,)
    w.add("web1", Req(t, ip, "POST", "/api/admin/api-keys", 201, 118, f"https://{SHOP}/admin/settings/api",
                      ATT_BROWSER, 0.034, step="app-api-key", users=V, keys=K))
    w.app.append(app_event(t, "request", user=VICTIM_USER, ip=ip, session=sess, step="app-api-key", users=V,
                           http=http("POST", "/api/admin/api-keys", 201, 27)))
    w.app.append(app_event(t + dt.timedelta(milliseconds=9), "api_key_created", level="warn", user=VICTIM_USER,
                           ip=ip, session=sess, step="app-api-key", users=V, keys=K, key_id=key_id,
                           label="reporting-sync", scopes=["customers:read", "orders:read"]))
    # scrape: paged listing, first pages in the browser, then the script with the key
    t = T("2026-10-13 09:13:58.310")
    for page in range(1, 401):
        browser = page <= 3
        size = rng.randint(47200, 49300) if page < 400 else 31877
        rows = 50 if page < 400 else 33
        w.add("web1", Req(t, ip, "GET", f"/api/customers?page={page}", 200, size,
                          f"https://{SHOP}/admin" if browser else "-", ATT_BROWSER if browser else PYREQ,
                          round(rng.uniform(0.03, 0.09), 3), step="customer-scrape", users=V,
                          keys=() if browser else K))
        extra = {} if browser else {"auth": "api_key", "key_id": key_id}
        w.app.append(app_event(t + dt.timedelta(milliseconds=rng.randint(5, 40)), "request", user=VICTIM_USER, ip=ip,
                               session=sess if browser else None, step="customer-scrape", users=V,
                               keys=() if browser else K, records=rows,
                               http=http("GET", "/api/customers", 200, rng.randint(25, 80)), **extra))
        t += dt.timedelta(milliseconds=rng.randint(1800, 2900) if page > 3 else rng.randint(4000, 9000))
    t += dt.timedelta(seconds=14)
    missing = set(rng.sample(range(10001, 12001), 37))
    for cid in range(10001, 12001):
        st = 404 if cid in missing else 200
        w.add("web1", Req(t, ip, "GET", f"/api/customers/{cid}", st, rng.randint(610, 980) if st == 200 else 41,
                          "-", PYREQ, round(rng.uniform(0.01, 0.04), 3), step="customer-scrape", users=V, keys=K))
        w.app.append(app_event(t + dt.timedelta(milliseconds=rng.randint(3, 25)), "request", user=VICTIM_USER, ip=ip,
                               session=None, step="customer-scrape", users=V, keys=K,
                               records=1 if st == 200 else 0, auth="api_key", key_id=key_id,
                               http=http("GET", f"/api/customers/{cid}", st, rng.randint(8, 30))))
        t += dt.timedelta(milliseconds=rng.randint(420, 760))
    # full export in the browser session
    t = max(t + dt.timedelta(seconds=40), T("2026-10-13 09:57:02.000"))
    size = 48_213_337 + rng.randint(0, 90_000)
    w.add("web1", Req(t, ip, "GET", "/admin/export/customers.csv", 200, size, f"https://{SHOP}/admin/customers",
                      ATT_BROWSER, 14.218, step="customer-export", users=V))
    w.app.append(app_event(t - dt.timedelta(seconds=14, milliseconds=100), "customer_export", level="warn",
                           user=VICTIM_USER, ip=ip, session=sess, step="customer-export", users=V,
                           segment="all", row_count=120000, bytes=size,
                           http=http("GET", "/admin/export/customers.csv", 200)))
    return key_id


def oddities(w, rng):
    # one truncated line (web1 access.log.1), one CRLF line (web2 access_log.1),
    # one raw UTF-8 user agent (web1 access.log), one escaped non-ASCII UA (web2 access_log)
    w.add("web1", Req(T("2026-10-12 13:22:05.100"), "198.51.100.87", "GET", "/products/cedar-daypack", 200, 23118,
                      "https://www.google.com/", BROWSERS[0], 0.071, tag="shopper", odd="truncate"))
    w.add("web2", Req(T("2026-10-11 18:40:00.300"), "192.0.2.131", "GET", "/search?q=wool+socks", 200, 19922,
                      "-", BROWSERS[2], tag="shopper", odd="crlf"))
    w.add("web1", Req(T("2026-10-13 08:31:44.700"), "203.0.113.144", "GET", "/products/glacier-fleece", 200, 24410,
                      "https://l.instagram.com/", UTF8_UA, 0.052, tag="shopper", raw_ua=True))
    w.add("web2", Req(T("2026-10-12 19:12:09.000"), "198.51.100.203", "GET", "/", 200, 28311, "-", ESC_UA,
                      tag="shopper"))


def build_attack_web(w, rng):
    recon(w, rng)
    sqli(w, rng)
    stuffing(w, rng)
    key = takeover(w, rng)
    oddities(w, rng)
    return key
