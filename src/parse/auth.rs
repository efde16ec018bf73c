//! Authentication messages in syslog: sshd, sudo, su, pam and the account tools (useradd,
//! usermod, passwd, ...). Adds `user`, `src_ip`, `src_port`, `auth_method`, `outcome`
//! (success, failure, invalid_user, disconnect, session_open, session_close, account_change),
//! and for sudo `target_user`, `command`, `tty`, `pwd`.

use super::event::{Esc, Fields, Val};
use super::util::{is_ip, uint, value_after, word_after};
use memchr::memmem;

/// Adds what a message says about authentication. `prog` is the syslog tag.
pub fn parse<'a>(prog: &[u8], msg: &'a [u8], f: &mut Fields<'a>) {
    match prog {
        b"sshd" | b"sshd-session" | b"dropbear" => sshd(msg, f),
        b"sudo" => sudo(msg, f),
        b"su" => su(msg, f),
        b"useradd" | b"usermod" | b"groupadd" | b"userdel" | b"passwd" | b"chpasswd"
        | b"gpasswd" | b"chage" => account(msg, f),
        b"utmp" => utmp(msg, f),
        _ => {}
    }
    if msg.starts_with(b"pam_") {
        pam(msg, f);
    }
}

fn put_ip<'a>(f: &mut Fields<'a>, ip: Option<&'a [u8]>) {
    if let Some(ip) = ip.filter(|ip| is_ip(ip))
        && !f.has("src_ip")
    {
        f.put_str("src_ip", ip, Esc::None);
    }
}

fn put_user<'a>(f: &mut Fields<'a>, user: Option<&'a [u8]>) {
    if let Some(u) = user.filter(|u| !u.is_empty())
        && !f.has("user")
    {
        f.put_str("user", u, Esc::None);
    }
}

fn outcome(f: &mut Fields<'_>, o: &'static str) {
    if !f.has("outcome") {
        f.put("outcome", Val::Str(o.as_bytes(), Esc::None));
    }
}

fn sshd<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    let starts = |p: &[u8]| msg.starts_with(p);
    if starts(b"Accepted ") || starts(b"Failed ") || starts(b"Postponed ") {
        let (o, rest) = if starts(b"Accepted ") {
            ("success", &msg[9..])
        } else if starts(b"Failed ") {
            ("failure", &msg[7..])
        } else {
            ("postponed", &msg[10..])
        };
        if let Some(m) = rest.split(|&c| c == b' ').next() {
            f.put_str("auth_method", m, Esc::None);
        }
        outcome(f, o);
        put_user(f, user_before_from(msg));
    } else if starts(b"Invalid user ") || starts(b"invalid user ") {
        outcome(f, "invalid_user");
        put_user(f, word_after(msg, b"nvalid user "));
    } else if starts(b"Connection closed by ")
        || starts(b"Disconnected from ")
        || starts(b"Received disconnect from ")
        || starts(b"Connection reset by ")
        || starts(b"Timeout before authentication")
    {
        outcome(f, "disconnect");
        put_user(
            f,
            word_after(msg, b"invalid user ").or_else(|| word_after(msg, b"authenticating user ")),
        );
        put_user(f, word_after(msg, b" user ").filter(|u| !is_ip(u)));
        let after_by = word_after(msg, b" by ").or_else(|| word_after(msg, b" from "));
        let ip = match after_by {
            Some(b"invalid" | b"authenticating" | b"user") => None,
            other => other,
        };
        put_ip(f, ip.or_else(|| ip_before_port(msg)));
    } else if memmem::find(msg, b"maximum authentication attempts exceeded").is_some()
        || memmem::find(msg, b"Too many authentication failures").is_some()
    {
        outcome(f, "failure");
        put_user(
            f,
            word_after(msg, b"for invalid user ").or_else(|| word_after(msg, b" for ")),
        );
    } else if starts(b"User ") && memmem::find(msg, b"not allowed").is_some() {
        outcome(f, "failure");
        put_user(f, word_after(msg, b"User "));
    } else if starts(b"Did not receive identification") || starts(b"Bad protocol version") {
        outcome(f, "failure");
    }
    // The last `from <addr>` is sshd's own; an earlier one may sit inside an attacker-chosen
    // user name (`invalid user x from 10.9.9.9 port 1`).
    put_ip(
        f,
        last_word_after(msg, b" from ").or_else(|| value_after(msg, b"rhost=")),
    );
    if let Some(p) = last_word_after(msg, b" port ").and_then(uint) {
        f.put("src_port", Val::Num(p as i64));
    }
}

