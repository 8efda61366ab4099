use super::*;
use crate::jobs::{self, Builtin, Call};
use crate::options::{Mode, OutputFormat, PoolCommand};

#[test]
fn cli_is_consistent() {
    command().debug_assert();
}

/// The pool command and job of a parsed command line.
fn pool(args: &[&str]) -> (Box<PoolCommand>, Box<dyn Call>) {
    let Parsed::Run(inv) = parse(["mproc"].iter().chain(args)).unwrap() else {
        panic!("expected a run");
    };
    let Command::Pool { pool, job } = inv.command else {
        panic!("expected pool")
    };
    (pool, job)
}

/// The arguments job `J` was given.
fn args<J: Builtin>(job: &dyn Call) -> &J::Args {
    &job.as_any()
        .downcast_ref::<jobs::Args<J>>()
        .unwrap_or_else(|| panic!("expected {}, got {}", J::NAME, job.name()))
        .0
}

#[test]
fn errors_are_one_line_and_name_the_flag() {
    let e = parse(["mproc", "pool", "-n", "0", "square", "3"]).unwrap_err();
    assert!(e.is_usage());
    assert!(!e.message().contains('\n'));
    assert!(e.message().contains("--processes"), "{e}");
    let e = parse(["mproc", "pool", "-n", "x", "square", "3"]).unwrap_err();
    assert!(e.message().contains("'x' is not a whole number"), "{e}");
    let e = parse(["mproc", "pool", "--mode", "fast", "square", "3"]).unwrap_err();
    assert!(e.message().contains("--mode"), "{e}");
    let e = parse(["mproc", "pool", "cube", "3"]).unwrap_err();
    assert!(e.message().contains("cube"), "{e}");
}

#[test]
fn analyze_and_gen_parse_into_plain_values() {
    let (p, job) = pool(&[
        "pool",
        "--serial",
        "analyze",
        "a.txt",
        "--files-from",
        "-",
        "-r",
        "--encoding",
        "sjis",
    ]);
    assert!(p.serial);
    let a = args::<jobs::Analyze>(job.as_ref());
    assert_eq!(a.files, [PathBuf::from("a.txt")]);
    assert_eq!(a.files_from, Some(PathBuf::from("-")));
    assert!(a.recursive);
    assert_eq!(a.encoding.as_deref(), Some("sjis"));

    let Parsed::Run(inv) =
        parse(["mproc", "gen", "text", "d", "--files", "3", "--rows", "9"]).unwrap()
    else {
        panic!("expected a run");
    };
    assert!(matches!(
        inv.command,
        Command::Gen(GenCommand::Text {
            files: 3,
            rows: 9,
            seed: 1,
            ..
        })
    ));
}

#[test]
fn analyze_usage_errors_are_one_line() {
    let cases: [(&[&str], &[&str]); 3] = [
        (&["pool", "analyze"], &["not provided", "<FILE>"]),
        (
            &["pool", "analyze", "--encoding", "klingon", "a"],
            &["--encoding", "'klingon'"],
        ),
        (
            &["pool", "-n", "2", "--serial", "analyze", "a"],
            &["--serial"],
        ),
    ];
    for (args, words) in cases {
        let e = parse(["mproc"].iter().chain(args)).unwrap_err();
        assert!(!e.message().contains('\n'), "{e}");
        for word in words {
            assert!(e.message().contains(word), "{e}");
        }
    }
}

#[cfg(feature = "fetch")]
#[test]
fn fetch_is_a_pool_command_with_io_defaults() {
    use crate::web::Limits;
    let (p, job) = pool(&[
        "fetch",
        "urls.txt",
        "--limit",
        "5",
        "--request-timeout",
        "0.5",
    ]);
    assert_eq!(p.settings.concurrency, jobs::fetch::FETCH_CONCURRENCY);
    assert_eq!(p.settings.processes, None);
    let f = args::<jobs::Fetch>(job.as_ref());
    assert_eq!((f.source.as_str(), f.limit), ("urls.txt", Some(5)));
    assert_eq!(f.request_timeout, std::time::Duration::from_millis(500));
    assert_eq!(f.connect_timeout, Limits::default().connect_timeout);
    assert_eq!(f.max_bytes, Limits::default().max_bytes);
    assert_eq!(f.max_redirects, Limits::default().max_redirects);

    // The pool form keeps the pool's default of one at a time.
    let (p, _) = pool(&["pool", "-n", "5", "fetch", "urls.txt"]);
    assert_eq!((p.settings.processes, p.settings.concurrency), (Some(5), 1));
    let (p, _) = pool(&["fetch", "-n", "2", "--concurrency", "50", "--json", "u"]);
    assert_eq!(
        (p.settings.processes, p.settings.concurrency),
        (Some(2), 50)
    );
    assert_eq!(p.output, OutputFormat::Json);

    let e = parse(["mproc", "fetch", "u", "--max-bytes", "0"]).unwrap_err();
    assert!(e.message().contains("--max-bytes"), "{e}");
    let e = parse(["mproc", "fetch"]).unwrap_err();
    assert!(e.message().contains("<SOURCE>"), "{e}");
}

