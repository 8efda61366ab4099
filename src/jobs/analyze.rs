//! The chapter's "analyze N files" job: [`Analyze`] counts the characters
//! of one file (see [`TextCounts`] for every count and how lines are
//! counted).

use std::fmt::Write as _;
use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8};
use serde::{Deserialize, Serialize};

use crate::errors::io_message;
use crate::text::{self, TextCounts};
use mproc::Error;
use mproc::FilePath;
use mproc::{Job, JobError};

use super::{Builtin, Context, Plan, Report, Totals};
use mproc::ItemResult;

/// Counts the characters of one file, streamed in constant memory, and
/// logs `Process PID analyzing FILE` as the chapter's example prints.
///
/// Counts (all in [`TextCounts`]): `chars` (Unicode scalar values; a
/// byte-order mark is not one), `bytes`, `lines` (the number of '\n', plus
/// one when the file has characters and does not end with '\n', so "a\nb"
/// and "a\nb\n" are both two lines, "\r\n" ends one line and an empty file
/// has none), `digits` (Unicode decimal digits, general category Nd, in any
/// script), `letters` (Unicode alphabetic), `spaces` (U+0020), `other`, and
/// `invalid` (undecodable byte sequences, each one char in `other`), with
/// `chars = digits + letters + spaces + other`; and `digit_counts`, how
/// many of each ASCII digit '0' to '9'.
///
/// The encoding is UTF-8, unless a UTF-8 or UTF-16 byte-order mark says
/// otherwise, or `encoding` names another for files without one. Without
/// `encoding`, a file without a byte-order mark whose start has a zero in
/// every other byte is read as UTF-16 (LE or BE), with a warning naming
/// the file and `--encoding`.
///
/// A path that is missing, unreadable, a directory, a FIFO, a socket or a
/// device is an error for that file only. Its type is checked before it is
/// opened, and it is opened non-blocking, so a FIFO never blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Analyze {
    /// A WHATWG encoding label for files without a byte-order mark
    /// (`None`: UTF-8).
    pub encoding: Option<String>,
    /// Whether directories were to be walked: then a directory reaching
    /// the job is one that could not be read.
    pub recursive: bool,
}

impl Analyze {
    /// The job, with `encoding` checked: an unknown label is a usage error
    /// naming `--encoding`.
    pub(crate) fn new(encoding: Option<&str>, recursive: bool) -> Result<Analyze, Error> {
        if let Some(label) = encoding {
            lookup(label).map_err(Error::usage)?;
        }
        Ok(Analyze {
            encoding: encoding.map(str::to_string),
            recursive,
        })
    }

    fn fallback(&self) -> Result<&'static Encoding, String> {
        self.encoding.as_deref().map_or(Ok(UTF_8), lookup)
    }
}

/// What to say after an unknown encoding label.
pub(crate) const LABEL_HINT: &str =
    "use a WHATWG label such as utf-8, utf-16le, shift_jis, euc-jp, windows-1252";

/// The encoding `label` names, or a one-line error naming `--encoding`.
pub(crate) fn lookup(label: &str) -> Result<&'static Encoding, String> {
    text::encoding_for_label(label)
        .ok_or_else(|| format!("unknown --encoding label '{label}' ({LABEL_HINT})"))
}

impl Job for Analyze {
    const NAME: &'static str = "analyze";
    type Input = FilePath;
    type Output = TextCounts;

    fn run(&self, FilePath(path): FilePath) -> Result<TextCounts, JobError> {
        tracing::info!(
            "Process {} analyzing {}",
            std::process::id(),
            path.display()
        );
        let fallback = self.fallback()?;
        let file = self.open(&path)?;
        let counts = match self.encoding {
            Some(_) => text::count_reader(file, fallback),
            None => text::count_reader_guessing(file),
        }
        .map_err(|e| format!("cannot read {}: {}", path.display(), io_message(&e)))?;
        if self.encoding.is_none() && counts.encoding.starts_with("UTF-16") && !has_bom(&path) {
            tracing::warn!(
                "{} has no byte-order mark but looks like {}: read as {} \
                 (--encoding names another)",
                path.display(),
                counts.encoding,
                counts.encoding
            );
        }
        Ok(counts)
    }
}

