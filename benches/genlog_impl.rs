//! Deterministic synthetic combined-format access log, shared by `examples/genlog.rs` and the
//! criterion benchmarks. The lines vary like real traffic (clients, paths, statuses, sizes, user
//! agents, a new second every few lines) so timestamp caching and parsing behave as on real logs.

use std::io::Write;

const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/products?id=",
    "/api/customers?page=",
    "/static/app.js",
    "/static/site.css",
    "/search?q=boots+size+",
    "/cart",
    "/api/login",
    "/images/p/",
    "/healthz",
    "/account/orders/",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
];
const STATUS: &[u32] = &[200, 200, 200, 200, 200, 200, 304, 404, 302, 500];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Writes about `size` bytes of log lines to `w`.
pub fn generate(w: &mut impl Write, size: u64) -> std::io::Result<u64> {
    let mut rng = Lcg(42);
    let mut written = 0u64;
    let mut secs: u64 = 0;
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut line = String::with_capacity(512);
    while written < size {
        if rng.next().is_multiple_of(4) {
            secs += 1;
        }
        let day = 1 + (secs / 86_400) % 28;
        let month = months[((secs / (86_400 * 28)) % 12) as usize];
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let r = rng.next();
        // Clients come back: a pool of 50,000 addresses, as on a busy shop.
        let client = (r >> 7) % 50_000;
        let path = PATHS[(r % PATHS.len() as u64) as usize];
        line.clear();
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "{}.{}.{}.{} - - [{day:02}/{month}/2026:{h:02}:{m:02}:{s:02} +0000] \"GET {path}{} HTTP/1.1\" {} {} \"https://shop.example/\" \"{}\"",
            10 + client % 200,
            (client >> 8) % 256,
            (client * 7) % 256,
            1 + (client * 13) % 254,
            r % 5000,
            STATUS[((r >> 5) % STATUS.len() as u64) as usize],
            200 + (r >> 12) % 90_000,
            AGENTS[((r >> 3) % AGENTS.len() as u64) as usize],
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    Ok(written)
}
