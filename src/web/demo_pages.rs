//! The demo site's pages: the numbered pages, simple pages, the real-world
//! pages in many encodings (from `tests/fixtures/html/`, compiled in, and
//! served with the `charset` a well-configured server would send), and
//! pages generated here with `encoding_rs`, each declaring its encoding in
//! one way (a `<meta charset>`, an http-equiv, the header, a byte-order
//! mark, or not at all).
//!
//! Only bytes and headers; routing and latency are `demo_site`'s.

use encoding_rs::Encoding;

use super::demo_site::escape;
use super::http_server::Response;

/// A page numbered `i` of `n`: its title has an entity and whitespace to
/// clean up (`Page 7 · mproc demo`).
pub(crate) fn numbered(i: u64, n: usize) -> String {
    let prev = if i > 1 {
        format!("<a href=\"/page/{}\">previous</a>", i - 1)
    } else {
        String::new()
    };
    let next = if i < n as u64 {
        format!("<a href=\"/page/{}\">next</a>", i + 1)
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>\n  Page {i} &middot; mproc demo\n</title>\n</head>\n<body>\n\
         <h1>Page {i} of {n}</h1>\n<p>One of the demo site's pages. {prev} {next}</p>\n\
         </body>\n</html>\n"
    )
}

/// A page whose title and heading are `title` (plain text).
pub(crate) fn simple(title: &str) -> String {
    with_body(title, &format!("<h1>{}</h1>\n", escape(title)))
}

/// A UTF-8 page with `title` (plain text) and `body` (HTML).
pub(crate) fn with_body(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

/// A real-world page: its URL path, bytes and the `charset` to send.
struct Real {
    path: &'static str,
    bytes: &'static [u8],
    charset: Option<&'static str>,
}

macro_rules! real {
    ($url_dir:literal, $dir:literal, $file:literal, $charset:expr) => {
        Real {
            path: concat!("/enc/", $url_dir, "/", $file),
            bytes: include_bytes!(concat!("../../tests/fixtures/html/", $dir, "/", $file)),
            charset: $charset,
        }
    };
}

/// The real-world pages (see `tests/fixtures/html/SOURCES.md`).
static REAL: &[Real] = &[
    real!(
        "chardet",
        "chardet",
        "CP932__hardsoft.at.webry.info.xml",
        None
    ),
    real!(
        "chardet",
        "chardet",
        "CP932__www2.chuo-u.ac.jp-suishin.xml",
        None
    ),
    real!(
        "chardet",
        "chardet",
        "EUC-JP___mozilla_bug426271_text-euc-jp.html",
        Some("EUC-JP")
    ),
    real!(
        "chardet",
        "chardet",
        "EUC-KR___mozilla_bug9357_text.html",
        Some("EUC-KR")
    ),
    real!(
        "chardet",
        "chardet",
        "KOI8-R___chromium_KOI8-R_with_no_encoding_specified.html",
        Some("KOI8-R")
    ),
    real!(
        "chardet",
        "chardet",
        "SHIFT_JIS___chromium_Shift-JIS_with_no_encoding_specified.html",
        Some("Shift_JIS")
    ),
    real!(
        "chardet",
        "chardet",
        "UTF-16BE__plane1-utf-16be.html",
        Some("UTF-16BE")
    ),
    real!(
        "chardet",
        "chardet",
        "UTF-16LE__plane1-utf-16le.html",
        Some("UTF-16LE")
    ),
    real!(
        "chardet",
        "chardet",
        "utf-8___mozilla_bug426271_text-utf-8.html",
        None
    ),
    real!(
        "chardet",
        "chardet",
        "windows-1251-russian___chromium_windows-1251_with_no_encoding_specified.html",
        Some("windows-1251")
    ),
    real!(
        "chardet",
        "chardet",
        "windows-1252___mozilla_bug421271_text.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "bom__UTF-16BE.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "bom__UTF-16LE.html",
        None
    ),
    real!("sniffer", "html-encoding-sniffer", "bom__UTF-8.html", None),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "no-result__http-equiv-refresh_windows-1252.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "no-result__no-indicators_windows-1252.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__charset-bracket_UTF-8.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__charset-short-comment_ISO-8859-2.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__charset-x-user-defined_windows-1252.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__charset_KOI8-R.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__http-equiv-no-quotes_ISO-8859-5.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__http-equiv-second-charset_ISO-8859-2.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__http-equiv-trailing-space_ISO-8859-2.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "normal__http-equiv_windows-874.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "utf__charset-utf-16.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "utf__charset-utf-16be.html",
        None
    ),
    real!(
        "sniffer",
        "html-encoding-sniffer",
        "utf__charset-utf-16le.html",
        None
    ),
    real!("wpt", "wpt", "the-input-byte-stream-007.html", None),
    real!("wpt", "wpt", "the-input-byte-stream-009.html", None),
    real!(
        "wpt",
        "wpt",
        "the-input-byte-stream-018.html",
        Some("iso-8859-15")
    ),
];

/// How a generated page declares its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    Meta,
    HttpEquiv,
    Header,
    Bom,
    Nowhere,
}