/// The word after the last occurrence of `key`.
fn last_word_after<'a>(b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let p = memmem::rfind(b, key)?;
    let s = &b[p + key.len()..];
    let e = memchr::memchr(b' ', s).unwrap_or(s.len());
    Some(&s[..e]).filter(|v| !v.is_empty())
}

/// The user of `for [invalid user ]NAME from ADDR port N`: everything up to sshd's own last
/// `from` (a name may contain spaces when it is attacker-chosen).
fn user_before_from(msg: &[u8]) -> Option<&[u8]> {
    let start = memmem::find(msg, b"for invalid user ")
        .map(|p| p + 17)
        .or_else(|| memmem::find(msg, b" for ").map(|p| p + 5))?;
    let end = memmem::rfind(msg, b" from ").filter(|&e| e >= start)?;
    Some(&msg[start..end]).filter(|u| !u.is_empty())
}

/// `... 10.0.0.1 port 22` without a `from` (Disconnected from user x 10.0.0.1 port 22).
fn ip_before_port(msg: &[u8]) -> Option<&[u8]> {
    let p = memmem::find(msg, b" port ")?;
    let s = memchr::memrchr(b' ', &msg[..p])?;
    Some(&msg[s + 1..p])
}

fn sudo<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    // `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow`
    let Some(colon) = memmem::find(msg, b" : ") else {
        return;
    };
    let who = trim(&msg[..colon]);
    if who.starts_with(b"pam_") || who.contains(&b' ') {
        return;
    }
    put_user(f, Some(who));
    let rest = &msg[colon + 3..];
    for part in rest.split(|&c| c == b';') {
        let part = trim(part);
        if let Some(v) = part.strip_prefix(b"TTY=") {
            f.put_str("tty", v, Esc::None);
        } else if let Some(v) = part.strip_prefix(b"PWD=") {
            f.put_str("pwd", v, Esc::None);
        } else if let Some(v) = part.strip_prefix(b"USER=") {
            f.put_str("target_user", v, Esc::None);
        } else if let Some(v) = part.strip_prefix(b"COMMAND=") {
            // The command may itself contain ` ; `: take everything after COMMAND=.
            let at = memmem::find(rest, b"COMMAND=").map_or(v, |p| trim(&rest[p + 8..]));
            f.put_str("command", at, Esc::None);
            if let Some(u) = db_user(at) {
                f.put_str("db_user", u, Esc::None);
            }
            break;
        }
    }
    if memmem::find(rest, b"incorrect password").is_some()
        || memmem::find(rest, b"NOT in sudoers").is_some()
        || memmem::find(rest, b"command not allowed").is_some()
    {
        outcome(f, "failure");
    } else if f.has("command") {
        outcome(f, "success");
    }
}

/// The database account a database client or dump tool on a command line logs in as:
/// `pg_dump -U app_ro`, `psql --username=app_ro`, `mysqldump -uroot`, `mongodump -u admin`.
fn db_user(cmd: &[u8]) -> Option<&[u8]> {
    let mut words = cmd.split(|c| *c == b' ').filter(|w| !w.is_empty());
    let prog = words.next()?;
    let prog = prog.rsplit(|c| *c == b'/').next().unwrap_or(prog);
    let (short, long): (&[u8], &[u8]) = match prog {
        b"pg_dump" | b"pg_dumpall" | b"psql" | b"pg_restore" => (b"-U", b"--username"),
        b"mysqldump" | b"mysql" | b"mariadb" | b"mariadb-dump" | b"mysqlpump" => (b"-u", b"--user"),
        b"mongodump" | b"mongoexport" | b"mongo" | b"mongosh" => (b"-u", b"--username"),
        _ => return None,
    };
    while let Some(w) = words.next() {
        let value = if w == short || w == long {
            words.next()
        } else {
            w.strip_prefix(long)
                .and_then(|v| v.strip_prefix(b"="))
                .or_else(|| w.strip_prefix(short).filter(|v| !v.is_empty()))
        };
        if let Some(v) = value.map(unquote)
            && !v.is_empty()
            && !v.starts_with(b"-")
        {
            return Some(v);
        }
    }
    None
}

fn unquote(v: &[u8]) -> &[u8] {
    let s = v
        .strip_prefix(b"'")
        .or_else(|| v.strip_prefix(b"\""))
        .unwrap_or(v);
    s.strip_suffix(b"'")
        .or_else(|| s.strip_suffix(b"\""))
        .unwrap_or(s)
}

