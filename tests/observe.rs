//! Seeing the work: job log, resume, timeline, progress bar, output schema.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::*;

fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_job_log_has_one_row_per_item_matching_the_results() {
    let dir = temp_dir("joblog");
    let log = dir.join("jobs.tsv");
    let log_arg = log.display().to_string();
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--joblog",
            &log_arg,
            "--json",
            "chaos",
            "ok:a",
            "fail:b\tc",
            "sleep:5",
            "exit:4",
        ],
        1,
    );
    let doc = r.json();
    let rows = rows(&log);
    assert_eq!(rows[0].join("\t"), mproc_cli::joblog::HEADER);
    assert_eq!(rows.len(), 5);
    for result in doc["results"].as_array().unwrap() {
        let i = result["index"].as_u64().unwrap() as usize;
        let row = rows[1..]
            .iter()
            .find(|r| r[0] == i.to_string())
            .expect("a row per item");
        assert_eq!(row.len(), 10);
        assert_eq!(row[9], "-", "local workers have no host");
        assert_eq!(row[2], result["worker"].to_string());
        assert_eq!(row[3], result["pid"].to_string());
        assert_eq!(row[6], result["attempts"].to_string());
        assert_eq!(row[7], result["outcome"].as_str().unwrap());
        assert!(
            row[4].parse::<f64>().unwrap() > 1.7e9,
            "start is a Unix time: {}",
            row[4]
        );
    }
    let failed = rows.iter().find(|r| r[7] == "failed").unwrap();
    assert_eq!(failed[1], "fail:b\\tc", "tabs are escaped");
    assert_eq!(failed[8], "b\\tc");
    assert!(rows
        .iter()
        .any(|r| r[7] == "crashed" && r[8].contains("exit code 4")));
}

#[test]
fn resume_runs_exactly_what_did_not_end_ok() {
    let dir = temp_dir("resume");
    let log = dir.join("jobs.tsv").display().to_string();
    let flag = dir.join("fixed").display().to_string();
    // "flaky" crashes the first time (it creates its file), then succeeds.
    let flaky = format!("flaky:{flag}");
    let items = ["ok:a", "fail:b", flaky.as_str(), "ok:d"];
    let mut args = vec!["-q", "pool", "-n", "2", "--joblog", &log, "--json", "chaos"];
    args.extend(items);
    let first = run_expect(&args, 1).json();
    assert_eq!(first["summary"]["ok"], 2);

    // --resume-failed: only the two that failed run again.
    let mut args = vec![
        "-q",
        "pool",
        "-n",
        "2",
        "--resume",
        &log,
        "--resume-failed",
        "--json",
        "chaos",
    ];
    args.extend(items);
    let again = run_expect(&args, 1).json();
    let ran: Vec<u64> = again["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(ran, vec![1, 2]);
    assert_eq!(again["results"][1]["outcome"], "ok");

    // --resume: everything not ok in the log, plus items never seen.
    let mut args = vec!["-q", "pool", "-n", "2", "--resume", &log, "--json", "chaos"];
    args.extend(items);
    args.push("ok:new");
    let last = run_expect(&args, 1).json();
    let ran: Vec<u64> = last["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(ran, vec![1, 4]);
    // The log kept growing: 4 + 2 + 2 rows after its header.
    assert_eq!(rows(std::path::Path::new(&log)).len(), 1 + 4 + 2 + 2);
}

#[test]
fn the_timeline_is_svg_with_one_bar_per_item_and_one_lane_per_worker() {
    let dir = temp_dir("timeline");
    let svg_path = dir.join("run.svg");
    let svg_arg = svg_path.display().to_string();
    run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "3",
            "--timeline",
            &svg_arg,
            "chaos",
            "segv",
            "sleep:30",
            "fail:x",
            "sleep:20",
            "sleep:10",
            "ok:y",
            "sleep:25",
        ],
        1,
    );
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the timeline is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let fill = |c: (u8, u8, u8)| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    let rects = |color: String| {
        doc.descendants()
            .filter(|n| {
                n.tag_name().name() == "rect" && n.attribute("fill") == Some(color.as_str())
            })
            .count()
    };
    let lane = mproc_cli::timeline::LANE;
    assert_eq!(
        rects(fill((lane.0, lane.1, lane.2))),
        3,
        "one lane per worker"
    );
    let bars: usize = mproc_cli::timeline::COLORS
        .iter()
        .map(|(_, c)| rects(fill((c.0, c.1, c.2))))
        .sum();
    assert_eq!(bars, 7, "one bar per item");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    assert_eq!(texts.iter().filter(|t| t.starts_with("worker ")).count(), 3);
    assert!(texts.iter().any(|t| t.contains("seconds")), "a time axis");
    assert!(
        texts.iter().any(|t| t.starts_with("pid ")),
        "the replacement after the crash is marked"
    );
}

