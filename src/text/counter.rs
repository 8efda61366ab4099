//! [`CharCounter`]: counts the characters of UTF-8 bytes fed in pieces of
//! any size, exactly as if they came in one piece.
//!
//! The hot path is a byte histogram: ASCII bytes are always characters of
//! their own (never part of a multi-byte or an undecodable sequence), so
//! every ASCII count, digits per digit included, is read off a 128-entry
//! table at the end. Only runs of bytes >= 0x80 are decoded, and each run
//! decodes on its own because no UTF-8 sequence spans an ASCII byte. A
//! sequence cut off at the end of a piece waits (at most three bytes) for
//! the next piece. Undecodable sequences are counted the way the WHATWG
//! decoder (and `String::from_utf8_lossy`) replaces them: one per maximal
//! ill-formed subpart.

use super::class::{class_of, Class};
use super::TextCounts;

/// Pieces are histogrammed in blocks of at most this many bytes, so that
/// 32-bit per-block tables cannot overflow.
pub(super) const BLOCK: usize = 1 << 20;

/// Counts characters of UTF-8 text fed in pieces; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct CharCounter {
    ascii: [u64; 128],
    wide_chars: u64,
    wide_digits: u64,
    wide_letters: u64,
    wide_other: u64,
    invalid: u64,
    pending: [u8; 3],
    pending_len: usize,
    ends_with_newline: bool,
}

impl Default for CharCounter {
    fn default() -> Self {
        CharCounter {
            ascii: [0; 128],
            wide_chars: 0,
            wide_digits: 0,
            wide_letters: 0,
            wide_other: 0,
            invalid: 0,
            pending: [0; 3],
            pending_len: 0,
            ends_with_newline: false,
        }
    }
}

/// The first unit of some bytes.
enum Unit {
    /// A character and its length in bytes.
    Char(char, usize),
    /// An undecodable sequence of this many bytes.
    Invalid(usize),
    /// The bytes are the beginning of a sequence that needs more bytes.
    Incomplete,
}

impl CharCounter {
    /// A counter with nothing counted.
    pub(crate) fn new() -> Self {
        CharCounter::default()
    }

