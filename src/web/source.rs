//! The URLs to fetch, read from `mproc fetch SOURCE`: a text file of URLs
//! (one per line; blank lines and `#` comments skipped; a UTF-8 byte-order
//! mark tolerated), a sitemap XML file, either of them gzipped (known by
//! its magic bytes, whatever the name), standard input (`-`), or an http(s)
//! URL of any of these.
//!
//! Sitemap indexes are followed: their child sitemaps are fetched in order,
//! down to [`MAX_DEPTH`] levels of indexes, each at most once; a child that
//! cannot be read is logged and skipped. Relative locations are resolved
//! against the URL of the sitemap or list they came from; in a local file
//! they stay as written, and the fetch of that item fails with `bad_url`.
//! Lines and locations are not checked here: a bad one is a failed item,
//! not a failed run.
//!
//! This runs once, in the parent, before any worker starts.

use std::collections::HashSet;
use std::io::Read;

use url::Url;

use super::client::Client;
use super::sitemap::{self, Sitemap};
use mproc::error::{io_message, Error, ErrorKind, Result};

/// Levels of sitemap indexes followed below the source.
pub const MAX_DEPTH: u32 = 3;

/// The largest sitemap or list read, after decompression (sitemaps.org
/// allows 50 MB).
pub const MAX_DOCUMENT: u64 = 64 << 20;

/// Reads the URLs that `source` lists, at most `limit` of them.
pub fn load(source: &str, client: &Client, limit: Option<usize>) -> Result<Vec<String>> {
    let mut loader = Loader {
        client,
        limit: limit.unwrap_or(usize::MAX),
        urls: Vec::new(),
        seen: HashSet::new(),
    };
    if is_url(source) {
        let (base, bytes) = loader
            .fetch(source)
            .map_err(|e| Error::new(ErrorKind::Io, e))?;
        loader
            .document(&bytes, Some(&base), 0)
            .map_err(|e| Error::usage(format!("cannot read {source}: {e}")))?;
    } else {
        let bytes = read_local(source)?;
        loader
            .document(&bytes, None, 0)
            .map_err(|e| Error::usage(format!("cannot read {source}: {e}")))?;
    }
    let mut urls = loader.urls;
    urls.truncate(loader.limit);
    Ok(urls)
}

/// True for an http or https URL (anything else is a path).
pub fn is_url(source: &str) -> bool {
    let lower = source.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

struct Loader<'a> {
    client: &'a Client,
    limit: usize,
    urls: Vec<String>,
    seen: HashSet<String>,
}

impl Loader<'_> {
    fn full(&self) -> bool {
        self.urls.len() >= self.limit
    }

    /// Fetches a list or sitemap: its final URL (the base for relative
    /// locations) and its bytes.
    fn fetch(&mut self, url: &str) -> std::result::Result<(Url, Vec<u8>), String> {
        self.seen.insert(url.to_string());
        let (final_url, bytes) = self
            .client
            .document(url, MAX_DOCUMENT)
            .map_err(|e| format!("cannot fetch {url}: {e}"))?;
        let base = Url::parse(&final_url).map_err(|e| format!("bad URL {final_url}: {e}"))?;
        Ok((base, bytes))
    }

    /// Adds the URLs in one list or sitemap.
    fn document(
        &mut self,
        bytes: &[u8],
        base: Option<&Url>,
        depth: u32,
    ) -> std::result::Result<(), String> {
        let bytes = gunzip(bytes)?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'<') {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| format!("not UTF-8 text (byte {})", e.valid_up_to()))?;
            let lines = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'));
            for line in lines {
                self.push(resolve(line, base));
            }
            return Ok(());
        }
        match sitemap::parse(bytes)? {
            Sitemap::Urls(locs) => {
                for loc in locs {
                    self.push(resolve(&loc, base));
                }
            }
            Sitemap::Index(children) => self.index(children, base, depth),
        }
        Ok(())
    }

    /// Follows the child sitemaps of an index.
    fn index(&mut self, children: Vec<String>, base: Option<&Url>, depth: u32) {
        if depth >= MAX_DEPTH {
            tracing::warn!(
                "sitemap index nested more than {MAX_DEPTH} deep: skipping {} child sitemaps",
                children.len()
            );
            return;
        }
        for child in children {
            if self.full() {
                return;
            }
            let child = resolve(&child, base);
            if self.seen.contains(&child) {
                tracing::warn!("sitemap {child} listed twice: read once");
                continue;
            }
            tracing::debug!("reading child sitemap {child}");
            let result = self
                .fetch(&child)
                .and_then(|(url, bytes)| self.document(&bytes, Some(&url), depth + 1));
            if let Err(e) = result {
                tracing::warn!("skipping child sitemap {child}: {e}");
            }
        }
    }

    fn push(&mut self, url: String) {
        if !self.full() {
            self.urls.push(url);
        }
    }
}

