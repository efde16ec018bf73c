//! The built-in rule pack, embedded at build time from `rules/` (see build.rs).

use super::{Origin, RuleSet};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Adds every built-in rule to `set`.
pub fn load(set: &mut RuleSet) {
    for (name, text) in BUILTIN_RULES {
        set.add_text(text, Origin::Builtin(name));
    }
}