impl Analyze {
    /// Opens `path` if it is a regular file (following symlinks).
    fn open(&self, path: &Path) -> Result<File, String> {
        let cannot = |what: &str, e: std::io::Error| {
            format!("cannot {what} {}: {}", path.display(), io_message(&e))
        };
        let meta = std::fs::metadata(path).map_err(|e| cannot("open", e))?;
        if meta.is_dir() {
            return Err(self.directory_error(path));
        }
        regular(path, &meta)?;
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| cannot("open", e))?;
        // The path may have been replaced since it was checked.
        regular(path, &file.metadata().map_err(|e| cannot("open", e))?)?;
        Ok(file)
    }

    fn directory_error(&self, path: &Path) -> String {
        if self.recursive {
            if let Err(e) = std::fs::read_dir(path) {
                return format!(
                    "cannot read directory {}: {}",
                    path.display(),
                    io_message(&e)
                );
            }
        }
        format!(
            "cannot analyze {}: is a directory (use --recursive to analyze the files in it)",
            path.display()
        )
    }
}

/// Whether the file at `path` starts with a UTF-16 byte-order mark.
fn has_bom(path: &Path) -> bool {
    use std::io::Read as _;
    let mut start = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| start == [0xFF, 0xFE] || start == [0xFE, 0xFF])
}

/// An error unless `meta` is a regular file's.
fn regular(path: &Path, meta: &Metadata) -> Result<(), String> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "is a directory"
    } else if t.is_fifo() {
        "is a fifo"
    } else if t.is_socket() {
        "is a socket"
    } else if t.is_char_device() {
        "is a character device"
    } else if t.is_block_device() {
        "is a block device"
    } else {
        "is of an unknown type"
    };
    Err(format!(
        "cannot analyze {}: {kind}, not a regular file",
        path.display()
    ))
}
/// `mproc pool analyze FILE...`.
#[derive(Debug, Clone, clap::Args)]
#[command(override_usage = "mproc pool analyze [OPTIONS] <FILE>...\n       \
                            mproc pool analyze [OPTIONS] --files-from <LIST> [FILE]...")]
pub(crate) struct AnalyzeArgs {
    /// Files to analyze (directories too, with --recursive); at least one,
    /// unless --files-from lists them.
    #[arg(value_name = "FILE", required_unless_present = "files_from")]
    pub files: Vec<PathBuf>,
    /// Also analyze the paths listed in LIST, one per line (- reads stdin):
    /// stdin or a pipe streams (files start while the list is written); a
    /// regular file is read whole first, at most 64 MiB.
    #[arg(long, value_name = "LIST")]
    pub files_from: Option<PathBuf>,
    /// Analyze every file below each directory, in sorted order (links to
    /// directories are not followed).
    #[arg(short, long)]
    pub recursive: bool,
    /// Decode files without a byte-order mark with this WHATWG encoding
    /// (utf-8, utf-16le, shift_jis, euc-jp, windows-1252, ...) [default: utf-8].
    #[arg(long, value_name = "LABEL", value_parser = encoding_label)]
    pub encoding: Option<String>,
}

fn encoding_label(s: &str) -> Result<String, String> {
    match text::encoding_for_label(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!("unknown encoding label ({LABEL_HINT})")),
    }
}

impl Builtin for Analyze {
    type Args = AnalyzeArgs;
    type Row = ItemResult<Self::Output>;
    const ABOUT: &'static str = "Count each file's characters: every ASCII digit, all digits, \
        letters, spaces, other, lines, bytes and undecodable bytes";

    fn row(result: ItemResult<Self::Output>) -> Self::Row {
        result
    }

    fn plan(args: AnalyzeArgs, _: &Context) -> mproc::Result<Plan<Analyze>> {
        let job = Analyze::new(args.encoding.as_deref(), args.recursive)?;
        let files = crate::paths::inputs(&args.files, args.files_from.as_deref(), args.recursive)?;
        Ok(Plan {
            job,
            inputs: files.map(FilePath),
        })
    }

