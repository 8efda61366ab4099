//! Which encoding a page is in, decided as a browser decides it (the HTML
//! standard's "encoding sniffing algorithm"): a byte-order mark first, then
//! the `charset` of the `Content-Type` header, then a `<meta charset>` or
//! `<meta http-equiv="Content-Type">` found by the standard's prescan. With
//! no declaration the encoding is guessed, as Firefox guesses it: UTF-16
//! without a byte-order mark when the first kilobyte is Basic Latin text
//! with every other byte zero, UTF-8 when the non-ASCII bytes are valid
//! UTF-8, and otherwise `chardetng` (Firefox's detector, by the author of
//! `encoding_rs`), given the top-level domain of the URL as a hint. Bytes
//! that are all ASCII get the default, windows-1252 (the standard's default
//! for most locales).
//!
//! The standard prescans the first 1024 bytes, and a `<meta>` the parser
//! meets later still changes the encoding ("changing the encoding while
//! parsing"). Prescanning all the bytes read (at least 1024, or the whole
//! page) gives the same answer for the declarations pages use; html5lib's
//! encoding tests, which cover both, pass.
//!
//! This module only decides and decodes; it reads nothing from the network
//! and knows nothing of titles.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED};

/// How many bytes to have (unless the page is shorter) before deciding.
pub(crate) const PRESCAN_BYTES: usize = 1024;

/// Where an encoding decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A byte-order mark.
    Bom,
    /// The `charset` parameter of the `Content-Type` header.
    Header,
    /// A `<meta>` declaration found by the prescan.
    Meta,
    /// No declaration: guessed from the bytes (UTF-16 without a BOM,
    /// valid UTF-8, or `chardetng`'s guess).
    Detected,
    /// No declaration and nothing to guess from (all ASCII): windows-1252.
    Default,
}

impl Source {
    /// `bom`, `header`, `meta`, `detected` or `default`: the `--json`
    /// field `encoding_source`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::Bom => "bom",
            Source::Header => "header",
            Source::Meta => "meta",
            Source::Detected => "detected",
            Source::Default => "default",
        }
    }
}

/// An encoding decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniffed {
    /// The encoding.
    pub encoding: &'static Encoding,
    /// Where the decision came from.
    pub source: Source,
    /// Bytes of byte-order mark to skip before decoding.
    pub bom_len: usize,
}

/// Decides the encoding of `bytes` (the start of a body, or all of it),
/// given the `Content-Type` header if there was one. With `complete`
/// false, an incomplete UTF-8 sequence at the very end does not count
/// against UTF-8.
#[cfg(test)]
pub(crate) fn sniff(bytes: &[u8], content_type: Option<&str>, complete: bool) -> Sniffed {
    sniff_from(bytes, content_type, complete, None)
}

/// [`sniff`] for a page from `host`: the host's top-level domain is the
/// detector's hint (`.jp` favours Japanese encodings, `.ru` Cyrillic ones).
pub(crate) fn sniff_from(
    bytes: &[u8],
    content_type: Option<&str>,
    complete: bool,
    host: Option<&str>,
) -> Sniffed {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return Sniffed {
            encoding,
            source: Source::Bom,
            bom_len,
        };
    }
    let found = |encoding, source| Sniffed {
        encoding,
        source,
        bom_len: 0,
    };
    if let Some(encoding) = content_type.and_then(header_charset) {
        return found(encoding, Source::Header);
    }
    if let Some(encoding) = prescan(bytes) {
        return found(encoding, Source::Meta);
    }
    if bytes.is_ascii() {
        return found(WINDOWS_1252, Source::Default);
    }
    found(detect(bytes, complete, host), Source::Detected)
}

/// The top-level domain of `host` as `chardetng` takes it (the last label,
/// lowercase ASCII), or `None` for an IP address or anything odd.
pub(crate) fn tld(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.');
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let label = host.rsplit('.').next()?.to_ascii_lowercase();
    let plain = !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plain.then_some(label)
}

