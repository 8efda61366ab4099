//! HTML character references (`&amp;`, `&#233;`, `&#x2014;`): decoding
//! them in text the way the HTML standard's tokenizer does in a `<title>`.
//!
//! The named table is HTML 4's 252 names plus `&apos;` and the upper-case
//! legacy names (`&AMP;`, `&COPY;`...), which covers what titles use; the
//! rarer names HTML5 added are left as written. Names in the standard's
//! legacy list are also recognised without their `;` (`&copy 2024`), as
//! browsers do. This module only decodes text; it knows nothing of tags.

use std::borrow::Cow;

/// `(name, character, also valid without ';')`, sorted by name.
static ENTITIES: &[(&str, char, bool)] = &[
    ("AElig", '\u{c6}', true),
    ("AMP", '\u{26}', true),
    ("Aacute", '\u{c1}', true),
    ("Acirc", '\u{c2}', true),
    ("Agrave", '\u{c0}', true),
    ("Alpha", '\u{391}', false),
    ("Aring", '\u{c5}', true),
    ("Atilde", '\u{c3}', true),
    ("Auml", '\u{c4}', true),
    ("Beta", '\u{392}', false),
    ("COPY", '\u{a9}', true),
    ("Ccedil", '\u{c7}', true),
    ("Chi", '\u{3a7}', false),
    ("Dagger", '\u{2021}', false),
    ("Delta", '\u{394}', false),
    ("ETH", '\u{d0}', true),
    ("Eacute", '\u{c9}', true),
    ("Ecirc", '\u{ca}', true),
    ("Egrave", '\u{c8}', true),
    ("Epsilon", '\u{395}', false),
    ("Eta", '\u{397}', false),
    ("Euml", '\u{cb}', true),
    ("GT", '\u{3e}', true),
    ("Gamma", '\u{393}', false),
    ("Iacute", '\u{cd}', true),
    ("Icirc", '\u{ce}', true),
    ("Igrave", '\u{cc}', true),
    ("Iota", '\u{399}', false),
    ("Iuml", '\u{cf}', true),
    ("Kappa", '\u{39a}', false),
    ("LT", '\u{3c}', true),
    ("Lambda", '\u{39b}', false),
    ("Mu", '\u{39c}', false),
    ("Ntilde", '\u{d1}', true),
    ("Nu", '\u{39d}', false),
    ("OElig", '\u{152}', false),
    ("Oacute", '\u{d3}', true),
    ("Ocirc", '\u{d4}', true),
    ("Ograve", '\u{d2}', true),
    ("Omega", '\u{3a9}', false),
    ("Omicron", '\u{39f}', false),
    ("Oslash", '\u{d8}', true),
    ("Otilde", '\u{d5}', true),
    ("Ouml", '\u{d6}', true),
    ("Phi", '\u{3a6}', false),
    ("Pi", '\u{3a0}', false),
    ("Prime", '\u{2033}', false),
    ("Psi", '\u{3a8}', false),
    ("QUOT", '\u{22}', true),
    ("REG", '\u{ae}', true),
    ("Rho", '\u{3a1}', false),
    ("Scaron", '\u{160}', false),
    ("Sigma", '\u{3a3}', false),
    ("THORN", '\u{de}', true),
    ("Tau", '\u{3a4}', false),
    ("Theta", '\u{398}', false),
    ("Uacute", '\u{da}', true),
    ("Ucirc", '\u{db}', true),
    ("Ugrave", '\u{d9}', true),
    ("Upsilon", '\u{3a5}', false),
    ("Uuml", '\u{dc}', true),
    ("Xi", '\u{39e}', false),
    ("Yacute", '\u{dd}', true),
    ("Yuml", '\u{178}', false),
    ("Zeta", '\u{396}', false),
    ("aacute", '\u{e1}', true),
    ("acirc", '\u{e2}', true),
    ("acute", '\u{b4}', true),
    ("aelig", '\u{e6}', true),
    ("agrave", '\u{e0}', true),
    ("alefsym", '\u{2135}', false),
    ("alpha", '\u{3b1}', false),
    ("amp", '\u{26}', true),
    ("and", '\u{2227}', false),
    ("ang", '\u{2220}', false),
    ("apos", '\u{27}', false),
    ("aring", '\u{e5}', true),
    ("asymp", '\u{2248}', false),
    ("atilde", '\u{e3}', true),
    ("auml", '\u{e4}', true),
    ("bdquo", '\u{201e}', false),
    ("beta", '\u{3b2}', false),
    ("brvbar", '\u{a6}', true),
    ("bull", '\u{2022}', false),
    ("cap", '\u{2229}', false),
    ("ccedil", '\u{e7}', true),
    ("cedil", '\u{b8}', true),
    ("cent", '\u{a2}', true),
    ("chi", '\u{3c7}', false),
    ("circ", '\u{2c6}', false),
    ("clubs", '\u{2663}', false),
    ("cong", '\u{2245}', false),
    ("copy", '\u{a9}', true),
    ("crarr", '\u{21b5}', false),
    ("cup", '\u{222a}', false),
    ("curren", '\u{a4}', true),
    ("dArr", '\u{21d3}', false),
    ("dagger", '\u{2020}', false),
    ("darr", '\u{2193}', false),
    ("deg", '\u{b0}', true),
    ("delta", '\u{3b4}', false),
    ("diams", '\u{2666}', false),
    ("divide", '\u{f7}', true),
    ("eacute", '\u{e9}', true),
    ("ecirc", '\u{ea}', true),
    ("egrave", '\u{e8}', true),
    ("empty", '\u{2205}', false),
    ("emsp", '\u{2003}', false),
    ("ensp", '\u{2002}', false),
    ("epsilon", '\u{3b5}', false),
    ("equiv", '\u{2261}', false),
    ("eta", '\u{3b7}', false),
    ("eth", '\u{f0}', true),
    ("euml", '\u{eb}', true),
    ("euro", '\u{20ac}', false),
    ("exist", '\u{2203}', false),
    ("fnof", '\u{192}', false),
    ("forall", '\u{2200}', false),
    ("frac12", '\u{bd}', true),
    ("frac14", '\u{bc}', true),
    ("frac34", '\u{be}', true),
    ("frasl", '\u{2044}', false),
    ("gamma", '\u{3b3}', false),
    ("ge", '\u{2265}', false),
    ("gt", '\u{3e}', true),
    ("hArr", '\u{21d4}', false),
    ("harr", '\u{2194}', false),
    ("hearts", '\u{2665}', false),
    ("hellip", '\u{2026}', false),
    ("iacute", '\u{ed}', true),
    ("icirc", '\u{ee}', true),
    ("iexcl", '\u{a1}', true),
    ("igrave", '\u{ec}', true),
    ("image", '\u{2111}', false),
    ("infin", '\u{221e}', false),
    ("int", '\u{222b}', false),
    ("iota", '\u{3b9}', false),
    ("iquest", '\u{bf}', true),
    ("isin", '\u{2208}', false),
    ("iuml", '\u{ef}', true),
    ("kappa", '\u{3ba}', false),
    ("lArr", '\u{21d0}', false),
    ("lambda", '\u{3bb}', false),
    ("lang", '\u{2329}', false),
    ("laquo", '\u{ab}', true),
    ("larr", '\u{2190}', false),
    ("lceil", '\u{2308}', false),
    ("ldquo", '\u{201c}', false),
    ("le", '\u{2264}', false),
    ("lfloor", '\u{230a}', false),
    ("lowast", '\u{2217}', false),
    ("loz", '\u{25ca}', false),
    ("lrm", '\u{200e}', false),
    ("lsaquo", '\u{2039}', false),
    ("lsquo", '\u{2018}', false),
    ("lt", '\u{3c}', true),
    ("macr", '\u{af}', true),
    ("mdash", '\u{2014}', false),
    ("micro", '\u{b5}', true),
    ("middot", '\u{b7}', true),
    ("minus", '\u{2212}', false),
    ("mu", '\u{3bc}', false),
    ("nabla", '\u{2207}', false),
    ("nbsp", '\u{a0}', true),
    ("ndash", '\u{2013}', false),
    ("ne", '\u{2260}', false),
    ("ni", '\u{220b}', false),
    ("not", '\u{ac}', true),
    ("notin", '\u{2209}', false),
    ("nsub", '\u{2284}', false),
    ("ntilde", '\u{f1}', true),
    ("nu", '\u{3bd}', false),
    ("oacute", '\u{f3}', true),
    ("ocirc", '\u{f4}', true),
    ("oelig", '\u{153}', false),
    ("ograve", '\u{f2}', true),
    ("oline", '\u{203e}', false),
    ("omega", '\u{3c9}', false),
    ("omicron", '\u{3bf}', false),
    ("oplus", '\u{2295}', false),
    ("or", '\u{2228}', false),
    ("ordf", '\u{aa}', true),
    ("ordm", '\u{ba}', true),
    ("oslash", '\u{f8}', true),
    ("otilde", '\u{f5}', true),
    ("otimes", '\u{2297}', false),
    ("ouml", '\u{f6}', true),
    ("para", '\u{b6}', true),
    ("part", '\u{2202}', false),
    ("permil", '\u{2030}', false),
    ("perp", '\u{22a5}', false),
    ("phi", '\u{3c6}', false),
    ("pi", '\u{3c0}', false),
    ("piv", '\u{3d6}', false),
    ("plusmn", '\u{b1}', true),
    ("pound", '\u{a3}', true),
    ("prime", '\u{2032}', false),
    ("prod", '\u{220f}', false),
    ("prop", '\u{221d}', false),
    ("psi", '\u{3c8}', false),
    ("quot", '\u{22}', true),
    ("rArr", '\u{21d2}', false),
    ("radic", '\u{221a}', false),
    ("rang", '\u{232a}', false),
    ("raquo", '\u{bb}', true),
    ("rarr", '\u{2192}', false),
    ("rceil", '\u{2309}', false),
    ("rdquo", '\u{201d}', false),
    ("real", '\u{211c}', false),
    ("reg", '\u{ae}', true),
    ("rfloor", '\u{230b}', false),
    ("rho", '\u{3c1}', false),
    ("rlm", '\u{200f}', false),
    ("rsaquo", '\u{203a}', false),
    ("rsquo", '\u{2019}', false),
    ("sbquo", '\u{201a}', false),
    ("scaron", '\u{161}', false),
    ("sdot", '\u{22c5}', false),
    ("sect", '\u{a7}', true),
    ("shy", '\u{ad}', true),
    ("sigma", '\u{3c3}', false),
    ("sigmaf", '\u{3c2}', false),
    ("sim", '\u{223c}', false),
    ("spades", '\u{2660}', false),
    ("sub", '\u{2282}', false),
    ("sube", '\u{2286}', false),
    ("sum", '\u{2211}', false),
    ("sup", '\u{2283}', false),
    ("sup1", '\u{b9}', true),
    ("sup2", '\u{b2}', true),
    ("sup3", '\u{b3}', true),
    ("supe", '\u{2287}', false),
    ("szlig", '\u{df}', true),
    ("tau", '\u{3c4}', false),
    ("there4", '\u{2234}', false),
    ("theta", '\u{3b8}', false),
    ("thetasym", '\u{3d1}', false),
    ("thinsp", '\u{2009}', false),
    ("thorn", '\u{fe}', true),
    ("tilde", '\u{2dc}', false),
    ("times", '\u{d7}', true),
    ("trade", '\u{2122}', false),
    ("uArr", '\u{21d1}', false),
    ("uacute", '\u{fa}', true),
    ("uarr", '\u{2191}', false),
    ("ucirc", '\u{fb}', true),
    ("ugrave", '\u{f9}', true),
    ("uml", '\u{a8}', true),
    ("upsih", '\u{3d2}', false),
    ("upsilon", '\u{3c5}', false),
    ("uuml", '\u{fc}', true),
    ("weierp", '\u{2118}', false),
    ("xi", '\u{3be}', false),
    ("yacute", '\u{fd}', true),
    ("yen", '\u{a5}', true),
    ("yuml", '\u{ff}', true),
    ("zeta", '\u{3b6}', false),
    ("zwj", '\u{200d}', false),
    ("zwnj", '\u{200c}', false),
];

