//! Input: finding evidence files, recognising compression and binary content by their bytes,
//! mapping or decoding them, cutting them into chunks and hashing them.

pub mod chunk;
pub mod excerpt;
pub mod journal;
pub mod open;
pub mod utmp;
pub mod walk;

pub use open::{Compression, Content, Opened};
pub use walk::{Filter, Found, Skipped, Walk, discover};

/// Lowercase hex SHA-256 of a byte slice.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_known_value() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
