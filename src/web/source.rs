//! The URLs to fetch, read from `mproc fetch SOURCE`: a text file of URLs
//! (one per line; blank lines and `#` comments skipped; a UTF-8 byte-order
//! mark tolerated), a sitemap XML file, either of them gzipped (known by
//! its magic bytes, whatever the name), standard input (`-`), or an http(s)
//! URL of any of these.
//!
//! Sitemap indexes are followed: their child sitemaps are fetched
//! [`PARALLEL`] at a time and read in order, down to [`MAX_DEPTH`] levels
//! of indexes, each at most once; a child that cannot be read is logged
//! and skipped. Two caps ([`Caps`]) keep an index that fans out without
//! end from holding the run before its first page: at most
//! `--max-sitemaps` child sitemaps are read and at most `--max-urls` URLs
//! kept, and one warning each names what was skipped. Relative locations are resolved
//! against the URL of the sitemap or list they came from; in a local file
//! they stay as written, and the fetch of that item fails with `bad_url`.
//! Lines and locations are not checked here: a bad one is a failed item,
//! not a failed run.
//!
//! This runs once, in the parent, before the pool starts.

use std::collections::HashSet;
use std::io::Read;

use url::Url;

use super::client::Client;
use super::sitemap::{self, Sitemap};
use crate::errors::io_message;
use mproc::{Error, ErrorKind, Result};

/// Levels of sitemap indexes followed below the source.
pub(crate) const MAX_DEPTH: u32 = 3;

/// The largest sitemap or list read, after decompression (sitemaps.org
/// allows 50 MB).
pub(crate) const MAX_DOCUMENT: u64 = 64 << 20;

/// Child sitemaps fetched at once while following an index.
pub(crate) const PARALLEL: usize = 16;

/// `--max-sitemaps` when not given: child sitemaps read from indexes.
pub(crate) const MAX_SITEMAPS: usize = 1000;

/// `--max-urls` when not given: URLs kept from one source.
pub(crate) const MAX_URLS: usize = 1_000_000;

/// How much of a source is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    /// `--limit`: the first K URLs are wanted, quietly.
    pub limit: Option<usize>,
    /// Child sitemaps read from indexes, in all; the rest are skipped
    /// with a warning.
    pub max_sitemaps: usize,
    /// URLs kept; the rest are skipped with a warning.
    pub max_urls: usize,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            limit: None,
            max_sitemaps: MAX_SITEMAPS,
            max_urls: MAX_URLS,
        }
    }
}

/// Reads the URLs that `source` lists, within `caps`.
pub(crate) fn load(source: &str, client: &Client, caps: Caps) -> Result<Vec<String>> {
    let mut loader = Loader::new(client, caps);
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
    loader.warn_skipped();
    let mut urls = loader.urls;
    urls.truncate(loader.limit);
    Ok(urls)
}

/// True for an http or https URL (anything else is a path).
pub(crate) fn is_url(source: &str) -> bool {
    let lower = source.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

struct Loader<'a> {
    client: &'a Client,
    /// The URLs kept at most: `--limit` or `--max-urls`, the smaller.
    limit: usize,
    caps: Caps,
    urls: Vec<String>,
    seen: HashSet<String>,
    /// Child sitemaps read so far.
    sitemaps: usize,
    /// Child sitemaps skipped over `--max-sitemaps`, and the first one.
    skipped_sitemaps: (usize, Option<String>),
    /// URLs skipped over `--max-urls`, and child sitemaps left unread.
    skipped_urls: (usize, usize),
}

