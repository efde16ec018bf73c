//! Writing JSON by hand on the hot path: strings from log bytes (invalid UTF-8 replaced with
//! U+FFFD, control characters including C1 escaped so no terminal acts on them).

/// Appends `s` as a JSON string literal.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    match std::str::from_utf8(s) {
        Ok(text) => escape_str(out, text),
        Err(_) => escape_str(out, &String::from_utf8_lossy(s)),
    }
    out.push(b'"');
}

fn escape_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        let esc: Option<&[u8]> = match ch {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{:04x}", ch as u32).as_bytes()),
        }
        start = i + ch.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends an integer.
pub fn int(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa_buf(v);
    out.append(&mut buf);
}

fn itoa_buf(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// True when `s` is a JSON number literal (so it can be written as is).
pub fn is_number(s: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Number>(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_invalid_utf8() {
        let mut out = Vec::new();
        string(&mut out, b"a\"b\\c\n\x1b[31m\xc2\x9b\xff");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\u001b[31m\u009b�""#
        );
        let mut out = Vec::new();
        int(&mut out, -42);
        assert_eq!(out, b"-42");
        assert!(is_number(b"1.5e3") && !is_number(b"1.5.3"));
    }
}
