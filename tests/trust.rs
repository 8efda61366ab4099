//! The trust boundary of inputs: an input (a file name, a line of stdin,
//! an argument after `:::`) is data. Whatever bytes it holds, it changes
//! nothing but its own item's record: it cannot forge another item's
//! output, an exit status, or make the parent read or delete a file.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;

use proptest::prelude::*;

use crate::support::{mproc, temp_dir, wait_bounded, with_marker, Run};

/// Runs `mproc ARGS` in `dir` with `stdin`, bounded in time.
fn run_in(dir: &std::path::Path, args: &[&std::ffi::OsStr], stdin: &[u8]) -> Run {
    let mut child = mproc()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mproc runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    wait_bounded(&mut child, 120).into()
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// The JSON text of `s` with every `/` spelled `\u002f`, as an attacker
/// writes a path into a file name that may not hold a slash.
fn json_without_slashes(s: &str) -> String {
    serde_json::to_string(s).unwrap().replace('/', "\\u002f")
}

#[test]
fn a_crafted_file_name_cannot_print_or_delete_another_file() {
    let dir = temp_dir("trust-forge");
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "the secret\n").unwrap();
    // Once the failure's data travelled inside its message after a 0x1f
    // byte: a name holding 0x1f and a JSON array decided the item's exit,
    // its stdout, and the "spool file" the parent printed and removed.
    let forged = format!(
        "no-such-program\u{1f}[0,null,[\"\",{},11],[\"\",null,0]]",
        json_without_slashes(&secret.display().to_string())
    );
    let mut stdin = forged.clone().into_bytes();
    stdin.push(0);
    let r = run_in(
        dir.path(),
        // The name as the program itself, so that it is in the message
        // (`command not found: NAME`).
        &[
            os("pool"),
            os("run"),
            os("--no-shell"),
            os("-0"),
            os("-n"),
            os("1"),
            os("--json"),
            os("{}"),
        ],
        &stdin,
    );
    assert_eq!(
        std::fs::read_to_string(&secret).ok().as_deref(),
        Some("the secret\n"),
        "the parent removed a file named by an input\n{}",
        r.stderr
    );
    assert!(!r.stdout.contains("the secret"), "{}", r.stdout);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let record = &r.json()["results"][0];
    assert_eq!(record["outcome"], "failed");
    assert_eq!(record["error"], format!("command not found: {forged}"));
    // It never started: no exit status, and none forged.
    assert!(record["exit_code"].is_null(), "{record}");
    assert_eq!(record["stdout"], "");

    // The same name in the human report: nothing of the file is printed.
    let r = run_in(
        dir.path(),
        &[os("pool"), os("run"), os("--no-shell"), os("-0"), os("{}")],
        &stdin,
    );
    assert!(secret.exists(), "{}", r.stderr);
    assert!(!r.stdout.contains("the secret"), "{}", r.stdout);
    assert_eq!(r.code, 1, "{}", r.stderr);

    // And `mproc run`, where the shell runs it (GNU parallel's way): the
    // shell's own failure, and nothing read or removed.
    let r = run_in(
        dir.path(),
        &[os("run"), os("-0"), os("--json"), os("{}")],
        &stdin,
    );
    assert!(secret.exists(), "{}", r.stderr);
    assert!(!r.stdout.contains("the secret"), "{}", r.stdout);
    let record = &r.json()["results"][0];
    assert_eq!(record["outcome"], "failed", "{record}");
    assert_eq!(record["exit_code"], 127, "{record}");
    assert_eq!(record["stdout"], "", "{record}");
}

/// `inputs` as `-0` reads them: each ended by a NUL byte.
fn nul_separated(inputs: &[Vec<u8>]) -> Vec<u8> {
    inputs
        .iter()
        .flat_map(|i| i.iter().copied().chain([0]))
        .collect()
}

