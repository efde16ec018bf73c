//! Outputs: JSON encoding of log-derived bytes and terminal sanitising. Everything that comes
//! from evidence is attacker-controlled and is escaped on the way out.

pub mod jsonw;
pub mod manifest;
pub mod sanitize;
