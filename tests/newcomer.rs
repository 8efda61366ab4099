//! A newcomer's first crate: the README's library examples (a plain
//! function with `map_fn`, and the same as a `Job`), its `Cargo.toml`
//! lines and its programs copied as they are into a crate of its own that
//! depends on the core only, then built and run.

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

/// Every code block of `lang` in `text`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let start = format!("```{lang}\n");
    text.split(&start)
        .skip(1)
        .map(|b| b.split("\n```").next().unwrap().to_string())
        .collect()
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
    std::fs::create_dir_all(dir.join("src/bin")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-first-pool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             {dependencies}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    let programs = blocks(&section, "rust");
    assert_eq!(programs.len(), 2, "map_fn and Job, side by side");
    assert!(programs[0].contains("pool.map_fn(square, 0..10)"));
    assert!(programs[1].contains("impl mproc::Job for Square"));
    for (i, program) in programs.iter().enumerate() {
        std::fs::write(dir.join(format!("src/bin/example{i}.rs")), program).unwrap();
    }
    // The same versions as mproc's own build, and no network.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // One target folder kept between runs: the core's few crates build once.
    let target = root.join("target").join("newcomer");
    for i in 0..programs.len() {
        let mut child = Command::new(&cargo)
            .args([
                "run",
                "--quiet",
                "--offline",
                "--bin",
                &format!("example{i}"),
            ])
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
            "the README example {i} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
    }

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
    // The 30 crates the README and docs/ARCHITECTURE.md state, the core
    // and this one.
    assert!(crates.len() <= 32, "{} crates: {crates:?}", crates.len());
    for heavy in ["clap", "ureq", "calamine", "plotters", "indicatif"] {
        assert!(!crates.contains(&heavy), "{heavy} in {crates:?}");
    }
}