    /// The exercise's report: one row per file with how many of each ASCII
    /// digit it has (`-` for a file that could not be analyzed), a TOTAL
    /// row, then the totals of the other counts. When some file had
    /// undecodable bytes, an `invalid` column shows how many in each, so
    /// that counts from a file read in the wrong encoding stand out.
    fn report(run: &Report<'_, Analyze>) -> String {
        let names: Vec<String> = run
            .inputs
            .iter()
            .map(|f| crate::report::escaped(&f.0.display().to_string()))
            .collect();
        let totals = AnalyzeTotals::of(run.results);
        let mut s = digit_table(&names, run.results, &totals.counts);
        s.push('\n');
        s.push_str(&summary(&totals));
        s
    }

    fn totals() -> Option<Box<dyn Totals<TextCounts>>> {
        Some(Box::<AnalyzeTotals>::default())
    }
}

/// One row per file with how many of each ASCII digit it has (`-` for a
/// file that was not analyzed), then the TOTAL row; an `invalid` column
/// when some file had undecodable bytes.
fn digit_table(names: &[String], results: &[ItemResult<TextCounts>], total: &TextCounts) -> String {
    let name_width = names
        .iter()
        .map(|n| n.chars().count())
        .chain([5])
        .max()
        .unwrap_or(5);
    let show_invalid = total.invalid > 0;
    let width = total
        .digit_counts
        .iter()
        .map(|n| n.to_string().len())
        .max()
        .unwrap_or(1);
    let invalid_width = total.invalid.to_string().len().max("invalid".len());
    let row = |s: &mut String, name: &str, cells: &[String], invalid: &str| {
        let _ = write!(s, "{name:<name_width$}");
        for cell in cells {
            let _ = write!(s, " {cell:>width$}");
        }
        if show_invalid {
            let _ = write!(s, " {invalid:>invalid_width$}");
        }
        s.push('\n');
    };
    let numbers = |counts: &[u64; 10]| counts.map(|n| n.to_string());
    let mut s = String::new();
    let header = std::array::from_fn::<_, 10, _>(|d| d.to_string());
    row(&mut s, "file", &header, "invalid");
    for r in results {
        let name = names.get(r.index).map_or("?", String::as_str);
        match r.outcome.as_ok() {
            Some(c) => row(
                &mut s,
                name,
                &numbers(&c.digit_counts),
                &c.invalid.to_string(),
            ),
            None => row(&mut s, name, &["-"; 10].map(String::from), "-"),
        }
    }
    let invalid = total.invalid.to_string();
    row(&mut s, "TOTAL", &numbers(&total.digit_counts), &invalid);
    s
}

/// The totals of the other counts, one per line, and how many files were
/// not analyzed.
fn summary(totals: &AnalyzeTotals) -> String {
    let total = &totals.counts;
    let failed = totals.not_analyzed;
    let lines = [
        ("files", totals.files),
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
    let mut s = String::new();
    for (label, n) in lines {
        let _ = write!(s, "{label:<8}{n:>value_width$}");
        if label == "files" && failed > 0 {
            let _ = write!(s, " ({failed} not analyzed)");
        }
        s.push('\n');
    }
    s
}

/// The run's totals: the report's TOTAL row (`digit_counts`) and the
/// counts under it, summed over the files analyzed.
#[derive(Debug, Clone, Default)]
pub(crate) struct AnalyzeTotals {
    /// Files in this run, analyzed or not.
    pub files: u64,
    /// Files that were not analyzed (any outcome but ok).
    pub not_analyzed: u64,
    /// The sums of the analyzed files' counts (no encoding).
    pub counts: TextCounts,
}

impl AnalyzeTotals {
    /// The totals of `results`.
    pub(crate) fn of(results: &[ItemResult<TextCounts>]) -> AnalyzeTotals {
        let mut totals = AnalyzeTotals::default();
        results.iter().for_each(|r| totals.add(r));
        totals
    }
}

impl Totals<TextCounts> for AnalyzeTotals {
    fn add(&mut self, result: &ItemResult<TextCounts>) {
        self.files += 1;
        match result.outcome.as_ok() {
            Some(counts) => self.counts.add(counts),
            None => self.not_analyzed += 1,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let c = &self.counts;
        serde_json::json!({
            "files": self.files,
            "not_analyzed": self.not_analyzed,
            "digit_counts": c.digit_counts,
            "chars": c.chars,
            "bytes": c.bytes,
            "lines": c.lines,
            "digits": c.digits,
            "letters": c.letters,
            "spaces": c.spaces,
            "other": c.other,
            "invalid": c.invalid,
        })
    }
}