/// The generated pages: name, encoding label, how it is declared, title.
static GENERATED: &[(&str, &str, Declared, &str)] = &[
    (
        "shift_jis-meta",
        "Shift_JIS",
        Declared::Meta,
        "日本語のページ（Shift_JIS）",
    ),
    (
        "euc-jp-http-equiv",
        "EUC-JP",
        Declared::HttpEquiv,
        "日本語のページ（EUC-JP）",
    ),
    (
        "windows-1251-header",
        "windows-1251",
        Declared::Header,
        "Пример страницы (windows-1251)",
    ),
    (
        "koi8-r-meta",
        "KOI8-R",
        Declared::Meta,
        "Пример страницы (KOI8-R)",
    ),
    (
        "iso-8859-2-meta",
        "ISO-8859-2",
        Declared::Meta,
        "Zażółć gęślą jaźń (ISO-8859-2)",
    ),
    (
        "iso-8859-7-header",
        "ISO-8859-7",
        Declared::Header,
        "Καλημέρα κόσμε (ISO-8859-7)",
    ),
    (
        "euc-kr-meta",
        "EUC-KR",
        Declared::Meta,
        "한국어 페이지 (EUC-KR)",
    ),
    ("gbk-meta", "GBK", Declared::Meta, "中文网页 (GBK)"),
    (
        "utf-16le-bom",
        "UTF-16LE",
        Declared::Bom,
        "Unicode: 日本語, Ελληνικά, Русский (UTF-16LE)",
    ),
    (
        "utf-16be-header",
        "UTF-16BE",
        Declared::Header,
        "Unicode: 日本語, Ελληνικά, Русский (UTF-16BE)",
    ),
    (
        "windows-1252-undeclared",
        "windows-1252",
        Declared::Nowhere,
        "Café déjà vu (windows-1252)",
    ),
    (
        "utf-8-undeclared",
        "UTF-8",
        Declared::Nowhere,
        "Ünïcödé, undeclared (UTF-8)",
    ),
];

/// The paths of every page in another encoding.
pub(crate) fn encoded_paths() -> Vec<String> {
    REAL.iter()
        .map(|r| r.path.to_string())
        .chain(GENERATED.iter().map(|(name, ..)| format!("/gen/{name}")))
        .collect()
}

/// The real-world or generated page at `path`, if there is one.
pub(crate) fn encoded(path: &str) -> Option<Response> {
    if let Some(real) = REAL.iter().find(|r| r.path == path) {
        return Some(Response::new(200, &content_type(real.charset), real.bytes));
    }
    // The chardet pages as a careless server sends them: no charset at all.
    if let Some(file) = path.strip_prefix("/enc/undeclared/") {
        let real = REAL
            .iter()
            .find(|r| r.path.strip_prefix("/enc/chardet/") == Some(file))?;
        return Some(Response::new(200, &content_type(None), real.bytes));
    }
    let name = path.strip_prefix("/gen/")?;
    let (_, label, declared, title) = GENERATED.iter().find(|(n, ..)| *n == name)?;
    let (bytes, charset) = generate(label, *declared, title);
    Some(Response::new(200, &content_type(charset), bytes))
}

fn content_type(charset: Option<&str>) -> String {
    match charset {
        Some(c) => format!("text/html; charset={c}"),
        None => "text/html".to_string(),
    }
}

/// A page titled `title` in encoding `label`, declared as `declared`:
/// its bytes, and the `charset` to send with it.
fn generate(label: &str, declared: Declared, title: &str) -> (Vec<u8>, Option<&'static str>) {
    let encoding = Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let declaration = match declared {
        Declared::Meta => format!("<meta charset=\"{label}\">\n"),
        Declared::HttpEquiv => {
            format!("<meta http-equiv=\"Content-Type\" content=\"text/html; charset={label}\">\n")
        }
        _ => String::new(),
    };
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n{declaration}<title>{title}</title>\n</head>\n\
         <body>\n<h1>{title}</h1>\n<p>Declared: {declared:?}.</p>\n</body>\n</html>\n"
    );
    let bytes = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        // encoding_rs decodes UTF-16 but, as the standard says, never
        // encodes to it.
        let little = encoding == encoding_rs::UTF_16LE;
        let mut out = if declared == Declared::Bom {
            if little {
                vec![0xFF, 0xFE]
            } else {
                vec![0xFE, 0xFF]
            }
        } else {
            Vec::new()
        };
        for unit in html.encode_utf16() {
            out.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        out
    } else {
        encoding.encode(&html).0.into_owned()
    };
    let charset = (declared == Declared::Header).then_some(encoding.name());
    (bytes, charset)
}

#[cfg(test)]
mod tests {
    use encoding_rs::Encoding;

    #[test]
    fn generated_pages_need_no_character_references() {
        for (_, label, _, title) in super::GENERATED {
            let encoding = Encoding::for_label(label.as_bytes()).unwrap();
            if !label.starts_with("UTF-16") {
                let (_, _, unmappable) = encoding.encode(title);
                assert!(!unmappable, "{label} cannot encode {title}");
            }
        }
    }

    #[test]
    fn every_page_is_served() {
        for path in super::encoded_paths() {
            assert!(super::encoded(&path).is_some(), "{path}");
        }
        assert_eq!(super::encoded_paths().len(), 42);
    }
}
