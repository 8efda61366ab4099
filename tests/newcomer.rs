//! A newcomer's first crate: the README's library example, its
//! `Cargo.toml` lines and its program copied as they are into a crate of
//! its own that depends on the core only, then built and run.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// The README's "As a library" section.
fn section() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## As a library")
        .nth(1)
        .expect("README has an 'As a library' section");
    section.split("\n## ").next().unwrap().to_string()
}

/// The first code block of `lang` in `text`.
fn block(text: &str, lang: &str) -> String {
    let start = format!("```{lang}\n");
    let block = text
        .split(&start)
        .nth(1)
        .unwrap_or_else(|| panic!("with a {lang} code block"));
    block.split("\n```").next().unwrap().to_string()
}

#[test]
fn the_readme_example_builds_and_runs_in_a_crate_of_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let section = section();
    // The README's dependency lines, with the path made absolute.
    let dependencies = block(&section, "toml").replace(
        "path = \"crates/mproc\"",
        &format!(
            "path = {:?}",
            root.join("crates/mproc").display().to_string()
        ),
    );
    assert!(dependencies.contains("[dependencies]"), "{dependencies}");
    let dir = TempDir::new("newcomer");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-first-pool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             {dependencies}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), block(&section, "rust")).unwrap();
    // The same versions as mproc's own build, and no network.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // One target folder kept between runs: the core's few crates build once.
    let target = root.join("target").join("newcomer");
    let mut child = Command::new(&cargo)
        .args(["run", "--quiet", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(&mut child, 900);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");

    // The crate graph of a core-only user: small.
    let tree = Command::new(&cargo)
        .args(["tree", "--offline", "--prefix", "none", "-e", "normal"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    let mut crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    crates.sort_unstable();
    crates.dedup();
    assert!(crates.len() <= 45, "{} crates: {crates:?}", crates.len());
    for heavy in ["clap", "ureq", "calamine", "plotters", "indicatif"] {
        assert!(!crates.contains(&heavy), "{heavy} in {crates:?}");
    }
}
