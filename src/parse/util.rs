//! Byte-level helpers shared by the parsers: tokens, quoted fields, numbers, addresses.
//! Everything works on slices and returns positions; nothing allocates.

use memchr::memchr;

/// Parses an unsigned decimal integer (the whole slice). Values above `i64::MAX` are refused,
/// so every result converts to `i64` without wrapping.
#[inline]
pub fn uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u64;
    }
    (v <= i64::MAX as u64).then_some(v)
}

/// Parses a possibly negative decimal integer.
#[inline]
pub fn int(s: &[u8]) -> Option<i64> {
    match s.first() {
        Some(b'-') => uint(&s[1..]).map(|v| -(v as i64)),
        _ => uint(s).map(|v| v as i64),
    }
}

/// The end of the space-delimited token starting at `i`. Tokens are short, so a plain loop
/// beats memchr's set-up here.
#[inline]
pub fn token_end(b: &[u8], i: usize) -> usize {
    let start = i.min(b.len());
    b[start..]
        .iter()
        .position(|&c| c == b' ')
        .map_or(b.len(), |p| start + p)
}

/// Skips spaces from `i`.
#[inline]
pub fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// True when the quote at `q` is escaped by an odd number of backslashes.
#[inline]
fn escaped(b: &[u8], q: usize) -> bool {
    let mut n = 0;
    let mut j = q;
    while j > 0 && b[j - 1] == b'\\' {
        n += 1;
        j -= 1;
    }
    n % 2 == 1
}

/// A quoted field starting at `b[i] == '"'`: returns (content start, content end, index after
/// the closing quote). The closing quote is the first unescaped `"` that `accept` likes the
/// bytes after (web logs: a space or the end of the line), so an attacker's stray quote inside
/// a field does not cut it short. Falls back to the first unescaped quote, then to the end.
pub fn quoted(b: &[u8], i: usize, accept: impl Fn(&[u8]) -> bool) -> Option<(usize, usize, usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    let mut first = None;
    while let Some(p) = memchr(b'"', &b[j..]) {
        let q = j + p;
        if !escaped(b, q) {
            if accept(&b[q + 1..]) {
                return Some((start, q, q + 1));
            }
            first.get_or_insert(q);
        }
        j = q + 1;
    }
    first.map(|q| (start, q, q + 1))
}

/// `accept` for a field followed by a space or the end of the line.
#[inline]
pub fn then_space_or_end(rest: &[u8]) -> bool {
    rest.is_empty() || rest[0] == b' ' || rest[0] == b'\t'
}

/// True when the field has a backslash (so its value needs unescaping on output).
#[inline]
pub fn has_backslash(s: &[u8]) -> bool {
    memchr(b'\\', s).is_some()
}

/// A dotted-quad IPv4 address (the whole slice).
pub fn is_ipv4(s: &[u8]) -> bool {
    if s.len() < 7 || s.len() > 15 {
        return false;
    }
    let mut parts = 0;
    for part in s.split(|&c| c == b'.') {
        parts += 1;
        if part.is_empty() || part.len() > 3 || uint(part).is_none_or(|v| v > 255) {
            return false;
        }
    }
    parts == 4
}

/// An IPv6 address (the whole slice): hex groups of at most four digits, eight of them or
/// fewer with one `::`, optionally ending in a dotted quad.
pub fn is_ipv6(s: &[u8]) -> bool {
    if s.len() < 2 || s.len() > 45 {
        return false;
    }
    let (head, tail, compressed) = match memchr::memmem::find(s, b"::") {
        Some(p) => (&s[..p], &s[p + 2..], true),
        None => (s, &b""[..], false),
    };
    if memchr::memmem::find(tail, b"::").is_some() {
        return false;
    }
    let mut groups = 0;
    for (k, part) in [head, tail].iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let pieces: Vec<&[u8]> = part.split(|&c| c == b':').collect();
        for (i, g) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len() && (k == 1 || !compressed);
            if last && g.contains(&b'.') {
                if !is_ipv4(g) {
                    return false;
                }
                groups += 2;
            } else if g.is_empty() || g.len() > 4 || !g.iter().all(u8::is_ascii_hexdigit) {
                return false;
            } else {
                groups += 1;
            }
        }
    }
    if compressed {
        groups > 0 && groups < 8
    } else {
        groups == 8
    }
}