/// UTF-16 without a BOM, as Firefox finds it: at least 30 bytes, and in
/// the first 1024 every other byte zero and the others not (Basic Latin
/// text, as the markup at the start of a page is).
pub(crate) fn bomless_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    if head.len() < 30 {
        return None;
    }
    let pairs = head.chunks_exact(2);
    if pairs.clone().all(|p| p[0] != 0 && p[1] == 0) {
        Some(UTF_16LE)
    } else if pairs.clone().all(|p| p[0] == 0 && p[1] != 0) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The guess for undeclared bytes that are not all ASCII.
fn detect(bytes: &[u8], complete: bool, host: Option<&str>) -> &'static Encoding {
    if let Some(utf16) = bomless_utf16(bytes) {
        return utf16;
    }
    if let Some(utf8) = valid_utf8(bytes, complete) {
        return utf8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, complete);
    let tld = host.and_then(tld);
    detector.guess(
        tld.as_deref().map(str::as_bytes),
        chardetng::Utf8Detection::Deny,
    )
}

/// Decodes `bytes` with `sniffed` (malformed sequences become U+FFFD).
pub(crate) fn decode(bytes: &[u8], sniffed: &Sniffed) -> String {
    let (text, _) = sniffed
        .encoding
        .decode_without_bom_handling(&bytes[sniffed.bom_len.min(bytes.len())..]);
    text.into_owned()
}

/// UTF-8 when `bytes` are valid UTF-8.
fn valid_utf8(bytes: &[u8], complete: bool) -> Option<&'static Encoding> {
    let valid = Encoding::utf8_valid_up_to(bytes);
    let tail = bytes.len() - valid;
    // A read cut short may end inside a character: up to 3 bytes of a
    // sequence that the next bytes would have completed.
    let cut_short = !complete
        && tail <= 3
        && std::str::from_utf8(&bytes[valid..]).is_err_and(|e| e.error_len().is_none());
    (tail == 0 || cut_short).then_some(UTF_8)
}

/// The encoding a `Content-Type` value's `charset` parameter names, if it
/// names one (`text/html; charset="Shift_JIS"`).
pub(crate) fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        Encoding::for_label(value.as_bytes())
    })
}

/// The media type of a `Content-Type` value, lowercased, without
/// parameters (`text/html`).
pub(crate) fn mime_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The HTML standard's "prescan a byte stream to determine its encoding":
/// the encoding a `<meta>` in `bytes` declares, skipping comments and other
/// tags' attributes. Running out of bytes anywhere means no answer.
pub(crate) fn prescan(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut s = Scanner { bytes, pos: 0 };
    loop {
        let rest = s.bytes.get(s.pos..)?;
        if rest.is_empty() {
            return None;
        }
        if rest.starts_with(b"<!--") {
            // The comment ends at the first "-->", which may share the
            // dashes of "<!--": "<!-->" is a whole comment.
            let from = s.pos + 2;
            let end = find(&s.bytes[from..], b"-->")?;
            s.pos = from + end + 2;
        } else if starts_with_ci(rest, b"<meta")
            && rest.get(5).is_some_and(|b| is_space(*b) || *b == b'/')
        {
            s.pos += 6;
            if let Some(encoding) = s.meta()? {
                return Some(encoding);
            }
        } else if rest.len() > 1
            && rest[0] == b'<'
            && (rest[1].is_ascii_alphabetic()
                || (rest[1] == b'/' && rest.get(2).is_some_and(u8::is_ascii_alphabetic)))
        {
            // Any other tag: skip its name and attributes.
            let end = rest.iter().position(|b| is_space(*b) || *b == b'>')?;
            s.pos += end;
            while s.attribute()?.is_some() {}
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") || rest.starts_with(b"<?") {
            let end = find(&rest[1..], b">")?;
            s.pos += 1 + end;
        }
        s.pos += 1;
    }
}

