//! The normalized event: named fields that borrow from the evidence bytes, a timestamp, and the
//! record's place in its file. One [`Fields`] buffer is reused for every record of a chunk, so
//! parsing allocates nothing per line once the buffer has grown.

use super::time::Timestamp;

/// How a borrowed value is encoded in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Esc {
    /// Bytes as they are.
    None,
    /// Backslash escapes as web servers write them: `\"`, `\\`, `\xHH` (nginx, Apache).
    Backslash,
    /// The inside of a JSON string (`\n`, `\uXXXX`, ...).
    Json,
    /// W3C extended logs write spaces in values as `+`.
    Plus,
    /// A quoted CSV field: `""` stands for `"`.
    Csv,
}

/// A field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val<'a> {
    /// Text from the log, possibly escaped.
    Str(&'a [u8], Esc),
    /// An integer the parser read (status codes, byte counts, ports, pids).
    Num(i64),
    /// A JSON literal kept verbatim (numbers, booleans, null, arrays).
    Json(&'a [u8]),
    /// Text the parser had to build (a range in the buffer's arena).
    Built(u32, u32),
}

/// A field name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key<'a> {
    /// A name fixed by the parser (`c-ip`, `sc-status`).
    Static(&'static str),
    /// A name taken from the log itself (a top-level JSON key).
    Src(&'a [u8]),
    /// A name built by the parser (a dotted JSON path), as a range in the arena.
    Built(u32, u32),
}

/// The reusable field buffer of one record.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    items: Vec<(Key<'a>, Val<'a>)>,
    arena: Vec<u8>,
    /// The format of the record inside the file's framing, when it is another than the file's
    /// (a web server's access record sent through syslog).
    inner: Option<super::Format>,
}

impl<'a> Fields<'a> {
    /// Empties the buffer, keeping its capacity.
    #[inline]
    pub fn clear(&mut self) {
        self.items.clear();
        self.arena.clear();
        self.inner = None;
    }

    /// Drops the fields after the first `n` (a parse of an inner record that failed).
    pub fn truncate(&mut self, n: usize) {
        self.items.truncate(n);
    }

    /// Says that the record is of another format than its file: rules of that format read it.
    pub fn set_inner_format(&mut self, f: super::Format) {
        self.inner = Some(f);
    }

    /// The record's own format, when it is another than its file's.
    pub fn inner_format(&self) -> Option<super::Format> {
        self.inner
    }

    /// Adds a field with a fixed name.
    #[inline]
    pub fn put(&mut self, name: &'static str, v: Val<'a>) {
        self.items.push((Key::Static(name), v));
    }

    /// Adds a text field with a fixed name, unless it is empty or `-` (the logs' "no value").
    #[inline]
    pub fn put_str(&mut self, name: &'static str, s: &'a [u8], esc: Esc) {
        if !s.is_empty() && s != b"-" {
            self.items.push((Key::Static(name), Val::Str(s, esc)));
        }
    }

    /// Adds a field whose name comes from the log.
    #[inline]
    pub fn put_src(&mut self, name: &'a [u8], v: Val<'a>) {
        self.items.push((Key::Src(name), v));
    }

    /// Adds a field with a computed name (`prefix.key`).
    pub fn put_path(&mut self, prefix: &[u8], key: &[u8], v: Val<'a>) {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(prefix);
        if !prefix.is_empty() {
            self.arena.push(b'.');
        }
        self.arena.extend_from_slice(key);
        self.items
            .push((Key::Built(start, self.arena.len() as u32), v));
    }

    /// Builds a value in the arena and returns it (for values assembled from several parts).
    pub fn build(&mut self, parts: &[&[u8]]) -> Val<'a> {
        let start = self.arena.len() as u32;
        for p in parts {
            self.arena.extend_from_slice(p);
        }
        Val::Built(start, self.arena.len() as u32)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no field was set.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// True when every name is fixed by the parser and they are those of `layout`, in order
    /// (the parser's static names, by address and length).
    pub fn same_layout(&self, layout: &[(usize, usize)]) -> bool {
        self.items.len() == layout.len()
            && self.items.iter().zip(layout).all(|((k, _), &(p, l))| {
                matches!(k, Key::Static(s) if s.as_ptr() as usize == p && s.len() == l)
            })
    }

    /// Writes the layout of the names into `out` when every name is fixed by the parser;
    /// false (and `out` empty) when a name comes from the log.
    pub fn layout(&self, out: &mut Vec<(usize, usize)>) -> bool {
        out.clear();
        for (k, _) in &self.items {
            match k {
                Key::Static(s) => out.push((s.as_ptr() as usize, s.len())),
                _ => {
                    out.clear();
                    return false;
                }
            }
        }
        true
    }

    /// The name of field `i` as bytes.
    pub fn name(&self, i: usize) -> &[u8] {
        match self.items[i].0 {
            Key::Static(s) => s.as_bytes(),
            Key::Src(s) => s,
            Key::Built(a, b) => &self.arena[a as usize..b as usize],
        }
    }

    /// The value of field `i`.
    pub fn value(&self, i: usize) -> Val<'a> {
        self.items[i].1
    }

    /// The bytes of a built value.
    pub fn built(&self, a: u32, b: u32) -> &[u8] {
        &self.arena[a as usize..b as usize]
    }

    /// The first field with this name.
    pub fn get(&self, name: &str) -> Option<Val<'a>> {
        (0..self.items.len())
            .find(|&i| self.name(i) == name.as_bytes())
            .map(|i| self.items[i].1)
    }

    /// True when a field with this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A field's value decoded to text (escapes resolved, invalid UTF-8 replaced).
    pub fn text(&self, name: &str) -> Option<String> {
        let v = self.get(name)?;
        let mut out = Vec::new();
        self.decode(v, &mut out);
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Appends the decoded bytes of a value to `out`.
    pub fn decode(&self, v: Val<'_>, out: &mut Vec<u8>) {
        match v {
            Val::Str(s, Esc::None) | Val::Json(s) => out.extend_from_slice(s),
            Val::Str(s, Esc::Backslash) => unescape_backslash(s, out),
            Val::Str(s, Esc::Json) => unescape_json(s, out),
            Val::Str(s, Esc::Plus) => {
                out.extend(s.iter().map(|&c| if c == b'+' { b' ' } else { c }))
            }
            Val::Str(s, Esc::Csv) => unescape_csv(s, out),
            Val::Num(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Val::Built(a, b) => out.extend_from_slice(self.built(a, b)),
        }
    }
}

/// One parsed record: its time, place and fields.
#[derive(Debug)]
pub struct Event<'a, 'f> {
    pub ts: Option<Timestamp>,
    /// 1-based line number of the record's first line.
    pub line: u64,
    /// Byte offset of the record in the (decompressed) file.
    pub offset: u64,
    /// The record's bytes (without the line terminator).
    pub raw: &'a [u8],
    pub fields: &'f Fields<'a>,
}

#[cfg(test)]
impl<'a, 'f> Event<'a, 'f> {
    /// An event of these fields alone (no time, no raw record), for tests.
    pub fn of(fields: &'f Fields<'a>) -> Self {
        Event {
            ts: None,
            line: 1,
            offset: 0,
            raw: b"",
            fields,
        }
    }
}

/// Turns CSV's doubled quotes back into single ones.
pub fn unescape_csv(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        out.push(s[i]);
        i += if s[i] == b'"' && s.get(i + 1) == Some(&b'"') {
            2
        } else {
            1
        };
    }
}

