//! `mproc pool analyze` and `mproc gen text`, through the real binary and
//! real worker processes: every count on crafted and real-world files, bad
//! inputs, path lists, `--serial`, and the generator's determinism.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use encoding_rs::{Encoding, UTF_8};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{mproc, run, run_expect, temp_dir, wait_bounded, Run};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/text");

/// The fields the job adds to each JSON record.
pub(crate) const COUNTS: [&str; 10] = [
    "chars",
    "bytes",
    "lines",
    "digits",
    "letters",
    "spaces",
    "other",
    "invalid",
    "digit_counts",
    "encoding",
];

/// `mproc -q pool -n 2 --json analyze ARGS`, expecting exit `code`; the
/// results, in input order.
#[track_caller]
fn analyze(args: &[&str], code: i32) -> Vec<Value> {
    let mut all = vec!["-q", "pool", "-n", "2", "--json", "analyze"];
    all.extend(args);
    results(&run_expect(&all, code))
}

#[track_caller]
fn results(run: &Run) -> Vec<Value> {
    run.json()["results"]
        .as_array()
        .expect("a results array")
        .clone()
}

/// Writes `bytes` to `dir/name` and returns the path as a string.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// Just the counts of a record.
fn counts_of(record: &Value) -> Value {
    COUNTS
        .iter()
        .map(|k| (k.to_string(), record[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Analyzes `bytes` as a file of its own and checks every count.
#[track_caller]
fn assert_file_counts(bytes: &[u8], expected: Value) {
    let dir = temp_dir("analyze-one");
    let file = write(&dir, "f.txt", bytes);
    let r = analyze(&[&file], 0);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["outcome"], "ok", "{}", r[0]);
    assert_eq!(counts_of(&r[0]), expected);
}

/// Counts worked out here, independently of mproc: the whole file decoded
/// at once by `encoding_rs` (a byte-order mark wins over `encoding`), then
/// `str::chars()`. Test inputs hold no literal U+FFFD, so each U+FFFD is an
/// undecodable sequence.
fn expected(bytes: &[u8], encoding: &'static Encoding) -> Value {
    let (text, used, _) = encoding.decode(bytes);
    let (mut digits, mut letters, mut spaces, mut other) = (0u64, 0u64, 0u64, 0u64);
    let mut digit_counts = [0u64; 10];
    for c in text.chars() {
        assert!(
            !c.is_numeric() || is_decimal_digit(c),
            "{c:?} is numeric but not in this test's list of decimal digits"
        );
        if is_decimal_digit(c) {
            digits += 1;
            if c.is_ascii_digit() {
                digit_counts[c as usize - '0' as usize] += 1;
            }
        } else if c.is_alphabetic() {
            letters += 1;
        } else if c == ' ' {
            spaces += 1;
        } else {
            other += 1;
        }
    }
    let chars = text.chars().count() as u64;
    let newlines = text.matches('\n').count() as u64;
    json!({
        "chars": chars,
        "bytes": bytes.len(),
        "lines": newlines + u64::from(!text.is_empty() && !text.ends_with('\n')),
        "digits": digits,
        "letters": letters,
        "spaces": spaces,
        "other": other,
        "invalid": text.matches('\u{FFFD}').count(),
        "digit_counts": digit_counts,
        "encoding": used.name(),
    })
}

/// The decimal digits the test files use: ASCII, full-width, Arabic-Indic
/// and extended Arabic-Indic.
fn is_decimal_digit(c: char) -> bool {
    c.is_ascii_digit()
        || ('\u{FF10}'..='\u{FF19}').contains(&c)
        || ('\u{0660}'..='\u{0669}').contains(&c)
        || ('\u{06F0}'..='\u{06F9}').contains(&c)
}

fn counts(
    [chars, bytes, lines, digits, letters, spaces, other, invalid]: [u64; 8],
    digit_counts: [u64; 10],
    encoding: &str,
) -> Value {
    json!({
        "chars": chars, "bytes": bytes, "lines": lines, "digits": digits,
        "letters": letters, "spaces": spaces, "other": other, "invalid": invalid,
        "digit_counts": digit_counts, "encoding": encoding,
    })
}

#[test]
fn ascii() {
    assert_file_counts(
        b"Hello, World 42\n0099 x\n",
        counts(
            [23, 23, 2, 6, 11, 3, 3, 0],
            [2, 0, 1, 0, 1, 0, 0, 0, 0, 2],
            "UTF-8",
        ),
    );
}

#[test]
fn multi_byte_utf8() {
    // é ö ß: 2 bytes; – 中 文: 3 bytes; 😀: 4 bytes. 中文 are letters (Lo).
    assert_file_counts(
        "héllo wörld – 中文 😀 ß\n".as_bytes(),
        counts([21, 33, 1, 0, 13, 5, 3, 0], [0; 10], "UTF-8"),
    );
}

#[test]
fn utf8_byte_order_mark_is_not_a_char() {
    assert_file_counts(
        b"\xEF\xBB\xBFab 1\n",
        counts(
            [5, 8, 1, 1, 2, 1, 1, 0],
            [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            "UTF-8",
        ),
    );
}

#[test]
fn utf16_with_byte_order_marks() {
    let text = "a1 é😀\n";
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let digit_one = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    // 5 BMP chars of 2 bytes, 😀 as a surrogate pair of 4, a 2-byte mark.
    assert_file_counts(
        &le,
        counts([6, 16, 1, 1, 2, 1, 2, 0], digit_one, "UTF-16LE"),
    );
    assert_file_counts(
        &be,
        counts([6, 16, 1, 1, 2, 1, 2, 0], digit_one, "UTF-16BE"),
    );
    // A mark wins over --encoding.
    let dir = temp_dir("analyze-utf16-label");
    let file = write(&dir, "le.txt", &le);
    let r = analyze(&["--encoding", "shift_jis", &file], 0);
    assert_eq!(r[0]["encoding"], "UTF-16LE");
    assert_eq!(r[0]["chars"], 6);
}

#[test]
fn undecodable_bytes_count_once_each_as_other() {
    // \xFF; \xC3 cut short by '('; \xE2\x82 cut short by the end of file.
    assert_file_counts(
        b"ok\xFF \xC3(\n\xE2\x82",
        counts([8, 9, 2, 0, 2, 1, 5, 3], [0; 10], "UTF-8"),
    );
}

#[test]
fn crlf_no_trailing_newline_and_empty() {
    assert_file_counts(
        b"a\r\nb\r\n",
        counts([6, 6, 2, 0, 2, 0, 4, 0], [0; 10], "UTF-8"),
    );
    assert_file_counts(
        b"one\ntwo",
        counts([7, 7, 2, 0, 6, 0, 1, 0], [0; 10], "UTF-8"),
    );
    assert_file_counts(b"", counts([0; 8], [0; 10], "UTF-8"));
}

#[test]
fn full_width_and_arabic_indic_digits_are_digits_not_ascii_digits() {
    // Full-width digits are 3 bytes, Arabic-Indic 2.
    assert_file_counts(
        "０１２３ ٤٥٦ 789\n".as_bytes(),
        counts(
            [13, 24, 1, 10, 0, 2, 1, 0],
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
            "UTF-8",
        ),
    );
}

#[test]
fn chars_split_between_read_chunks_count_once() {
    let chunk = mproc_cli::text::CHUNK_SIZE;
    let mut bytes = Vec::new();
    // Boundary k cuts a (k+1)-byte char after its first byte, then one cuts
    // a CRLF, then one an undecodable prefix followed by ASCII.
    for (k, piece) in ["é", "€", "😀", "\r\n"].iter().enumerate() {
        bytes.resize((k + 1) * chunk - 1, b'7');
        bytes.extend_from_slice(piece.as_bytes());
    }
    bytes.resize(5 * chunk - 2, b' ');
    bytes.extend_from_slice(b"\xF0\x9F\x98A\n");
    let want = expected(&bytes, UTF_8);
    assert_eq!(want["invalid"], 1);
    assert_file_counts(&bytes, want);
}

#[test]
fn real_world_files_match_an_independent_count() {
    let cases: [(&str, Option<&str>); 9] = [
        ("sample-english.bom.txt", None),
        ("sample-polish.txt", None),
        ("sample-arabic.txt", None),
        ("sample-russian.txt", Some("x-mac-cyrillic")),
        ("sample-chinese.txt", Some("big5")),
        ("sample-french-1.txt", Some("windows-1252")),
        ("chardet_SHIFT_JIS__nextbeaut.com.xml", Some("shift_jis")),
        ("chardet_EUC-JP__overcube.com.xml", Some("euc-jp")),
        ("chardet_UTF-16LE__plane1-utf-16le.html", Some("utf-16le")),
    ];
    let mut full_width = 0;
    for (name, label) in cases {
        let path = format!("{FIXTURES}/{name}");
        let bytes = std::fs::read(&path).unwrap();
        let encoding = label.map_or(UTF_8, |l| Encoding::for_label(l.as_bytes()).unwrap());
        let want = expected(&bytes, encoding);
        assert_eq!(want["invalid"], 0, "{name} decodes cleanly");
        let mut args = vec![path.as_str()];
        if let Some(l) = label {
            args.extend(["--encoding", l]);
        }
        let r = analyze(&args, 0);
        assert_eq!(counts_of(&r[0]), want, "{name}");
        let total: u64 = (0..10)
            .map(|d| want["digit_counts"][d].as_u64().unwrap())
            .sum();
        full_width += want["digits"].as_u64().unwrap() - total;
    }
    assert!(full_width > 0, "the Japanese files have full-width digits");
}

#[test]
fn each_worker_logs_what_it_analyzes() {
    let dir = temp_dir("analyze-log");
    let a = write(&dir, "a.txt", b"1\n");
    let b = write(&dir, "b.txt", b"2\n");
    let r = run_expect(&["pool", "-n", "2", "analyze", &a, &b], 0);
    for file in [&a, &b] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.ends_with(&format!(" analyzing {file}")))
            .unwrap_or_else(|| panic!("no log line for {file}:\n{}", r.stderr));
        let pid: u32 = line
            .split("Process ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no pid in {line:?}"));
        assert!(line.contains(&format!("pid {pid}]")), "{line}");
    }
}

#[test]
fn human_report_is_a_digit_table_with_totals() {
    let dir = temp_dir("analyze-human");
    let a = write(&dir, "a.txt", b"0123456789\n99 x\n");
    let b = write(&dir, "b.txt", "٣ 5\n".as_bytes());
    let missing = dir.join("missing.txt");
    let missing = missing.to_str().unwrap();
    let r = run_expect(&["-q", "pool", "-n", "2", "analyze", &a, &b, missing], 1);
    let lines: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["file", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert_eq!(
        lines[1],
        [a.as_str(), "1", "1", "1", "1", "1", "1", "1", "1", "1", "3"]
    );
    assert_eq!(
        lines[2],
        [b.as_str(), "0", "0", "0", "0", "0", "1", "0", "0", "0", "0"]
    );
    assert_eq!(
        lines[3],
        [missing, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]
    );
    assert_eq!(
        lines[4],
        ["TOTAL", "1", "1", "1", "1", "1", "2", "1", "1", "1", "3"]
    );
    assert!(lines[5].is_empty());
    let totals: Vec<String> = lines[6..].iter().map(|l| l.join(" ")).collect();
    assert_eq!(
        totals,
        [
            "files 3 (1 not analyzed)",
            "chars 20",
            "bytes 21",
            "lines 3",
            "digits 14",
            "letters 1",
            "spaces 2",
            "other 3",
            "invalid 0",
        ]
    );
}

/// The fields of analyze's JSON `totals` (docs/OUTPUT.md, TOTALS).
const TOTALS: [&str; 11] = [
    "files",
    "not_analyzed",
    "digit_counts",
    "chars",
    "bytes",
    "lines",
    "digits",
    "letters",
    "spaces",
    "other",
    "invalid",
];

#[test]
fn json_totals_are_the_human_reports_total_row_and_counts() {
    let dir = temp_dir("analyze-totals");
    let a = write(&dir, "a.txt", b"0123456789\n99 x\n");
    let b = write(&dir, "b.txt", "\u{663} 5\n".as_bytes());
    let missing = dir.join("missing.txt");
    let missing = missing.to_str().unwrap();
    let files = [a.as_str(), b.as_str(), missing];
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "analyze"];
    args.extend(files);
    let doc = run_expect(&args, 1).json();
    let fields: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["results", "summary", "totals"]);
    let totals = &doc["totals"];
    let mut keys: Vec<&str> = totals
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut documented = TOTALS.to_vec();
    documented.sort_unstable();
    assert_eq!(keys, documented, "{totals}");
    // The same numbers as the human report (see the test above).
    assert_eq!(
        totals["digit_counts"],
        json!([1, 1, 1, 1, 1, 2, 1, 1, 1, 3])
    );
    let expected = json!({"files": 3, "not_analyzed": 1, "chars": 20, "bytes": 21,
        "lines": 3, "digits": 14, "letters": 1, "spaces": 2, "other": 3, "invalid": 0});
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&totals[k], v, "{k} in {totals}");
    }
    // And the sums of the records, whatever order they came in.
    let results = results_of(&doc);
    for k in [
        "chars", "bytes", "lines", "digits", "letters", "spaces", "other", "invalid",
    ] {
        let sum: u64 = results.iter().filter_map(|r| r[k].as_u64()).sum();
        assert_eq!(totals[k], sum, "{k}");
    }
    // --jsonl: the last line holds the summary and the same totals.
    let mut args = vec![
        "-q",
        "pool",
        "-n",
        "2",
        "--jsonl",
        "--mode",
        "imap-unordered",
        "analyze",
    ];
    args.extend(files);
    let lines = run_expect(&args, 1).json_lines();
    assert_eq!(lines.len(), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["summary"]["total"], 3, "{last}");
    assert_eq!(&last["totals"], totals);
    // The human report, with its TOTAL row, is unchanged by it all.
    let human = run_expect(&["-q", "pool", "-n", "2", "analyze", &a, &b, missing], 1);
    assert!(
        human.stdout.lines().any(|l| l
            .split_whitespace()
            .eq(["TOTAL", "1", "1", "1", "1", "1", "2", "1", "1", "1", "3"])),
        "{}",
        human.stdout
    );
}

