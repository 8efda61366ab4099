//! Opening a workbook safely: only a regular file, opened non-blocking (a
//! FIFO named `x.xlsx` never blocks a worker), and, for the zip-based
//! formats (.xlsx, .xlsm, .xlsb, .ods), only once every part of the archive
//! is known to inflate to at most the limit (`--max-inflated`).
//!
//! calamine inflates and buffers parts whole (sharedStrings.xml, a long
//! text or whitespace run in a sheet), so a few MB of zip that inflate to
//! gigabytes would take a worker past its memory. Sizes declared by the
//! archive are checked first (an honest bomb costs nothing), then each part
//! is inflated into a counter, never into memory, and the count stops at the
//! limit (a bomb that lies about its sizes costs at most the limit's worth of
//! inflating). Only then does calamine read the workbook.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use calamine::{open_workbook_from_rs, Ods, Sheets, Xls, Xlsb, Xlsx};

/// The default of `--max-inflated`: 256 MiB for all the parts of one
/// workbook together.
pub(crate) const MAX_INFLATED: u64 = 256 << 20;

/// Opens `path` if it is a regular file, non-blocking, checked again after
/// opening (it may have been replaced).
pub(super) fn regular_file(path: &Path) -> Result<File, String> {
    let os = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => crate::errors::io_message(&e),
    };
    kind(&std::fs::metadata(path).map_err(os)?)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(os)?;
    kind(&file.metadata().map_err(os)?)?;
    Ok(file)
}

/// An error unless `meta` is a regular file's.
fn kind(meta: &Metadata) -> Result<(), String> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        return Err("is a directory".into());
    } else if t.is_fifo() {
        "a fifo"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "of an unknown type"
    };
    Err(format!("is {what}, not a regular file"))
}

/// Checks that the zip archive in `file` (if it is one) inflates to at most
/// `limit` bytes, all parts together. A file that is not a readable zip
/// passes: calamine then says what is wrong with it.
pub(super) fn check_inflated(file: &File, limit: u64) -> Result<(), String> {
    let Ok(mut reader) = file.try_clone() else {
        return Ok(());
    };
    let mut head = [0u8; 4];
    let zipped = reader.seek(SeekFrom::Start(0)).is_ok()
        && reader.read_exact(&mut head).is_ok()
        && &head == b"PK\x03\x04";
    if !zipped || reader.seek(SeekFrom::Start(0)).is_err() {
        return Ok(());
    }
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(reader)) else {
        return Ok(());
    };
    let too_large = |what: String| {
        format!(
            "workbook too large: {what}; the limit is {} (--max-inflated {limit})",
            bytes(limit)
        )
    };
    // What the archive declares: free to check.
    let mut declared = 0u64;
    let mut largest = (0u64, String::new());
    for i in 0..zip.len() {
        // A part that cannot be opened is not inflated by calamine either.
        let Ok(part) = zip.by_index_raw(i) else {
            continue;
        };
        declared = declared.saturating_add(part.size());
        if part.size() > largest.0 {
            largest = (part.size(), part.name().to_string());
        }
    }
    if declared > limit {
        return Err(too_large(format!(
            "its parts declare {} inflated ({} alone is {})",
            bytes(declared),
            shown(&largest.1),
            bytes(largest.0)
        )));
    }
    // What it really inflates to: counted, never kept.
    let mut left = limit;
    let mut sink = [0u8; 64 * 1024];
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index(i) else {
            continue;
        };
        let (name, declared_size) = (part.name().to_string(), part.size());
        let mut capped = part.take(left + 1);
        loop {
            match capped.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => match left.checked_sub(n as u64) {
                    Some(rest) => left = rest,
                    None => {
                        return Err(too_large(format!(
                            "{} takes the parts past {} inflated (it declares {})",
                            shown(&name),
                            bytes(limit),
                            bytes(declared_size)
                        )))
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // A corrupt part: calamine will say so if it reads it.
                Err(_) => break,
            }
        }
    }
    Ok(())
}

/// Opens `file` with calamine, by the extension of `path` as
/// `calamine::open_workbook_auto` does, but from the file already opened.
pub(super) fn workbook(
    path: &Path,
    file: File,
) -> Result<Sheets<BufReader<File>>, calamine::Error> {
    let at_start = |f: &File| -> Result<BufReader<File>, calamine::Error> {
        let mut f = f.try_clone().map_err(calamine::Error::Io)?;
        f.seek(SeekFrom::Start(0)).map_err(calamine::Error::Io)?;
        Ok(BufReader::new(f))
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("xls" | "xla") => Sheets::Xls(open_workbook_from_rs(at_start(&file)?)?),
        Some("xlsx" | "xlsm" | "xlam") => Sheets::Xlsx(open_workbook_from_rs(at_start(&file)?)?),
        Some("xlsb") => Sheets::Xlsb(open_workbook_from_rs(at_start(&file)?)?),
        Some("ods") => Sheets::Ods(open_workbook_from_rs(at_start(&file)?)?),
        _ => {
            if let Ok(book) = open_workbook_from_rs::<Xls<_>, _>(at_start(&file)?) {
                Sheets::Xls(book)
            } else if let Ok(book) = open_workbook_from_rs::<Xlsx<_>, _>(at_start(&file)?) {
                Sheets::Xlsx(book)
            } else if let Ok(book) = open_workbook_from_rs::<Xlsb<_>, _>(at_start(&file)?) {
                Sheets::Xlsb(book)
            } else if let Ok(book) = open_workbook_from_rs::<Ods<_>, _>(at_start(&file)?) {
                Sheets::Ods(book)
            } else {
                return Err(calamine::Error::Msg("Cannot detect file format"));
            }
        }
    })
}

/// A part's name as a person may see it: control characters escaped.
fn shown(name: &str) -> String {
    crate::report::escaped(name)
}

/// `256 MiB`, `2.0 GiB`, `512 bytes`.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            return if n % size == 0 {
                format!("{} {unit}", n / size)
            } else {
                format!("{:.1} {unit}", n as f64 / size as f64)
            };
        }
    }
    crate::report::count(n, "byte")
}

/// Parses `--max-inflated`: bytes, or a number with K, M or G (powers of
/// 1024, with an optional `iB` or `B`): `4M`, `256MiB`, `1G`, `1048576`.
pub(super) fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("'{text}' is not a size (say 4194304, 4M or 1G)")),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (say 4194304, 4M or 1G)"))?;
    n.checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{text}' must be between 1 byte and 16 EiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_show() {
        assert_eq!(parse_bytes("4M"), Ok(4 << 20));
        assert_eq!(parse_bytes("256MiB"), Ok(256 << 20));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("2g"), Ok(2 << 30));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("99999999999999999999G").is_err());
        assert_eq!(bytes(MAX_INFLATED), "256 MiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
        assert_eq!(bytes(12), "12 bytes");
    }
}