/// A login record as the wtmp/btmp reader writes it:
/// `USER_PROCESS user=deploy tty=pts/0 host=203.0.113.66 addr=203.0.113.66`. A login process
/// naming a user other than getty's `LOGIN` is a failed login (btmp's records).
fn utmp<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    let mut words = msg.split(|c| *c == b' ');
    let Some(kind) = words.next().filter(|k| !k.is_empty()) else {
        return;
    };
    f.put_str("utmp_type", kind, Esc::None);
    let (mut user, mut host, mut addr) = (None, None, None);
    for w in words {
        if let Some(v) = w.strip_prefix(b"user=") {
            user = Some(v);
        } else if let Some(v) = w.strip_prefix(b"tty=") {
            f.put_str("tty", v, Esc::None);
        } else if let Some(v) = w.strip_prefix(b"host=") {
            host = Some(v);
        } else if let Some(v) = w.strip_prefix(b"addr=") {
            addr = Some(v);
        }
    }
    match kind {
        b"USER_PROCESS" => {
            put_user(f, user);
            outcome(f, "success");
        }
        b"LOGIN_PROCESS" if user.is_some_and(|u| u != b"LOGIN") => {
            put_user(f, user);
            outcome(f, "failure");
        }
        b"DEAD_PROCESS" => outcome(f, "session_close"),
        _ => return,
    }
    match host {
        Some(h) if is_ip(h) => put_ip(f, Some(h)),
        Some(h) => {
            f.put_str("rhost", h, Esc::None);
            put_ip(f, addr);
        }
        None => put_ip(f, addr),
    }
}

fn su<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    // `Successful su for root by alice`, `FAILED su for root by alice`,
    // `+ pts/0 alice:root`, `- pts/0 alice:root`, `(to root) alice on pts/0`.
    if let Some(rest) = msg
        .strip_prefix(b"Successful su for ")
        .or_else(|| msg.strip_prefix(b"FAILED su for "))
    {
        outcome(f, if msg[0] == b'S' { "success" } else { "failure" });
        let target = rest.split(|&c| c == b' ').next();
        f.put_str("target_user", target.unwrap_or_default(), Esc::None);
        put_user(f, word_after(rest, b" by "));
    } else if msg.starts_with(b"(to ") {
        let close = memchr::memchr(b')', msg).unwrap_or(msg.len());
        f.put_str("target_user", &msg[4..close], Esc::None);
        put_user(
            f,
            msg.get(close + 2..)
                .and_then(|r| r.split(|&c| c == b' ').next()),
        );
        outcome(f, "success");
    } else if msg.len() > 2 && (msg[0] == b'+' || msg[0] == b'-') && msg[1] == b' ' {
        outcome(f, if msg[0] == b'+' { "success" } else { "failure" });
        if let Some(pair) = msg[2..].split(|&c| c == b' ').nth(1)
            && let Some(c) = memchr::memchr(b':', pair)
        {
            put_user(f, Some(&pair[..c]));
            f.put_str("target_user", &pair[c + 1..], Esc::None);
        }
    }
}

fn pam<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    // `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=
    // rhost=1.2.3.4  user=root` / `pam_unix(sudo:session): session opened for user root(uid=0)
    // by alice(uid=1000)`
    if let Some(open) = memchr::memchr(b'(', msg) {
        f.put_str("pam_module", &msg[..open], Esc::None);
        if let Some(close) = memchr::memchr(b')', &msg[open..]) {
            let inner = &msg[open + 1..open + close];
            let (svc, kind) = match memchr::memchr(b':', inner) {
                Some(c) => (&inner[..c], &inner[c + 1..]),
                None => (inner, &b""[..]),
            };
            f.put_str("pam_service", svc, Esc::None);
            f.put_str("pam_type", kind, Esc::None);
        }
    }
    pam_body(msg, f);
}

/// A PAM message whose module was in the syslog tag (`sshd(pam_unix)[1]: authentication
/// failure; ...`): the same fields as `pam_unix(sshd:auth): authentication failure; ...`.
pub fn pam_tagged<'a>(prog: &'a [u8], msg: &'a [u8], f: &mut Fields<'a>) {
    f.put_str("pam_service", prog, Esc::None);
    pam_body(msg, f);
}