fn results_of(doc: &Value) -> Vec<Value> {
    doc["results"].as_array().expect("a results array").clone()
}

#[test]
fn serial_runs_in_the_parent_with_the_same_report() {
    let dir = temp_dir("analyze-serial");
    let a = write(&dir, "a.txt", b"abc 123\n");
    let missing = dir.join("nope.txt");
    let missing = missing.to_str().unwrap();
    let mut child = mproc()
        .args(["-q", "pool", "--serial", "--json", "analyze", &a, missing])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out: Run = wait_bounded(&mut child, 300).into();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["summary"]["processes"], 0);
    let r = results(&out);
    for rec in &r {
        assert_eq!(rec["worker"], Value::Null);
        assert_eq!(rec["pid"], pid);
    }
    assert_eq!(r[0]["digits"], 3);
    assert_eq!(r[1]["outcome"], "failed");

    let pool = run_expect(&["-q", "pool", "-n", "2", "analyze", &a, missing], 1);
    let serial = run_expect(&["-q", "pool", "--serial", "analyze", &a, missing], 1);
    assert_eq!(pool.stdout, serial.stdout);
}

#[test]
fn bad_inputs_fail_alone_with_one_line_each() {
    let dir = temp_dir("analyze-bad");
    let good = write(&dir, "good.txt", b"fine 1\n");
    let empty = write(&dir, "empty.txt", b"");
    let missing = dir.join("missing.txt").to_str().unwrap().to_string();
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    write(&sub, "inner.txt", b"x");
    let sub = sub.to_str().unwrap().to_string();
    let fifo = dir.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = fifo.to_str().unwrap().to_string();
    let secret = write(&dir, "secret.txt", b"hidden");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    // root reads files whatever their mode: then there is nothing to deny.
    let denied = std::fs::File::open(&secret).is_err();

    // --timeout turns a regression (a FIFO that blocks) into a failure, not a hang.
    let files = [&good, &missing, &sub, &fifo, &secret, &empty];
    let mut args = vec!["--timeout", "60"];
    args.extend(files.iter().map(|s| s.as_str()));
    let r = analyze(&args, 1);
    assert_eq!(r.len(), files.len());
    for (rec, file) in r.iter().zip(files) {
        assert_eq!(rec["input"], file.as_str());
    }
    assert_eq!(r[0]["outcome"], "ok");
    assert_eq!(r[0]["chars"], 7);
    let error = |i: usize| {
        assert_eq!(r[i]["outcome"], "failed", "{}", r[i]);
        let e = r[i]["error"].as_str().unwrap().to_string();
        assert!(!e.contains('\n') && !e.ends_with('.'), "{e:?}");
        e
    };
    assert_eq!(
        error(1),
        format!("cannot open {missing}: no such file or directory")
    );
    assert_eq!(
        error(2),
        format!(
            "cannot analyze {sub}: is a directory (use --recursive to analyze the files in it)"
        )
    );
    assert_eq!(
        error(3),
        format!("cannot analyze {fifo}: is a fifo, not a regular file")
    );
    if denied {
        assert_eq!(error(4), format!("cannot open {secret}: permission denied"));
    }
    assert_eq!(r[5]["outcome"], "ok");
    assert_eq!(counts_of(&r[5]), counts([0; 8], [0; 10], "UTF-8"));
}