/// Bytes an input may hold (anything but NUL, the separator with `-0`),
/// weighted towards the ones that once meant something to the parent.
fn hostile_input() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>().prop_filter("not NUL", |b| *b != 0),
        2 => Just(0x1f_u8),
        1 => prop::sample::select(b"[]{},\":\\/nul0123456789 \n\t".to_vec()),
    ];
    let text = prop::collection::vec(byte, 0..40);
    let forged = Just(b"x\x1f[0,null,[\"41\",null,1],[\"\",null,0]]".to_vec());
    prop_oneof![4 => text, 1 => forged]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Each input reaches its own command as one argument and comes back as
    /// its own record: the command's stdout is the input, the exit status
    /// and error are the command's, whatever the other inputs hold.
    #[test]
    fn an_input_changes_nothing_but_its_own_record(
        inputs in prop::collection::vec(hostile_input(), 1..6),
    ) {
        let dir = temp_dir("trust-prop");
        let stdin = nul_separated(&inputs);
        let args = [
            "run", "-0", "-j", "2", "--json", "--no-shell", "sh", "-c",
            "printf %s \"$1\"; printf %s \"$1\" >&2; exit 3", "sh", "{}",
        ];
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| os(a)).collect();
        let r = run_in(dir.path(), &args, &stdin);
        // GNU parallel's exit status: the number of failed jobs.
        prop_assert_eq!(r.code as usize, inputs.len(), "{}", r.stderr);
        let json = r.json();
        let records = json["results"].as_array().unwrap();
        prop_assert_eq!(records.len(), inputs.len());
        for (record, input) in records.iter().zip(&inputs) {
            let text = String::from_utf8_lossy(input);
            prop_assert_eq!(&record["outcome"], "failed");
            prop_assert_eq!(&record["error"], "exit 3");
            prop_assert_eq!(&record["exit_code"], 3);
            prop_assert_eq!(&record["stdout"], text.as_ref());
            prop_assert_eq!(&record["stderr"], text.as_ref());
            prop_assert!(record.get("earlier_attempts").is_none());
        }

        // As the program's own name: every item is its own "not found".
        let named: Vec<Vec<u8>> = inputs
            .iter()
            .map(|i| [b"mproc-no-such-program-".as_slice(), i].concat())
            .collect();
        let stdin = nul_separated(&named);
        let args = ["run", "-0", "-j", "2", "--json", "--no-shell", "{}"];
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| os(a)).collect();
        let r = run_in(dir.path(), &args, &stdin);
        prop_assert_eq!(r.code as usize, named.len(), "{}", r.stderr);
        let json = r.json();
        let records = json["results"].as_array().unwrap();
        prop_assert_eq!(records.len(), named.len());
        for (record, input) in records.iter().zip(&named) {
            let text = String::from_utf8_lossy(input);
            prop_assert_eq!(&record["outcome"], "failed");
            let error = record["error"].as_str().unwrap();
            prop_assert!(
                error == format!("command not found: {text}")
                    || error.starts_with("cannot start "),
                "{}", error
            );
            prop_assert_eq!(&record["stdout"], "");
        }

        // And as file names for a built-in job: each record names its own.
        let mut args: Vec<&std::ffi::OsStr> =
            ["pool", "-n", "2", "--json", "analyze", "--"].iter().map(|a| os(a)).collect();
        let names: Vec<std::ffi::OsString> = named
            .iter()
            .map(|n| std::ffi::OsStr::from_bytes(n).to_owned())
            .collect();
        args.extend(names.iter().map(|n| n.as_os_str()));
        let r = run_in(dir.path(), &args, b"");
        prop_assert_eq!(r.code, 1, "{}", r.stderr);
        let json = r.json();
        let records = json["results"].as_array().unwrap();
        prop_assert_eq!(records.len(), named.len());
        for (record, input) in records.iter().zip(&named) {
            let text = String::from_utf8_lossy(input);
            prop_assert_eq!(&record["outcome"], "failed");
            prop_assert_eq!(&record["input"], text.as_ref());
            let error = record["error"].as_str().unwrap();
            prop_assert!(error.starts_with("cannot open "), "{}", error);
        }
    }
}

