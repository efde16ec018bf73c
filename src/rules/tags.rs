//! ATT&CK tags: `attack.<tactic>` (hyphens or the old underscores) and `attack.t1234[.001]`,
//! mapped to one canonical tactic list in kill-chain order.

/// Tactics in kill-chain order, with the spellings accepted for each.
const TACTICS: &[(&str, &[&str])] = &[
    ("reconnaissance", &["reconnaissance"]),
    (
        "resource-development",
        &["resource-development", "resource_development"],
    ),
    ("initial-access", &["initial-access", "initial_access"]),
    ("execution", &["execution"]),
    ("persistence", &["persistence"]),
    (
        "privilege-escalation",
        &["privilege-escalation", "privilege_escalation"],
    ),
    (
        "defense-evasion",
        &[
            "defense-evasion",
            "defense_evasion",
            "stealth",
            "defense-impairment",
            "defense_impairment",
        ],
    ),
    (
        "credential-access",
        &["credential-access", "credential_access"],
    ),
    ("discovery", &["discovery"]),
    (
        "lateral-movement",
        &["lateral-movement", "lateral_movement"],
    ),
    ("collection", &["collection"]),
    (
        "command-and-control",
        &["command-and-control", "command_and_control"],
    ),
    ("exfiltration", &["exfiltration"]),
    ("impact", &["impact"]),
];

/// The canonical tactic for a tag, if it names one.
pub fn tactic(tag: &str) -> Option<&'static str> {
    let t = tag.strip_prefix("attack.")?.to_ascii_lowercase();
    TACTICS
        .iter()
        .find(|(_, names)| names.contains(&t.as_str()))
        .map(|(canon, _)| *canon)
}

/// Position of a tactic in the kill chain (unknown ones last).
pub fn order(tactic: &str) -> usize {
    TACTICS
        .iter()
        .position(|(c, _)| *c == tactic)
        .unwrap_or(TACTICS.len())
}

/// The technique id of a tag (`attack.t1190` → `T1190`, `attack.t1078.004` → `T1078.004`).
pub fn technique(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let rest = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    rest.chars()
        .next()?
        .is_ascii_digit()
        .then(|| format!("T{}", rest.to_ascii_uppercase()))
}

/// Tactics (deduplicated, in kill-chain order) and the first technique of a tag list.
pub fn classify(tags: &[String]) -> (Vec<&'static str>, Option<String>) {
    let mut tactics: Vec<&'static str> = tags.iter().filter_map(|t| tactic(t)).collect();
    tactics.sort_by_key(|t| order(t));
    tactics.dedup();
    (tactics, tags.iter().find_map(|t| technique(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_spellings() {
        assert_eq!(tactic("attack.initial_access"), Some("initial-access"));
        assert_eq!(tactic("attack.stealth"), Some("defense-evasion"));
        assert_eq!(tactic("attack.t1190"), None);
        assert_eq!(technique("attack.t1078.004").as_deref(), Some("T1078.004"));
        let (t, tech) = classify(&[
            "attack.exfiltration".into(),
            "attack.t1567".into(),
            "attack.reconnaissance".into(),
        ]);
        assert_eq!(t, ["reconnaissance", "exfiltration"]);
        assert_eq!(tech.as_deref(), Some("T1567"));
    }
}