/// Either kind of address.
#[inline]
pub fn is_ip(s: &[u8]) -> bool {
    is_ipv4(s) || is_ipv6(s)
}

/// Splits `host:port` (or `[v6]:port`) into the address and the port.
pub fn split_host_port(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    if s.first() == Some(&b'[')
        && let Some(e) = memchr(b']', s)
    {
        let port = s.get(e + 2..).filter(|_| s.get(e + 1) == Some(&b':'));
        return (&s[1..e], port);
    }
    match memchr::memrchr(b':', s) {
        Some(c) if memchr(b':', &s[..c]).is_none() => (&s[..c], Some(&s[c + 1..])),
        _ => (s, None),
    }
}

/// Finds the first IPv4 or IPv6 address in free text: (start, end).
pub fn find_ip(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
        if boundary && (c.is_ascii_hexdigit() || c == b':') {
            let mut e = i;
            while e < b.len() && (b[e].is_ascii_hexdigit() || b[e] == b'.' || b[e] == b':') {
                e += 1;
            }
            let mut cand = &b[i..e];
            // A trailing `:port` or sentence punctuation is not part of the address.
            while cand.last().is_some_and(|&c| c == b'.' || c == b':') {
                cand = &cand[..cand.len() - 1];
            }
            if is_ipv4(cand) {
                return Some((i, i + cand.len()));
            }
            if is_ipv6(cand) {
                // `::ffff:1.2.3.4` is an IPv4 client seen through a dual-stack socket.
                let mapped = cand.len() > 7 && cand[..7].eq_ignore_ascii_case(b"::ffff:");
                if mapped && is_ipv4(&cand[7..]) {
                    return Some((i + 7, i + cand.len()));
                }
                return Some((i, i + cand.len()));
            }
            if let Some(c) = memchr(b':', cand).filter(|_| cand.contains(&b'.'))
                && is_ipv4(&cand[..c])
            {
                return Some((i, i + c));
            }
            i = e.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Every distinct address in free text, in order, at most `max`.
pub fn find_ips(b: &[u8], max: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while out.len() < max {
        let Some((s, e)) = find_ip(&b[at..]) else {
            break;
        };
        let (s, e) = (at + s, at + e);
        if !out.iter().any(|&(a, z)| b[a..z] == b[s..e]) {
            out.push((s, e));
        }
        at = e;
    }
    out
}

/// The value after `key` (e.g. `user=`) up to the next space, comma, semicolon or quote.
pub fn value_after<'a>(b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let p = memchr::memmem::find(b, key)?;
    let s = &b[p + key.len()..];
    let e = s
        .iter()
        .position(|&c| matches!(c, b' ' | b',' | b';' | b'"' | b'\'' | b')' | b'\t'))
        .unwrap_or(s.len());
    Some(&s[..e]).filter(|v| !v.is_empty())
}

/// The word after `key` up to a space (`for invalid user bob from`).
pub fn word_after<'a>(b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let p = memchr::memmem::find(b, key)?;
    let s = &b[p + key.len()..];
    let e = memchr(b' ', s).unwrap_or(s.len());
    Some(&s[..e]).filter(|v| !v.is_empty())
}

/// Whether a request-target value holds something [`url_decode`] would change: a `%`, or a
/// `+` in its query (after its first `?`, or anywhere in a `bare_query`: a field that holds
/// only the query, see [`is_bare_query`]).
pub fn has_url_escape(s: &[u8], bare_query: bool) -> bool {
    url_escapes(s, bare_query) != (false, false)
}

