//! `mproc gen excel`: write the workbooks, then print what they hold: one
//! line per file and the total, or with `--json` every number.

use std::fmt::Write as _;

use super::Status;
use crate::decimal_sum::display;
use crate::generate::excel::{generate, ExcelSpec};
use crate::report::{count, Stdout};
use mproc::{Error, Result};

pub(super) fn run(spec: &ExcelSpec, json: bool) -> Result<Status> {
    let written = generate(spec)?;
    let mut out = Stdout::default();
    if json {
        let value = serde_json::to_value(&written).map_err(|e| Error::usage(e.to_string()))?;
        out.json_line(&value);
        out.finish()?;
        return Ok(Status::OK);
    }
    let mut s = String::new();
    for book in &written.files {
        let _ = writeln!(
            s,
            "{}  {}  sum {}",
            book.path.display(),
            count(book.numbers.len() as u64, "number"),
            display(book.sum)
        );
    }
    let _ = writeln!(
        s,
        "total {} in {} (seed {})",
        display(written.total),
        count(written.files.len() as u64, "file"),
        written.seed
    );
    out.print(&s);
    out.finish()?;
    Ok(Status::OK)
}
