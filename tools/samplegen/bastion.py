"""bastion auth.log (Debian 12 rsyslog, RFC 3339 timestamps)."""
from __future__ import annotations

import datetime as dt

from .common import ATTACKER_SCAN, BACKUP_HOST, OFFICE, SSH_NOISE, START, END, T, Entry

HOST = "bastion"


class Auth:
    def __init__(self, rng):
        self.rng = rng
        self.out = []
        self.pids = []
        self.sessions = []

    def next_pid(self, t):
        """Placeholder, replaced by finish() so that PIDs grow with time."""
        self.pids.append(t)
        return f"\x00{len(self.pids) - 1}\x00"

    def finish(self):
        """Replace PID / logind-session placeholders so both grow with time."""
        real, pid = {}, 1480
        for i in sorted(range(len(self.pids)), key=lambda i: self.pids[i]):
            pid += self.rng.randint(3, 40)
            real[f"\x00{i}\x00"] = str(pid)
        for n, i in enumerate(sorted(range(len(self.sessions)), key=lambda i: self.sessions[i])):
            real[f"\x01{i}\x01"] = str(32 + n)
        for e in self.out:
            for mark in ("\x00", "\x01"):
                while mark in e.text:
                    x = e.text.index(mark)
                    y = e.text.index(mark, x + 1)
                    e.text = e.text[:x] + real[e.text[x:y + 1]] + e.text[y + 1:]
        return self.out

    def line(self, t, prog, msg, step=None, ips=(), users=(), tag=None):
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"
        self.out.append(Entry(t, f"{ts} {HOST} {prog}: {msg}", step=step, ips=ips, users=users, tag=tag))
        return t

    def tick(self, t, lo=1, hi=400):
        return t + dt.timedelta(milliseconds=self.rng.randint(lo, hi), microseconds=self.rng.randint(0, 999))

    # --- benign ---------------------------------------------------------------
    def cron(self):
        rng = self.rng
        t = START.replace(minute=17)
        while t < END:
            pid = self.next_pid(t)
            a = self.line(t + dt.timedelta(microseconds=rng.randint(1000, 9000)), f"CRON[{pid}]",
                          "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", tag="cron")
            self.line(self.tick(a, 30, 900), f"CRON[{pid}]", "pam_unix(cron:session): session closed for user root", tag="cron")
            t += dt.timedelta(hours=1)
        day = START
        while day < END:
            t = day.replace(hour=2, minute=0, second=1)
            pid = self.next_pid(t)
            a = self.line(t + dt.timedelta(microseconds=rng.randint(1000, 9000)), f"CRON[{pid}]",
                          "pam_unix(cron:session): session opened for user backup(uid=34) by (uid=0)", tag="backup")
            self.line(a + dt.timedelta(minutes=4, seconds=rng.randint(0, 50)), f"CRON[{pid}]",
                      "pam_unix(cron:session): session closed for user backup", tag="backup")
            # the backup host collects the dump over ssh with its key
            t2 = day.replace(hour=2, minute=6, second=rng.randint(0, 30), microsecond=rng.randint(0, 999999))
            self.ssh_session(t2, "backup", 34, BACKUP_HOST, "publickey", dt.timedelta(seconds=rng.randint(20, 60)),
                             tag="backup", key="ED25519 SHA256:q2XyX9x1bS0pTqNwVY3o8bK9d1Jz2xM0eLr7h5sCkAo")
            day += dt.timedelta(days=1)

    def ssh_session(self, t, user, uid, ip, method, length, tag=None, step=None, key=None, cmds=()):
        rng = self.rng
        pid = self.next_pid(t)
        port = rng.randint(40000, 64000)
        ips = (ip,) if step else ()
        users = (user,) if step else ()
        how = f"{method} for {user} from {ip} port {port} ssh2" + (f": {key}" if key else "")
        t = self.line(t, f"sshd[{pid}]", f"Accepted {how}", step, ips, users, tag)
        t = self.line(self.tick(t, 2, 20), f"sshd[{pid}]",
                      f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)", step, ips, users, tag)
        self.sessions.append(t)
        sno = f"\x01{len(self.sessions) - 1}\x01"
        t = self.line(self.tick(t, 2, 20), "systemd-logind[412]", f"New session {sno} of user {user}.", step, ips, users, tag)
        for dt_, fn in cmds:
            fn(t + dt_ + dt.timedelta(microseconds=rng.randint(0, 999999)))
        t = t + length
        t = self.line(t, f"sshd[{pid}]", f"Received disconnect from {ip} port {port}:11: disconnected by user", step, ips, users, tag)
        t = self.line(self.tick(t, 0, 3), f"sshd[{pid}]", f"Disconnected from user {user} {ip} port {port}", step, ips, users, tag)
        t = self.line(self.tick(t, 1, 10), f"sshd[{pid}]", f"pam_unix(sshd:session): session closed for user {user}", step, ips, users, tag)
        t = self.line(self.tick(t, 1, 10), "systemd-logind[412]", f"Session {sno} logged out. Waiting for processes to exit.", step, ips, users, tag)
        self.line(self.tick(t, 1, 10), "systemd-logind[412]", f"Removed session {sno}.", step, ips, users, tag)

    def sudo(self, t, user, uid, cmd, step=None, tag=None, tty="pts/0", pwd=None, long=2):
        pwd = pwd or f"/home/{user}"
        users = (user,) if step else ()
        t = self.line(t, "sudo", f"{user:>8} : TTY={tty} ; PWD={pwd} ; USER=root ; COMMAND={cmd}", step, (), users, tag)
        t = self.line(self.tick(t, 1, 5), "sudo",
                      f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={uid})", step, (), users, tag)
        self.line(t + dt.timedelta(seconds=long, milliseconds=self.rng.randint(0, 999)), "sudo",
                  "pam_unix(sudo:session): session closed for user root", step, (), users, tag)

    def alice(self):
        rng = self.rng
        plans = [
            ("2026-10-10 14:05:12", [("/usr/bin/apt update", 9), ("/usr/bin/apt upgrade -y", 64)]),
            ("2026-10-11 09:31:40", [("/usr/bin/systemctl status nginx", 1), ("/usr/bin/journalctl -u ssh --since today", 3)]),
            ("2026-10-12 08:47:03", [("/usr/bin/systemctl restart prometheus-node-exporter", 2),
                                     ("/usr/bin/apt install -y htop", 6)]),
            ("2026-10-12 16:12:55", [("/usr/bin/systemctl status postgresql-client-check.timer", 1)]),
            ("2026-10-13 08:05:21", [("/usr/bin/apt update", 8), ("/usr/bin/systemctl list-timers", 1)]),
        ]
        for start, cmds in plans:
            t0 = T(start) + dt.timedelta(microseconds=rng.randint(0, 999999))
            sched = []
            off = dt.timedelta(seconds=rng.randint(20, 60))
            for c, dur in cmds:
                sched.append((off, lambda tt, c=c, dur=dur: self.sudo(tt, "alice", 1000, c, tag="admin", long=dur)))
                off += dt.timedelta(seconds=dur + rng.randint(20, 120))
            self.ssh_session(t0, "alice", 1000, OFFICE, "publickey", off + dt.timedelta(seconds=rng.randint(30, 300)),
                             tag="admin", key="ED25519 SHA256:Zk3vR8mJ0pLwq7T2nYb1cXs5uF9hA4eD6gK0oP2iQ3w", cmds=sched)

    def noise(self):
        """Low-volume internet background scanning; never succeeds."""
        rng = self.rng
        for ip in SSH_NOISE:
            for _ in range(rng.randint(2, 4)):
                t = START + dt.timedelta(seconds=rng.random() * (END - START).total_seconds())
                self.fail_conn(t, ip, rng.choice(["root", "admin", "ubuntu", "test", "user", "oracle"]), 1, tag="ssh-noise")

    def fail_conn(self, t, ip, user, tries, step=None, tag=None):
        rng = self.rng
        pid = self.next_pid(t)
        port = rng.randint(32768, 60999)
        ips = (ip,) if step else ()
        invalid = user not in ("root", "deploy", "alice")
        if invalid:
            t = self.line(t, f"sshd[{pid}]", f"Invalid user {user} from {ip} port {port}", step, ips, (), tag)
        n = 0
        for i in range(tries):
            t = self.tick(t, 900, 2600)
            if i == 0 and not invalid:
                self.line(t, f"sshd[{pid}]", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                          f"tty=ssh ruser= rhost={ip}  user={user}", step, ips, (), tag)
                t = self.tick(t, 1500, 2200)
            who = f"invalid user {user}" if invalid else user
            self.line(t, f"sshd[{pid}]", f"Failed password for {who} from {ip} port {port} ssh2", step, ips, (), tag)
            n += 1
        t = self.tick(t, 10, 300)
        kind = "invalid user" if invalid else "authenticating user"
        if tries >= 3 and not invalid:
            self.line(t, f"sshd[{pid}]", f"Disconnecting authenticating user {user} {ip} port {port}: "
                      "Too many authentication failures [preauth]", step, ips, (), tag)
        elif rng.random() < 0.5:
            self.line(t, f"sshd[{pid}]", f"Connection closed by {kind} {user} {ip} port {port} [preauth]", step, ips, (), tag)
        else:
            self.line(t, f"sshd[{pid}]", f"Disconnected from {kind} {user} {ip} port {port} [preauth]", step, ips, (), tag)
        return t, n

    # --- attack ---------------------------------------------------------------
    def attack(self):
        rng = self.rng
        ip = ATTACKER_SCAN
        t = T("2026-10-13 09:50:07.318204")
        users = ["admin", "test", "ubuntu", "oracle", "postgres", "git", "jenkins", "ftpuser", "user", "guest",
                 "support", "dev", "backup", "ansible", "www", "web", "shop", "larkspur", "debian", "pi"]
        fails = 0
        i = 0
        while fails < 150:
            u = "deploy" if i % 9 == 4 else ("root" if i % 13 == 7 else users[i % len(users)])
            tries = min(3, 150 - fails)
            t, n = self.fail_conn(t, ip, u, tries, step="ssh-bruteforce")
            fails += n
            t += dt.timedelta(milliseconds=rng.randint(300, 2500))
            i += 1
        assert t < T("2026-10-13 10:06:00"), t
        D = ("deploy",)

        def sudo(tt, cmd, step, long=1):
            self.sudo(tt, "deploy", 1001, cmd, step=step, long=long)

        def mkuser(tt):
            sudo(tt, "/usr/sbin/useradd -m -s /bin/bash backup2", "backdoor-account")
            a = self.tick(tt, 40, 90)
            ua = f"useradd[{self.next_pid(a)}]"
            self.line(a, ua, "new group: name=backup2, GID=1002", "backdoor-account", (), D)
            self.line(self.tick(a, 1, 4), ua,
                      "new user: name=backup2, UID=1002, GID=1002, home=/home/backup2, shell=/bin/bash, from=/dev/pts/0",
                      "backdoor-account", (), D)
            b = tt + dt.timedelta(seconds=9, microseconds=rng.randint(0, 999999))
            sudo(b, "/usr/bin/passwd backup2", "backdoor-account", 6)
            self.line(b + dt.timedelta(seconds=6), f"passwd[{self.next_pid(b)}]", "pam_unix(passwd:chauthtok): password changed for backup2",
                      "backdoor-account", (), D)
            c = tt + dt.timedelta(seconds=31, microseconds=rng.randint(0, 999999))
            um = f"usermod[{self.next_pid(c)}]"
            sudo(c, "/usr/sbin/usermod -aG sudo backup2", "backdoor-account")
            self.line(self.tick(c, 30, 60), um, "add 'backup2' to group 'sudo'", "backdoor-account", (), D)
            self.line(self.tick(c, 61, 80), um, "add 'backup2' to shadow group 'sudo'", "backdoor-account", (), D)
            d = tt + dt.timedelta(seconds=58, microseconds=rng.randint(0, 999999))
            su = f"su[{self.next_pid(d)}]"
            self.line(d, su, "(to backup2) deploy on pts/0", "backdoor-account", (), D)
            self.line(self.tick(d, 2, 9), su,
                      "pam_unix(su-l:session): session opened for user backup2(uid=1002) by deploy(uid=1001)",
                      "backdoor-account", (), D)
            self.line(d + dt.timedelta(seconds=21), su, "pam_unix(su-l:session): session closed for user backup2",
                      "backdoor-account", (), D)

        cmds = [
            (dt.timedelta(seconds=52), lambda tt: sudo(tt, "/usr/bin/cat /etc/shadow", "shadow-read")),
            (dt.timedelta(minutes=1, seconds=40), lambda tt: sudo(tt, "/usr/bin/cat /etc/sudoers", "shadow-read")),
            (dt.timedelta(minutes=3, seconds=5), mkuser),
            (dt.timedelta(minutes=12, seconds=44),
             lambda tt: sudo(tt, "/usr/bin/pg_dump -h 10.0.2.10 -U app_ro -t customers -f /tmp/.c.sql shop", "db-dump", 47)),
            (dt.timedelta(minutes=20, seconds=2),
             lambda tt: sudo(tt, "/usr/bin/rm -f /home/deploy/.bash_history /root/.bash_history", "history-wipe")),
            (dt.timedelta(minutes=20, seconds=30),
             lambda tt: sudo(tt, "/usr/bin/ln -sf /dev/null /home/deploy/.bash_history", "history-wipe")),
        ]
        self.ssh_session(T("2026-10-13 10:06:12.338411"), "deploy", 1001, ip, "password",
                         dt.timedelta(minutes=21, seconds=15), step="bastion-login", cmds=cmds)


def build_auth(rng):
    a = Auth(rng)
    a.cron()
    a.alice()
    a.noise()
    a.attack()
    return a.finish()
