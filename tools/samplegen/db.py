"""PostgreSQL 16 stderr logs, log_line_prefix = '%m [%p] %q%u@%d '.

log_connections/log_disconnections are on for everyone; log_statement='all' and
log_duration=on are set only for the roles app_ro and backup (ALTER ROLE ... SET),
so the busy shop_app pool shows connections and errors but not its statements.
"""
from __future__ import annotations

import datetime as dt

from .common import BASTION, BACKUP_HOST, REPORTS_HOST, APP_HOSTS, END, T, Entry

DAY0 = T("2026-10-12 00:00:00")
CUSTOMER_COLS = "id, email, full_name, phone, birth_date, created_at, marketing_opt_in"
TABLES = {
    "addresses": "id, customer_id, line1, line2, city, region, postal_code, country, is_default",
    "customers": CUSTOMER_COLS,
    "order_items": "id, order_id, product_id, qty, unit_price",
    "orders": "id, customer_id, status, total, currency, placed_at",
    "payment_methods": "id, customer_id, card_brand, last4, exp_month, exp_year, billing_address_id, token",
    "products": "id, sku, slug, name, price, stock",
}


class PG:
    def __init__(self, rng):
        self.rng = rng
        self.out = []

    def pid_at(self, t):
        return 20000 + int((t - DAY0).total_seconds() // 6) + self.rng.randint(0, 40)

    @staticmethod
    def stamp(t):
        return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d UTC" % (t.microsecond // 1000)

    def emit(self, t, pid, who, lines, step=None, tag=None, ips=(), users=()):
        """lines: list of (severity, message); message may contain newlines (-> TAB continuation)."""
        pre = f"{self.stamp(t)} [{pid}] " + (f"{who} " if who else "")
        text = "\n".join(pre + f"{sev}:  " + msg.replace("\n", "\n\t") for sev, msg in lines)
        self.out.append(Entry(t, text, step=step, tag=tag, ips=ips, users=users))

    def ms(self, t, lo, hi):
        return t + dt.timedelta(microseconds=self.rng.randint(lo * 1000, hi * 1000))

    def session(self, t, user, host, app, stmts, step=None, tag=None, tail=0.5):
        """stmts: list of (offset_seconds, sql, duration_ms or None, error_lines or None)."""
        rng = self.rng
        pid = self.pid_at(t)
        port = rng.randint(40000, 60999)
        kw = dict(step=step, tag=tag, ips=(host,) if step else (), users=(user,) if step else ())
        who = f"{user}@shop"
        self.emit(t, pid, "[unknown]@[unknown]", [("LOG", f"connection received: host={host} port={port}")], **kw)
        t1 = self.ms(t, 3, 9)
        self.emit(t1, pid, who, [("LOG", f"connection authorized: user={user} database=shop application_name={app} "
                                        "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)")], **kw)
        last = t1
        for off, sql, dur, err in stmts:
            ts = t + dt.timedelta(seconds=off) + dt.timedelta(microseconds=rng.randint(0, 999) * 1000)
            self.emit(ts, pid, who, [("LOG", f"statement: {sql}")], **kw)
            last = ts
            if err:
                last = ts + dt.timedelta(milliseconds=rng.randint(1, 3))
                self.emit(last, pid, who, err + [("STATEMENT", sql)], **kw)
            elif dur is not None:
                last = ts + dt.timedelta(microseconds=int(dur * 1000))
                self.emit(last, pid, who, [("LOG", f"duration: {dur:.3f} ms")], **kw)
        end = last + dt.timedelta(seconds=tail, milliseconds=rng.randint(0, 999))
        span = end - t
        secs = span.total_seconds()
        st = "%d:%02d:%06.3f" % (secs // 3600, (secs % 3600) // 60, secs % 60)
        self.emit(end, pid, who, [("LOG", f"disconnection: session time: {st} user={user} database=shop "
                                          f"host={host} port={port}")], **kw)
        return end

    # --- benign -------------------------------------------------------------
    def checkpoints(self):
        rng = self.rng
        t = DAY0 + dt.timedelta(minutes=4, seconds=11)
        lsn = 0x399F3D8B0
        while t < END:
            n = rng.randint(40, 2400)
            w = rng.uniform(3, 260)
            t = t.replace(microsecond=rng.randint(0, 999) * 1000)
            self.emit(t, 812, None, [("LOG", "checkpoint starting: time")], tag="checkpoint")
            done = t + dt.timedelta(seconds=w)
            redo = lsn
            lsn += rng.randint(2_000_000, 40_000_000)
            self.emit(done, 812, None, [("LOG", f"checkpoint complete: wrote {n} buffers ({n / 163.84:.1f}%); "
                                              f"0 WAL file(s) added, 0 removed, {rng.randint(0, 3)} recycled; "
                                              f"write={w - 0.05:.3f} s, sync=0.0{rng.randint(10, 99)} s, total={w:.3f} s; "
                                              f"sync files={rng.randint(5, 60)}, longest=0.00{rng.randint(1, 9)} s, "
                                              f"average=0.001 s; distance={(lsn - redo) // 1024} kB, "
                                              f"estimate={(lsn - redo) // 1000} kB; lsn={lsn >> 32:X}/{lsn & 0xFFFFFFFF:08X}, "
                                              f"redo lsn={redo >> 32:X}/{redo & 0xFFFFFFFF:08X}")], tag="checkpoint")
            t += dt.timedelta(minutes=30)

    def backup(self):
        rng = self.rng
        for day in (DAY0, DAY0 + dt.timedelta(days=1)):
            t = day.replace(hour=2, minute=0, second=5) + dt.timedelta(milliseconds=rng.randint(0, 900))
            stmts = [(0.05, "SELECT pg_catalog.set_config('search_path', '', false);", 0.101, None),
                     (0.06, "BEGIN", 0.012, None),
                     (0.07, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0.020, None),
                     (0.35, "SELECT c.tableoid, c.oid, c.relname, c.relnamespace, c.relkind FROM pg_class c "
                            "LEFT JOIN pg_depend d ON (c.relkind = 'S' AND d.classid = c.tableoid) ORDER BY c.oid", 41.877, None)]
            off = 1.0
            for tbl, cols in TABLES.items():
                dur = rng.uniform(2_000, 60_000) if tbl != "products" else rng.uniform(40, 90)
                stmts.append((off, f"COPY public.{tbl} ({cols}) TO stdout;", round(dur, 3), None))
                off += dur / 1000 + 0.2
            stmts.append((off, "COMMIT", 0.015, None))
            self.session(t, "backup", BACKUP_HOST, "pg_dump", stmts, tag="backup")

    def reports(self):
        rng = self.rng
        for day in (DAY0, DAY0 + dt.timedelta(days=1)):
            t = day.replace(hour=6, minute=0, second=2) + dt.timedelta(milliseconds=rng.randint(0, 900))
            stmts = [
                (0.4, "SELECT date_trunc('day', placed_at) AS day, count(*), sum(total) FROM orders "
                      "WHERE placed_at >= now() - interval '1 day' GROUP BY 1;", round(rng.uniform(80, 200), 3), None),
                (2.1, "SELECT count(*) AS new_customers\nFROM customers\nWHERE created_at >= current_date - 1\n"
                      "  AND created_at < current_date;", round(rng.uniform(20, 60), 3), None),
                (3.3, "SELECT p.sku, sum(oi.qty) AS units\nFROM order_items oi\nJOIN products p ON p.id = oi.product_id\n"
                      "JOIN orders o ON o.id = oi.order_id\nWHERE o.placed_at >= current_date - 1\nGROUP BY p.sku\n"
                      "ORDER BY units DESC\nLIMIT 50;", round(rng.uniform(100, 400), 3), None),
            ]
            self.session(t, "app_ro", REPORTS_HOST, "report-runner", stmts, tag="reports")

    def shop_app(self):
        rng = self.rng
        t = DAY0 + dt.timedelta(minutes=11)
        while t < END - dt.timedelta(minutes=30):
            host = rng.choice(APP_HOSTS)
            for _ in range(rng.randint(1, 3)):
                ts = t + dt.timedelta(seconds=rng.randint(0, 20), milliseconds=rng.randint(0, 999))
                pid = self.pid_at(ts)
                port = rng.randint(40000, 60999)
                self.emit(ts, pid, "[unknown]@[unknown]", [("LOG", f"connection received: host={host} port={port}")], tag="shop_app")
                self.emit(self.ms(ts, 2, 8), pid, "shop_app@shop",
                          [("LOG", "connection authorized: user=shop_app database=shop application_name=larkspur-api "
                                   "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)")], tag="shop_app")
                life = dt.timedelta(seconds=rng.randint(600, 3500), milliseconds=rng.randint(0, 999))
                end = ts + life
                if end < END:
                    s = life.total_seconds()
                    self.emit(end, pid, "shop_app@shop",
                              [("LOG", "disconnection: session time: %d:%02d:%06.3f user=shop_app database=shop host=%s port=%d"
                                % (s // 3600, (s % 3600) // 60, s % 60, host, port))], tag="shop_app")
                if rng.random() < 0.08:
                    e = ts + dt.timedelta(seconds=rng.randint(30, 500))
                    cart, prod = rng.randint(70000, 80000), rng.randint(1, 400)
                    self.emit(e, pid, "shop_app@shop", [
                        ("ERROR", 'duplicate key value violates unique constraint "cart_items_cart_id_product_id_key"'),
                        ("DETAIL", f"Key (cart_id, product_id)=({cart}, {prod}) already exists."),
                        ("STATEMENT", "INSERT INTO cart_items (cart_id, product_id, qty) VALUES ($1, $2, $3)")],
                        tag="shop_app")
            t += dt.timedelta(minutes=rng.randint(40, 110))

    # --- attack ---------------------------------------------------------------
    def attack(self):
        S = "db-dump"
        # pg_dump run through sudo on the bastion (see auth.log 10:18:5x)
        t = T("2026-10-13 10:18:57.091")
        self.session(t, "app_ro", BASTION, "pg_dump", [
            (0.04, "SELECT pg_catalog.set_config('search_path', '', false);", 0.088, None),
            (0.05, "BEGIN", 0.010, None),
            (0.06, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0.019, None),
            (0.31, "SELECT c.tableoid, c.oid, c.relname, c.relnamespace, c.relkind FROM pg_class c "
                   "LEFT JOIN pg_depend d ON (c.relkind = 'S' AND d.classid = c.tableoid) ORDER BY c.oid", 38.204, None),
            (0.60, f"COPY public.customers ({CUSTOMER_COLS}) TO stdout;", 44120.518, None),
            (44.9, "COMMIT", 0.014, None),
        ], step=S, tail=0.3)
        t = T("2026-10-13 10:20:40.112")
        copy_err = [
            ("ERROR", "permission denied to COPY to a file"),
            ("DETAIL", 'Only roles with privileges of the "pg_write_server_files" role may COPY to a file.'),
            ("HINT", "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone."),
        ]
        self.session(t, "app_ro", BASTION, "psql", [
            (11.5, "SELECT current_user, inet_server_addr(), version();", 0.412, None),
            (18.2, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public';", 3.871, None),
            (27.199, "SELECT * FROM customers;", 812.113, None),
            (68.4, "SELECT c.id, c.email, c.full_name, c.phone,\n       pm.card_brand, pm.last4, pm.exp_month, pm.exp_year\n"
                   "FROM customers c\nJOIN payment_methods pm ON pm.customer_id = c.id\nORDER BY c.id;", 1930.557, None),
            (85.0, "COPY (SELECT email, full_name, phone FROM customers) TO '/tmp/c.csv' WITH CSV HEADER;", None, copy_err),
            (120.3, "COPY customers TO STDOUT WITH CSV HEADER;", 1544.902, None),
            (150.7, "SELECT * FROM payment_methods;", 655.318, None),
            (190.2, "SELECT * FROM addresses;", 1021.77, None),
        ], step=S, tail=51.0)


def build_pg(rng):
    p = PG(rng)
    p.checkpoints()
    p.backup()
    p.reports()
    p.shop_app()
    p.attack()
    return p.out
