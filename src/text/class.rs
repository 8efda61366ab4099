//! Which count a non-ASCII character goes to: digit, letter or other.
//!
//! `char::is_alphabetic` searches a compressed table and costs tens of
//! nanoseconds outside ASCII, which made Cyrillic text twenty times slower
//! to count than ASCII. Classes of the Basic Multilingual Plane are kept
//! here in blocks of 256 code points, each filled on first use (once per
//! process); characters above U+FFFF are looked up each time.

use std::sync::OnceLock;

use super::digits::is_decimal_digit;

/// What a character counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Class {
    /// A decimal digit (general category Nd).
    Digit,
    /// An alphabetic character.
    Letter,
    /// Anything else.
    Other,
}

/// Classes of U+0000..U+FFFF, by block of 256.
static BLOCKS: [OnceLock<[Class; 256]>; 256] = [const { OnceLock::new() }; 256];

/// The class of `c`.
pub(super) fn class_of(c: char) -> Class {
    let code = c as u32;
    if code > 0xFFFF {
        return lookup(c);
    }
    let block = BLOCKS[(code >> 8) as usize].get_or_init(|| {
        std::array::from_fn(|low| {
            char::from_u32((code & !0xFF) | low as u32).map_or(Class::Other, lookup)
        })
    });
    block[(code & 0xFF) as usize]
}

fn lookup(c: char) -> Class {
    if is_decimal_digit(c) {
        Class::Digit
    } else if c.is_alphabetic() {
        Class::Letter
    } else {
        Class::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_classes_match_the_lookup() {
        for code in (0..0x11000)
            .step_by(7)
            .chain([0xFF10, 0x0660, 0xD7FF, 0xE000])
        {
            if let Some(c) = char::from_u32(code) {
                assert_eq!(class_of(c), lookup(c), "U+{code:04X}");
            }
        }
    }
}