#[test]
fn recursive_walks_directories_in_sorted_order() {
    let dir = temp_dir("analyze-walk");
    let root = dir.join("tree");
    for d in ["sub/z", "empty"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for f in ["b.txt", "a.txt", "sub/c.txt", "sub/z/d.txt"] {
        std::fs::write(root.join(f), f).unwrap();
    }
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("m.txt")).unwrap();
    std::os::unix::fs::symlink(root.join("sub"), root.join("link")).unwrap();
    let top = write(&dir, "top.txt", b"t");
    let root_s = root.to_str().unwrap();
    let r = analyze(&["--recursive", root_s, &top], 0);
    let inputs: Vec<&str> = r.iter().map(|x| x["input"].as_str().unwrap()).collect();
    let want: Vec<String> = ["a.txt", "b.txt", "m.txt", "sub/c.txt", "sub/z/d.txt"]
        .iter()
        .map(|f| format!("{root_s}/{f}"))
        .chain([top.clone()])
        .collect();
    assert_eq!(inputs, want);
}

#[test]
fn any_file_name_reaches_the_workers() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir("analyze-name");
    let name = std::ffi::OsStr::from_bytes(b"\xFFname.txt");
    std::fs::write(dir.join(name), b"12\n").unwrap();
    let dir = dir.to_str().unwrap();
    let r = analyze(&["--recursive", dir], 0);
    assert_eq!(r[0]["digits"], 2);
    assert_eq!(r[0]["input"], format!("{dir}/\u{FFFD}name.txt"));
}

