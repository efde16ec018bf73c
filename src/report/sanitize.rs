//! Terminal output of attacker-controlled text: escape sequences, other control characters and
//! bidirectional overrides are shown as visible escapes, never passed to the terminal.

/// Makes `s` safe to print on a terminal.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let c = ch as u32;
        let visible = !(c < 0x20 || (0x7f..=0x9f).contains(&c) || is_bidi(c));
        if visible {
            out.push(ch);
        } else if c <= 0xff {
            out.push_str(&format!("\\x{c:02x}"));
        } else {
            out.push_str(&format!("\\u{{{c:x}}}"));
        }
    }
    out
}

/// Bidirectional controls that can make text read differently from what it is.
fn is_bidi(c: u32) -> bool {
    matches!(c, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

/// Lossy UTF-8 then [`terminal`].
pub fn terminal_bytes(b: &[u8]) -> String {
    terminal(&String::from_utf8_lossy(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn neutralises_escapes() {
        assert_eq!(
            super::terminal("ok\x1b]0;pwned\x07 \u{202e}x\ty"),
            "ok\\x1b]0;pwned\\x07 \\u{202e}x\\x09y"
        );
        assert_eq!(super::terminal_bytes(b"a\xffb"), "a\u{fffd}b");
    }
}