#[test]
fn the_progress_bar_stays_off_when_stderr_is_not_a_terminal() {
    // stderr is a pipe here, as in CI.
    let r = run_expect(
        &[
            "pool",
            "-n",
            "2",
            "chaos",
            "sleep:200",
            "sleep:200",
            "sleep:200",
        ],
        0,
    );
    assert!(!r.stderr.contains("items"), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{2591}') && !r.stderr.contains('\r'));
    // --progress forces it; --no-progress and --json keep it off.
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--progress",
            "chaos",
            "sleep:300",
            "sleep:300",
            "sleep:300",
        ],
        0,
    );
    assert!(r.stderr.contains("/3 items"), "{:?}", r.stderr);
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--no-progress",
            "chaos",
            "sleep:100",
        ],
        0,
    );
    assert_eq!(r.stderr, "");
}

/// The fields docs/OUTPUT.md promises in every record.
const RECORD: [&str; 8] = [
    "index",
    "input",
    "outcome",
    "worker",
    "pid",
    "attempts",
    "started_ms",
    "elapsed_ms",
];
const SUMMARY: [&str; 9] = [
    "total",
    "ok",
    "failed",
    "panicked",
    "crashed",
    "timed_out",
    "not_run",
    "processes",
    "elapsed_ms",
];

fn check_schema(args: &[&str], job_fields: &[&str]) {
    let doc = run(args).json();
    let summary: HashSet<&str> = doc["summary"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        SUMMARY.iter().all(|f| summary.contains(f)),
        "{args:?} summary: {summary:?}"
    );
    for record in doc["results"].as_array().unwrap() {
        for field in RECORD.iter().chain(job_fields) {
            assert!(
                record.get(field).is_some(),
                "{args:?}: no {field} in {record}"
            );
        }
    }
}

#[test]
fn every_job_has_the_documented_json_fields() {
    let dir = temp_dir("schema");
    let file = dir.join("a.txt");
    std::fs::write(&file, "abc 123\n").unwrap();
    let file = file.display().to_string();
    check_schema(
        &["-q", "pool", "-n", "2", "--json", "square", "3"],
        &["value"],
    );
    check_schema(
        &["-q", "pool", "-n", "2", "--json", "load", "--total", "1000"],
        &["count", "sum"],
    );
    check_schema(
        &["-q", "pool", "-n", "2", "--json", "chaos", "ok:a"],
        &["value"],
    );
    check_schema(
        &["-q", "pool", "-n", "2", "--json", "analyze", &file],
        &crate::analyze::COUNTS,
    );
    let books = dir.join("books");
    let books_arg = books.display().to_string();
    run_expect(&["-q", "gen", "excel", &books_arg, "--files", "1"], 0);
    let book = books.join("1.xlsx").display().to_string();
    check_schema(
        &["-q", "pool", "-n", "2", "--json", "excel", &book],
        &["sheet", "row", "numbers", "count", "sum", "skipped"],
    );
    let site = mproc_cli::web::DemoSite::start(mproc_cli::web::DemoOptions {
        port: 0,
        latency: std::time::Duration::ZERO,
        pages: 2,
    })
    .unwrap();
    let page = format!("{}/page/1", site.base_url());
    let list = dir.join("urls.txt");
    std::fs::write(&list, format!("{page}\n")).unwrap();
    let list = list.display().to_string();
    check_schema(
        &["-q", "fetch", "-n", "1", "--json", &list],
        &[
            "url",
            "status",
            "title",
            "content_type",
            "encoding",
            "encoding_source",
            "bytes",
            "fetch_ms",
        ],
    );
    let failed: Value = run(&["-q", "pool", "-n", "1", "--json", "chaos", "fail:no"]).json();
    assert_eq!(failed["results"][0]["error"], "no");
}

