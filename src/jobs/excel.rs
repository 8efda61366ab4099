//! [`ExcelSum`]: reads one workbook and sums the numbers in one row of one
//! sheet, by default row 1 of the first sheet; the chapter's exercise "sum
//! N Excel files" runs it over many files.
//!
//! It reads .xlsx, .xlsm, .xlsb, .xls and .ods with calamine. A bad file is
//! an `Err` with one line naming the file, which the pool turns into a
//! `failed` outcome while the other files are still summed. It knows nothing
//! of pipes, processes or printing.

mod dates;
mod failure;
mod open;
mod row;

pub(crate) use open::MAX_INFLATED;

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Sheet, SheetType};
use serde::{Deserialize, Serialize};

use crate::decimal_sum::DecimalSum;
use mproc::FilePath;
use mproc::{ItemResult, Job, JobError};

use super::{Builtin, Context, Plan, Report, Totals};
use crate::report::table::{align_points, cells, table};

/// Sums the numeric cells of one row of one sheet of a workbook.
///
/// * Which sheet: the first worksheet in workbook order (hidden ones
///   count; chart sheets do not, as in openpyxl), or [`sheet`](Self::sheet):
///   a sheet name, else a position among all sheets counting from 1.
/// * Which row: row 1 (the top row of the sheet, even when it is empty and
///   the data starts lower), or with [`first_nonempty`](Self::first_nonempty)
///   the first row that holds any value.
/// * What counts: numbers, and formulas by their cached value when it is a
///   number. Text (even text that looks like a number), booleans, error
///   values (`#DIV/0!` and the like) and dates are skipped and counted in
///   `skipped`; so are empty cells between the first and the last non-empty
///   cell of the row. Dates and times count as their serial number (days
///   since 1899-12-30, as Excel stores them) with
///   [`dates_as_numbers`](Self::dates_as_numbers).
/// * The sum is exact in decimal: see [`crate::decimal_sum`].
///
/// An empty sheet or row is not an error: count 0, sum 0.
///
/// Only a regular file is read (a FIFO or a device fails at once, never
/// blocks), and a zip-based workbook only when all its parts together
/// inflate to at most [`max_inflated`](Self::max_inflated) bytes; past that
/// it fails with `workbook too large`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExcelSum {
    /// A sheet name, or a position counting from 1; the first sheet if `None`.
    pub sheet: Option<String>,
    /// Use the first row that holds any value instead of row 1.
    pub first_nonempty: bool,
    /// Count dates and times as their serial numbers.
    pub dates_as_numbers: bool,
    /// The most bytes all the parts of one workbook may inflate to.
    pub max_inflated: u64,
}

impl Default for ExcelSum {
    fn default() -> Self {
        ExcelSum {
            sheet: None,
            first_nonempty: false,
            dates_as_numbers: false,
            max_inflated: MAX_INFLATED,
        }
    }
}

/// What one workbook gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BookSum {
    /// The sheet read.
    pub sheet: String,
    /// The row read, counting from 1; `None` when no row holds a value
    /// (only with `first_nonempty`).
    pub row: Option<u32>,
    /// The numbers found, left to right.
    pub numbers: Vec<f64>,
    /// How many numbers.
    pub count: usize,
    /// Their sum: the float nearest the exact decimal sum.
    pub sum: f64,
    /// Cells skipped: text, booleans, errors, dates, and empty cells
    /// between the first and the last non-empty cell.
    pub skipped: usize,
}

impl Job for ExcelSum {
    const NAME: &'static str = "excel";
    type Input = FilePath;
    type Output = BookSum;

    fn run(&self, FilePath(path): FilePath) -> Result<BookSum, JobError> {
        let fail = |reason: String| format!("cannot read {}: {reason}", path.display());
        let file = open::regular_file(&path).map_err(fail)?;
        open::check_inflated(&file, self.max_inflated).map_err(fail)?;
        let mut book =
            open::workbook(&path, file).map_err(|e| fail(failure::describe_open(&path, &e)))?;
        let sheet = self.pick_sheet(&path, book.sheets_metadata())?;
        let found = row::read(&mut book, &sheet, self.first_nonempty)
            .map_err(|e| fail(failure::describe_read(&sheet, &e)))?;
        let mut book_sum = self.tally(found.as_ref().map_or(&[][..], |r| &r.cells));
        book_sum.sheet = sheet;
        book_sum.row = match (&found, self.first_nonempty) {
            (Some(r), _) => Some(r.number + 1),
            (None, false) => Some(1),
            (None, true) => None,
        };
        Ok(book_sum)
    }
}