fn pam_body<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    if memmem::find(msg, b"authentication failure").is_some() {
        outcome(f, "failure");
        put_user(f, value_after(msg, b" user="));
        put_ip(f, value_after(msg, b"rhost="));
        if let Some(r) = value_after(msg, b"ruser=") {
            f.put_str("ruser", r, Esc::None);
        }
    } else if memmem::find(msg, b"session opened for user ").is_some() {
        outcome(f, "session_open");
        put_user(f, user_paren(word_after(msg, b"session opened for user ")));
        if let Some(by) = user_paren(word_after(msg, b" by ")) {
            f.put_str("by_user", by, Esc::None);
        }
    } else if memmem::find(msg, b"session closed for user ").is_some() {
        outcome(f, "session_close");
        put_user(f, user_paren(word_after(msg, b"session closed for user ")));
    } else if memmem::find(msg, b"check pass; user unknown").is_some() {
        outcome(f, "invalid_user");
    }
}

/// `root(uid=0)` → `root`.
fn user_paren(w: Option<&[u8]>) -> Option<&[u8]> {
    w.map(|w| memchr::memchr(b'(', w).map_or(w, |p| &w[..p]))
        .filter(|w| !w.is_empty())
}

fn account<'a>(msg: &'a [u8], f: &mut Fields<'a>) {
    // `new user: name=backup2, UID=1001, ...`, `add 'backup2' to group 'sudo'`,
    // `password for 'bob' changed by 'root'`, `pam_unix(passwd:chauthtok): password changed for bob`
    outcome(f, "account_change");
    if let Some(n) = value_after(msg, b"name=") {
        put_user(f, Some(n));
    } else if let Some(p) = memchr::memchr(b'\'', msg) {
        if let Some(q) = memchr::memchr(b'\'', &msg[p + 1..]) {
            put_user(f, Some(&msg[p + 1..p + 1 + q]));
        }
    } else {
        put_user(f, word_after(msg, b"changed for "));
    }
    if let Some(g) = word_after(msg, b"to group ") {
        f.put_str("group", trim_quotes(g), Esc::None);
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let a = s.iter().position(|c| *c != b' ').unwrap_or(s.len());
    let b = s.iter().rposition(|c| *c != b' ').map_or(a, |p| p + 1);
    &s[a..b]
}

