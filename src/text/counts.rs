//! [`TextCounts`]: what counting one text found.

use serde::{Deserialize, Serialize};

/// The counts of one text (or, added up, of many).
///
/// Every character falls in exactly one of `digits`, `letters`, `spaces`
/// and `other`, so `chars = digits + letters + spaces + other`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TextCounts {
    /// Characters (Unicode scalar values) after decoding, each undecodable
    /// byte sequence counted as one; a byte-order mark is not counted.
    pub chars: u64,
    /// Bytes read, byte-order mark included.
    pub bytes: u64,
    /// Lines: the number of '\n', plus one when the text has characters
    /// and does not end with '\n'. A lone '\r' does not end a line, and
    /// "\r\n" ends one.
    pub lines: u64,
    /// Unicode decimal digits (general category Nd), in any script.
    pub digits: u64,
    /// Alphabetic characters (Unicode `Alphabetic`).
    pub letters: u64,
    /// Spaces (U+0020 only).
    pub spaces: u64,
    /// Every other character, undecodable sequences included.
    pub other: u64,
    /// Undecodable byte sequences (each also counted in `chars` and `other`).
    pub invalid: u64,
    /// How many of each ASCII digit '0' to '9'.
    pub digit_counts: [u64; 10],
    /// The encoding the text was decoded with (`UTF-8`, `UTF-16LE`,
    /// `Shift_JIS`, ...); empty in a sum of several texts.
    pub encoding: String,
}

impl TextCounts {
    /// Adds `other`'s counts to these (the encoding is left as it is).
    pub(crate) fn add(&mut self, other: &TextCounts) {
        self.chars += other.chars;
        self.bytes += other.bytes;
        self.lines += other.lines;
        self.digits += other.digits;
        self.letters += other.letters;
        self.spaces += other.spaces;
        self.other += other.other;
        self.invalid += other.invalid;
        for (sum, n) in self.digit_counts.iter_mut().zip(other.digit_counts) {
            *sum += n;
        }
    }
}
