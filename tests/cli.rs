//! Command-line surface: cpu-count, usage errors, exit codes.

use crate::support::*;

#[test]
fn cpu_count_prints_a_positive_number_and_honours_the_override() {
    let r = run_expect(&["cpu-count"], 0);
    let n: usize = r.stdout.trim().parse().unwrap();
    assert!(n >= 1);
    let r: Run = mproc()
        .args(["cpu-count"])
        .env("MPROC_CPU_COUNT", "5")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.stdout, "5\n");
    let r: Run = mproc()
        .args(["cpu-count", "--json"])
        .env("MPROC_CPU_COUNT", "5")
        .output()
        .unwrap()
        .into();
    let doc = r.json();
    assert_eq!(
        (doc["usable"].as_u64(), doc["decided_by"].as_str()),
        (Some(5), Some("override"))
    );
    assert!(doc["logical"].as_u64().unwrap() >= 1);
    let r = run_expect(&["cpu-count", "--verbose"], 0);
    for key in [
        "usable:",
        "decided by:",
        "logical:",
        "physical:",
        "affinity:",
        "quota:",
        "override:",
    ] {
        assert!(r.stdout.contains(key), "{key} missing in\n{}", r.stdout);
    }
}

#[test]
fn a_bad_override_is_a_one_line_error() {
    let r: Run = mproc()
        .args(["cpu-count"])
        .env("MPROC_CPU_COUNT", "lots")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("MPROC_CPU_COUNT"));
}

#[test]
fn the_pool_uses_the_cpu_count_by_default() {
    let r: Run = mproc()
        .args([
            "-q", "pool", "--json", "chaos", "sleep:50", "sleep:50", "sleep:50", "sleep:50",
            "sleep:50", "sleep:50",
        ])
        .env("MPROC_CPU_COUNT", "3")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.json()["summary"]["processes"], 3);
}

#[test]
fn usage_errors_are_one_line_name_the_flag_and_exit_2() {
    for (args, needle) in [
        (vec!["pool", "-n", "0", "square", "3"], "--processes"),
        (vec!["pool", "-n", "three", "square", "3"], "--processes"),
        (vec!["pool", "--mode", "fast", "square", "3"], "--mode"),
        (vec!["pool", "cube", "3"], "cube"),
        (
            vec!["pool", "--chunksize", "0", "square", "3"],
            "--chunksize",
        ),
        (vec!["pool", "--timeout", "0", "square", "3"], "--timeout"),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("mproc: "), "{}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn help_and_version_exit_0() {
    let r = run_expect(&["--help"], 0);
    assert!(r.stdout.contains("pool") && r.stdout.contains("cpu-count"));
    assert!(
        !r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("worker")),
        "the worker subcommand is hidden"
    );
    let r = run_expect(&["--version"], 0);
    assert!(r.stdout.starts_with("mproc "));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::io::Read;
    let mut child = mproc()
        .args(["-q", "pool", "-n", "2", "--jsonl", "square", "20000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = run_expect(&["completions", shell], 0);
        assert!(
            r.stdout.contains("mproc") && r.stdout.contains("pool"),
            "{shell}"
        );
    }
    let r = run_expect(&["man"], 0);
    assert!(r.stdout.contains(".TH mproc 1"));
    assert!(r.stdout.contains("cpu\\-count") || r.stdout.contains("cpu-count"));
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tcsh"));
}

#[test]
fn a_pool_job_typed_at_the_top_level_hints_at_mproc_pool() {
    for name in mproc_cli::jobs::names() {
        if matches!(name, "run" | "fetch") {
            continue; // top-level commands of their own
        }
        let r = run(&[name, "x"]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert_eq!(r.stdout, "");
        assert_eq!(
            r.stderr,
            format!("mproc: unrecognized subcommand '{name}'; did you mean `mproc pool {name}`?\n")
        );
    }
    // Elsewhere an unknown subcommand gets no such hint.
    let r = run(&["gen", "analyze"]);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("mproc pool"), "{}", r.stderr);
}

/// The pages a man page points at: `\fBmproc\-pool\fR(1)` in SEE ALSO and
/// `mproc\-pool\-square(1)` in SUBCOMMANDS, as file names.
fn man_references(page: &str) -> Vec<String> {
    let text = page
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\-", "-");
    let mut names = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',') {
        if let Some(name) = word.strip_suffix("(1)") {
            if name.starts_with("mproc") {
                names.push(format!("{name}.1"));
            }
        }
    }
    names
}

