//! First-seen (a leaktrail extension, `leaktrail: first_seen:` on a rule): for each key (an
//! account, an access key) the values (addresses, compared by network) it was seen with, and
//! when each first appeared. A value that shows up for a key with an earlier history is a
//! finding: an account signing in from a new network, a key used from a new address.
//!
//! The state merges by value (earliest first sight, latest last sight, counts summed); a key
//! keeps its [`MAX_VALUES`] earliest values, so the result does not depend on arrival order.

use super::view::View;
use super::{Agg, Compiled, Entities, Finding, Ref};
use crate::rules::FirstSeen;
use std::hash::Hasher;
use std::net::IpAddr;

/// Values kept per key (the earliest).
pub const MAX_VALUES: usize = 256;

/// One value of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sight {
    /// The network (`198.51.100.0/24`) or the value itself when it is not an address.
    pub net: String,
    /// The value at its first sight (the address itself).
    pub value: String,
    pub first: i64,
    pub at: Ref,
    pub last: i64,
    pub count: u64,
}

/// The values of one key.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub key: String,
    /// Sorted by network.
    pub sights: Vec<Sight>,
}

impl Group {
    fn add(&mut self, s: Sight) {
        match self.sights.binary_search_by(|x| x.net.cmp(&s.net)) {
            Ok(i) => {
                let x = &mut self.sights[i];
                if (s.first, s.at) < (x.first, x.at) {
                    x.first = s.first;
                    x.at = s.at;
                    x.value = s.value;
                }
                x.last = x.last.max(s.last);
                x.count += s.count;
            }
            Err(i) => {
                self.sights.insert(i, s);
                if self.sights.len() > MAX_VALUES {
                    // Drop the latest first sight.
                    if let Some(j) = (0..self.sights.len()).max_by_key(|&j| {
                        let x = &self.sights[j];
                        (x.first, x.at)
                    }) {
                        self.sights.remove(j);
                    }
                }
            }
        }
    }

    /// Adds the same key from another part.
    pub fn merge(&mut self, o: Group) {
        for s in o.sights {
            self.add(s);
        }
    }
}

/// The network of an address (`prefix` bits), or None for a value that is not an address.
fn network(v: &str, spec: &FirstSeen) -> Option<String> {
    let ip: IpAddr = v.parse().ok()?;
    Some(match ip {
        IpAddr::V4(a) => {
            let bits = spec.prefix_v4.min(32) as u32;
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            format!("{}/{bits}", std::net::Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let bits = spec.prefix_v6.min(128) as u32;
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            format!("{}/{bits}", std::net::Ipv6Addr::from(u128::from(a) & m))
        }
    })
}

/// The key of an event (its fields joined), None when a field is missing or empty.
fn key_of(spec: &FirstSeen, v: &mut View<'_, '_>) -> Option<String> {
    let mut key = String::new();
    for (i, f) in spec.key.iter().enumerate() {
        let s = v.value(f).filter(|s| !s.is_empty() && *s != b"-")?;
        if i > 0 {
            key.push(super::correlate::KEY_SEP);
        }
        key.push_str(&String::from_utf8_lossy(s));
    }
    Some(key)
}

/// Records one event of a first-seen rule.
pub fn add(
    state: &mut std::collections::HashMap<(usize, u64), Group, super::HashState>,
    rule: usize,
    spec: &FirstSeen,
    ts: i64,
    at: Ref,
    v: &mut View<'_, '_>,
) {
    let Some(key) = key_of(spec, v) else {
        return;
    };
    let Some(value) = v
        .value(&spec.value)
        .filter(|s| !s.is_empty() && *s != b"-")
        .map(|s| String::from_utf8_lossy(s).into_owned())
    else {
        return;
    };
    let mut h = super::hasher();
    h.write(key.as_bytes());
    let g = state.entry((rule, h.finish())).or_default();
    if g.key.is_empty() {
        g.key = key;
    } else if g.key != key {
        // A 64-bit hash collision: vanishingly rare; the event is left out.
        return;
    }
    g.add(Sight {
        net: network(&value, spec).unwrap_or_else(|| value.clone()),
        value,
        first: ts,
        at,
        last: ts,
        count: 1,
    });
}

/// Fields that name access keys (the key is listed as a key, not a user).
const KEY_FIELDS: &[&str] = &["userIdentity.accessKeyId", "api_key", "key_id"];

/// The findings of one key: every value first seen after the key's history began.
pub fn findings(rule: &Compiled, spec: &FirstSeen, g: &Group, paths: &[String]) -> Vec<Finding> {
    let mut sights: Vec<&Sight> = g.sights.iter().collect();
    sights.sort_by_key(|s| (s.first, s.at));
    let Some(start) = sights.first().map(|s| s.first) else {
        return Vec::new();
    };
    let is_key = spec.key.iter().any(|k| KEY_FIELDS.contains(&k.as_str()));
    let mut out = Vec::new();
    for (i, s) in sights.iter().enumerate().skip(1) {
        if s.first < start + spec.after * 1_000_000_000 {
            continue;
        }
        let mut agg = Agg::default();
        let ent = Entities {
            ip: s.value.parse::<IpAddr>().is_ok().then(|| s.value.clone()),
            user: (!is_key).then(|| g.key.clone()),
            key: is_key.then(|| g.key.clone()),
            target: None,
            session: None,
            failed: false,
        };
        // The finding is the moment of first sight; how long the value stayed is in the detail.
        agg.add(s.first, 0.0, s.at, &ent);
        let mut f = Finding::from_agg(
            &rule.id,
            &rule.title,
            rule.level,
            &rule.tactics,
            rule.technique.clone(),
            &agg,
            paths,
        );
        let before: Vec<&str> = sights[..i].iter().take(3).map(|x| x.net.as_str()).collect();
        f.detail = format!(
            "first seen from {} for {}; before only from {}{}; {} from it until {}",
            s.net,
            g.key.replace(super::correlate::KEY_SEP, ", "),
            before.join(", "),
            if i > 3 {
                format!(" and {} more", i - 3)
            } else {
                String::new()
            },
            crate::timeline::events(s.count),
            crate::timeline::utc(s.last)
        );
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sight(net: &str, first: i64) -> Sight {
        Sight {
            net: net.into(),
            value: net.into(),
            first,
            at: Ref {
                file: 0,
                line: first as u64,
                offset: 0,
            },
            last: first,
            count: 1,
        }
    }

    #[test]
    fn merges_to_the_same_values_in_any_order() {
        let parts = [sight("a", 5), sight("b", 3), sight("a", 1), sight("c", 9)];
        let mut x = Group::default();
        let mut y = Group::default();
        for s in parts.iter().cloned() {
            x.add(s);
        }
        for s in parts.iter().rev().cloned() {
            y.add(s);
        }
        assert_eq!(x.sights, y.sights);
        let a = x.sights.iter().find(|s| s.net == "a").unwrap();
        assert_eq!((a.first, a.last, a.count), (1, 5, 2));
    }

    #[test]
    fn networks_group_addresses() {
        let spec = FirstSeen {
            key: vec!["user".into()],
            value: "src_ip".into(),
            prefix_v4: 24,
            prefix_v6: 48,
            after: 3600,
        };
        assert_eq!(network("198.51.100.23", &spec).unwrap(), "198.51.100.0/24");
        assert_eq!(
            network("2001:db8:1:2::5", &spec).unwrap(),
            "2001:db8:1::/48"
        );
        assert_eq!(network("s3.amazonaws.com", &spec), None);
    }
}
