//! `mproc gen excel` and `mproc pool excel`: generated workbooks summed by
//! real workers, real .xls/.ods/.xlsx fixtures, skipped cells, and every
//! kind of bad file failing alone.

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use serde_json::Value;

use crate::support::*;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/excel/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `gen excel` with `--json`: what it wrote.
#[track_caller]
fn generate(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["-q", "gen", "excel", path_str(dir), "--json"];
    args.extend(extra);
    run_expect(&args, 0).json()
}

/// `pool -n 2 --json excel ...FILES` with `flags` before the files.
#[track_caller]
fn sum_json(flags: &[&str], files: &[&str], code: i32) -> Vec<Value> {
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "excel"];
    args.extend(flags);
    args.extend(files);
    let doc = run_expect(&args, code).json();
    doc["results"].as_array().expect("results").clone()
}

/// `pool -n 2 excel ...` with the human table.
#[track_caller]
fn sum_human(flags: &[&str], files: &[&str], code: i32) -> Run {
    let mut args = vec!["-q", "pool", "-n", "2", "excel"];
    args.extend(flags);
    args.extend(files);
    run_expect(&args, code)
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array of numbers")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// The cells of the table line that starts with `first`.
#[track_caller]
fn table_row(stdout: &str, first: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|cells| cells.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("no row {first:?} in:\n{stdout}"))
}

/// A one-sheet workbook with `numbers` in row 1 (through the library).
fn book(dir: &Path, name: &str, numbers: &[f64]) -> String {
    let path = dir.join(name);
    mproc_cli::generate::excel::write_row(&path, numbers).unwrap();
    path_str(&path).to_string()
}

#[test]
fn generated_workbooks_sum_to_the_generators_numbers() {
    let dir = temp_dir("excel-gen-sum");
    let written = generate(&dir, &["--files", "7", "--seed", "42"]);
    assert_eq!(written["seed"], 42);
    let books = written["files"].as_array().unwrap();
    assert_eq!(books.len(), 7);
    let files: Vec<String> = (1..=7)
        .map(|i| path_str(&dir.join(format!("{i}.xlsx"))).to_string())
        .collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();

    let results = sum_json(&[], &files, 0);
    let mut total = 0u64;
    for (i, (r, b)) in results.iter().zip(books).enumerate() {
        let numbers = floats(&b["numbers"]);
        assert_eq!(numbers.len(), 10);
        // Whole numbers 0-999, so the sums are exact in any order.
        assert!(numbers
            .iter()
            .all(|x| x.fract() == 0.0 && (0.0..1000.0).contains(x)));
        let expected: u64 = numbers.iter().map(|&x| x as u64).sum();
        total += expected;
        assert_eq!(r["input"], files[i]);
        assert_eq!(r["outcome"], "ok");
        assert_eq!(r["sheet"], "Sheet1");
        assert_eq!(r["row"], 1);
        assert_eq!(floats(&r["numbers"]), numbers, "file {i}");
        assert_eq!(r["count"], 10);
        assert_eq!(r["sum"].as_f64(), Some(expected as f64));
        assert_eq!(b["sum"].as_f64(), Some(expected as f64));
        assert_eq!(r["skipped"], 0);
    }
    assert_eq!(written["total"].as_f64(), Some(total as f64));

    let human = sum_human(&[], &files, 0);
    assert_eq!(
        table_row(&human.stdout, "TOTAL"),
        ["TOTAL", "70", &total.to_string(), "0"]
    );
    let first = table_row(&human.stdout, files[0]);
    assert_eq!(first[1..3], ["Sheet1", "10"]);
}