impl<'a> Loader<'a> {
    fn new(client: &'a Client, caps: Caps) -> Loader<'a> {
        Loader {
            client,
            limit: caps.limit.unwrap_or(usize::MAX).min(caps.max_urls),
            caps,
            urls: Vec::new(),
            seen: HashSet::new(),
            sitemaps: 0,
            skipped_sitemaps: (0, None),
            skipped_urls: (0, 0),
        }
    }

    fn full(&self) -> bool {
        self.urls.len() >= self.limit
    }

    /// True when the URLs stop at `--max-urls`, not at `--limit`.
    fn capped(&self) -> bool {
        self.caps
            .limit
            .is_none_or(|limit| limit > self.caps.max_urls)
    }

    /// One warning per cap that skipped something, naming what.
    fn warn_skipped(&self) {
        if let (n @ 1.., Some(first)) = &self.skipped_sitemaps {
            tracing::warn!(
                "read {} (--max-sitemaps {}): skipped {n} more, the first {first}",
                crate::report::count(self.sitemaps as u64, "child sitemap"),
                self.caps.max_sitemaps,
            );
        }
        let (urls, unread) = self.skipped_urls;
        if urls + unread > 0 {
            tracing::warn!(
                "kept the first {} (--max-urls {}): skipped {urls} more listed in the sitemaps read, and {} unread",
                crate::report::count(self.urls.len() as u64, "URL"),
                self.caps.max_urls,
                crate::report::count(unread as u64, "child sitemap"),
            );
        }
    }

    /// Fetches the source itself (see [`fetch`]).
    fn fetch(&mut self, url: &str) -> Fetched {
        self.seen.insert(url.to_string());
        fetch(self.client, url)
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

    /// Follows the child sitemaps of an index: fetched [`PARALLEL`] at a
    /// time, read in order, within `--max-sitemaps`.
    fn index(&mut self, children: Vec<String>, base: Option<&Url>, depth: u32) {
        if depth >= MAX_DEPTH {
            tracing::warn!(
                "sitemap index nested more than {MAX_DEPTH} deep: skipping {} child sitemaps",
                children.len()
            );
            return;
        }
        let mut children = children.iter().map(|c| resolve(c, base)).peekable();
        while children.peek().is_some() && !self.full() {
            let mut batch = Vec::with_capacity(PARALLEL);
            for child in children.by_ref() {
                if self.sitemaps >= self.caps.max_sitemaps {
                    self.skip_sitemap(child);
                } else if !self.seen.insert(child.clone()) {
                    tracing::warn!("sitemap {child} listed twice: read once");
                } else {
                    self.sitemaps += 1;
                    batch.push(child);
                    if batch.len() == PARALLEL {
                        break;
                    }
                }
            }
            let fetched = self.fetch_all(&batch);
            let mut unread = fetched.len();
            for (child, fetched) in fetched {
                if self.full() {
                    break;
                }
                unread -= 1;
                let result =
                    fetched.and_then(|(url, bytes)| self.document(&bytes, Some(&url), depth + 1));
                if let Err(e) = result {
                    tracing::warn!("skipping child sitemap {child}: {e}");
                }
            }
            self.unread(unread);
        }
        let rest = children.count();
        self.unread(rest);
    }

    /// Counts child sitemaps left unread because `--max-urls` was reached.
    fn unread(&mut self, n: usize) {
        if self.full() && self.capped() {
            self.skipped_urls.1 += n;
        }
    }

    /// Fetches `urls` at once, one thread each: their results in order.
    fn fetch_all<'u>(&self, urls: &'u [String]) -> Vec<(&'u String, Fetched)> {
        let client = self.client;
        std::thread::scope(|scope| {
            let fetches: Vec<_> = urls
                .iter()
                .map(|url| {
                    tracing::debug!("reading child sitemap {url}");
                    (url, scope.spawn(move || fetch(client, url)))
                })
                .collect();
            fetches
                .into_iter()
                .map(|(url, fetch)| {
                    let fetched = fetch
                        .join()
                        .unwrap_or_else(|_| Err(format!("cannot fetch {url}: the fetch panicked")));
                    (url, fetched)
                })
                .collect()
        })
    }

    fn skip_sitemap(&mut self, child: String) {
        let (n, first) = &mut self.skipped_sitemaps;
        *n += 1;
        first.get_or_insert(child);
    }

    fn push(&mut self, url: String) {
        if !self.full() {
            self.urls.push(url);
        } else if self.capped() {
            self.skipped_urls.0 += 1;
        }
    }
}

/// A fetched list or sitemap: its final URL (the base for relative
/// locations) and its bytes; or why not.
type Fetched = std::result::Result<(Url, Vec<u8>), String>;

/// Fetches a list or sitemap (see [`Fetched`]).
fn fetch(client: &Client, url: &str) -> Fetched {
    let (final_url, bytes) = client
        .document(url, MAX_DOCUMENT)
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let base = Url::parse(&final_url).map_err(|e| format!("bad URL {final_url}: {e}"))?;
    Ok((base, bytes))
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
    use super::{gunzip, resolve, Caps, Client, Loader};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sitemaps");

    /// The URLs in `bytes`, read as a local file (nothing is fetched).
    fn local(bytes: &[u8]) -> Vec<String> {
        let client = Client::new(Default::default()).unwrap();
        let mut loader = Loader::new(&client, Caps::default());
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