/// The prescan's position in the bytes.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn at(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The attributes of one `<meta>`: `Some(Some(encoding))` when they
    /// declare one, `Some(None)` when they do not, `None` when the bytes
    /// ran out.
    fn meta(&mut self) -> Option<Option<&'static Encoding>> {
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut got_pragma = false;
        let mut need_pragma = None;
        let mut charset = None;
        while let Some((name, value)) = self.attribute()? {
            if seen.contains(&name) {
                continue;
            }
            match name.as_slice() {
                b"http-equiv" => got_pragma |= value == b"content-type",
                b"content" if charset.is_none() => {
                    if let Some(encoding) = charset_from_content(&value) {
                        charset = Some(encoding);
                        need_pragma = Some(true);
                    }
                }
                b"charset" => {
                    charset = Encoding::for_label(&value);
                    need_pragma = Some(false);
                }
                _ => {}
            }
            seen.push(name);
        }
        let declared = match need_pragma {
            None => None,
            Some(true) if !got_pragma => None,
            _ => charset,
        };
        Some(declared.map(|e| {
            if e == UTF_16BE || e == UTF_16LE {
                UTF_8
            } else if e == X_USER_DEFINED {
                WINDOWS_1252
            } else {
                e
            }
        }))
    }

    /// The standard's "get an attribute": `Some(Some((name, value)))`,
    /// `Some(None)` at the tag's end, `None` when the bytes ran out. Names
    /// and values are lowercased.
    fn attribute(&mut self) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
        while is_space(self.at()?) || self.at()? == b'/' {
            self.pos += 1;
        }
        if self.at()? == b'>' {
            return Some(None);
        }
        let mut name = Vec::new();
        loop {
            match self.at()? {
                b'=' if !name.is_empty() => {
                    self.pos += 1;
                    return self.value(name, Vec::new());
                }
                b if is_space(b) => break,
                b'/' | b'>' => return Some(Some((name, Vec::new()))),
                b => name.push(b.to_ascii_lowercase()),
            }
            self.pos += 1;
        }
        while is_space(self.at()?) {
            self.pos += 1;
        }
        if self.at()? != b'=' {
            return Some(Some((name, Vec::new())));
        }
        self.pos += 1;
        self.value(name, Vec::new())
    }

    /// The value part of "get an attribute", just after its `=`.
    fn value(&mut self, name: Vec<u8>, mut value: Vec<u8>) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
        while is_space(self.at()?) {
            self.pos += 1;
        }
        match self.at()? {
            quote @ (b'"' | b'\'') => loop {
                self.pos += 1;
                match self.at()? {
                    b if b == quote => {
                        self.pos += 1;
                        return Some(Some((name, value)));
                    }
                    b => value.push(b.to_ascii_lowercase()),
                }
            },
            b'>' => return Some(Some((name, value))),
            b => value.push(b.to_ascii_lowercase()),
        }
        loop {
            self.pos += 1;
            match self.at()? {
                b if is_space(b) || b == b'>' => return Some(Some((name, value))),
                b => value.push(b.to_ascii_lowercase()),
            }
        }
    }
}

/// The standard's "extracting a character encoding from a meta element":
/// the encoding named after `charset=` in a `content` attribute.
pub(crate) fn charset_from_content(content: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    loop {
        let at = find_ci(&content[pos..], b"charset")?;
        pos += at + 7;
        while content.get(pos).is_some_and(|b| is_space(*b)) {
            pos += 1;
        }
        if content.get(pos) != Some(&b'=') {
            continue;
        }
        pos += 1;
        while content.get(pos).is_some_and(|b| is_space(*b)) {
            pos += 1;
        }
        return match *content.get(pos)? {
            quote @ (b'"' | b'\'') => {
                let end = content[pos + 1..].iter().position(|b| *b == quote)?;
                Encoding::for_label(&content[pos + 1..pos + 1 + end])
            }
            _ => {
                let rest = &content[pos..];
                let end = rest
                    .iter()
                    .position(|b| is_space(*b) || *b == b';')
                    .unwrap_or(rest.len());
                Encoding::for_label(&rest[..end])
            }
        };
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn starts_with_ci(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests;
