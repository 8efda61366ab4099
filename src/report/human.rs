//! Each built-in job's human report, as text for stdout.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::decimal_sum::DecimalSum;
use unicode_width::UnicodeWidthChar;

use crate::jobs::chaos::ChaosResult;
use crate::jobs::{BookSum, LoadSum};
use crate::outcome::ItemResult;
use crate::text::TextCounts;
use crate::web::Page;

/// Python's printed list: `[0, 1, 4, 9]`, with `None` for items not ok.
pub fn square(results: &[ItemResult<u64>]) -> String {
    let items: Vec<String> = results
        .iter()
        .map(|r| {
            r.outcome
                .as_ok()
                .map_or_else(|| "None".to_string(), u64::to_string)
        })
        .collect();
    format!("[{}]\n", items.join(", "))
}

/// One row per share: the process, its draws and their sum; then totals.
pub fn load(results: &[ItemResult<LoadSum>], elapsed: Duration, processes: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:>8} {:>12} {:>16}", "pid", "draws", "sum");
    let (mut count, mut sum) = (0u64, 0.0f64);
    for r in results {
        match r.outcome.as_ok() {
            Some(v) => {
                let _ = writeln!(s, "{:>8} {:>12} {:>16.3}", v.pid, v.count, v.sum);
                count += v.count;
                sum += v.sum;
            }
            None => {
                let _ = writeln!(
                    s,
                    "{:>8} {:>12} {:>16}",
                    r.pid.map_or("-".into(), |p| p.to_string()),
                    "-",
                    "None"
                );
            }
        }
    }
    let mean = if count > 0 { sum / count as f64 } else { 0.0 };
    let _ = writeln!(s, "{:>8} {:>12} {:>16.3}", "total", count, sum);
    let with = match processes {
        0 => "in this process (serial)".to_string(),
        n => format!("with {n} processes"),
    };
    let _ = writeln!(s, "mean {mean:.6}; {:.3} s {with}", elapsed.as_secs_f64());
    s
}

/// One line per action: index, outcome, pid, and value or error.
pub fn chaos(results: &[ItemResult<ChaosResult>], actions: &[String]) -> String {
    let mut s = String::new();
    for r in results {
        let action = actions.get(r.index).map(String::as_str).unwrap_or("?");
        let pid = r.pid.map_or("-".to_string(), |p| p.to_string());
        let what = match r.outcome.as_ok() {
            Some(v) => v.value.clone(),
            None => r.outcome.error().unwrap_or_default(),
        };
        let _ = writeln!(
            s,
            "{:>4} {:<18} {:<9} pid {:<8} {}",
            r.index,
            action,
            r.outcome.name(),
            pid,
            what
        );
    }
    s
}