#[test]
fn unknown_encoding_is_a_usage_error_before_any_work() {
    let dir = temp_dir("analyze-label");
    let file = write(&dir, "a.txt", b"a");
    let r = run_expect(
        &["pool", "-n", "2", "analyze", "--encoding", "klingon", &file],
        2,
    );
    assert_eq!(r.stdout, "");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("--encoding") && lines[0].contains("'klingon'"),
        "{}",
        lines[0]
    );
    // A label of the "replacement" encoding would turn any file into one error.
    run_expect(
        &["-q", "pool", "analyze", "--encoding", "iso-2022-kr", &file],
        2,
    );
    // Labels are WHATWG's, case-insensitive.
    let r = analyze(&["--encoding", "Latin1", &file], 0);
    assert_eq!(r[0]["encoding"], "windows-1252");
}

#[test]
fn files_from_a_list_and_from_stdin() {
    let dir = temp_dir("analyze-list");
    let a = write(&dir, "a.txt", b"1");
    let b = write(&dir, "b b.txt", b"22");
    let list = format!("{a}\n\n{b}\r\n{a}\n");
    let list_file = write(&dir, "list", list.as_bytes());
    let bytes =
        |r: &[Value]| -> Vec<u64> { r.iter().map(|x| x["bytes"].as_u64().unwrap()).collect() };

    let r = analyze(&[&b, "--files-from", &list_file], 0);
    assert_eq!(bytes(&r), [2, 1, 2, 1]);

    let mut child = mproc()
        .args([
            "-q",
            "pool",
            "-n",
            "2",
            "--json",
            "analyze",
            "--files-from",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out: Run = wait_bounded(&mut child, 300).into();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(bytes(&results(&out)), [1, 2, 1]);

    let missing = dir.join("no-list");
    let r = run_expect(
        &["pool", "analyze", "--files-from", missing.to_str().unwrap()],
        2,
    );
    assert_eq!(
        r.stderr.trim(),
        format!(
            "mproc: cannot read --files-from {}: no such file or directory",
            missing.display()
        )
    );
}

#[test]
fn a_hundred_thousand_paths() {
    let dir = temp_dir("analyze-many");
    let files: Vec<String> = (0..3)
        .map(|i| write(&dir, &format!("{i}.txt"), format!("{i}{i} x\n").as_bytes()))
        .collect();
    let list: String = (0..100_000)
        .map(|i| format!("{}\n", files[i % 3]))
        .collect();
    let list_file = write(&dir, "list", list.as_bytes());
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "analyze",
            "--files-from",
            &list_file,
        ],
        0,
    );
    let total = r.stdout.lines().find(|l| l.starts_with("TOTAL")).unwrap();
    let total: Vec<&str> = total.split_whitespace().collect();
    // 33,334 files "00 x", 33,333 each "11 x" and "22 x": two digits each.
    assert_eq!(
        total,
        ["TOTAL", "66668", "66666", "66666", "0", "0", "0", "0", "0", "0", "0"]
    );
    assert!(
        r.stdout.contains("\nfiles   100000\n"),
        "{}",
        &r.stdout[r.stdout.len() - 200..]
    );
}