/// Whether a request-target value holds a `%`, and whether a `+` in its query (see
/// [`has_url_escape`]), in one search.
pub fn url_escapes(s: &[u8], bare_query: bool) -> (bool, bool) {
    // Targets are short: a plain loop costs less than setting up a vector search.
    let (mut query, mut plus) = (bare_query, false);
    for &c in s {
        match c {
            b'%' => return (true, plus),
            b'?' => query = true,
            b'+' => plus |= query,
            _ => {}
        }
    }
    (false, plus)
}

/// Whether a request-target field's value is a query alone (Squid's `c-uri-query`, without
/// the `?`): then each `+` in it is a space. Every other target field holds the path too.
pub fn is_bare_query(name: &str, value: &[u8]) -> bool {
    name == "c-uri-query" && memchr::memchr(b'?', value).is_none()
}

/// How many times [`url_decode`] decodes: double and triple encoding (`%2527` → `%27` → `'`)
/// hide payloads from filters that decode once.
const URL_ROUNDS: usize = 3;

/// Percent-decodes a request target into `out` (cleared first), `+` after the first `?` (or
/// anywhere in a `bare_query`, see [`is_bare_query`]) as a space, and decodes the result again
/// while a round still changes something, up to [`URL_ROUNDS`] rounds. `tmp` is a buffer for
/// the rounds. Returns false, leaving `out` empty, when there is nothing to decode. Malformed
/// escapes (`%zz`, a `%` at the end) stay as written.
pub fn url_decode(input: &[u8], out: &mut Vec<u8>, tmp: &mut Vec<u8>, bare_query: bool) -> bool {
    out.clear();
    if memchr::memchr2(b'%', b'+', input).is_none() || !decode_round(input, out, Some(bare_query)) {
        out.clear();
        return false;
    }
    for _ in 1..URL_ROUNDS {
        if memchr::memchr(b'%', out).is_none() {
            break;
        }
        tmp.clear();
        if !decode_round(out, tmp, None) {
            break;
        }
        std::mem::swap(out, tmp);
    }
    true
}

