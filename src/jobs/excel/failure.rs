//! Why a workbook could not be read, as a short lowercase reason for the
//! one-line error `cannot read FILE: REASON`.
//!
//! calamine's own messages name its internals ("Xlsx error: Zip error:
//! invalid Zip archive: Could not find EOCD"). For the common cases the
//! file's first bytes tell a person more: a text file, a truncated zip, an
//! encrypted (password-protected) workbook.

use std::io::Read;
use std::path::Path;

/// The start of a zip archive (.xlsx, .xlsm, .xlsb, .ods).
const ZIP: &[u8] = b"PK\x03\x04";
/// The start of an OLE2 compound file (.xls, and encrypted Office files).
const OLE2: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Why `path` could not be opened as a workbook.
pub(super) fn describe_open(path: &Path, err: &calamine::Error) -> String {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return "no such file".into(),
        Err(e) => return os_message(&e),
        Ok(m) if m.is_dir() => return "is a directory".into(),
        Ok(_) => {}
    }
    if let Some(reason) = sniff(path, is_zip_error(err)) {
        return reason;
    }
    match (io_error(err), err) {
        (Some(io), _) => os_message(io),
        (None, calamine::Error::Xlsx(calamine::XlsxError::FileNotFound(inside))) => {
            format!("a zip archive but not an .xlsx workbook (it has no {inside})")
        }
        (None, calamine::Error::Msg(_)) => {
            "not a workbook (.xlsx, .xlsm, .xlsb, .xls or .ods)".into()
        }
        (None, _) => one_line(&err.to_string()),
    }
}

/// Why `sheet` of a workbook that opened could not be read.
pub(super) fn describe_read(sheet: &str, err: &calamine::Error) -> String {
    let why = match io_error(err) {
        Some(io) => os_message(io),
        None => one_line(&err.to_string()),
    };
    format!("sheet '{sheet}': {why}")
}

/// The I/O error at the bottom of `err`, if that is what it is.
fn io_error(err: &calamine::Error) -> Option<&std::io::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = e.source();
    }
    None
}

/// True when the zip container itself could not be read.
fn is_zip_error(err: &calamine::Error) -> bool {
    use calamine::{Error, OdsError, XlsbError, XlsxError};
    matches!(
        err,
        Error::Xlsx(XlsxError::Zip(_))
            | Error::Xlsb(XlsbError::Zip(_))
            | Error::Ods(OdsError::Zip(_))
    )
}

/// A reason from the file's first bytes and its extension, when they
/// explain the failure better than the reader's error.
fn sniff(path: &Path, zip_error: bool) -> Option<String> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(8)
        .read_to_end(&mut head)
        .ok()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let zipped = matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xlam" | "ods");
    if head.is_empty() {
        return Some("empty file".into());
    }
    if head.starts_with(OLE2) && encrypted(path) {
        return Some("password-protected (encrypted) workbook".into());
    }
    if zipped && head.starts_with(OLE2) {
        return Some(format!(
            "not a zip archive, so not an .{ext} file (it looks like an old .xls workbook)"
        ));
    }
    if zipped && head.starts_with(ZIP) {
        return zip_error.then(|| "truncated or corrupt zip archive".into());
    }
    if zipped {
        return Some(format!("not a zip archive, so not an .{ext} file"));
    }
    if ext == "xls" && !head.starts_with(OLE2) {
        return Some("not an .xls workbook (no OLE2 header)".into());
    }
    None
}

/// True for an OLE2 file holding an Office encryption stream: what Excel
/// writes for a workbook with an open password. Reads at most the first
/// [`MAX_INFLATED`](super::open::MAX_INFLATED) bytes.
fn encrypted(path: &Path) -> bool {
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(super::open::MAX_INFLATED).read_to_end(&mut bytes));
    if read.is_err() {
        return false;
    }
    // The directory names its streams in UTF-16LE.
    let name: Vec<u8> = "EncryptionInfo"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.windows(name.len()).any(|w| w == name.as_slice())
}

/// An OS error's text without "(os error N)", first letter lowercase.
fn os_message(io: &std::io::Error) -> String {
    let text = io.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    crate::errors::lower_first(text)
}

/// The reader's message on one line, first letter lowercase, without the
/// layers' prefixes ("Xlsx error: Xml error: I/O error: corrupt deflate
/// stream" is "corrupt deflate stream").
fn one_line(text: &str) -> String {
    const LAYERS: [&str; 8] = ["xlsx", "xlsb", "xls", "ods", "xml", "i/o", "zip", "vba"];
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut rest = joined.trim_end_matches('.');
    while let Some((head, tail)) = rest.split_once(" error: ") {
        if !LAYERS.contains(&head.to_ascii_lowercase().as_str()) {
            break;
        }
        rest = tail;
    }
    crate::errors::lower_first(rest)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reader_messages_lose_their_layers() {
        assert_eq!(
            super::one_line("Xlsx error: Xml error: I/O error: corrupt deflate stream."),
            "corrupt deflate stream"
        );
        assert_eq!(
            super::one_line("Cannot detect\nfile format"),
            "cannot detect file format"
        );
        assert_eq!(super::one_line("Bad error: x"), "bad error: x");
    }
}