/// Text-like file contents: ASCII, any Unicode, CRLFs, stray bytes.
fn texty_file() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 \r\n]{0,40}".prop_map(String::into_bytes),
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..20).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn serial_and_pool_agree(files in prop::collection::vec(texty_file(), 1..6)) {
        let dir = temp_dir("analyze-prop");
        let paths: Vec<String> = files
            .iter()
            .enumerate()
            .map(|(i, bytes)| write(&dir, &format!("{i}.txt"), bytes))
            .collect();
        let mut args = vec!["-q", "pool", "--serial", "--json", "analyze"];
        args.extend(paths.iter().map(String::as_str));
        let serial = results(&run_expect(&args, 0));
        args[2] = "--mode=imap-unordered";
        let mut pooled = results(&run_expect(&args, 0));
        pooled.sort_by_key(|r| r["index"].as_u64());
        prop_assert_eq!(serial.len(), files.len());
        for (s, p) in serial.iter().zip(&pooled) {
            prop_assert_eq!(counts_of(s), counts_of(p));
            prop_assert_eq!(&s["input"], &p["input"]);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn gen(dir: &Path, args: &[&str]) {
    let mut all = vec!["-q", "gen", "text", dir.to_str().unwrap()];
    all.extend(args);
    run_expect(&all, 0);
}

fn read_all(dir: &Path, files: usize) -> Vec<Vec<u8>> {
    (1..=files)
        .map(|i| std::fs::read(dir.join(format!("{i}.txt"))).unwrap())
        .collect()
}

#[test]
fn gen_text_is_deterministic_per_seed() {
    let dir = temp_dir("gen");
    let [a, b, c, d]: [PathBuf; 4] = ["a", "b", "c", "d/e"].map(|n| dir.join(n));
    gen(&a, &["--files", "3", "--rows", "200", "--seed", "7"]);
    gen(&b, &["--files", "3", "--rows", "200", "--seed", "7"]);
    gen(&c, &["--files", "3", "--rows", "200", "--seed", "8"]);
    gen(&d, &["--files", "5", "--rows", "200", "--seed", "7"]);
    let a = read_all(&a, 3);
    assert_eq!(a, read_all(&b, 3));
    assert_eq!(
        a[..],
        read_all(&d, 5)[..3],
        "more files add files, keep the first"
    );
    let c = read_all(&c, 3);
    for (x, y) in a.iter().zip(&c) {
        assert_ne!(x, y);
    }
    assert_ne!(a[0], a[1]);
    assert!(!dir.join("a/4.txt").exists());
    for file in a.iter().chain(&c) {
        let text = std::str::from_utf8(file).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), 200);
        for line in text.lines() {
            assert!(line.len() <= 80);
            assert!(line
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == ' '));
        }
    }
    // gen's output feeds analyze: every char is a letter, digit or space.
    let files: Vec<String> = (1..=3)
        .map(|i| dir.join(format!("a/{i}.txt")).to_str().unwrap().to_string())
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    for r in analyze(&args, 0) {
        assert_eq!(r["other"], r["lines"], "only newlines are other: {r}");
    }
}