/// `mproc run ARGS` whose files may grow to `limit` bytes at most (as on a
/// nearly full disk: a write past it fails, with SIGXFSZ ignored).
fn run_with_file_limit(dir: &std::path::Path, args: &[&str], limit: u64) -> Run {
    use std::os::unix::process::CommandExt;
    let mut cmd = mproc();
    cmd.current_dir(dir)
        .env("TMPDIR", dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec the closure calls only setrlimit and
    // sigaction, both async-signal-safe, and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            use nix::sys::resource::{setrlimit, Resource};
            use nix::sys::signal::{signal, SigHandler, Signal};
            setrlimit(Resource::RLIMIT_FSIZE, limit, limit)?;
            signal(Signal::SIGXFSZ, SigHandler::SigIgn)?;
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("mproc runs");
    wait_bounded(&mut child, 120).into()
}

#[test]
fn a_spool_write_that_fails_fails_the_item_never_an_ok_cut() {
    let dir = temp_dir("trust-spool");
    // 10,000,004 bytes of stdout: the first 4 MiB stay in memory, the rest
    // goes to the spool file. With room for none of it, or for only part.
    let write = "head -c 10000004 /dev/zero # {}";
    for limit in [1 << 20, 6 << 20] {
        let r = run_with_file_limit(
            dir.path(),
            &["run", "-j", "1", "--json", write, ":::", "x"],
            limit,
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        let record = &r.json()["results"][0];
        assert_eq!(record["outcome"], "failed", "{record}");
        let error = record["error"].as_str().unwrap();
        assert!(
            error.starts_with("cannot write stdout to spool file ")
                && error.contains(&dir.path().display().to_string())
                && error.ends_with(": file too large"),
            "{error}"
        );
        assert_eq!(record["exit_code"], 0, "the command's own status is kept");
        assert_eq!(
            record["stdout"], "\n[mproc: cut at 0 of 10000004 bytes]",
            "nothing of a cut output is shown as if whole"
        );

        // And printed for people: a failure, and no partial output.
        let r = run_with_file_limit(dir.path(), &["run", "-j", "1", write, ":::", "x"], limit);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(r.stdout.len(), 0, "no part of a cut output is printed");
        assert!(
            r.stderr.contains("cannot write stdout to spool file"),
            "{}",
            r.stderr
        );
    }
    // The spool folder went with the run.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("mproc-run-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_earlier_attempt_keeps_its_headline_not_its_output() {
    let dir = temp_dir("trust-attempts");
    let joblog = dir.path().join("jobs.log");
    // 2 MB of stdout, then exit 3: once its hex rode in the error text of
    // every earlier attempt, in --json and in the job log.
    let r = run_in(
        dir.path(),
        &[
            // mproc's own retries (`mproc run --retries` counts GNU's way).
            os("pool"),
            os("run"),
            os("-n"),
            os("1"),
            os("--retries"),
            os("1"),
            os("--retry-errors"),
            os("--json"),
            os("--joblog"),
            joblog.as_os_str(),
            os("head -c 2000000 /dev/zero; exit 3 # {}"),
            os(":::"),
            os("x"),
        ],
        b"",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let record = &r.json()["results"][0];
    assert_eq!(record["attempts"], 2);
    assert_eq!(record["error"], "exit 3");
    assert_eq!(record["earlier_attempts"][0]["error"], "exit 3", "{record}");
    let log = std::fs::read_to_string(&joblog).unwrap();
    assert!(log.len() < 4096, "a job log of {} bytes", log.len());
    assert!(!log.contains('\u{1f}'));
}

#[test]
fn what_leaves_its_commands_group_ends_with_its_item() {
    let dir = temp_dir("trust-setsid");
    // At the item's end: a background child, one in a session of its own,
    // one that also cleared its environment, and a double fork.
    let script = "sleep 1234.71 & setsid sleep 1234.72 & \
                  setsid env -i sleep 1234.73 & (setsid sleep 1234.74 &) ; echo {}";
    for mode in [["-j", "1"], ["-j", "2"], ["--serial", "--json"]] {
        let r = run_in(
            dir.path(),
            &[
                os("run"),
                os(mode[0]),
                os(mode[1]),
                os(script),
                os(":::"),
                os("a"),
                os("b"),
            ],
            b"",
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        for marker in ["1234.71", "1234.72", "1234.73", "1234.74"] {
            assert_eq!(
                with_marker(marker),
                Vec::<u32>::new(),
                "{marker} left ({mode:?})"
            );
        }
    }
    // At --timeout, its worker killed: the ones that kept their mark.
    let script = "setsid sleep 1234.75 & (setsid sleep 1234.76 &); sleep 1234.77 # {}";
    let r = run_in(
        dir.path(),
        &[
            os("run"),
            os("--timeout"),
            os("0.5"),
            os(script),
            os(":::"),
            os("a"),
        ],
        b"",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    for marker in ["1234.75", "1234.76", "1234.77"] {
        assert_eq!(
            with_marker(marker),
            Vec::<u32>::new(),
            "{marker} left at the timeout"
        );
    }
}
