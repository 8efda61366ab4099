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
    let site = mproc_cli::web::demo_site::DemoSite::start(mproc_cli::web::demo_site::DemoOptions {
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
