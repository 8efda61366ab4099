use super::*;
use crate::options::{JobChoice, Mode, OutputFormat, PathSource};
use crate::web::Limits;
use clap::CommandFactory;

#[test]
fn cli_is_consistent() {
    Cli::command().debug_assert();
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
    let Parsed::Run(inv) = parse([
        "mproc",
        "pool",
        "--serial",
        "analyze",
        "a.txt",
        "--files-from",
        "-",
        "-r",
        "--encoding",
        "sjis",
    ])
    .unwrap() else {
        panic!("expected a run");
    };
    let Command::Pool(p) = inv.command else {
        panic!("expected pool")
    };
    assert!(p.serial);
    let JobChoice::Analyze(a) = p.job else {
        panic!("expected analyze")
    };
    assert_eq!(a.files, [PathBuf::from("a.txt")]);
    assert_eq!(a.files_from, Some(PathSource::Stdin));
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

#[test]
fn fetch_is_a_pool_command_with_io_defaults() {
    let pool = |args: &[&str]| {
        let Parsed::Run(inv) = parse(["mproc"].iter().chain(args)).unwrap() else {
            panic!("expected a run");
        };
        let Command::Pool(p) = inv.command else {
            panic!("expected pool")
        };
        p
    };
    let p = pool(&[
        "fetch",
        "urls.txt",
        "--limit",
        "5",
        "--request-timeout",
        "0.5",
    ]);
    assert_eq!(p.pool.concurrency, FETCH_CONCURRENCY as u32);
    assert_eq!(p.pool.processes, None);
    let JobChoice::Fetch(f) = p.job else {
        panic!("expected fetch")
    };
    assert_eq!((f.source.as_str(), f.limit), ("urls.txt", Some(5)));
    assert_eq!(f.limits.request_timeout, Duration::from_millis(500));
    assert_eq!(f.limits.connect_timeout, Limits::default().connect_timeout);
    assert_eq!(f.limits.max_bytes, Limits::default().max_bytes);
    assert_eq!(f.limits.max_redirects, Limits::default().max_redirects);

    // The pool form keeps the pool's default of one at a time.
    let p = pool(&["pool", "-n", "5", "fetch", "urls.txt"]);
    assert_eq!((p.pool.processes, p.pool.concurrency), (Some(5), 1));
    let p = pool(&["fetch", "-n", "2", "--concurrency", "50", "--json", "u"]);
    assert_eq!((p.pool.processes, p.pool.concurrency), (Some(2), 50));
    assert_eq!(p.output, OutputFormat::Json);

    let e = parse(["mproc", "fetch", "u", "--max-bytes", "0"]).unwrap_err();
    assert!(e.message().contains("--max-bytes"), "{e}");
    let e = parse(["mproc", "fetch"]).unwrap_err();
    assert!(e.message().contains("<SOURCE>"), "{e}");
}

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
        (0, Duration::from_millis(5), 100)
    );
}

#[test]
fn pool_flags_parse_into_plain_values() {
    let Parsed::Run(inv) = parse([
        "mproc",
        "-q",
        "pool",
        "-n",
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
    let Command::Pool(p) = inv.command else {
        panic!("expected pool")
    };
    assert_eq!(p.pool.processes, Some(3));
    assert_eq!(p.mode, Mode::ImapUnordered);
    assert_eq!(p.output, OutputFormat::Jsonl);
    assert!(matches!(p.job, JobChoice::Square { count: 11 }));
    assert_eq!(inv.log.filter.as_deref(), Some("error"));
}

#[test]
fn excel_commands_parse_into_plain_values() {
    let Parsed::Run(inv) = parse([
        "mproc",
        "pool",
        "excel",
        "--sheet",
        "2",
        "--first-nonempty",
        "a.xlsx",
        "b.ods",
    ])
    .unwrap() else {
        panic!("expected a run");
    };
    let Command::Pool(p) = inv.command else {
        panic!("expected pool")
    };
    let JobChoice::Excel { files, job } = p.job else {
        panic!("expected excel")
    };
    assert_eq!(files, [PathBuf::from("a.xlsx"), PathBuf::from("b.ods")]);
    assert_eq!(job.sheet.as_deref(), Some("2"));
    assert!(job.first_nonempty && !job.dates_as_numbers);

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