#[cfg(feature = "fetch")]
#[test]
fn serve_demo_parses_into_plain_values() {
    let Parsed::Run(inv) =
        parse(["mproc", "serve-demo", "--port", "0", "--latency-ms", "5"]).unwrap()
    else {
        panic!("expected a run");
    };
    let Command::ServeDemo(d) = inv.command else {
        panic!("expected serve-demo")
    };
    assert_eq!(
        (d.port, d.latency, d.pages),
        (0, std::time::Duration::from_millis(5), 100)
    );
}

#[test]
fn pool_flags_parse_into_plain_values() {
    let Parsed::Run(inv) = parse([
        "mproc",
        "-q",
        "pool",
        "-j",
        "3",
        "--mode",
        "imap-unordered",
        "--jsonl",
        "square",
        "11",
    ])
    .unwrap() else {
        panic!("expected a run");
    };
    let Command::Pool { pool: p, job } = inv.command else {
        panic!("expected pool")
    };
    assert_eq!(p.settings.processes, Some(3));
    assert_eq!(p.settings.log_filter.as_deref(), Some("error"));
    assert_eq!(p.mode, Mode::ImapUnordered);
    assert_eq!(p.output, OutputFormat::Jsonl);
    assert_eq!(args::<jobs::Square>(job.as_ref()).count, 11);
    assert_eq!(inv.log.filter.as_deref(), Some("error"));
}

#[cfg(feature = "excel")]
#[test]
fn excel_commands_parse_into_plain_values() {
    let (_, job) = pool(&[
        "pool",
        "excel",
        "--sheet",
        "2",
        "--first-nonempty",
        "a.xlsx",
        "b.ods",
    ]);
    let e = args::<jobs::ExcelSum>(job.as_ref());
    assert_eq!(e.files, [PathBuf::from("a.xlsx"), PathBuf::from("b.ods")]);
    assert_eq!(e.sheet.as_deref(), Some("2"));
    assert!(e.first_nonempty && !e.dates_as_numbers);

    let Parsed::Run(inv) = parse([
        "mproc", "gen", "excel", "out", "--files", "3", "--seed", "9",
    ])
    .unwrap() else {
        panic!("expected a run");
    };
    let Command::Gen(GenCommand::Excel { spec, json }) = inv.command else {
        panic!("expected gen excel")
    };
    assert_eq!((spec.files, spec.numbers, spec.decimals), (3, 10, 0));
    assert_eq!((spec.seed, json), (9, false));
    let e = parse(["mproc", "gen", "excel", "out"]).unwrap_err();
    assert!(e.message().contains("--files"), "{e}");
}

#[test]
fn a_pool_job_at_the_top_level_is_a_usage_error_with_a_hint() {
    let top = command();
    for entry in crate::jobs::TABLE {
        let name = entry.name();
        if top.find_subcommand(name).is_some() {
            continue; // run and fetch are top-level commands too
        }
        let e = parse(["mproc", "-v", name, "x"]).unwrap_err();
        assert!(e.is_usage(), "{e}");
        assert_eq!(
            e.message(),
            format!("unrecognized subcommand '{name}'; did you mean `mproc pool {name}`?")
        );
    }
    let e = parse(["mproc", "gen", "analyze"]).unwrap_err();
    assert!(!e.message().contains("mproc pool"), "{e}");
    let e = parse(["mproc", "anlyze"]).unwrap_err();
    assert!(!e.message().contains("mproc pool"), "{e}");
}

/// The invocation `cmd` reads from `line`.
fn read_with(cmd: clap::Command, line: &[&str]) -> String {
    let m = cmd.try_get_matches_from(line).unwrap();
    let cli = Cli::from_arg_matches(&m).unwrap();
    format!("{:?}", cli.into_invocation(&m))
}

#[test]
fn a_pool_line_reads_the_same_with_its_job_alone() {
    for line in [
        &["mproc", "-q", "pool", "-n", "2", "square", "10"][..],
        &["mproc", "pool", "square", "10", "-n", "3", "--json"][..],
        &[
            "mproc",
            "-v",
            "pool",
            "--chunksize",
            "4",
            "analyze",
            "a.txt",
            "b.txt",
        ][..],
        &["mproc", "pool", "--log-file", "run", "square", "3"][..],
        &[
            "mproc", "pool", "-n", "2", "run", "echo {}", ":::", "square", "pool",
        ][..],
        &[
            "mproc",
            "pool",
            "--mode",
            "imap",
            "--timeout",
            "2",
            "chaos",
            "ok:a",
        ][..],
    ] {
        let job = named_job(&line.iter().map(OsString::from).collect::<Vec<_>>()).unwrap();
        let alone = with_jobs(|name| name == job).try_get_matches_from(line);
        if alone.is_ok() {
            assert_eq!(
                read_with(with_jobs(|name| name == job), line),
                read_with(command(), line),
                "{line:?}"
            );
        }
        // Either way, what `parse` reads is the whole command's reading.
        let whole = read_with(command(), line);
        let Parsed::Run(parsed) = parse(line.iter()).unwrap() else {
            panic!("{line:?} runs");
        };
        assert_eq!(format!("{:?}", Ok::<_, Error>(*parsed)), whole, "{line:?}");
    }
}
