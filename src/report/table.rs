//! Text tables for the human reports: columns padded to line up, and
//! terminal widths of text (wide CJK characters count two).

use std::fmt::Write as _;

use unicode_width::UnicodeWidthChar;

/// Six cells from string slices.
pub(crate) fn cells(texts: [&str; 6]) -> [String; 6] {
    texts.map(str::to_string)
}

/// Columns `keep` of `rows`, padded to line up, two spaces apart; columns
/// marked in `right` are right-aligned. Control characters and bidi
/// overrides in cells are escaped ([`super::escaped`]).
pub(crate) fn table<const N: usize>(
    rows: &[[String; N]],
    keep: &[usize],
    right: &[bool; N],
) -> String {
    let escaped: Vec<[String; N]> = rows
        .iter()
        .map(|r| r.clone().map(|cell| super::escaped(&cell)))
        .collect();
    let rows = &escaped[..];
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..N).map(width).collect();
    let mut s = String::new();
    for row in rows {
        let line: Vec<String> = keep
            .iter()
            .map(|&c| {
                if right[c] {
                    format!("{:>w$}", row[c], w = widths[c])
                } else {
                    format!("{:<w$}", row[c], w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    s
}

/// Pads column `column` of `rows` on the right so that, right-aligned by
/// [`table`], its numbers line up on the decimal point: `12.5`, `3` and
/// `100.25` become `12.5 `, `3   ` and `100.25`. A cell without a point
/// (a whole number, `-`) lines up as a whole number.
pub(crate) fn align_points<const N: usize>(rows: &mut [[String; N]], column: usize) {
    let tail = |cell: &str| cell.find('.').map_or(0, |dot| cell[dot..].chars().count());
    let widest = rows.iter().map(|r| tail(&r[column])).max().unwrap_or(0);
    for row in rows {
        let pad = widest - tail(&row[column]);
        row[column].extend(std::iter::repeat_n(' ', pad));
    }
}

/// Terminal columns `text` takes (wide CJK characters count two).
pub(crate) fn columns(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` cut to `max` columns, ending in `…` when cut; control
/// characters and bidi overrides become spaces.
pub(crate) fn fit(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if super::needs_escape(c) { ' ' } else { c })
        .collect();
    if columns(&clean) <= max {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_titles_cannot_reorder_or_break_a_line() {
        assert_eq!(fit("evil\u{202E}gnp.exe\n", 40), "evil gnp.exe ");
        let rows = [["a\u{1b}[2J".to_string(), "x\ny".to_string()]];
        assert_eq!(table(&rows, &[0, 1], &[false, false]), "a\\x1b[2J  x\\ny\n");
    }

    #[test]
    fn numbers_line_up_on_the_point() {
        let mut rows = ["sum", "12.5", "3", "100.25", "-"].map(|c| [c.to_string(), "x".into()]);
        align_points(&mut rows[1..], 0);
        let got = table(&rows, &[0, 1], &[true, false]);
        assert_eq!(
            got,
            "   sum  x\n 12.5   x\n  3     x\n100.25  x\n  -     x\n"
        );
    }
}