    /// Counts the next piece of the text.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else {
            return;
        };
        self.ends_with_newline = last == b'\n';
        for block in bytes.chunks(BLOCK) {
            let block = if self.pending_len > 0 {
                self.resume(block)
            } else {
                block
            };
            if histogram(block, &mut self.ascii) {
                self.count_wide_runs(block);
            }
        }
    }

    /// Counts one undecodable sequence that a decoder found after the
    /// bytes fed so far.
    pub(crate) fn push_invalid(&mut self) {
        self.invalid += 1;
        self.ends_with_newline = false;
    }

    /// The counts of everything fed; a sequence left unfinished at the end
    /// counts as one undecodable sequence. `bytes` and `encoding` are left
    /// for the caller to fill in.
    pub(crate) fn finish(mut self) -> TextCounts {
        if self.pending_len > 0 {
            self.invalid += 1;
        }
        let a = &self.ascii;
        let mut digit_counts = [0u64; 10];
        digit_counts.copy_from_slice(&a[usize::from(b'0')..=usize::from(b'9')]);
        let ascii_digits: u64 = digit_counts.iter().sum();
        let ascii_letters: u64 = a[usize::from(b'A')..=usize::from(b'Z')]
            .iter()
            .chain(&a[usize::from(b'a')..=usize::from(b'z')])
            .sum();
        let spaces = a[usize::from(b' ')];
        let ascii_chars: u64 = a.iter().sum();
        let chars = ascii_chars + self.wide_chars + self.invalid;
        TextCounts {
            chars,
            bytes: 0,
            lines: a[usize::from(b'\n')] + u64::from(chars > 0 && !self.ends_with_newline),
            digits: ascii_digits + self.wide_digits,
            letters: ascii_letters + self.wide_letters,
            spaces,
            other: ascii_chars - ascii_digits - ascii_letters - spaces
                + self.wide_other
                + self.invalid,
            invalid: self.invalid,
            digit_counts,
            encoding: String::new(),
        }
    }

    /// Finishes the sequence left pending by the previous piece, and
    /// returns the rest of `bytes`.
    fn resume<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let held = self.pending_len;
        // Four more bytes always settle a pending prefix of at most three.
        let take = bytes.iter().take(4).take_while(|&&b| b >= 0x80).count();
        let mut joined = [0u8; 7];
        joined[..held].copy_from_slice(&self.pending[..held]);
        joined[held..held + take].copy_from_slice(&bytes[..take]);
        let joined = &joined[..held + take];
        let mut pos = 0;
        while pos < held {
            match first_unit(&joined[pos..]) {
                Unit::Char(c, len) => {
                    self.count_wide_char(c);
                    pos += len;
                }
                Unit::Invalid(len) => {
                    self.invalid += 1;
                    pos += len;
                }
                Unit::Incomplete if take == bytes.len() => {
                    // Still unfinished: the piece ended inside it too.
                    let rest = &joined[pos..];
                    self.pending[..rest.len()].copy_from_slice(rest);
                    self.pending_len = rest.len();
                    return &[];
                }
                Unit::Incomplete => {
                    // Cut short by an ASCII byte.
                    self.invalid += 1;
                    pos = joined.len();
                }
            }
        }
        self.pending_len = 0;
        &bytes[pos - held..]
    }

    /// Decodes every run of non-ASCII bytes in `block`.
    fn count_wide_runs(&mut self, block: &[u8]) {
        let mut rest = block;
        while let Some(start) = rest.iter().position(|&b| b >= 0x80) {
            let len = rest[start..]
                .iter()
                .position(|&b| b < 0x80)
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + len];
            rest = &rest[start + len..];
            let unfinished = self.count_run(run);
            if unfinished > 0 {
                if rest.is_empty() {
                    self.pending[..unfinished].copy_from_slice(&run[len - unfinished..]);
                    self.pending_len = unfinished;
                } else {
                    self.invalid += 1;
                }
            }
        }
    }

    /// Counts one run of non-ASCII bytes; returns the length of an
    /// unfinished sequence at its end (0 if none), which it does not count.
    fn count_run(&mut self, run: &[u8]) -> usize {
        let mut chunks = run.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            for c in chunk.valid().chars() {
                self.count_wide_char(c);
            }
            let bad = chunk.invalid();
            if bad.is_empty() {
                continue;
            }
            if chunks.peek().is_none() && matches!(first_unit(bad), Unit::Incomplete) {
                return bad.len();
            }
            self.invalid += 1;
        }
        0
    }

    fn count_wide_char(&mut self, c: char) {
        self.wide_chars += 1;
        match class_of(c) {
            Class::Digit => self.wide_digits += 1,
            Class::Letter => self.wide_letters += 1,
            Class::Other => self.wide_other += 1,
        }
    }
}

/// What the first bytes of `bytes` are.
fn first_unit(bytes: &[u8]) -> Unit {
    let head = &bytes[..bytes.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.valid_up_to() > 0 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(e) => {
            return match e.error_len() {
                Some(len) => Unit::Invalid(len),
                None => Unit::Incomplete,
            }
        }
    };
    match valid.chars().next() {
        Some(c) => Unit::Char(c, c.len_utf8()),
        None => Unit::Incomplete,
    }
}

/// Adds the ASCII bytes of `block` (at most [`BLOCK`] bytes) to `ascii`;
/// returns whether it has any non-ASCII byte. Four tables, one per byte
/// position, keep repeated bytes from waiting on each other's increments.
fn histogram(block: &[u8], ascii: &mut [u64; 128]) -> bool {
    if block.len() < 64 {
        let mut wide = false;
        for &b in block {
            match ascii.get_mut(usize::from(b)) {
                Some(n) => *n += 1,
                None => wide = true,
            }
        }
        return wide;
    }
    let mut t = [[0u32; 256]; 4];
    let mut quads = block.chunks_exact(4);
    for q in &mut quads {
        t[0][usize::from(q[0])] += 1;
        t[1][usize::from(q[1])] += 1;
        t[2][usize::from(q[2])] += 1;
        t[3][usize::from(q[3])] += 1;
    }
    for &b in quads.remainder() {
        t[0][usize::from(b)] += 1;
    }
    for (i, n) in ascii.iter_mut().enumerate() {
        *n += u64::from(t[0][i] + t[1][i] + t[2][i] + t[3][i]);
    }
    (128..256).any(|i| t[0][i] | t[1][i] | t[2][i] | t[3][i] != 0)
}
