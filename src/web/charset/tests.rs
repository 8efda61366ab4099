//! The prescan against html5lib's encoding tests and jsdom's
//! html-encoding-sniffer fixtures (see `tests/fixtures/html/SOURCES.md`),
//! and the order of BOM, header, meta and default.

use encoding_rs::{Encoding, SHIFT_JIS, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1251, WINDOWS_1252};

use super::{header_charset, sniff, Source};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/html");

fn label(name: &str) -> &'static Encoding {
    Encoding::for_label(name.trim().as_bytes()).unwrap_or_else(|| panic!("unknown label {name}"))
}

/// `(data, expected encoding)` from an html5lib `.dat` file.
fn html5lib_cases(file: &str) -> Vec<(Vec<u8>, &'static Encoding)> {
    // The data is bytes in many encodings, not text.
    let bytes = std::fs::read(format!("{FIXTURES}/html5lib-tests/{file}")).unwrap();
    split(&bytes, b"#data\n")
        .into_iter()
        .filter(|case| !case.trim_ascii().is_empty())
        .map(|case| {
            let parts = split(case, b"\n#encoding\n");
            assert_eq!(parts.len(), 2, "one #encoding line per case in {file}");
            let name = String::from_utf8_lossy(parts[1]);
            (parts[0].to_vec(), label(name.lines().next().unwrap()))
        })
        .collect()
}

fn split<'a>(bytes: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}

#[test]
fn html5lib_encoding_tests() {
    let mut count = 0;
    for file in ["tests1.dat", "tests2.dat", "test-yahoo-jp.dat"] {
        for (data, expected) in html5lib_cases(file) {
            // html5lib's default is windows-1252 whatever the bytes.
            let got = match sniff(&data, None, true) {
                s if matches!(s.source, Source::Default | Source::Detected) => WINDOWS_1252,
                s => s.encoding,
            };
            let shown: String = String::from_utf8_lossy(&data).chars().take(200).collect();
            assert_eq!(got.name(), expected.name(), "{file}: {shown:?}");
            count += 1;
        }
    }
    assert_eq!(count, 82);
}

#[test]
fn html_encoding_sniffer_fixtures() {
    let dir = format!("{FIXTURES}/html-encoding-sniffer");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        // "normal__charset_KOI8-R" expects KOI8-R; "utf__*" expect UTF-8.
        let expected = match name.split_once("__") {
            Some(("utf", _)) => UTF_8,
            _ => label(name.rsplit('_').next().unwrap()),
        };
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(sniff(&bytes, None, true).encoding, expected, "{name}");
        count += 1;
    }
    assert_eq!(count, 16);
}

#[test]
fn a_bom_beats_the_header_which_beats_meta() {
    let meta = b"<meta charset=shift_jis><title>x</title>";
    let sniffed = sniff(meta, Some("text/html; charset=windows-1251"), true);
    assert_eq!(
        (sniffed.encoding, sniffed.source),
        (WINDOWS_1251, Source::Header)
    );
    assert_eq!(sniff(meta, Some("text/html"), true).encoding, SHIFT_JIS);
    assert_eq!(sniff(meta, None, true).source, Source::Meta);

    let mut bom = vec![0xFF, 0xFE];
    bom.extend("<p>".encode_utf16().flat_map(u16::to_le_bytes));
    let sniffed = sniff(&bom, Some("text/html; charset=windows-1251"), true);
    assert_eq!((sniffed.encoding, sniffed.bom_len), (UTF_16LE, 2));
    assert_eq!(sniff(b"\xFE\xFF\0<", None, true).encoding, UTF_16BE);
    assert_eq!(
        sniff(b"\xEF\xBB\xBF<meta charset=koi8-r>", None, true).encoding,
        UTF_8
    );
}

#[test]
fn the_default_is_utf8_only_for_valid_non_ascii_utf8() {
    assert_eq!(
        sniff(b"<title>plain</title>", None, true).encoding,
        WINDOWS_1252
    );
    assert_eq!(
        sniff("<title>café</title>".as_bytes(), None, true).encoding,
        UTF_8
    );
    // Not UTF-8: chardetng guesses from too little (Firefox does too).
    let latin = sniff(b"<title>caf\xE9</title>", None, true);
    assert!(latin.encoding != UTF_8 && latin.source == Source::Detected);
    // A read that stopped inside a character is still UTF-8...
    let cut = &"<p>ok é".as_bytes()[..7];
    assert_eq!(sniff(cut, None, false).encoding, UTF_8);
    // ...unless that was the whole body.
    assert_ne!(sniff(cut, None, true).encoding, UTF_8);
}