fn trim_quotes(s: &[u8]) -> &[u8] {
    let s = s.strip_prefix(b"'").unwrap_or(s);
    s.strip_suffix(b"'").unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::testutil::parse_fmt;
    use super::db_user;

    fn f(line: &str) -> std::collections::BTreeMap<String, String> {
        parse_fmt(Format::Syslog, line).unwrap().1
    }

    #[test]
    fn login_records() {
        let m = f(
            "2026-10-13T09:50:00Z - utmp[4100]: LOGIN_PROCESS user=oracle tty=ssh:notty host=203.0.113.66 addr=203.0.113.66",
        );
        assert_eq!(
            (
                m["utmp_type"].as_str(),
                m["outcome"].as_str(),
                m["user"].as_str(),
                m["src_ip"].as_str()
            ),
            ("LOGIN_PROCESS", "failure", "oracle", "203.0.113.66")
        );
        let m = f(
            "2026-10-13T09:50:10Z - utmp[4200]: USER_PROCESS user=deploy tty=pts/0 host=gw.example addr=198.51.100.4",
        );
        assert_eq!(
            (
                m["outcome"].as_str(),
                m["user"].as_str(),
                m["rhost"].as_str(),
                m["src_ip"].as_str(),
                m["tty"].as_str()
            ),
            ("success", "deploy", "gw.example", "198.51.100.4", "pts/0")
        );
        // getty's waiting console is no failed login; a boot names no user.
        let m = f("2026-10-13T09:50:10Z - utmp[700]: LOGIN_PROCESS user=LOGIN tty=tty1");
        assert!(!m.contains_key("outcome") && !m.contains_key("user"));
        let m =
            f("2026-10-12T06:00:01Z - utmp[0]: BOOT_TIME user=reboot tty=~ host=6.1.0-25-amd64");
        assert_eq!(m["utmp_type"], "BOOT_TIME");
        assert!(!m.contains_key("user") && !m.contains_key("src_ip"));
    }

    #[test]
    fn database_account_of_a_client_or_dump_tool() {
        let cases: [(&str, Option<&str>); 9] = [
            (
                "/usr/bin/pg_dump -h 10.0.2.10 -U app_ro -t customers -f /tmp/.c.sql shop",
                Some("app_ro"),
            ),
            ("psql --username=report shop", Some("report")),
            ("/usr/bin/psql -Uapp shop", Some("app")),
            ("pg_dumpall --username 'postgres'", Some("postgres")),
            ("/usr/bin/mysqldump -uroot -p shop customers", Some("root")),
            ("mysql --user=app -h db shop", Some("app")),
            ("mongodump -u admin --db shop", Some("admin")),
            // Other programs' -u, and a flag where the account should be, name nobody.
            ("/usr/bin/sort -u /tmp/x", None),
            ("pg_dump -U --schema-only shop", None),
        ];
        for (cmd, want) in cases {
            assert_eq!(db_user(cmd.as_bytes()), want.map(str::as_bytes), "{cmd}");
        }
    }

    #[test]
    fn sshd_messages() {
        let m = f(
            "Oct 13 10:02:11 h sshd[1]: Accepted password for deploy from 203.0.113.66 port 50122 ssh2",
        );
        assert_eq!(
            (
                m["user"].as_str(),
                m["src_ip"].as_str(),
                m["src_port"].as_str()
            ),
            ("deploy", "203.0.113.66", "50122")
        );
        assert_eq!(
            (m["outcome"].as_str(), m["auth_method"].as_str()),
            ("success", "password")
        );
        let m = f(
            "Oct 13 10:00:00 h sshd[1]: Failed password for invalid user x from 10.9.9.9 port 1 from 203.0.113.5 port 5555 ssh2",
        );
        assert_eq!(
            (m["src_ip"].as_str(), m["src_port"].as_str()),
            ("203.0.113.5", "5555")
        );
        assert_eq!(m["user"], "x from 10.9.9.9 port 1");
        let m = f("Oct 13 10:02:11 h sshd[1]: Invalid user oracle from 192.0.2.5 port 4242");
        assert_eq!(
            (
                m["user"].as_str(),
                m["outcome"].as_str(),
                m["src_ip"].as_str()
            ),
            ("oracle", "invalid_user", "192.0.2.5")
        );
        let m = f(
            "Oct 13 10:02:11 h sshd[1]: Disconnected from invalid user oracle 192.0.2.5 port 4242 [preauth]",
        );
        assert_eq!(
            (
                m["user"].as_str(),
                m["outcome"].as_str(),
                m["src_ip"].as_str()
            ),
            ("oracle", "disconnect", "192.0.2.5")
        );
        let m = f("Oct 13 10:02:11 h sshd[1]: Connection closed by 192.0.2.5 port 4242 [preauth]");
        assert_eq!(m["src_ip"], "192.0.2.5");
        let m = f(
            "Oct 13 10:02:11 h sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.9  user=root",
        );
        assert_eq!(
            (
                m["user"].as_str(),
                m["src_ip"].as_str(),
                m["pam_service"].as_str()
            ),
            ("root", "192.0.2.9", "sshd")
        );
    }

    #[test]
    fn sudo_su_accounts() {
        let m = f(
            "Oct 13 10:05:00 h sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
        );
        assert_eq!(m["user"], "deploy");
        assert_eq!(m["target_user"], "root");
        assert_eq!(m["command"], "/usr/bin/cat /etc/shadow");
        assert!(!m.contains_key("db_user"));
        assert_eq!(
            (m["tty"].as_str(), m["pwd"].as_str()),
            ("pts/0", "/home/deploy")
        );
        let m = f(
            "Oct 13 10:05:00 h sudo:   bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
        );
        assert_eq!(m["outcome"], "failure");
        let m = f("Oct 13 10:05:00 h su[9]: FAILED su for root by alice");
        assert_eq!(
            (
                m["user"].as_str(),
                m["target_user"].as_str(),
                m["outcome"].as_str()
            ),
            ("alice", "root", "failure")
        );
        let m = f(
            "Oct 13 10:05:00 h su[9]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
        );
        assert_eq!(
            (m["user"].as_str(), m["by_user"].as_str()),
            ("root", "alice")
        );
        let m = f(
            "Oct 13 10:05:00 h useradd[9]: new user: name=backup2, UID=1001, GID=1001, home=/home/backup2, shell=/bin/bash",
        );
        assert_eq!(
            (m["user"].as_str(), m["outcome"].as_str()),
            ("backup2", "account_change")
        );
        let m = f("Oct 13 10:05:00 h usermod[9]: add 'backup2' to group 'sudo'");
        assert_eq!(
            (m["user"].as_str(), m["group"].as_str()),
            ("backup2", "sudo")
        );
    }
}
