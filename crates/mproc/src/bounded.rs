//! Whole files read with a bound: a flag that names a file to read in one
//! go (`--hostfile`, `--resume`, `--cacert`) reads at most a stated number
//! of bytes, and a file that holds more (`/dev/zero`, a log grown without
//! end, a wrong path) is an error naming the flag, the file and the bound,
//! never memory exhausted.
//!
//! It only reads; what the bytes mean is the caller's business.

use std::io::Read;
use std::path::Path;

use crate::error::{io_message, Error, ErrorKind, Result};

/// Reads all of `path`, given by `flag`, if it holds at most `limit`
/// bytes; else an error saying where it stopped.
pub fn read_file(flag: &str, path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| cannot(flag, path, e))?;
    read_open(flag, path, file, limit)
}

/// [`read_file`], with `None` for a file that does not exist.
pub fn read_if_exists(flag: &str, path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    match std::fs::File::open(path) {
        Ok(file) => read_open(flag, path, file, limit).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(cannot(flag, path, e)),
    }
}

fn cannot(flag: &str, path: &Path, e: std::io::Error) -> Error {
    let message = format!("cannot read {flag} {}: {}", path.display(), io_message(&e));
    Error::new(ErrorKind::Io, message).with_source(e)
}

fn read_open(flag: &str, path: &Path, file: std::fs::File, limit: u64) -> Result<Vec<u8>> {
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(flag, path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::usage(format!(
            "{flag} {}: stopped reading at {}, the most {flag} reads",
            path.display(),
            size(limit)
        )));
    }
    Ok(bytes)
}

/// `limit` as people write it: "1 GiB", "64 KiB", "100 bytes".
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes % unit == 0 {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_stops_at_the_bound_with_a_message() {
        let e = read_file("--resume", Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.is_usage());
        assert_eq!(
            e.to_string(),
            "--resume /dev/zero: stopped reading at 1 MiB, the most --resume reads"
        );
        assert!(read_file("--x", Path::new("/dev/null"), 0)
            .unwrap()
            .is_empty());
        assert!(read_if_exists("--x", Path::new("/no/such"), 0)
            .unwrap()
            .is_none());
        let e = read_file("--hostfile", Path::new("/no/such"), 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read --hostfile /no/such: no such file or directory"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(1 << 30), "1 GiB");
        assert_eq!(size(16 << 20), "16 MiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
