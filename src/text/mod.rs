//! Counting the characters of a text: chars, lines, decimal digits (each
//! ASCII digit on its own), letters, spaces, everything else, and
//! undecodable bytes. Knows nothing about files, jobs or processes.
//!
//! Texts of any size are counted in constant memory (`count_reader`),
//! and how they are cut into pieces never changes a count. The encoding is
//! a byte-order mark's, else the caller's; UTF-8 is counted on the bytes,
//! anything else is decoded with `encoding_rs` (WHATWG encodings).

mod class;
mod counter;
mod counts;
mod digits;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use counter::CharCounter;
pub(crate) use counts::TextCounts;
pub use stream::CHUNK_SIZE;
pub(crate) use stream::{count_reader, count_reader_guessing};

use encoding_rs::Encoding;

/// The encoding a WHATWG label names (`utf-8`, `shift_jis`, `euc-jp`,
/// `windows-1252`, `utf-16le`, ..., case-insensitive), or `None` for an
/// unknown label. Labels of the "replacement" encoding (such as
/// `iso-2022-kr`), which would decode any text to one error, are refused.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label_no_replacement(label.as_bytes())
}