#[test]
fn generated_cents_sum_exactly() {
    let dir = temp_dir("excel-gen-cents");
    let written = generate(
        &dir,
        &[
            "--files",
            "20",
            "--numbers",
            "25",
            "--decimals",
            "2",
            "--seed",
            "7",
        ],
    );
    let books = written["files"].as_array().unwrap();
    let files: Vec<String> = books
        .iter()
        .map(|b| b["path"].as_str().unwrap().to_string())
        .collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let results = sum_json(&[], &files, 0);
    let mut total_cents = 0i64;
    for (r, b) in results.iter().zip(books) {
        let numbers = floats(&b["numbers"]);
        assert_eq!(floats(&r["numbers"]), numbers);
        // Exact arithmetic in cents; x / 100.0 is the float nearest the decimal.
        let cents: i64 = numbers.iter().map(|x| (x * 100.0).round() as i64).sum();
        total_cents += cents;
        assert_eq!(r["sum"].as_f64(), Some(cents as f64 / 100.0));
    }
    assert!(results
        .iter()
        .any(|r| floats(&r["numbers"]).iter().any(|x| x.fract() != 0.0)));
    let human = sum_human(&[], &files, 0);
    let total = table_row(&human.stdout, "TOTAL");
    let whole = total_cents / 100;
    let cents = format!("{:02}", total_cents % 100);
    let expected = match cents.trim_end_matches('0') {
        "" => whole.to_string(),
        c => format!("{whole}.{c}"),
    };
    assert_eq!(total, ["TOTAL", "500", &expected, "0"], "{}", human.stdout);
}

#[test]
fn gen_excel_is_deterministic_for_a_seed() {
    let (a, b, c) = (
        temp_dir("excel-det-a"),
        temp_dir("excel-det-b"),
        temp_dir("excel-det-c"),
    );
    let numbers = |doc: &Value| -> Vec<Vec<f64>> {
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| floats(&f["numbers"]))
            .collect()
    };
    let first = numbers(&generate(&a, &["--files", "5", "--seed", "9"]));
    let again = numbers(&generate(&b, &["--files", "3", "--seed", "9"]));
    let other = numbers(&generate(&c, &["--files", "5", "--seed", "10"]));
    assert_eq!(again[..], first[..3], "more files only add to the end");
    assert_ne!(other, first);
    // What the files hold, read back by the workers, is the same too.
    let read = |dir: &Path| -> Vec<Vec<f64>> {
        let files: Vec<String> = (1..=3)
            .map(|i| path_str(&dir.join(format!("{i}.xlsx"))).to_string())
            .collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        sum_json(&[], &files, 0)
            .iter()
            .map(|r| floats(&r["numbers"]))
            .collect()
    };
    assert_eq!(read(&a), read(&b));
    // The human form names each file and ends with the total and the seed.
    let out = run_expect(
        &["gen", "excel", path_str(&b), "--files", "3", "--seed", "9"],
        0,
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert!(lines[0].starts_with(&format!("{}  10 numbers  sum ", b.join("1.xlsx").display())));
    assert!(lines[3].ends_with("in 3 files (seed 9)"), "{}", lines[3]);
}