/// A table in input order: file, sheet, (row, when any is not row 1),
/// count, sum, skipped; a file not ok shows its outcome instead. Then a
/// TOTAL row over the files that were read. Sums are exact decimal sums
/// shown to 15 significant digits (`0.1 + 0.2` shows as `0.3`).
pub fn excel(results: &[ItemResult<BookSum>], files: &[PathBuf]) -> String {
    let mut sorted: Vec<&ItemResult<BookSum>> = results.iter().collect();
    sorted.sort_by_key(|r| r.index);
    let show_row = sorted
        .iter()
        .any(|r| r.outcome.as_ok().is_some_and(|b| b.row != Some(1)));
    let mut rows = vec![cells(["file", "sheet", "row", "count", "sum", "skipped"])];
    let (mut total, mut count, mut skipped) = (DecimalSum::new(), 0usize, 0usize);
    for r in sorted {
        let file = files
            .get(r.index)
            .map_or("?".into(), |f| f.display().to_string());
        rows.push(match r.outcome.as_ok() {
            Some(b) => {
                b.numbers.iter().for_each(|&x| total.add(x));
                count += b.count;
                skipped += b.skipped;
                let row = b.row.map_or("-".into(), |n| n.to_string());
                let sum = b.numbers.iter().copied().collect::<DecimalSum>();
                [
                    file,
                    b.sheet.clone(),
                    row,
                    b.count.to_string(),
                    sum.display(),
                    b.skipped.to_string(),
                ]
            }
            None => [
                file,
                r.outcome.name().into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        });
    }
    let (count, sum, skipped) = (count.to_string(), total.display(), skipped.to_string());
    rows.push(cells(["TOTAL", "", "", &count, &sum, &skipped]));
    let keep: Vec<usize> = (0..6).filter(|&c| show_row || c != 2).collect();
    table(&rows, &keep, &[false, false, true, true, true, true])
}

fn cells(texts: [&str; 6]) -> [String; 6] {
    texts.map(str::to_string)
}

/// Columns `keep` of `rows`, padded to line up, two spaces apart; columns
/// marked in `right` are right-aligned.
fn table<const N: usize>(rows: &[[String; N]], keep: &[usize], right: &[bool; N]) -> String {
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..N).map(width).collect();
    let mut s = String::new();
    for row in rows {
        let line: Vec<String> = keep
            .iter()
            .map(|&c| {
                if right[c] {
                    format!("{:>w$}", row[c], w = widths[c])
                } else {
                    format!("{:<w$}", row[c], w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    s
}

/// The exercise's report: one row per file with how many of each ASCII
/// digit it has (`-` for a file that could not be analyzed), a TOTAL row,
/// then the totals of the other counts.
pub fn analyze(results: &[ItemResult<TextCounts>], files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut total = TextCounts::default();
    for counts in results.iter().filter_map(|r| r.outcome.as_ok()) {
        total.add(counts);
    }
    let name_width = names
        .iter()
        .map(|n| n.chars().count())
        .chain([5])
        .max()
        .unwrap_or(5);
    let width = total
        .digit_counts
        .iter()
        .map(|n| n.to_string().len())
        .max()
        .unwrap_or(1);
    let row = |s: &mut String, name: &str, cells: &[String]| {
        let _ = write!(s, "{name:<name_width$}");
        for cell in cells {
            let _ = write!(s, " {cell:>width$}");
        }
        s.push('\n');
    };
    let numbers = |counts: &[u64; 10]| counts.map(|n| n.to_string());
    let mut s = String::new();
    row(
        &mut s,
        "file",
        &std::array::from_fn::<_, 10, _>(|d| d.to_string()),
    );
    for r in results {
        let name = names.get(r.index).map_or("?", String::as_str);
        match r.outcome.as_ok() {
            Some(c) => row(&mut s, name, &numbers(&c.digit_counts)),
            None => row(&mut s, name, &["-"; 10].map(String::from)),
        }
    }
    row(&mut s, "TOTAL", &numbers(&total.digit_counts));
    let failed = results.iter().filter(|r| !r.outcome.is_ok()).count();
    s.push('\n');
    let lines = [
        ("files", results.len() as u64),
        ("chars", total.chars),
        ("bytes", total.bytes),
        ("lines", total.lines),
        ("digits", total.digits),
        ("letters", total.letters),
        ("spaces", total.spaces),
        ("other", total.other),
        ("invalid", total.invalid),
    ];
    let value_width = lines
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    for (label, n) in lines {
        let _ = write!(s, "{label:<8}{n:>value_width$}");
        if label == "files" && failed > 0 {
            let _ = write!(s, " ({failed} not analyzed)");
        }
        s.push('\n');
    }
    s
}

/// The widest the title column of `fetch` gets, in terminal columns.
const TITLE_COLUMNS: usize = 60;

/// One row per URL: its index, status, title (or error) and final URL;
/// then `footer`. A failed row shows the error without its kind's URL,
/// the status when the error is `http_status`, and the URL the error
/// names (after redirects) or else the input.
pub fn fetch(results: &[ItemResult<Page>], urls: &[String], footer: &str) -> String {
    let rows: Vec<[String; 4]> = results
        .iter()
        .map(|r| {
            let input = urls.get(r.index).map_or("?", String::as_str);
            match r.outcome.as_ok() {
                Some(page) => [
                    r.index.to_string(),
                    page.status.to_string(),
                    page.title.clone().unwrap_or_else(|| "(no title)".into()),
                    page.url.clone(),
                ],
                None => {
                    let error = r.outcome.error().unwrap_or_default();
                    let (message, url) = crate::web::error::split_url(&error);
                    let status = crate::web::error::http_status(&error)
                        .map_or("-".to_string(), |s| s.to_string());
                    let url = url.unwrap_or(input).to_string();
                    [r.index.to_string(), status, message.to_string(), url]
                }
            }
        })
        .collect();
    let index_width = rows
        .iter()
        .map(|r| r[0].len())
        .chain([1])
        .max()
        .unwrap_or(1);
    let titles: Vec<String> = rows.iter().map(|r| fit(&r[2], TITLE_COLUMNS)).collect();
    let title_width = titles
        .iter()
        .map(|t| columns(t))
        .chain([5])
        .max()
        .unwrap_or(5);
    let mut s = String::new();
    let pad = |s: &mut String, text: &str, width: usize| {
        s.push_str(text);
        s.extend(std::iter::repeat_n(
            ' ',
            width.saturating_sub(columns(text)),
        ));
    };
    let _ = write!(s, "{:>index_width$} status  ", "#");
    pad(&mut s, "title", title_width);
    s.push_str("  url\n");
    for (row, title) in rows.iter().zip(&titles) {
        let _ = write!(s, "{:>index_width$} {:>6}  ", row[0], row[1]);
        pad(&mut s, title, title_width);
        let _ = writeln!(s, "  {}", row[3]);
    }
    let _ = writeln!(s, "{footer}");
    s
}

/// Terminal columns `text` takes (wide CJK characters count two).
fn columns(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` cut to `max` columns, ending in `…` when cut; control
/// characters become spaces.
fn fit(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if columns(&clean) <= max {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}