/// One round of percent-decoding `src` onto `dst`, with `plus` `+` as a space in the query
/// (`Some(true)`: all of `src` is one); true when something was decoded.
fn decode_round(src: &[u8], dst: &mut Vec<u8>, plus: Option<bool>) -> bool {
    let hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    dst.reserve(src.len());
    let mut changed = false;
    let mut query = plus == Some(true);
    let plus = plus.is_some();
    let mut i = 0;
    // Runs of plain bytes are copied whole; only `%`, `?` and `+` are looked at.
    while let Some(k) = memchr::memchr3(b'%', b'?', b'+', &src[i..]) {
        dst.extend_from_slice(&src[i..i + k]);
        i += k;
        match src[i] {
            b'%' if i + 2 < src.len() => {
                if let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2])) {
                    dst.push(h << 4 | l);
                    changed = true;
                    i += 3;
                    continue;
                }
                dst.push(b'%');
            }
            b'?' => {
                query = true;
                dst.push(b'?');
            }
            b'+' if plus && query => {
                dst.push(b' ');
                changed = true;
            }
            c => dst.push(c),
        }
        i += 1;
    }
    dst.extend_from_slice(&src[i..]);
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding_undoes_double_encoding_and_keeps_malformed_escapes() {
        let d = |s: &str| {
            let (mut out, mut tmp) = (Vec::new(), Vec::new());
            url_decode(s.as_bytes(), &mut out, &mut tmp, false)
                .then(|| String::from_utf8_lossy(&out).into_owned())
        };
        assert_eq!(
            d("/?q=%24%7Bjndi%3Aldap%3A%2F%2Fx%7D").as_deref(),
            Some("/?q=${jndi:ldap://x}")
        );
        assert_eq!(
            d("/p?id=1%2527%2520UNION%2520SELECT").as_deref(),
            Some("/p?id=1' UNION SELECT")
        );
        // `+` is a space in the query only; a bad escape and a trailing `%` stay.
        assert_eq!(d("/a+b?x=1+2").as_deref(), Some("/a+b?x=1 2"));
        assert_eq!(d("/p?x=%zz%4").as_deref(), None);
        assert_eq!(d("/plain/path").as_deref(), None);
        assert_eq!(d("/p%2").as_deref(), None);
        assert_eq!(d("/p%41").as_deref(), Some("/pA"));
    }

    #[test]
    fn url_escapes_are_a_percent_or_a_plus_in_a_query() {
        assert!(has_url_escape(b"/p?id=1%27", false));
        assert!(has_url_escape(b"/p?id=1'+or+1=1--", false));
        assert!(has_url_escape(br#"/?x="+union+all+select"#, false));
        assert!(!has_url_escape(b"/a+b/c", false));
        assert!(!has_url_escape(b"/plain?x=1", false));
        // Squid's query field: no `?`, every `+` is in the query; a full URL is not one.
        assert!(is_bare_query("c-uri-query", b"id=1'+or+1=1"));
        assert!(!is_bare_query(
            "cs-uri-query",
            b"http://h/union+all+select/x"
        ));
        assert!(!is_bare_query("cs-uri-stem", b"a+b"));
        assert!(has_url_escape(b"id=1'+or+1=1", true));
        let (mut out, mut tmp) = (Vec::new(), Vec::new());
        assert!(url_decode(b"id=1'+or+1=1", &mut out, &mut tmp, true));
        assert_eq!(out, b"id=1' or 1=1");
        assert!(!url_decode(b"/a+b", &mut out, &mut tmp, false));
    }

    #[test]
    fn quoted_fields() {
        let b = br#""GET /a\"b HTTP/1.1" 200"#;
        let (s, e, n) = quoted(b, 0, then_space_or_end).unwrap();
        assert_eq!(&b[s..e], br#"GET /a\"b HTTP/1.1"#);
        assert_eq!(n, 20);
        // A raw quote inside the field that is not followed by a space is skipped.
        let b = br#""Mozilla "x"y" next"#;
        let (s, e, _) = quoted(b, 0, then_space_or_end).unwrap();
        assert_eq!(&b[s..e], br#"Mozilla "x"y"#);
        assert!(quoted(b"abc", 0, then_space_or_end).is_none());
    }

    #[test]
    fn addresses() {
        assert!(is_ipv4(b"203.0.113.66"));
        assert!(!is_ipv4(b"203.0.113.256"));
        assert!(!is_ipv4(b"1.2.3"));
        assert!(is_ipv6(b"2001:db8::1"));
        assert!(is_ipv6(b"::ffff:10.0.0.1"));
        assert!(!is_ipv6(b"12:30"));
        let t = b"Failed password for root from 198.51.100.7 port 22 ssh2";
        let (s, e) = find_ip(t).unwrap();
        assert_eq!(&t[s..e], b"198.51.100.7");
        let t = b"client 10.0.0.5:5123 denied";
        let (s, e) = find_ip(t).unwrap();
        assert_eq!(&t[s..e], b"10.0.0.5");
        assert!(find_ip(b"version 1.2.3 at 12:30:01").is_none());
        assert_eq!(
            split_host_port(b"10.0.0.1:443"),
            (&b"10.0.0.1"[..], Some(&b"443"[..]))
        );
        assert_eq!(
            split_host_port(b"[::1]:80"),
            (&b"::1"[..], Some(&b"80"[..]))
        );
        assert_eq!(split_host_port(b"2001:db8::1"), (&b"2001:db8::1"[..], None));
    }

    #[test]
    fn key_values() {
        let t = b"logname= uid=0 tty=ssh ruser= rhost=1.2.3.4  user=root";
        assert_eq!(value_after(t, b"rhost="), Some(&b"1.2.3.4"[..]));
        assert_eq!(value_after(t, b" user="), Some(&b"root"[..]));
        assert_eq!(value_after(t, b"ruser="), None);
        assert_eq!(
            word_after(b"for invalid user bob from", b"invalid user "),
            Some(&b"bob"[..])
        );
        assert_eq!(int(b"-12"), Some(-12));
        assert_eq!(uint(b"12a"), None);
        assert_eq!(uint(b"9999999999999999999"), None);
        assert_eq!(uint(b"9223372036854775807"), Some(i64::MAX as u64));
    }
}