impl ExcelSum {
    /// The sheet to read: the first worksheet, or by exact name, else by
    /// position from 1; it must be a worksheet.
    fn pick_sheet(&self, path: &Path, sheets: &[Sheet]) -> Result<String, String> {
        let file = path.display();
        if sheets.is_empty() {
            return Err(format!("cannot read {file}: the workbook has no sheets"));
        }
        let Some(wanted) = &self.sheet else {
            return sheets
                .iter()
                .find(|s| s.typ == SheetType::WorkSheet)
                .map(|s| s.name.clone())
                .ok_or_else(|| format!("cannot read {file}: the workbook has no worksheets"));
        };
        let by_name = sheets.iter().find(|s| &s.name == wanted);
        let by_position = || {
            let i = wanted.parse::<usize>().ok()?.checked_sub(1)?;
            sheets.get(i)
        };
        let Some(sheet) = by_name.or_else(by_position) else {
            let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "no sheet '{wanted}' in {file} (it has {}: {})",
                names.len(),
                names.join(", ")
            ));
        };
        match sheet.typ {
            SheetType::WorkSheet => Ok(sheet.name.clone()),
            other => Err(format!(
                "sheet '{}' in {file} is a {}, not a worksheet",
                sheet.name,
                match other {
                    SheetType::ChartSheet => "chart sheet",
                    SheetType::DialogSheet => "dialog sheet",
                    SheetType::MacroSheet => "macro sheet",
                    _ => "VBA module",
                }
            )),
        }
    }

    /// Counts, sums and skips the non-empty cells of a row (column, value).
    fn tally(&self, cells: &[(u32, Data)]) -> BookSum {
        let mut numbers = Vec::with_capacity(cells.len());
        let mut sum = DecimalSum::new();
        let mut skipped = match (cells.first(), cells.last()) {
            // Saturating: a malformed file may repeat a cell position.
            (Some((first, _)), Some((last, _))) => {
                ((last - first + 1) as usize).saturating_sub(cells.len())
            }
            _ => 0,
        };
        for (_, cell) in cells {
            match self.number(cell) {
                Some(Number::Int(n)) => {
                    sum.add_int(n);
                    numbers.push(n as f64);
                }
                Some(Number::Float(x)) => {
                    sum.add(x);
                    numbers.push(x);
                }
                None => skipped += 1,
            }
        }
        BookSum {
            sheet: String::new(),
            row: None,
            count: numbers.len(),
            sum: sum.value(),
            numbers,
            skipped,
        }
    }

    /// The number a cell counts as, if any.
    fn number(&self, cell: &Data) -> Option<Number> {
        match cell {
            Data::Int(n) => Some(Number::Int(*n)),
            Data::Float(x) if x.is_finite() => Some(Number::Float(*x)),
            Data::DateTime(d) if self.dates_as_numbers => Some(Number::Float(d.as_f64())),
            Data::DateTimeIso(s) if self.dates_as_numbers => dates::iso_date(s).map(Number::Float),
            Data::DurationIso(s) if self.dates_as_numbers => {
                dates::iso_duration(s).map(Number::Float)
            }
            _ => None,
        }
    }
}

enum Number {
    Int(i64),
    Float(f64),
}

/// `mproc pool excel FILE...`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ExcelArgs {
    /// Workbooks, one item each.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Read this sheet: a name, or a position counting from 1 [default: the first sheet].
    #[arg(long, value_name = "NAME|INDEX")]
    pub sheet: Option<String>,
    /// Read the first row that holds any value instead of row 1.
    #[arg(long)]
    pub first_nonempty: bool,
    /// Count dates and times as Excel serial numbers (days since 1899-12-30) instead of skipping them.
    #[arg(long)]
    pub dates_as_numbers: bool,
    /// The most all the parts of one workbook may inflate to (bytes, or with K, M, G); a zip bomb past it fails alone with "workbook too large".
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = open::parse_bytes)]
    pub max_inflated: u64,
}

impl Builtin for ExcelSum {
    type Args = ExcelArgs;
    type Row = ItemResult<Self::Output>;
    const ABOUT: &'static str =
        "Sum the numbers in row 1 of each workbook (.xlsx .xlsm .xlsb .xls .ods), then all of them";

    fn row(result: ItemResult<Self::Output>) -> Self::Row {
        result
    }

    fn plan(args: ExcelArgs, _: &Context) -> mproc::Result<Plan<ExcelSum>> {
        Ok(Plan {
            job: ExcelSum {
                sheet: args.sheet,
                first_nonempty: args.first_nonempty,
                dates_as_numbers: args.dates_as_numbers,
                max_inflated: args.max_inflated,
            },
            inputs: args
                .files
                .into_iter()
                .map(FilePath)
                .collect::<Vec<_>>()
                .into(),
        })
    }