/// Resolves `\"`, `\\`, `\xHH` and the usual C escapes; anything else stays as written.
pub fn unescape_backslash(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(p) = memchr::memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + p]);
        i += p;
        let next = s.get(i + 1).copied();
        match next {
            Some(b'x') | Some(b'X') => {
                let hex = s.get(i + 2..i + 4).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(b) = hex {
                    out.push(b);
                    i += 4;
                    continue;
                }
                out.push(b'\\');
                i += 1;
            }
            Some(c @ (b'"' | b'\\' | b'\'')) => {
                out.push(c);
                i += 2;
            }
            Some(b'n') => {
                out.push(b'\n');
                i += 2;
            }
            Some(b't') => {
                out.push(b'\t');
                i += 2;
            }
            Some(b'r') => {
                out.push(b'\r');
                i += 2;
            }
            _ => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
}

/// Decodes the inside of a JSON string. Malformed escapes are kept as written.
pub fn unescape_json(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(p) = memchr::memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + p]);
        i += p;
        let c = match s.get(i + 1) {
            Some(b'n') => b'\n',
            Some(b't') => b'\t',
            Some(b'r') => b'\r',
            Some(b'b') => 8,
            Some(b'f') => 12,
            Some(b'/') => b'/',
            Some(b'\\') => b'\\',
            Some(b'"') => b'"',
            Some(b'u') => {
                let (ch, used) = json_u_escape(&s[i..]);
                match ch {
                    Some(ch) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    None => out.extend_from_slice(&s[i..i + used]),
                }
                i += used;
                continue;
            }
            _ => {
                out.push(b'\\');
                i += 1;
                continue;
            }
        };
        out.push(c);
        i += 2;
    }
}

fn hex4(s: &[u8]) -> Option<u32> {
    let h = std::str::from_utf8(s.get(..4)?).ok()?;
    u32::from_str_radix(h, 16).ok()
}

/// `\uXXXX`, with surrogate pairs. Returns the char (None if malformed) and bytes used.
fn json_u_escape(s: &[u8]) -> (Option<char>, usize) {
    let Some(hi) = hex4(&s[2..]) else {
        return (None, 2.min(s.len()));
    };
    if (0xD800..0xDC00).contains(&hi)
        && s.get(6) == Some(&b'\\')
        && s.get(7) == Some(&b'u')
        && let Some(lo) = hex4(&s[8..]).filter(|lo| (0xDC00..0xE000).contains(lo))
    {
        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return (char::from_u32(cp), 12);
    }
    (Some(char::from_u32(hi).unwrap_or('\u{FFFD}')), 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslash_escapes() {
        let mut out = Vec::new();
        unescape_backslash(br#"a\x22b\"c\\d\q\x2"#, &mut out);
        assert_eq!(out, br#"a"b"c\d\q\x2"#);
    }

    #[test]
    fn json_escapes() {
        let mut out = Vec::new();
        unescape_json(br#"x\"y\n\u00e9\ud83d\ude00\uZZ"#, &mut out);
        assert_eq!(String::from_utf8_lossy(&out), "x\"y\né😀\\uZZ");
    }

    #[test]
    fn fields_reuse_and_lookup() {
        let line = b"alpha beta";
        let mut f = Fields::default();
        f.put_str("a", &line[..5], Esc::None);
        f.put_str("dash", b"-", Esc::None);
        f.put_path(b"http", b"path", Val::Str(&line[6..], Esc::None));
        let v = f.build(&[b"x", b"y"]);
        f.put("built", v);
        assert_eq!(f.len(), 3);
        assert_eq!(f.text("http.path").as_deref(), Some("beta"));
        assert_eq!(f.text("built").as_deref(), Some("xy"));
        assert!(!f.has("dash"));
        f.clear();
        assert!(f.is_empty());
    }
}