#[test]
fn gen_errors_name_the_path() {
    let dir = temp_dir("gen-bad");
    let file = write(&dir, "plain", b"x");
    let r = run(&["gen", "text", &file, "--files", "1", "--rows", "1"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!("mproc: cannot write {file}")),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1);
}

#[test]
fn utf16_without_a_bom_is_detected_and_invalid_bytes_are_shown() {
    // The chardet plane-1 page: UTF-16LE with no byte-order mark. Without
    // --encoding it used to be read as UTF-8, its digit counts wrong.
    let path = format!("{FIXTURES}/chardet_UTF-16LE__plane1-utf-16le.html");
    let bytes = std::fs::read(&path).unwrap();
    let want = expected(&bytes, encoding_rs::UTF_16LE);
    let r = run_expect(&["pool", "-n", "1", "--json", "analyze", &path], 0);
    let record = &r.json()["results"][0];
    assert_eq!(counts_of(record), want);
    assert_eq!(record["encoding"], "UTF-16LE");
    let warning = r
        .stderr
        .lines()
        .find(|l| l.contains("no byte-order mark"))
        .unwrap_or_else(|| panic!("no warning:\n{}", r.stderr));
    assert!(
        warning.contains(&path) && warning.contains("--encoding"),
        "{warning}"
    );
    // Named, the encoding is used as it is, without a warning.
    let r = run_expect(
        &["pool", "--json", "analyze", "--encoding", "utf-8", &path],
        0,
    );
    assert_eq!(r.json()["results"][0]["encoding"], "UTF-8");
    assert!(!r.stderr.contains("no byte-order mark"), "{}", r.stderr);

    // The human table gets an invalid column when some file had
    // undecodable bytes.
    let dir = temp_dir("invalid");
    let good = write(&dir, "good.txt", b"12\n");
    let bad = write(&dir, "bad.txt", b"3 \xFF\xFE\x80 4\n");
    let out = run_expect(&["-q", "pool", "-n", "1", "analyze", &good, &bad], 0).stdout;
    let rows: Vec<Vec<&str>> = out
        .lines()
        .take(4)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0].last(), Some(&"invalid"), "{out}");
    assert_eq!(rows[1].last(), Some(&"0"), "{out}");
    assert_eq!(rows[2].last(), Some(&"3"), "{out}");
    assert_eq!(rows[3][0], "TOTAL", "{out}");
    assert_eq!(rows[3].last(), Some(&"3"), "{out}");
}

/// A list file over 64 MiB is a clear error, not memory that grows until
/// the machine gives out.
#[test]
fn a_files_from_list_over_its_limit_is_an_error() {
    // A list in a regular file is read before the run (a list on stdin
    // streams instead: see `streams`). A sparse file past the limit costs
    // no disk.
    let dir = temp_dir("list-limit");
    let list = dir.join("list.txt");
    std::fs::File::create(&list)
        .and_then(|f| f.set_len((64 << 20) + 10))
        .unwrap();
    let out = run(&[
        "-q",
        "pool",
        "-n",
        "1",
        "analyze",
        "--files-from",
        list.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--files-from")
            && out.stderr.contains("over the limit of 67108864 bytes"),
        "{}",
        out.stderr
    );
}