#[test]
fn header_charsets() {
    assert_eq!(header_charset("text/html; charset=UTF-8"), Some(UTF_8));
    assert_eq!(
        header_charset("text/html;Charset=\"sjis\""),
        Some(SHIFT_JIS)
    );
    assert_eq!(
        header_charset("text/html; q=1; charset='cp1251' "),
        Some(WINDOWS_1251)
    );
    assert_eq!(header_charset("text/html"), None);
    assert_eq!(header_charset("text/html; charset=klingon"), None);
}

#[test]
fn a_late_meta_still_counts_and_comments_do_not() {
    let mut late = vec![b' '; 1100];
    late.extend_from_slice(b"<meta charset=koi8-r>");
    assert_eq!(sniff(&late, None, true).encoding.name(), "KOI8-R");
    let early = b"<!-- <meta charset=koi8-r> --><meta charset=iso-8859-2>";
    assert_eq!(sniff(early, None, true).encoding.name(), "ISO-8859-2");
}

#[test]
fn undeclared_pages_are_guessed_as_firefox_guesses() {
    let chardet = format!("{FIXTURES}/chardet");
    for (name, expected) in [
        ("EUC-JP___mozilla_bug426271_text-euc-jp.html", "EUC-JP"),
        (
            "SHIFT_JIS___chromium_Shift-JIS_with_no_encoding_specified.html",
            "Shift_JIS",
        ),
        (
            "windows-1251-russian___chromium_windows-1251_with_no_encoding_specified.html",
            "windows-1251",
        ),
        // chardetng answers KOI8-U, KOI8-R's superset, as Firefox does.
        (
            "KOI8-R___chromium_KOI8-R_with_no_encoding_specified.html",
            "KOI8-U",
        ),
        ("EUC-KR___mozilla_bug9357_text.html", "EUC-KR"),
        ("UTF-16LE__plane1-utf-16le.html", "UTF-16LE"),
        ("UTF-16BE__plane1-utf-16be.html", "UTF-16BE"),
        ("utf-8___mozilla_bug426271_text-utf-8.html", "UTF-8"),
        ("windows-1252___mozilla_bug421271_text.html", "windows-1252"),
    ] {
        let bytes = std::fs::read(format!("{chardet}/{name}")).unwrap();
        // The BBC page's only non-ASCII bytes are two pound signs: its
        // domain (.uk) is what makes them windows-1252 rather than the
        // generic guess, windows-1250.
        let host = if name.starts_with("windows-1252") {
            "www.bbc.co.uk"
        } else {
            "example.com"
        };
        let sniffed = super::sniff_from(&bytes, Some("text/html"), true, Some(host));
        assert_eq!(sniffed.encoding.name(), expected, "{name}");
        assert_eq!(sniffed.source, Source::Detected, "{name}");
    }
    let bbc = std::fs::read(format!(
        "{chardet}/windows-1252___mozilla_bug421271_text.html"
    ))
    .unwrap();
    assert_eq!(
        super::sniff_from(&bbc, None, true, Some("example.com"))
            .encoding
            .name(),
        "windows-1250"
    );
    assert_eq!(
        sniff(b"<title>plain</title>", None, true).source,
        Source::Default
    );
}

#[test]
fn top_level_domains_as_the_detector_takes_them() {
    use super::tld;
    assert_eq!(tld("www.Example.JP").as_deref(), Some("jp"));
    assert_eq!(tld("example.ru.").as_deref(), Some("ru"));
    assert_eq!(tld("xn--p1ai").as_deref(), Some("xn--p1ai"));
    assert_eq!(tld("127.0.0.1"), None);
    assert_eq!(tld("[::1]"), None);
    assert_eq!(tld("bad_label.x y"), None);
}

#[test]
fn utf16_without_a_bom_needs_basic_latin_in_every_other_byte() {
    use super::bomless_utf16;
    let le: Vec<u8> = "<html><head><title>x</title></head>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let be: Vec<u8> = "<html><head><title>x</title></head>"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_eq!(bomless_utf16(&le), Some(UTF_16LE));
    assert_eq!(bomless_utf16(&be), Some(UTF_16BE));
    assert_eq!(bomless_utf16(&le[..20]), None);
    assert_eq!(bomless_utf16(b"<html><head><title>x</title></head>"), None);
}