    /// A table in input order: file, sheet, (row, when any is not row 1),
    /// count, sum, skipped; a file not ok shows its outcome instead. Then a
    /// TOTAL row over the files that were read ([`ExcelTotals`]). Sums are
    /// exact decimal sums shown as [`DecimalSum::display`] does (`0.1 +
    /// 0.2` shows as `0.3`), aligned on the decimal point.
    fn report(run: &Report<'_, ExcelSum>) -> String {
        let mut sorted: Vec<&ItemResult<BookSum>> = run.results.iter().collect();
        sorted.sort_by_key(|r| r.index);
        let show_row = sorted
            .iter()
            .any(|r| r.outcome.as_ok().is_some_and(|b| b.row != Some(1)));
        let mut rows = vec![cells(["file", "sheet", "row", "count", "sum", "skipped"])];
        let totals = ExcelTotals::of(run.results);
        for r in sorted {
            let file = run
                .inputs
                .get(r.index)
                .map_or("?".into(), |f| f.0.display().to_string());
            rows.push(match r.outcome.as_ok() {
                Some(b) => {
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
        let (count, sum, skipped) = (
            totals.count.to_string(),
            totals.sum.display(),
            totals.skipped.to_string(),
        );
        rows.push(cells(["TOTAL", "", "", &count, &sum, &skipped]));
        align_points(&mut rows[1..], 4);
        let keep: Vec<usize> = (0..6).filter(|&c| show_row || c != 2).collect();
        table(&rows, &keep, &[false, false, true, true, true, true])
    }

    fn totals() -> Option<Box<dyn Totals<BookSum>>> {
        Some(Box::<ExcelTotals>::default())
    }
}

/// The run's grand total: the report's TOTAL row.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExcelTotals {
    /// Files in this run, read or not.
    pub files: u64,
    /// Files that could not be read (any outcome but ok).
    pub not_read: u64,
    /// Numbers in all the files read.
    pub count: u64,
    /// Cells skipped in all the files read.
    pub skipped: u64,
    /// The exact decimal sum of all their numbers.
    pub sum: DecimalSum,
}

impl ExcelTotals {
    /// The totals of `results`.
    pub(crate) fn of(results: &[ItemResult<BookSum>]) -> ExcelTotals {
        let mut totals = ExcelTotals::default();
        results.iter().for_each(|r| totals.add(r));
        totals
    }
}

impl Totals<BookSum> for ExcelTotals {
    fn add(&mut self, result: &ItemResult<BookSum>) {
        self.files += 1;
        let Some(b) = result.outcome.as_ok() else {
            self.not_read += 1;
            return;
        };
        b.numbers.iter().for_each(|&x| self.sum.add(x));
        self.count += b.count as u64;
        self.skipped += b.skipped as u64;
    }

    /// `sum` is the float nearest the exact sum (null if it is past the
    /// floats' range), `sum_decimal` the sum with every digit, and `exact`
    /// false when the digits outgrew 128 bits and the sum fell back to
    /// floats (see [`crate::decimal_sum`]).
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "files": self.files,
            "not_read": self.not_read,
            "count": self.count,
            "skipped": self.skipped,
            "sum": self.sum.value(),
            "sum_decimal": self.sum.exact(),
            "exact": self.sum.is_exact(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(cells: Vec<(u32, Data)>) -> BookSum {
        ExcelSum::default().tally(&cells)
    }

    #[test]
    fn skips_and_counts_what_is_not_a_number() {
        let got = tally(vec![
            (1, Data::Float(0.1)),
            (2, Data::String("12".into())),
            (3, Data::Bool(true)),
            (5, Data::Error(calamine::CellErrorType::Div0)),
            (6, Data::Int(2)),
            (7, Data::Float(0.2)),
        ]);
        assert_eq!(got.numbers, vec![0.1, 2.0, 0.2]);
        assert_eq!(got.count, 3);
        assert_eq!(got.sum, 2.3);
        // text, bool, the empty column 4, the error
        assert_eq!(got.skipped, 4);
    }

    #[test]
    fn an_empty_row_is_zero() {
        let got = tally(vec![]);
        assert_eq!((got.count, got.sum, got.skipped), (0, 0.0, 0));
    }

    fn sheet(name: &str, typ: SheetType) -> Sheet {
        Sheet {
            name: name.into(),
            typ,
            visible: calamine::SheetVisible::Visible,
        }
    }

    #[test]
    fn sheets_by_name_then_position_from_one() {
        let sheets = [
            sheet("chart", SheetType::ChartSheet),
            sheet("a", SheetType::WorkSheet),
            sheet("2", SheetType::WorkSheet),
            sheet("c", SheetType::WorkSheet),
        ];
        let pick = |s: Option<&str>| {
            ExcelSum {
                sheet: s.map(String::from),
                ..ExcelSum::default()
            }
            .pick_sheet(Path::new("b.xlsx"), &sheets)
        };
        assert_eq!(pick(None).unwrap(), "a");
        assert_eq!(pick(Some("c")).unwrap(), "c");
        assert_eq!(pick(Some("2")).unwrap(), "2");
        assert_eq!(pick(Some("4")).unwrap(), "c");
        let all = "(it has 4: chart, a, 2, c)";
        assert_eq!(
            pick(Some("0")).unwrap_err(),
            format!("no sheet '0' in b.xlsx {all}")
        );
        assert_eq!(
            pick(Some("zz")).unwrap_err(),
            format!("no sheet 'zz' in b.xlsx {all}")
        );
        assert_eq!(
            pick(Some("1")).unwrap_err(),
            "sheet 'chart' in b.xlsx is a chart sheet, not a worksheet"
        );
        let none = ExcelSum::default().pick_sheet(Path::new("b.xlsx"), &[]);
        assert_eq!(
            none.unwrap_err(),
            "cannot read b.xlsx: the workbook has no sheets"
        );
    }
}
