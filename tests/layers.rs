//! The layering of both crates, as `docs/ARCHITECTURE.md` states it: which
//! module may name which. Read from the source, so that an import that
//! makes a cycle fails here with the file and the line, not in review.

use std::path::{Path, PathBuf};

/// Nothing above the jobs.
const BELOW_JOBS: &[&str] = &["crate::commands", "crate::cli", "crate::jobs"];
/// Nothing above the commands.
const BELOW_COMMANDS: &[&str] = &["crate::commands", "crate::cli"];

/// `(files under this folder or this file, may not name these paths)`.
const APP: &[(&str, &[&str])] = &[
    // The jobs know nothing of the commands or the command line.
    ("src/jobs", BELOW_COMMANDS),
    // Plain values and leaves import nothing above them.
    ("src/options.rs", BELOW_JOBS),
    ("src/units.rs", &["crate::"]),
    ("src/errors.rs", &["crate::"]),
    ("src/inputs.rs", BELOW_JOBS),
    // Records, their formats and the terminal never name a job.
    ("src/report", BELOW_JOBS),
    ("src/joblog.rs", BELOW_JOBS),
    ("src/trace.rs", BELOW_JOBS),
    ("src/timeline.rs", BELOW_JOBS),
    ("src/progress.rs", BELOW_JOBS),
    ("src/progress", BELOW_JOBS),
    ("src/web", BELOW_JOBS),
    ("src/text", BELOW_JOBS),
    // The command line turns words into values; it runs nothing.
    ("src/cli", &["crate::commands"]),
];

const CORE: &[(&str, &[&str])] = &[
    // Settings are values: they do not start pools.
    (
        "crates/mproc/src/settings.rs",
        &["crate::pool", "crate::serial"],
    ),
    ("crates/mproc/src/limits.rs", &["crate::"]),
    // Placement knows hosts, not settings or pools.
    (
        "crates/mproc/src/hosts.rs",
        &["crate::settings", "crate::pool"],
    ),
    (
        "crates/mproc/src/hosts",
        &["crate::settings", "crate::pool"],
    ),
    // The wire format knows no pool, and a worker no scheduler.
    (
        "crates/mproc/src/protocol",
        &["crate::pool", "crate::worker", "crate::settings"],
    ),
    (
        "crates/mproc/src/worker",
        &["crate::pool", "crate::settings"],
    ),
    // A pool and a serial run know nothing of each other, nor of the
    // Runner above them; a Stopper knows neither.
    ("crates/mproc/src/pool", &["crate::runner", "crate::serial"]),
    (
        "crates/mproc/src/serial.rs",
        &["crate::runner", "crate::pool"],
    ),
    ("crates/mproc/src/stopper.rs", &["crate::"]),
];

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// Every line of code (not a comment) in `rules`' files that names a
/// forbidden path, as `file:line: text`.
fn breaches(rules: &[(&str, &[&str])]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for (place, forbidden) in rules {
        let files = rust_files(&root.join(place));
        assert!(!files.is_empty(), "no Rust file under {place}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if let Some(path) = forbidden.iter().find(|f| code.contains(*f)) {
                    found.push(format!(
                        "{}:{}: names {path}: {code}",
                        file.strip_prefix(root).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn the_application_imports_only_downwards() {
    let found = breaches(APP);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_core_imports_only_downwards() {
    let found = breaches(CORE);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_wire_format_is_not_public_api() {
    let lib = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mproc/src/lib.rs"),
    )
    .unwrap();
    let public: Vec<&str> = lib
        .lines()
        .filter(|l| l.trim() == "pub mod protocol;")
        .collect();
    // Public only behind the fuzz target's feature, on the line above.
    let gated =
        lib.contains("#[cfg(feature = \"fuzz-internals\")]\n#[doc(hidden)]\npub mod protocol;");
    assert!(public.len() <= 1 && (public.is_empty() || gated), "{lib}");
}
