//! Random text files for the "analyze N files" exercise: `1.txt` to
//! `N.txt`, each row 0 to 80 characters drawn from ASCII letters, digits
//! and the space, and ended by '\n'.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::rng::Rng;

/// The characters rows are drawn from, each equally likely.
const ALPHABET: &[u8; 63] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ";

/// The longest row, in characters.
pub(crate) const MAX_ROW: usize = 80;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextSpec {
    /// How many files.
    pub files: u64,
    /// Rows per file.
    pub rows: u64,
    /// Random seed. File i's rows depend only on the seed and i, so the
    /// first files of a larger set are the files of a smaller one.
    pub seed: u64,
}

/// Writes the files of `spec` into `dir` (created if missing) and returns
/// the bytes written. An I/O error names the path involved.
pub(crate) fn write_files(
    dir: &Path,
    spec: &TextSpec,
) -> Result<u64, (std::path::PathBuf, io::Error)> {
    fs::create_dir_all(dir).map_err(|e| (dir.to_path_buf(), e))?;
    let mut seeds = Rng::new(spec.seed);
    let mut total = 0;
    for i in 1..=spec.files {
        let path = dir.join(format!("{i}.txt"));
        let mut rng = Rng::new(seeds.next_u64());
        total += write_file(&path, spec.rows, &mut rng).map_err(|e| (path, e))?;
    }
    Ok(total)
}

fn write_file(path: &Path, rows: u64, rng: &mut Rng) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(path)?);
    let bytes = write_rows(&mut out, rows, rng)?;
    out.into_inner().map_err(io::IntoInnerError::into_error)?;
    Ok(bytes)
}

/// Writes `rows` random rows to `out`; returns the bytes written.
pub(crate) fn write_rows(out: &mut impl Write, rows: u64, rng: &mut Rng) -> io::Result<u64> {
    let mut row = [0u8; MAX_ROW + 1];
    let mut bytes = 0;
    for _ in 0..rows {
        let len = rng.below(MAX_ROW as u64 + 1) as usize;
        for b in &mut row[..len] {
            *b = ALPHABET[rng.below(ALPHABET.len() as u64) as usize];
        }
        row[len] = b'\n';
        out.write_all(&row[..=len])?;
        bytes += len as u64 + 1;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(seed: u64, n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_rows(&mut out, n, &mut Rng::new(seed)).unwrap();
        out
    }

    #[test]
    fn rows_are_short_lines_of_the_alphabet() {
        let text = rows(3, 2000);
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 2001);
        assert!(lines.iter().all(|l| l.len() <= MAX_ROW));
        assert!(lines.iter().any(|l| l.is_empty()));
        assert!(lines.iter().any(|l| l.len() == MAX_ROW));
        assert!(text.iter().all(|b| *b == b'\n' || ALPHABET.contains(b)));
    }

    #[test]
    fn same_seed_same_rows() {
        assert_eq!(rows(9, 100), rows(9, 100));
        assert_ne!(rows(9, 100), rows(10, 100));
    }
}
