//! Search-engine crawlers. A crawler fetches a whole site, its large public files included, at
//! all hours, and follows dead links: by volume alone it looks like a bulk reader. The issue
//! is plain about it: verified crawlers must not outrank an attack chain.
//!
//! Verifying a crawler is done with DNS (the address's reverse name in the crawler's domain,
//! whose forward lookup gives the address back), which an offline scan of old evidence cannot
//! do. leaktrail verifies offline instead: the address is in a network the search engine crawls
//! from, and the request's user agent names that crawler. A user agent alone is worth nothing
//! (any scanner can claim to be Googlebot); an address in Google's network with Googlebot's user
//! agent is Googlebot. The networks are long-lived ones the engines document for their crawlers;
//! a finding lowered this way says so, with the network, so the investigator can check it.
//!
//! Findings whose every address is a verified crawler are lowered to low (never raised) and
//! take no part in kill-chain convergence.

use super::finding::{Finding, level_rank};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A crawler: its name, the token its user agent holds (lower case), its networks (IPv4,
/// address and prefix length).
struct Crawler {
    name: &'static str,
    token: &'static str,
    nets: &'static [([u8; 4], u8)],
}

const CRAWLERS: &[Crawler] = &[
    Crawler {
        name: "Googlebot",
        token: "googlebot",
        nets: &[([66, 249, 64, 0], 19)],
    },
    Crawler {
        name: "Bingbot",
        token: "bingbot",
        nets: &[
            ([157, 55, 39, 0], 24),
            ([207, 46, 13, 0], 24),
            ([40, 77, 167, 0], 24),
        ],
    },
    Crawler {
        name: "Yahoo! Slurp",
        token: "slurp",
        nets: &[([68, 180, 224, 0], 21)],
    },
    Crawler {
        name: "Baiduspider",
        token: "baiduspider",
        nets: &[([220, 181, 108, 0], 24), ([123, 125, 71, 0], 24)],
    },
    Crawler {
        name: "Applebot",
        token: "applebot",
        nets: &[([17, 0, 0, 0], 8)],
    },
];

/// The crawler network an address is in: (crawler, network in words).
fn network_of(ip: &str) -> Option<(&'static Crawler, String)> {
    let a: Ipv4Addr = ip.parse().ok()?;
    let a = u32::from(a);
    CRAWLERS.iter().find_map(|c| {
        c.nets.iter().find_map(|&(net, len)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (a & mask == u32::from(Ipv4Addr::from(net)) & mask)
                .then(|| (c, format!("{}/{len}", Ipv4Addr::from(net))))
        })
    })
}

/// The crawler a finding's actor is, when every address it names is in one crawler's network
/// and the evidence line `line` (the finding's first event) names that crawler.
fn verified(f: &Finding, lines: &[Option<&[u8]>]) -> Option<String> {
    let (first, rest) = f.ips.split_first()?;
    if !f.users.is_empty() || !f.keys.is_empty() {
        return None;
    }
    let (c, net) = network_of(first)?;
    if rest
        .iter()
        .any(|ip| network_of(ip).is_none_or(|(o, _)| o.name != c.name))
    {
        return None;
    }
    // The user agent: the last quoted field of an access-log line (a request target can
    // hold any text, and other fetchers share a crawler's network). Every event the finding
    // cites must be the crawler's: one crawler request does not vouch for a curl download
    // from the same address.
    let names_crawler = |line: &[u8]| -> Option<()> {
        let end = memchr::memrchr(b'"', line)?;
        let start = memchr::memrchr(b'"', &line[..end])? + 1;
        let agent = line[start..end].to_ascii_lowercase();
        memchr::memmem::find(&agent, c.token.as_bytes()).map(|_| ())
    };
    if lines.is_empty()
        || !lines
            .iter()
            .all(|l| l.is_some_and(|l| names_crawler(l).is_some()))
    {
        return None;
    }
    Some(format!(
        "verified crawler: {} (the user agent of every event it cites, and an address in its network {net})",
        c.name
    ))
}

/// Reads evidence lines back: (path, offsets) → line at each offset.
pub type LinesAt<'a> = &'a dyn Fn(&str, &[u64]) -> BTreeMap<u64, Vec<u8>>;

