//! A newcomer's first crate: the README's library example, copied as it
//! is into a crate of its own that depends on mproc, built and run.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// The first ```rust block after the README's "As a library" heading.
fn readme_example() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## As a library")
        .nth(1)
        .expect("README has an 'As a library' section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .expect("with a rust code block");
    block.split("\n```").next().unwrap().to_string()
}

#[test]
fn the_readme_example_builds_and_runs_in_a_crate_of_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("newcomer");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-first-pool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nmproc = {{ path = {:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
             [workspace]\n",
            root.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), readme_example()).unwrap();
    // The same versions as mproc's own build, and no network.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = root.join("target").join("newcomer");
    let out = Command::new(&cargo)
        .args(["run", "--quiet", "--offline"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
}
