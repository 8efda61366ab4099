//! The list of files a command works on: FILE arguments, then the paths a
//! `--files-from` list names (a file, or stdin), with directories walked
//! in sorted order when asked.
//!
//! A path that does not exist, or a directory that cannot be listed, stays
//! in the list: whoever opens it reports the error for that path alone.
//! Only a `--files-from` list that cannot be read is an error here.
//!
//! A list on stdin, or in anything but a regular file (a pipe, `<(find
//! ...)`), is a stream: its paths reach the pool as they are written
//! ([`inputs`]). A regular file is read before the run (at most
//! [`MAX_LIST`] bytes), so the count is known.

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use crate::errors::io_message;
use mproc::{Error, ErrorKind, Result};

use crate::inputs::{Inputs, List, Stream};

/// The paths as a run's inputs: `args`, then those `list` names (`-`:
/// stdin), one per line; with `recursive`, each directory is replaced by
/// the files below it. A list in a regular file is read before the run;
/// stdin or a pipe streams.
pub(crate) fn inputs(
    args: &[PathBuf],
    list: Option<&Path>,
    recursive: bool,
) -> Result<Inputs<PathBuf>> {
    let mut named = args.to_vec();
    let Some(source) = list else {
        return Ok(expand_all(named, recursive).into());
    };
    let name = source.display().to_string();
    let reader = match List::open(source).map_err(|e| cannot_read(&name, &e))? {
        List::File(file) => {
            named.extend(read_list(BufReader::new(file)).map_err(|e| cannot_read(&name, &e))?);
            return Ok(expand_all(named, recursive).into());
        }
        List::Stream(reader) => reader,
    };
    let listed = crate::inputs::records(BufReader::new(reader), b'\n', MAX_LINE)
        .enumerate()
        .filter_map(move |(n, record)| match record {
            Err(e) => Some(Err(cannot_read(&name, &e))),
            Ok((_, Some(len))) => {
                tracing::error!(
                    "--files-from {name}: line {} is {len} bytes, over the limit of {MAX_LINE}; skipped",
                    n + 1
                );
                None
            }
            Ok((line, None)) => path_of(line).map(Ok),
        });
    let paths = named
        .into_iter()
        .map(Ok)
        .chain(listed)
        .flat_map(move |path| match path {
            Ok(path) => expand(path, recursive).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        });
    Ok(Inputs::Stream(Stream::new(paths)))
}

/// The longest line of a streamed list (a path is at most 4096 bytes on
/// Linux); a longer one is skipped with an error.
pub(crate) const MAX_LINE: usize = 64 << 10;

fn cannot_read(name: &str, e: &io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot read --files-from {name}: {}", io_message(e)),
    )
}

/// The path a list's line names: empty lines are none, and a trailing
/// '\r' is dropped. Bytes are kept as they are.
fn path_of(mut line: Vec<u8>) -> Option<PathBuf> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    (!line.is_empty()).then(|| PathBuf::from(OsString::from_vec(line)))
}

/// `paths`, each directory replaced by the files below it when
/// `recursive`.
fn expand_all(paths: Vec<PathBuf>, recursive: bool) -> Vec<PathBuf> {
    if !recursive {
        return paths;
    }
    paths.into_iter().flat_map(|p| expand(p, true)).collect()
}

/// `path`, or with `recursive` and a directory, the files below it.
fn expand(path: PathBuf, recursive: bool) -> Vec<PathBuf> {
    if recursive && path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files);
        files
    } else {
        vec![path]
    }
}

/// The largest `--files-from` list read before the run, in bytes (a
/// regular file).
pub(crate) const MAX_LIST: u64 = 64 << 20;

/// One path per line; empty lines are skipped and a trailing '\r' is
/// dropped. Bytes are kept as they are, so any file name can be listed.
/// A list longer than [`MAX_LIST`] is an error, not an ever-growing
/// memory.
fn read_list(reader: impl BufRead) -> io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let mut reader = reader.take(MAX_LIST + 1);
    let mut read = 0u64;
    for line in (&mut reader).split(b'\n') {
        let line = line?;
        read += line.len() as u64 + 1;
        if read > MAX_LIST {
            return Err(io::Error::other(format!(
                "the list is over the limit of {MAX_LIST} bytes"
            )));
        }
        paths.extend(path_of(line));
    }
    Ok(paths)
}

/// What a directory entry is, for the walk.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Dir,
    LinkToDir,
    Other,
}

/// Adds every file below `dir` to `files`, depth first, each directory's
/// entries sorted by name. Symbolic links to directories are not followed
/// (that could loop); a directory that cannot be listed is added itself.
fn walk(dir: PathBuf, files: &mut Vec<PathBuf>) {
    let entries = match sorted_entries(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::debug!("cannot list {}: {e}", dir.display());
            files.push(dir);
            return;
        }
    };
    for (path, kind) in entries {
        match kind {
            Kind::Dir => walk(path, files),
            Kind::LinkToDir => tracing::debug!("not following {}", path.display()),
            Kind::Other => files.push(path),
        }
    }
}

/// The entries of `dir`, sorted by name.
fn sorted_entries(dir: &Path) -> io::Result<Vec<(PathBuf, Kind)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let t = entry.file_type()?;
        let kind = if t.is_dir() {
            Kind::Dir
        } else if t.is_symlink() && entry.path().is_dir() {
            Kind::LinkToDir
        } else {
            Kind::Other
        };
        entries.push((entry.file_name(), kind));
    }
    entries.sort_unstable();
    Ok(entries
        .into_iter()
        .map(|(name, kind)| (dir.join(name), kind))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_empty_lines_and_carriage_returns() {
        let paths = read_list(&b"a.txt\r\n\nb c.txt\n\xFFname\nlast"[..]).unwrap();
        assert_eq!(
            paths,
            vec![
                PathBuf::from("a.txt"),
                PathBuf::from("b c.txt"),
                PathBuf::from(OsString::from_vec(b"\xFFname".to_vec())),
                PathBuf::from("last"),
            ]
        );
    }
}
