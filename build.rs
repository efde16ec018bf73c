//! Embeds the built-in rule pack: every `rules/**/*.yml` becomes an entry of `BUILTIN_RULES`.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    // Read at run time, not baked in with env!(): a build script compiled for one checkout is
    // reused by cargo for another with the same sources and a shared target directory, and
    // must not then embed the first checkout's (possibly deleted) rules.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("rules");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no rules found under {}: the built-in pack would be empty",
        root.display()
    );
    let mut out = String::from(
        "/// The built-in rule pack: (path under rules/, YAML text).\npub static BUILTIN_RULES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()))
        .join("builtin_rules.rs");
    std::fs::write(dest, out).unwrap_or_else(|e| panic!("cannot write builtin_rules.rs: {e}"));
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            println!("cargo:rerun-if-changed={}", p.display());
            out.push(p);
        }
    }
}