/// Every attempt of a run with retries: the JSON records, the SVG bars
/// (each with its tooltip), the trace's slices and the job log's rows.
#[test]
fn every_attempt_is_drawn_traced_and_logged() {
    let dir = temp_dir("attempts");
    let path = |name: &str| dir.join(name).display().to_string();
    let (svg, trace, log) = (path("run.svg"), path("run.json"), path("jobs.tsv"));
    // flaky crashes on its first attempt only; hang times out on both;
    // fail:x fails on both (--retry-errors).
    let flaky = format!("flaky:{}", path("flag"));
    let items = ["ok:a", flaky.as_str(), "hang", "fail:x"];
    let mut args = vec![
        "-q",
        "pool",
        "-n",
        "2",
        "--retries",
        "1",
        "--retry-errors",
        "--timeout",
        "1",
        "--timeline",
        &svg,
        "--trace",
        &trace,
        "--joblog",
        &log,
        "--json",
        "chaos",
    ];
    args.extend(items);
    let doc = run_expect(&args, 1).json();
    let results = doc["results"].as_array().unwrap();
    let attempts: Vec<u64> = results
        .iter()
        .map(|r| r["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 2, 2], "{doc}");
    let total: u64 = attempts.iter().sum();
    // The JSON records: the earlier attempts, each with where it ran.
    assert!(results[0].get("earlier_attempts").is_none());
    let earlier = |i: usize| results[i]["earlier_attempts"].as_array().unwrap().clone();
    assert_eq!(earlier(1)[0]["outcome"], "crashed");
    assert_eq!(earlier(2)[0]["outcome"], "timed_out");
    assert_eq!(earlier(3)[0]["outcome"], "failed");
    assert_eq!(earlier(3)[0]["error"], "x");
    for (i, r) in results.iter().enumerate().skip(1) {
        let first = &earlier(i)[0];
        assert!(first["pid"].as_u64().is_some() && first["worker"].as_u64().is_some());
        assert!(first["started_ms"].as_f64().unwrap() <= r["started_ms"].as_f64().unwrap());
    }
    assert_ne!(earlier(1)[0]["pid"], results[1]["pid"], "a new worker");

    // The SVG: a bar with a tooltip for every attempt.
    let text = std::fs::read_to_string(&svg).unwrap();
    let svg_doc = roxmltree::Document::parse(&text).expect("the timeline is well-formed XML");
    let colors: Vec<String> = mproc_cli::timeline::COLORS
        .iter()
        .map(|(_, c)| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2))
        .collect();
    let titles: Vec<String> = svg_doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter(|n| {
            n.attribute("fill")
                .is_some_and(|f| colors.iter().any(|c| c == f))
        })
        .map(|n| {
            let title = n.children().find(|c| c.has_tag_name("title"));
            title
                .and_then(|t| t.text())
                .expect("every bar has a title")
                .to_string()
        })
        .collect();
    assert_eq!(titles.len() as u64, total, "a bar per attempt: {titles:?}");
    for (i, r) in results.iter().enumerate() {
        let n = r["attempts"].as_u64().unwrap();
        for k in 1..=n {
            let head = format!("item {i}: {}\nattempt {k} of {n} · ", items[i]);
            let title = titles
                .iter()
                .find(|t| t.starts_with(&head))
                .unwrap_or_else(|| panic!("no bar for {head:?} in {titles:?}"));
            assert!(
                title.contains("worker ") && title.contains("pid "),
                "{title}"
            );
            assert!(title.contains(" s (from "), "{title}");
        }
    }
    assert!(titles.iter().any(|t| t.contains("crashed: worker crashed")));
    let connectors = svg_doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter(|n| n.text().is_some_and(|t| t.starts_with("retry after ")))
        .count();
    assert_eq!(
        connectors, 3,
        "a connector from each failed attempt to its retry"
    );

    // The trace: Chrome trace event JSON, a complete event per attempt.
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().expect("the object format");
    for e in events {
        for field in ["name", "ph", "ts", "pid", "tid"] {
            assert!(e.get(field).is_some(), "no {field} in {e}");
        }
        assert!(
            e["ts"].is_number() && e["pid"].is_u64() && e["tid"].is_u64(),
            "{e}"
        );
    }
    let of = |ph: &str| events.iter().filter(|e| e["ph"] == ph).collect::<Vec<_>>();
    let slices = of("X");
    assert_eq!(slices.len() as u64, total);
    for x in &slices {
        assert!(x["dur"].as_f64().is_some_and(|d| d >= 0.0), "{x}");
        let i = x["args"]["index"].as_u64().unwrap() as usize;
        assert_eq!(x["args"]["input"], items[i]);
        assert!(x["args"]["attempt"].as_u64().is_some() && x["args"]["outcome"].is_string());
    }
    let crashed = slices
        .iter()
        .find(|x| x["args"]["outcome"] == "crashed")
        .unwrap();
    assert_eq!(crashed["pid"], earlier(1)[0]["pid"]);
    assert_eq!(crashed["tid"], earlier(1)[0]["worker"]);
    assert!(crashed["dur"].as_f64().unwrap() > 0.0);
    let timed_out = slices
        .iter()
        .filter(|x| x["args"]["outcome"] == "timed_out");
    // Microseconds: a timed-out attempt ran for the 1 s limit at least.
    assert!(timed_out.clone().count() == 2);
    assert!(timed_out
        .into_iter()
        .all(|x| x["dur"].as_f64().unwrap() >= 999_999.0));
    let metadata = of("M");
    for x in &slices {
        for name in ["process_name", "thread_name"] {
            assert!(
                metadata.iter().any(|m| m["name"] == name
                    && m["pid"] == x["pid"]
                    && m["tid"] == x["tid"]
                    && m["args"]["name"].is_string()),
                "no {name} for {x}"
            );
        }
    }
    let instants = of("i");
    let said = |what: &str, pid: &Value| {
        instants
            .iter()
            .any(|e| e["name"] == what && &e["pid"] == pid)
    };
    assert!(said("worker started", &crashed["pid"]));
    assert!(said("worker ended", &crashed["pid"]), "the crash is marked");
    assert_eq!(of("s").len(), 3, "an arrow from each failed attempt");

    // The job log: a row per attempt, in order; an item's last row is how
    // it ended.
    let rows = rows(std::path::Path::new(&log));
    assert_eq!(rows.len() as u64, 1 + total);
    for (i, r) in results.iter().enumerate() {
        let mine: Vec<&Vec<String>> = rows[1..]
            .iter()
            .filter(|row| row[0] == i.to_string())
            .collect();
        assert_eq!(mine.len() as u64, r["attempts"].as_u64().unwrap());
        let numbers: Vec<&str> = mine.iter().map(|row| row[6].as_str()).collect();
        let expected: Vec<String> = (1..=mine.len()).map(|k| k.to_string()).collect();
        assert_eq!(numbers, expected);
        assert_eq!(mine.last().unwrap()[7], r["outcome"].as_str().unwrap());
    }
    let flaky_rows: Vec<&str> = rows[1..]
        .iter()
        .filter(|row| row[0] == "1")
        .map(|row| row[7].as_str())
        .collect();
    assert_eq!(flaky_rows, ["crashed", "ok"]);

    // --resume: the items whose last row is ok run no more, though their
    // first row is not ok.
    let again = run_expect(
        &[
            "-q", "pool", "-n", "2", "--resume", &log, "--json", "chaos", "ok:a", &flaky,
        ],
        0,
    )
    .json();
    assert_eq!(again["results"], serde_json::json!([]));
    assert_eq!(again["summary"]["total"], 0);
}

#[test]
fn serial_runs_trace_their_attempts_in_one_lane() {
    let dir = temp_dir("serial-trace");
    let trace = dir.join("t.json").display().to_string();
    let r = run_expect(
        &[
            "-q",
            "pool",
            "--serial",
            "--retries",
            "1",
            "--retry-errors",
            "--trace",
            &trace,
            "--json",
            "chaos",
            "ok:a",
            "fail:x",
        ],
        1,
    );
    let pid = r.json()["results"][0]["pid"].clone();
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(slices.len(), 3, "ok:a once, fail:x twice");
    assert!(slices.iter().all(|x| x["pid"] == pid && x["tid"] == 0));
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "one lane");
    assert!(names[0].starts_with("serial · pid "), "{names:?}");
}

#[test]
fn a_trace_that_cannot_be_written_is_refused_before_any_work() {
    let dir = temp_dir("trace-refused");
    let flag = dir.join("ran");
    let item = format!("flaky:{}", flag.display());
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--trace",
            "/missing/dir/t.json",
            "chaos",
            &item,
        ],
        2,
    );
    assert_eq!(
        r.stderr,
        "mproc: cannot write --trace /missing/dir/t.json: no such directory /missing/dir\n"
    );
    assert!(!flag.exists(), "no item ran");
}

#[test]
fn a_trace_that_cannot_be_written_hides_no_results() {
    if !std::path::Path::new("/dev/full").exists() {
        println!("skipped: no /dev/full here");
        return;
    }
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--trace",
            "/dev/full",
            "--json",
            "chaos",
            "ok:a",
        ],
        2,
    );
    assert_eq!(
        r.json()["results"][0]["value"],
        "a",
        "the results come first"
    );
    assert_eq!(
        r.stderr,
        "mproc: cannot write --trace /dev/full: no space left on device\n"
    );
}