/// `loc` made absolute against `base`; as written when it cannot be.
fn resolve(loc: &str, base: Option<&Url>) -> String {
    match base {
        Some(base) if Url::parse(loc).is_err() => base
            .join(loc)
            .map_or_else(|_| loc.to_string(), String::from),
        _ => loc.to_string(),
    }
}

/// `bytes`, decompressed if they start with gzip's magic bytes.
fn gunzip(bytes: &[u8]) -> std::result::Result<std::borrow::Cow<'_, [u8]>, String> {
    if !bytes.starts_with(&[0x1F, 0x8B]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("bad gzip data: {}", io_message(&e)))?;
    if out.len() as u64 > MAX_DOCUMENT {
        return Err(format!("more than {MAX_DOCUMENT} bytes once decompressed"));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// The bytes of a local source: a file, or standard input for `-`.
fn read_local(source: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if source == "-" {
        std::io::stdin()
            .take(MAX_DOCUMENT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read standard input", e))?;
        if bytes.len() as u64 > MAX_DOCUMENT {
            return Err(Error::usage(format!(
                "cannot read standard input: larger than {MAX_DOCUMENT} bytes"
            )));
        }
    } else {
        let file = std::fs::File::open(source)
            .map_err(|e| Error::usage(format!("cannot read {source}: {}", io_message(&e))))?;
        file.take(MAX_DOCUMENT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::usage(format!("cannot read {source}: {}", io_message(&e))))?;
        if bytes.len() as u64 > MAX_DOCUMENT {
            return Err(Error::usage(format!(
                "cannot read {source}: larger than {MAX_DOCUMENT} bytes"
            )));
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::{gunzip, resolve, Client, Loader};
    use std::collections::HashSet;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sitemaps");

    /// The URLs in `bytes`, read as a local file (nothing is fetched).
    fn local(bytes: &[u8]) -> Vec<String> {
        let client = Client::new(Default::default()).unwrap();
        let mut loader = Loader {
            client: &client,
            limit: usize::MAX,
            urls: Vec::new(),
            seen: HashSet::new(),
        };
        loader.document(bytes, None, 0).unwrap();
        loader.urls
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
    }

    #[test]
    fn text_lists_plain_with_bom_and_gzipped() {
        let two = [
            "http://www.domain.com/page1.html",
            "http://www.domain.com/page2.html",
        ];
        assert_eq!(local(&fixture("sitemap.txt")), two);
        assert_eq!(local(&fixture("sitemap-with-bom.txt")), two);
        let gz = local(&fixture("sitemap.txt.gz"));
        assert_eq!(gz.len(), 5);
        assert_eq!(
            gz[4],
            "http://www.example.com/catalog?item=83&desc=vacation_usa"
        );
        assert_eq!(
            local(b"# comment\n\n  http://a/1  \r\n#http://b\nnot a url\n"),
            ["http://a/1", "not a url"]
        );
    }

    #[test]
    fn gzipped_sitemaps() {
        assert_eq!(local(&fixture("xmlSitemap.gz")).len(), 5);
        assert!(gunzip(b"\x1F\x8Bnot gzip").is_err());
    }

    #[test]
    fn relative_locations() {
        let base = url::Url::parse("http://127.0.0.1:9/maps/sitemap.xml").unwrap();
        assert_eq!(
            resolve("page/1", Some(&base)),
            "http://127.0.0.1:9/maps/page/1"
        );
        assert_eq!(resolve("/page/1", Some(&base)), "http://127.0.0.1:9/page/1");
        assert_eq!(resolve("../x", Some(&base)), "http://127.0.0.1:9/x");
        assert_eq!(resolve("https://a/b", Some(&base)), "https://a/b");
        assert_eq!(resolve("page/1", None), "page/1");
    }
}