#[test]
fn man_dir_writes_a_page_per_subcommand_and_every_page_it_names_exists() {
    let tmp = temp_dir("man-dir");
    let dir = tmp.join("man1");
    let r = run_expect(&["man", "--dir", dir.to_str().unwrap()], 0);
    let mut expected = vec![
        "mproc.1".to_string(),
        "mproc-pool.1".into(),
        "mproc-cpu-count.1".into(),
        "mproc-gen-text.1".into(),
        "mproc-man.1".into(),
    ];
    for name in mproc_cli::jobs::names() {
        expected.push(format!("mproc-pool-{name}.1"));
    }
    for name in &expected {
        assert!(
            dir.join(name).is_file(),
            "{name} missing; wrote:\n{}",
            r.stdout
        );
    }
    assert!(!dir.join("mproc-worker.1").exists(), "the worker is hidden");
    assert!(!dir.join("mproc-help.1").exists(), "help has no page");
    // Every page written is listed, and every page it names exists.
    let written: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(written.len(), std::fs::read_dir(&dir).unwrap().count());
    for path in written {
        let page = std::fs::read_to_string(path).unwrap();
        // Every page but the top one points back at its parents.
        let top = path.ends_with("/mproc.1");
        assert_eq!(page.contains(".SH \"SEE ALSO\""), !top, "{path}");
        let names = man_references(&page);
        assert!(!names.is_empty(), "{path} names no page");
        for name in names {
            assert!(
                dir.join(&name).is_file(),
                "{path} names {name}, not written"
            );
        }
    }
    let analyze = std::fs::read_to_string(dir.join("mproc-pool-analyze.1")).unwrap();
    assert!(analyze.contains("\\-\\-files\\-from"), "{analyze}");
    assert_eq!(
        man_references(analyze.split("SEE ALSO").nth(1).unwrap()),
        ["mproc.1", "mproc-pool.1"]
    );
    // `mproc man` alone prints the top page.
    let top = run_expect(&["man"], 0).stdout;
    assert_eq!(top, std::fs::read_to_string(dir.join("mproc.1")).unwrap());
}

#[test]
fn a_man_page_that_cannot_be_written_is_one_line_naming_it() {
    let tmp = temp_dir("man-dir-blocked");
    std::fs::create_dir_all(tmp.join("mproc-pool.1")).unwrap();
    let r = run(&["man", "--dir", tmp.path().to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("mproc: cannot write ") && r.stderr.contains("mproc-pool.1"),
        "{}",
        r.stderr
    );
}

#[test]
fn one_item_is_counted_as_one_item() {
    let r = run_expect(&["pool", "-n", "1", "chaos", "fail:x"], 1);
    assert!(
        r.stderr.contains(" 1 item: 0 ok, 1 failed in "),
        "{}",
        r.stderr
    );
    let r = run_expect(&["pool", "-n", "1", "chaos", "fail:x", "fail:y"], 1);
    assert!(
        r.stderr.contains(" 2 items: 0 ok, 2 failed in "),
        "{}",
        r.stderr
    );
    let r = run_expect(
        &[
            "pool",
            "-n",
            "1",
            "--halt-on-error",
            "chaos",
            "fail:x",
            "ok",
        ],
        1,
    );
    assert!(r.stderr.contains(" 1 item not run ("), "{}", r.stderr);
    let tmp = temp_dir("one-file");
    let r = run_expect(
        &[
            "gen",
            "text",
            tmp.path().to_str().unwrap(),
            "--files",
            "1",
            "--rows",
            "0",
        ],
        0,
    );
    assert!(
        r.stderr.contains("wrote 1 file, 0 bytes, to "),
        "{}",
        r.stderr
    );
}

#[test]
fn serve_demo_says_how_to_stop_it_in_the_background_too() {
    use std::io::BufRead;
    let mut child = mproc()
        .args([
            "serve-demo",
            "--port",
            "0",
            "--pages",
            "1",
            "--latency-ms",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stderr).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(std::time::Duration::from_secs(60));
    child.kill().unwrap();
    child.wait().unwrap();
    let line = line.expect("serve-demo said nothing on stderr within 60 s");
    assert!(line.contains("serving 1 page with 0 ms latency"), "{line}");
    assert!(
        line.contains("Ctrl-C") && line.contains(&format!("kill %1 (or kill {})", child.id())),
        "{line}"
    );
}
