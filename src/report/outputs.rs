//! Output files checked before any work starts: a run whose job log or
//! picture cannot be written is refused at once, not discovered after an
//! hour of work.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::unistd::{access, AccessFlags};

use crate::errors::io_message;
use mproc::{Error, Result};

/// An error naming `flag` unless `path` can be written: an existing file
/// must open for writing (it is not truncated here; a FIFO without a reader
/// is refused rather than waited for), a new one needs a directory this
/// process may create files in.
pub(crate) fn check_writable(flag: &str, path: &Path) -> Result<()> {
    let fail = |why: String| Error::usage(format!("cannot write {flag} {}: {why}", path.display()));
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(fail("is a directory".into())),
        Ok(_) => OpenOptions::new()
            .append(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .map(drop)
            .map_err(|e| fail(io_message(&e))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => access(dir, AccessFlags::W_OK | AccessFlags::X_OK)
                    .map_err(|e| {
                        fail(format!(
                            "cannot create files in {}: {}",
                            dir.display(),
                            crate::errors::lower_first(e.desc())
                        ))
                    }),
                Ok(_) => Err(fail(format!("{} is not a directory", dir.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(fail(format!("no such directory {}", dir.display())))
                }
                Err(e) => Err(fail(format!("{}: {}", dir.display(), io_message(&e)))),
            }
        }
        Err(e) => Err(fail(io_message(&e))),
    }
}

/// [`check_writable`] for a file written whole ([`write_whole`]): an
/// existing regular file is replaced by a new one beside it, so its folder
/// must take new files too.
///
/// [`write_whole`]: super::write_whole
pub(crate) fn check_replaceable(flag: &str, path: &Path) -> Result<()> {
    check_writable(flag, path)?;
    let real = match std::fs::canonicalize(path) {
        Ok(real) if real.is_file() => real,
        _ => return Ok(()),
    };
    let dir = real.parent().unwrap_or(Path::new("/"));
    access(dir, AccessFlags::W_OK | AccessFlags::X_OK).map_err(|e| {
        Error::usage(format!(
            "cannot write {flag} {}: cannot create files in {} (the file is replaced whole): {}",
            path.display(),
            dir.display(),
            crate::errors::lower_first(e.desc())
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::check_writable;
    use std::path::Path;

    #[test]
    fn missing_directories_and_directories_are_refused() {
        let e = check_writable("--timeline", Path::new("/missing/dir/t.svg")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot write --timeline /missing/dir/t.svg: no such directory /missing/dir"
        );
        let e = check_writable("--joblog", Path::new("/")).unwrap_err();
        assert_eq!(e.to_string(), "cannot write --joblog /: is a directory");
        assert!(check_writable("--joblog", Path::new("/dev/null")).is_ok());
    }
}
