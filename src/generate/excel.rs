//! `mproc gen excel`: workbooks `1.xlsx` ... `N.xlsx`, each with random
//! numbers in row 1 of its first sheet, the input of the chapter's exercise
//! (and of `mproc pool excel`).
//!
//! The numbers are whole numbers from 0 to 999 by default, which a person
//! reads as "random numbers" and can add up by hand; with `decimals` D > 0
//! they have D decimal places (0.00 to 999.99 for D = 2). One [`Rng`] stream
//! from the seed fills the files in order, so a seed always gives the same
//! files, and more files only add to the end.
//!
//! This module writes files with rust_xlsxwriter; it prints nothing.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::Workbook;
use serde::Serialize;

use crate::decimal_sum::DecimalSum;
use crate::rng::Rng;
use mproc::{Error, ErrorKind, Result};

/// The most numbers a row holds (Excel has 16,384 columns).
pub const MAX_NUMBERS: usize = 16_384;
/// The most decimal places [`ExcelSpec::decimals`] takes.
pub const MAX_DECIMALS: u32 = 6;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcelSpec {
    /// The directory to write into (created if missing).
    pub dir: PathBuf,
    /// How many workbooks.
    pub files: usize,
    /// Numbers in row 1 of each (1 to [`MAX_NUMBERS`]).
    pub numbers: usize,
    /// Decimal places of each number (0 to [`MAX_DECIMALS`]).
    pub decimals: u32,
    /// Random seed.
    pub seed: u64,
}

/// Everything [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generated {
    /// The directory written into.
    pub dir: PathBuf,
    /// The seed used.
    pub seed: u64,
    /// Each workbook, in order.
    pub files: Vec<GeneratedBook>,
    /// The exact sum of every number in every workbook.
    pub total: f64,
}

/// One workbook written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedBook {
    /// Its path.
    pub path: PathBuf,
    /// The numbers in its row 1, left to right.
    pub numbers: Vec<f64>,
    /// Their exact sum.
    pub sum: f64,
}

/// Writes the workbooks of `spec` and returns what they hold.
pub fn generate(spec: &ExcelSpec) -> Result<Generated> {
    check(spec)?;
    let seed = spec.seed;
    std::fs::create_dir_all(&spec.dir)
        .map_err(|e| Error::io(format!("cannot create {}", spec.dir.display()), e))?;
    let mut total = DecimalSum::new();
    let mut files = Vec::with_capacity(spec.files);
    for (i, numbers) in numbers(seed, spec.files, spec.numbers, spec.decimals)
        .into_iter()
        .enumerate()
    {
        let path = spec.dir.join(format!("{}.xlsx", i + 1));
        write_row(&path, &numbers)?;
        numbers.iter().for_each(|&x| total.add(x));
        files.push(GeneratedBook {
            sum: numbers.iter().copied().collect::<DecimalSum>().value(),
            path,
            numbers,
        });
    }
    Ok(Generated {
        dir: spec.dir.clone(),
        seed,
        files,
        total: total.value(),
    })
}

/// The numbers each of `files` workbooks gets for `seed`, without writing.
pub fn numbers(seed: u64, files: usize, per_file: usize, decimals: u32) -> Vec<Vec<f64>> {
    let scale = 10u64.pow(decimals.min(MAX_DECIMALS));
    let mut rng = Rng::new(seed);
    (0..files)
        .map(|_| {
            (0..per_file)
                // A whole number of units divided by 10^D is the float
                // nearest the decimal, so it prints with D places at most.
                .map(|_| rng.below(1000 * scale) as f64 / scale as f64)
                .collect()
        })
        .collect()
}

/// Writes one workbook at `path` with `numbers` in row 1 of its only sheet
/// (`Sheet1`), from column A on.
pub fn write_row(path: &Path, numbers: &[f64]) -> Result<()> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        Error::new(
            ErrorKind::Io,
            format!("cannot write {}: {}", path.display(), lower(&e.to_string())),
        )
    };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (col, &x) in numbers.iter().enumerate() {
        let col = u16::try_from(col)
            .map_err(|_| Error::usage(format!("{} numbers do not fit in a row", numbers.len())))?;
        sheet.write_number(0, col, x).map_err(fail)?;
    }
    book.save(path).map_err(fail)
}

fn check(spec: &ExcelSpec) -> Result<()> {
    if spec.files == 0 {
        return Err(Error::usage("--files must be at least 1"));
    }
    if spec.numbers == 0 || spec.numbers > MAX_NUMBERS {
        return Err(Error::usage(format!(
            "--numbers must be from 1 to {MAX_NUMBERS} (the columns of a sheet)"
        )));
    }
    if spec.decimals > MAX_DECIMALS {
        return Err(Error::usage(format!(
            "--decimals must be from 0 to {MAX_DECIMALS}"
        )));
    }
    Ok(())
}

fn lower(text: &str) -> String {
    crate::errors::lower_first(text.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_whole_or_have_the_asked_decimals() {
        let whole = numbers(7, 3, 10, 0);
        assert_eq!(whole.len(), 3);
        assert!(whole
            .iter()
            .flatten()
            .all(|x| x.fract() == 0.0 && (0.0..1000.0).contains(x)));
        let cents = numbers(7, 50, 10, 2);
        for x in cents.iter().flatten() {
            assert!((0.0..1000.0).contains(x));
            let text = x.to_string();
            let places = text.split_once('.').map_or(0, |(_, f)| f.len());
            assert!(places <= 2, "{text}");
        }
        assert!(cents.iter().flatten().any(|x| x.fract() != 0.0));
    }

    #[test]
    fn same_seed_same_numbers_and_more_files_only_add() {
        assert_eq!(numbers(42, 5, 10, 0), numbers(42, 5, 10, 0));
        assert_eq!(numbers(42, 8, 10, 0)[..5], numbers(42, 5, 10, 0)[..]);
        assert_ne!(numbers(42, 5, 10, 0), numbers(43, 5, 10, 0));
    }
}