/// What the standard decodes `&#128;` to `&#159;` as: windows-1252's
/// characters for those bytes (0 where the number stays as it is).
static C1_REPLACEMENTS: [u32; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// `text` with its character references decoded; borrowed when it has none.
pub(crate) fn decode(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match reference(after) {
            Some((decoded, used)) => {
                out.push(decoded);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character a reference at the start of `s` (just after its `&`)
/// stands for, and how many bytes of `s` it used.
fn reference(s: &str) -> Option<(char, usize)> {
    match s.strip_prefix('#') {
        Some(number) => numeric(number).map(|(c, used)| (c, used + 1)),
        None => named(s),
    }
}

/// `&#233;`, `&#xE9;` (the `;` may be missing, as browsers allow).
fn numeric(s: &str) -> Option<(char, usize)> {
    let (digits_at, radix) = match s.as_bytes().first() {
        Some(b'x' | b'X') => (1, 16),
        _ => (0, 10),
    };
    let digits = s[digits_at..]
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let mut used = digits_at + digits;
    if s[used..].starts_with(';') {
        used += 1;
    }
    let value = u32::from_str_radix(&s[digits_at..digits_at + digits], radix).unwrap_or(u32::MAX);
    Some((number_to_char(value), used))
}

/// The standard's rules for a numeric reference's value.
fn number_to_char(value: u32) -> char {
    match value {
        0 => char::REPLACEMENT_CHARACTER,
        0x80..=0x9F => match C1_REPLACEMENTS[(value - 0x80) as usize] {
            0 => char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER),
            mapped => char::from_u32(mapped).unwrap_or(char::REPLACEMENT_CHARACTER),
        },
        // Surrogates and numbers past U+10FFFF are not characters.
        v => char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

/// `&amp;`, or a legacy name without its `;` (`&copy`), longest first.
fn named(s: &str) -> Option<(char, usize)> {
    let len = s.bytes().take_while(u8::is_ascii_alphanumeric).count();
    if len == 0 {
        return None;
    }
    let name = &s[..len];
    if s[len..].starts_with(';') {
        if let Some(c) = lookup(name).map(|(c, _)| c) {
            return Some((c, len + 1));
        }
    }
    (1..=len).rev().find_map(|n| match lookup(&name[..n]) {
        Some((c, true)) => Some((c, n)),
        _ => None,
    })
}

fn lookup(name: &str) -> Option<(char, bool)> {
    ENTITIES
        .binary_search_by(|(n, _, _)| n.as_bytes().cmp(name.as_bytes()))
        .ok()
        .map(|i| (ENTITIES[i].1, ENTITIES[i].2))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn named_and_numeric_references() {
        assert_eq!(decode("Tom &amp; Jerry"), "Tom & Jerry");
        assert_eq!(
            decode("&lt;b&gt; &quot;x&quot; &apos;y&apos;"),
            "<b> \"x\" 'y'"
        );
        assert_eq!(decode("caf&eacute; &#233; &#xE9; &#XE9;"), "café é é é");
        assert_eq!(decode("a &mdash; b &hellip; &euro;&trade;"), "a — b … €™");
        assert_eq!(decode("&AMP; &COPY;"), "& ©");
    }

    #[test]
    fn what_browsers_forgive() {
        // Legacy names without ';', longest match first.
        assert_eq!(decode("&copy 2024 &ampx"), "© 2024 &x");
        assert_eq!(decode("&notit;"), "¬it;");
        // Numbers without ';', windows-1252 for C1 numbers, bad numbers.
        assert_eq!(
            decode("&#233 &#150; &#0; &#xD800; &#99999999999;"),
            "é – \u{FFFD} \u{FFFD} \u{FFFD}"
        );
    }

    #[test]
    fn what_is_left_alone() {
        assert_eq!(decode("AT&T & co"), "AT&T & co");
        assert_eq!(decode("&nosuchname; &# &#x; &"), "&nosuchname; &# &#x; &");
        assert_eq!(decode("&mdash"), "&mdash");
        assert!(matches!(decode("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(super::ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