/// Lowers to low the findings above low whose actor is a verified crawler; `lines_at` reads
/// evidence lines back. Returns, by finding, whether it is a crawler's.
pub fn lower(findings: &mut [Finding], lines_at: LinesAt<'_>) -> Vec<bool> {
    // Only findings naming an address in a crawler network need their line read.
    let candidates: Vec<usize> = (0..findings.len())
        .filter(|&i| {
            let f = &findings[i];
            f.ips.first().is_some_and(|ip| network_of(ip).is_some()) && !f.evidence.is_empty()
        })
        .collect();
    // The events a finding cites: its evidence, its first and its last.
    let cited = |f: &Finding| -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = f
            .evidence
            .iter()
            .chain(&f.first_at)
            .chain(&f.last_at)
            .map(|(p, _, o)| (p.clone(), *o))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut by_file: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for &i in &candidates {
        for (p, o) in cited(&findings[i]) {
            by_file.entry(p).or_default().push(o);
        }
    }
    let lines: BTreeMap<(String, u64), Vec<u8>> = by_file
        .into_iter()
        .flat_map(|(p, offs)| {
            lines_at(&p, &offs)
                .into_iter()
                .map(move |(o, l)| ((p.clone(), o), l))
        })
        .collect();
    let mut crawler = vec![false; findings.len()];
    for i in candidates {
        let f = &mut findings[i];
        let cited: Vec<Option<&[u8]>> = cited(f)
            .into_iter()
            .map(|k| lines.get(&k).map(Vec::as_slice))
            .collect();
        let Some(why) = verified(f, &cited) else {
            continue;
        };
        crawler[i] = true;
        if level_rank(f.level) > 1 {
            f.detail = if f.detail.is_empty() {
                format!("{why}; was {}", f.level)
            } else {
                format!("{}; {why}; was {}", f.detail, f.level)
            };
            f.level = "low";
        }
    }
    crawler
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(ip: &str, level: &'static str) -> Finding {
        Finding {
            level,
            ips: vec![ip.into()],
            evidence: vec![("a.log".into(), 1, 0)],
            detail: "value_sum 54391388 in 3600s".into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_address_in_the_network_with_the_user_agent_is_the_crawler() {
        let google = b"66.249.73.135 - - [18/May/2015:13:05:06 +0000] \"GET /misc/sample.log HTTP/1.1\" 200 5000000 \"-\" \"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\"";
        let spoofed = b"203.0.113.66 - - [18/May/2015:13:05:06 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"Googlebot/2.1\"";
        let plain = b"66.249.73.135 - - [18/May/2015:13:05:06 +0000] \"GET /.env?googlebot HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0 (via ggpht.com GoogleImageProxy)\"";
        for (ip, line, want) in [
            ("66.249.73.135", &google[..], true),
            // The user agent alone, or the network alone (the name in the request target, not
            // the user agent), is no crawler.
            ("203.0.113.66", &spoofed[..], false),
            ("66.249.73.135", &plain[..], false),
        ] {
            let mut fs = vec![finding(ip, "high"), finding(ip, "low")];
            let read = |_: &str, offs: &[u64]| offs.iter().map(|&o| (o, line.to_vec())).collect();
            let c = lower(&mut fs, &read);
            assert_eq!(c, vec![want, want], "{ip}");
            assert_eq!(fs[0].level, if want { "low" } else { "high" });
            assert_eq!(fs[1].level, "low");
            if want {
                assert_eq!(
                    fs[0].detail,
                    "value_sum 54391388 in 3600s; verified crawler: Googlebot (the user agent of every event it cites, and an address in its network 66.249.64.0/19); was high"
                );
            }
        }
        // One crawler request does not vouch for a download by another client from the same
        // address: every event the finding cites must name the crawler.
        let mut mixed = finding("66.249.66.3", "high");
        mixed.evidence.push(("a.log".into(), 2, 700));
        let by_offset = |_: &str, offs: &[u64]| {
            offs.iter()
                .map(|&o| {
                    (
                        o,
                        if o == 0 {
                            google.to_vec()
                        } else {
                            plain.to_vec()
                        },
                    )
                })
                .collect()
        };
        assert_eq!(
            lower(std::slice::from_mut(&mut mixed), &by_offset),
            vec![false]
        );
        assert_eq!(mixed.level, "high");
        // A finding that also names a user, or another address, is not a crawler's.
        let mut f = finding("66.249.73.135", "high");
        f.ips.push("203.0.113.66".into());
        let read = |_: &str, offs: &[u64]| offs.iter().map(|&o| (o, google.to_vec())).collect();
        assert_eq!(lower(std::slice::from_mut(&mut f), &read), vec![false]);
    }

    #[test]
    fn networks_are_matched_by_prefix() {
        assert_eq!(network_of("66.249.95.255").unwrap().1, "66.249.64.0/19");
        assert!(network_of("66.249.96.0").is_none());
        assert_eq!(network_of("17.58.100.1").unwrap().0.name, "Applebot");
        assert!(network_of("2001:db8::1").is_none());
    }
}