#[test]
fn gen_excel_rejects_bad_values_naming_the_flag() {
    let dir = temp_dir("excel-gen-bad");
    let d = path_str(&dir);
    let r = run_expect(&["gen", "excel", d, "--files", "0"], 2);
    assert!(r.stderr.contains("--files"), "{}", r.stderr);
    let r = run_expect(&["gen", "excel", d], 2);
    assert!(r.stderr.contains("--files"), "{}", r.stderr);
    let r = run_expect(
        &["gen", "excel", d, "--files", "1", "--numbers", "16385"],
        2,
    );
    assert!(r.stderr.contains("--numbers"), "{}", r.stderr);
    let r = run_expect(&["gen", "excel", d, "--files", "1", "--decimals", "7"], 2);
    assert!(r.stderr.contains("--decimals"), "{}", r.stderr);
    let blocker = dir.join("file");
    std::fs::write(&blocker, "not a dir").unwrap();
    let inside = blocker.join("sub");
    let r = run_expect(&["gen", "excel", path_str(&inside), "--files", "1"], 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot create") && r.stderr.contains(path_str(&inside)));
}

#[test]
fn reads_xls_ods_and_xlsx_fixtures() {
    // Values checked with xlrd, the .ods XML and openpyxl: see SOURCES.md.
    let files = [
        fixture("any_sheets.xls"),
        fixture("any_sheets.ods"),
        fixture("any_sheets.xlsx"),
    ];
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    for r in sum_json(&[], &files, 0) {
        assert_eq!(r["sheet"], "Visible", "{r}");
        assert_eq!(floats(&r["numbers"]), [1.0, 2.0], "{r}");
        assert_eq!(
            (r["count"].as_u64(), r["sum"].as_f64()),
            (Some(2), Some(3.0))
        );
        assert_eq!(r["skipped"], 0);
    }
    let human = sum_human(&[], &files, 0);
    assert_eq!(table_row(&human.stdout, "TOTAL"), ["TOTAL", "6", "9", "0"]);
}

#[test]
fn sheets_by_name_or_position_and_a_missing_sheet_fails_alone() {
    let files = [fixture("any_sheets.xlsx"), fixture("any_sheets.ods")];
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    for flag in ["Hidden", "2"] {
        for r in sum_json(&["--sheet", flag], &files, 0) {
            assert_eq!(r["sheet"], "Hidden");
            assert_eq!(
                (r["count"].as_u64(), r["sum"].as_f64()),
                (Some(0), Some(0.0))
            );
        }
    }
    let dir = temp_dir("excel-sheet");
    let plain = book(&dir, "plain.xlsx", &[4.0, 5.0]);
    let results = sum_json(&["--sheet", "Visible"], &[files[0], &plain], 1);
    assert_eq!(results[0]["outcome"], "ok");
    assert_eq!(results[0]["sum"].as_f64(), Some(3.0));
    assert_eq!(results[1]["outcome"], "failed");
    let error = results[1]["error"].as_str().unwrap();
    assert!(
        error.contains("'Visible'") && error.contains(&plain),
        "{error}"
    );
    // A chart sheet has no cells to sum.
    let results = sum_json(&["--sheet", "Chart"], &[files[0]], 1);
    assert!(results[0]["error"]
        .as_str()
        .unwrap()
        .contains("chart sheet"));
}

#[test]
fn dates_are_skipped_unless_asked() {
    // date.xlsx row 1: A1 = 2021-01-01 (serial 44197), B1 = 15 (openpyxl).
    let date = fixture("date.xlsx");
    let r = &sum_json(&[], &[&date], 0)[0];
    assert_eq!(floats(&r["numbers"]), [15.0]);
    assert_eq!(r["skipped"], 1);
    let r = &sum_json(&["--dates-as-numbers"], &[&date], 0)[0];
    assert_eq!(floats(&r["numbers"]), [44197.0, 15.0]);
    assert_eq!(
        (r["sum"].as_f64(), r["skipped"].as_u64()),
        (Some(44212.0), Some(0))
    );
}

#[test]
fn text_booleans_errors_and_gaps_are_skipped_and_formulas_count_by_value() {
    let dir = temp_dir("excel-mixed");
    let path = dir.join("mixed.xlsx");
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_number(0, 0, 1.5).unwrap(); // A1: counts
    sheet.write_string(0, 1, "text").unwrap(); // B1: skipped
    sheet.write_boolean(0, 2, true).unwrap(); // C1: skipped
                                              // D1 empty, between values: skipped
    sheet
        .write_formula(0, 4, Formula::new("=1/0").set_result("#DIV/0!"))
        .unwrap(); // E1: error value, skipped
    sheet
        .write_formula(0, 5, Formula::new("=2+3").set_result("5"))
        .unwrap(); // F1: counts as 5
    sheet.write_string(0, 6, "12").unwrap(); // G1: text that looks like a number, skipped
    let day = ExcelDateTime::from_ymd(2021, 1, 1).unwrap();
    sheet.write_datetime_with_format(0, 7, &day, &date).unwrap(); // H1: date, skipped
    sheet.write_number(0, 8, 2.5).unwrap(); // I1: counts
    sheet.write_number(1, 20, 99.0).unwrap(); // U2: another row widens the range
    wb.save(&path).unwrap();
    let p = path_str(&path);
    let r = &sum_json(&[], &[p], 0)[0];
    assert_eq!(floats(&r["numbers"]), [1.5, 5.0, 2.5]);
    assert_eq!(
        (r["count"].as_u64(), r["sum"].as_f64()),
        (Some(3), Some(9.0))
    );
    assert_eq!(r["skipped"], 6, "text, bool, gap, error, '12', date: {r}");
    let r = &sum_json(&["--dates-as-numbers"], &[p], 0)[0];
    assert_eq!(floats(&r["numbers"]), [1.5, 5.0, 44197.0, 2.5]);
    // errors.xlsx (made by Excel): row 1 is just #DIV/0!
    let r = &sum_json(&[], &[&fixture("errors.xlsx")], 0)[0];
    assert_eq!(
        (r["count"].as_u64(), r["skipped"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn row_one_means_row_one_and_first_nonempty_finds_data_lower_down() {
    let dir = temp_dir("excel-rows");
    let path = dir.join("low.xlsx");
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (col, x) in [(1u16, 7.0), (2, 8.0)] {
        sheet.write_number(2, col, x).unwrap(); // B3, C3
    }
    sheet.write_number(5, 0, 100.0).unwrap(); // A6
    wb.save(&path).unwrap();
    let low = path_str(&path);
    // calamine's range starts at B3; row 1 of the sheet is still empty.
    let r = &sum_json(&[], &[low], 0)[0];
    assert_eq!((r["row"].as_u64(), r["count"].as_u64()), (Some(1), Some(0)));
    let r = &sum_json(&["--first-nonempty"], &[low], 0)[0];
    assert_eq!(r["row"], 3);
    assert_eq!(floats(&r["numbers"]), [7.0, 8.0]);
    // no-header.xlsx: A3 = "a", B3 = 0 (openpyxl).
    let r = &sum_json(&["--first-nonempty"], &[&fixture("no-header.xlsx")], 0)[0];
    assert_eq!(r["row"], 3);
    assert_eq!(floats(&r["numbers"]), [0.0]);
    assert_eq!(r["skipped"], 1);
    // header-row.xlsx: rows 1-2 empty, C3 = "Note 1" (openpyxl).
    let header = fixture("header-row.xlsx");
    let r = &sum_json(&["--first-nonempty"], &[&header], 0)[0];
    assert_eq!((r["row"].as_u64(), r["count"].as_u64()), (Some(3), Some(0)));
    let human = sum_human(&["--first-nonempty"], &[low, &header], 0);
    assert_eq!(
        table_row(&human.stdout, low)[1..],
        ["Sheet1", "3", "2", "15", "0"]
    );
}

#[test]
fn an_empty_sheet_is_zero_not_an_error() {
    let r = &sum_json(&[], &[&fixture("empty_sheet.xlsx")], 0)[0];
    assert_eq!(r["outcome"], "ok");
    assert_eq!(
        (r["count"].as_u64(), r["sum"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert_eq!(r["numbers"], Value::Array(vec![]));
}

#[test]
fn float_sums_show_as_people_expect() {
    let dir = temp_dir("excel-floats");
    let both = book(&dir, "both.xlsx", &[0.1, 0.2]);
    let tenth = book(&dir, "tenth.xlsx", &[0.1]);
    let fifth = book(&dir, "fifth.xlsx", &[0.2]);
    let human = sum_human(&[], &[&both, &tenth, &fifth], 0);
    assert!(
        !human.stdout.contains("0.30000000000000004"),
        "{}",
        human.stdout
    );
    assert_eq!(
        table_row(&human.stdout, &both)[1..],
        ["Sheet1", "2", "0.3", "0"]
    );
    assert_eq!(
        table_row(&human.stdout, "TOTAL"),
        ["TOTAL", "4", "0.6", "0"]
    );
    // JSON carries the float nearest the exact decimal sum, in full.
    let r = &sum_json(&[], &[&both], 0)[0];
    assert_eq!(r["sum"].as_f64(), Some(0.3));
}

#[test]
fn each_bad_file_fails_alone_with_one_line() {
    let dir = temp_dir("excel-bad");
    let good = book(&dir, "good.xlsx", &[1.0, 2.0, 3.0]);
    let missing = path_str(&dir.join("missing.xlsx")).to_string();
    let text = path_str(&dir.join("text.xlsx")).to_string();
    std::fs::write(&text, "this is not a workbook\n").unwrap();
    let truncated = book(&dir, "truncated.xlsx", &[4.0]);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let garbled = path_str(&dir.join("garbled.xlsx")).to_string();
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(&garbled, junk).unwrap();
    let corrupt = book(&dir, "corrupt.xlsx", &[5.0]);
    corrupt_sheet_data(Path::new(&corrupt));
    let protected = fixture("pass_protected.xlsx");
    let no_sheets = fixture("no_sheets.xlsx");
    let empty = fixture("empty_sheet.xlsx");
    let files = [
        &good, &missing, &text, &truncated, &garbled, &corrupt, &protected, &no_sheets, &empty,
    ];
    let files: Vec<&str> = files.iter().map(|s| s.as_str()).collect();
    let results = sum_json(&[], &files, 1);
    let expect = [
        (0, None),
        (1, Some("no such file")),
        (2, Some("not a zip archive")),
        (3, Some("truncated or corrupt zip archive")),
        (4, Some("truncated or corrupt zip archive")),
        (5, Some("corrupt deflate stream")),
        (6, Some("password-protected")),
        (7, Some("no sheets")),
        (8, None),
    ];
    for (i, why) in expect {
        let r = &results[i];
        assert_eq!(r["input"], files[i]);
        match why {
            None => assert_eq!(r["outcome"], "ok", "{r}"),
            Some(why) => {
                assert_eq!(r["outcome"], "failed", "{r}");
                let error = r["error"].as_str().unwrap();
                assert!(
                    error.starts_with(&format!("cannot read {}: ", files[i])),
                    "{error}"
                );
                assert!(error.contains(why), "{error}");
                assert!(!error.contains('\n') && !error.ends_with('.'), "{error}");
            }
        }
    }
    assert_eq!(results[0]["sum"].as_f64(), Some(6.0));
    // The human form: a row per file, failures marked, the total of the rest,
    // and one log line per failure on stderr.
    let human = sum_human(&[], &files, 1);
    assert_eq!(table_row(&human.stdout, &missing)[1], "failed");
    assert_eq!(table_row(&human.stdout, "TOTAL"), ["TOTAL", "3", "6", "0"]);
    let mut args = vec!["pool", "-n", "2", "excel"];
    args.extend(&files);
    let logged = run_expect(&args, 1);
    assert_eq!(
        logged.stderr.matches("cannot read ").count(),
        7,
        "{}",
        logged.stderr
    );
}

/// Flips bytes inside the compressed sheet XML of an .xlsx written by
/// rust_xlsxwriter, so the zip opens but the sheet cannot be inflated.
fn corrupt_sheet_data(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let name = b"xl/worksheets/sheet1.xml";
    let at = bytes
        .windows(name.len())
        .position(|w| w == name)
        .expect("sheet entry")
        + name.len();
    for b in &mut bytes[at + 5..at + 60] {
        *b ^= 0xFF;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn jsonl_gives_one_line_per_file_in_every_mode() {
    let dir = temp_dir("excel-jsonl");
    let files: Vec<String> = (0..6)
        .map(|i| book(&dir, &format!("{i}.xlsx"), &[i as f64, 0.5]))
        .collect();
    for mode in ["imap", "imap-unordered", "async"] {
        let mut args = vec!["-q", "pool", "-n", "2", "--jsonl", "--mode", mode, "excel"];
        args.extend(files.iter().map(String::as_str));
        let lines = run_expect(&args, 0).json_lines();
        assert_eq!(lines.len(), 7, "six files and a summary");
        for line in &lines[..6] {
            let i = line["index"].as_u64().unwrap();
            assert_eq!(line["input"], files[i as usize].as_str());
            assert_eq!(line["sum"].as_f64(), Some(i as f64 + 0.5));
        }
        assert_eq!(lines[6]["summary"]["ok"], 6);
    }
    // The table is in input order whatever order the results came in.
    let mut args = vec!["-q", "pool", "-n", "2", "--mode", "imap-unordered", "excel"];
    args.extend(files.iter().map(String::as_str));
    let out = run_expect(&args, 0).stdout;
    let order: Vec<&str> = out
        .lines()
        .skip(1)
        .take(6)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(order, files.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn a_file_name_that_is_not_utf8_reaches_the_workers() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir("excel-name");
    let path = dir.join(std::ffi::OsStr::from_bytes(b"\xFF\xFE.xlsx"));
    mproc_cli::generate::excel::write_row(&path, &[2.0, 3.0]).unwrap();
    let out: Run = mproc()
        .args(["-q", "pool", "-n", "2", "--json", "excel"])
        .arg(&path)
        .output()
        .expect("mproc runs")
        .into();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["results"][0]["sum"].as_f64(), Some(5.0));
}

/// The fields of excel's JSON `totals` (docs/OUTPUT.md, TOTALS).
const TOTALS: [&str; 7] = [
    "count",
    "exact",
    "files",
    "not_read",
    "skipped",
    "sum",
    "sum_decimal",
];

#[test]
fn json_totals_hold_the_grand_total_exactly_and_as_a_number() {
    let dir = temp_dir("excel-totals");
    let a = book(&dir, "a.xlsx", &[0.1, 0.2]);
    let b = book(&dir, "b.xlsx", &[1.0 / 3.0, 2.0]);
    let missing = dir.join("missing.xlsx");
    let missing = path_str(&missing);
    let files = [a.as_str(), b.as_str(), missing];
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "excel"];
    args.extend(files);
    let doc = run_expect(&args, 1).json();
    let totals = &doc["totals"];
    let keys: Vec<&str> = totals
        .as_object()
        .unwrap_or_else(|| panic!("no totals object in {doc}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, TOTALS, "{totals}");
    assert_eq!(totals["files"], 3);
    assert_eq!(totals["not_read"], 1);
    assert_eq!(totals["count"], 4);
    assert_eq!(totals["skipped"], 0);
    assert_eq!(totals["exact"], true);
    // 0.1 + 0.2 + 0.3333333333333333 + 2, every digit, and the nearest float.
    assert_eq!(totals["sum_decimal"], "2.6333333333333333");
    assert_eq!(totals["sum"].as_f64(), "2.6333333333333333".parse().ok());
    // The human TOTAL row is the same total, rounded for people.
    let human = sum_human(&[], &files, 1);
    assert_eq!(
        table_row(&human.stdout, "TOTAL"),
        ["TOTAL", "4", "2.63333333333333", "0"]
    );
    // --jsonl: the last line holds the summary and the same totals.
    let mut args = vec!["-q", "pool", "-n", "2", "--jsonl", "excel"];
    args.extend(files);
    let lines = run_expect(&args, 1).json_lines();
    let last = lines.last().unwrap();
    assert_eq!(last["summary"]["failed"], 1, "{last}");
    assert_eq!(&last["totals"], totals);
}

/// The sum cell of a table line (the last but one), and the byte offset
/// of its decimal point, or for a whole number where it would be.
fn sum_and_point(line: &str) -> (&str, usize) {
    let cells: Vec<(usize, &str)> = line
        .split(' ')
        .scan(0, |at, cell| {
            let start = *at;
            *at += cell.len() + 1;
            Some((start, cell))
        })
        .filter(|(_, cell)| !cell.is_empty())
        .collect();
    let (at, sum) = cells[cells.len() - 2];
    (sum, at + sum.find('.').unwrap_or(sum.len()))
}

#[test]
fn sums_line_up_on_the_decimal_point() {
    let dir = temp_dir("excel-align");
    let files = [
        book(&dir, "a.xlsx", &[4755.65]),
        book(&dir, "b.xlsx", &[4913.7]),
        book(&dir, "c.xlsx", &[3.0]),
        book(&dir, "d.xlsx", &[0.125]),
    ];
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = sum_human(&[], &files, 0).stdout;
    let lines: Vec<&str> = out.lines().collect();
    let sums = ["4755.65", "4913.7", "3", "0.125", "9672.475"];
    let columns: Vec<usize> = lines[1..]
        .iter()
        .zip(sums)
        .map(|(line, expected)| {
            let (sum, point) = sum_and_point(line);
            assert_eq!(sum, expected, "{out}");
            point
        })
        .collect();
    assert!(
        columns.iter().all(|&c| c == columns[0]),
        "{columns:?}\n{out}"
    );
    // The header still ends where the widest sum does.
    let total = lines.last().unwrap();
    let widest = total.find("9672.475").expect("the total") + "9672.475".len();
    assert_eq!(lines[0].find("sum").unwrap() + 3, widest, "{out}");
}

#[test]
fn a_21_digit_total_prints_as_the_readme_says() {
    // README.md: "a 21-digit total, 123456789012345680.901, shows as
    // 123456789012345681".
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        readme.contains("a 21-digit total, 123456789012345680.901, shows as 123456789012345681"),
        "the README's sentence on significant digits changed: update this test"
    );
    let dir = temp_dir("excel-21");
    let big = book(&dir, "big.xlsx", &[123456789012345680.0, 0.901]);
    let human = sum_human(&[], &[&big], 0);
    assert_eq!(
        table_row(&human.stdout, "TOTAL"),
        ["TOTAL", "2", "123456789012345681", "0"]
    );
    let doc = run_expect(&["-q", "pool", "--json", "excel", &big], 0).json();
    assert_eq!(doc["totals"]["sum_decimal"], "123456789012345680.901");
    assert_eq!(doc["totals"]["exact"], true);
    // The float nearest 123456789012345680.901 (floats are 16 apart there).
    assert_eq!(doc["totals"]["sum"].as_f64(), Some(123456789012345680.0));
}
