//! Text as a person may safely see it: control characters and the Unicode
//! controls that reorder a line (bidi overrides, isolates and marks) are
//! written as escapes, so a file name or a page title can neither forge a
//! log line, move the cursor, nor make a line read backwards.
//!
//! Only for people: log lines and human reports. JSON output and the job
//! log keep (or escape in their own way) the exact value.

use std::fmt::Write as _;

/// `text` with `\n`, `\r`, `\t`, other control characters (`\x1b`,
/// `\u{85}`) and bidi controls (`\u{202e}`) escaped; everything else as is.
pub(crate) fn escaped(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// True for characters that [`escaped`] rewrites.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The characters that change the direction of the text after them:
/// U+061C, U+200E, U+200F, U+202A to U+202E and U+2066 to U+2069.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::escaped;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(escaped("plain name.txt"), "plain name.txt");
        assert_eq!(
            escaped("a\n ERROR [parent] item 0 (fake): x"),
            "a\\n ERROR [parent] item 0 (fake): x"
        );
        assert_eq!(escaped("\x1b[31mred\ttab\r"), "\\x1b[31mred\\ttab\\r");
        assert_eq!(escaped("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escaped("\u{85}\u{2066}x"), "\\u{85}\\u{2066}x");
        assert_eq!(escaped("日本語 é"), "日本語 é");
    }
}
