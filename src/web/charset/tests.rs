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
                s if s.source == Source::Default => WINDOWS_1252,
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
    assert_eq!(
        sniff(b"<title>caf\xE9</title>", None, true).encoding,
        WINDOWS_1252
    );
    // A read that stopped inside a character is still UTF-8...
    let cut = &"<p>ok é".as_bytes()[..7];
    assert_eq!(sniff(cut, None, false).encoding, UTF_8);
    // ...unless that was the whole body.
    assert_eq!(sniff(cut, None, true).encoding, WINDOWS_1252);
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
