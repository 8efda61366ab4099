//! [`Client`]: HTTP GET with limits, on `ureq` (blocking, rustls). One
//! client per worker process, shared by its threads, so connections to a
//! host are reused.
//!
//! [`Client::page`] fetches one page and reads only as far as its title:
//! it stops once `</title>` has arrived, and gives up after `max_bytes`.
//! [`Client::document`] reads a whole body (a sitemap). Neither retries
//! nor logs; a failure is a [`FetchError`] naming the URL.
//!
//! Proxies come from the usual environment variables (`HTTP_PROXY`,
//! `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), as with curl.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ureq::{Agent, ResponseExt};
use url::Url;

use super::charset::{self, PRESCAN_BYTES};
use super::error::{FetchError, FetchErrorKind};
use super::page::Page;
use super::title::{self, Scan};

/// The `User-Agent` header: `mproc/VERSION`.
pub const USER_AGENT: &str = concat!("mproc/", env!("CARGO_PKG_VERSION"));

/// Content types read as HTML. A page without a `Content-Type` is read
/// as HTML too.
const HTML_TYPES: [&str; 2] = ["text/html", "application/xhtml+xml"];

/// What one request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Time to resolve the host, and again to connect (TLS included).
    pub connect_timeout: Duration,
    /// Time for the whole request: connecting, redirects and the body.
    pub request_timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: u32,
    /// Body bytes read at most.
    pub max_bytes: u64,
}

impl Default for Limits {
    /// 10 s to connect, 30 s in all, 10 redirects, 4 MiB.
    fn default() -> Limits {
        Limits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_redirects: 10,
            max_bytes: 4 << 20,
        }
    }
}

/// An HTTP client with [`Limits`].
#[derive(Debug, Clone)]
pub struct Client {
    agent: Agent,
    limits: Limits,
}

impl Client {
    /// A client that keeps to `limits`.
    pub fn new(limits: Limits) -> Client {
        let config = Agent::config_builder()
            .timeout_resolve(Some(limits.connect_timeout))
            .timeout_connect(Some(limits.connect_timeout))
            .timeout_global(Some(limits.request_timeout))
            .max_redirects(limits.max_redirects)
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            .accept("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
            // Many requests in flight to one host: keep their connections.
            .max_idle_connections(256)
            .max_idle_connections_per_host(128)
            .build();
        Client {
            agent: Agent::new_with_config(config),
            limits,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Fetches the page at `url` and reads it as far as its title.
    pub fn page(&self, url: &str) -> Result<Page, FetchError> {
        let url = check_url(url)?;
        let start = Instant::now();
        let response = self.get(&url)?;
        let final_url = response.get_uri().to_string();
        let status = response.status().as_u16();
        let content_type = header(&response, "content-type");
        if let Some(mime) = content_type.as_deref().map(charset::mime_type) {
            if !mime.is_empty() && !HTML_TYPES.contains(&mime.as_str()) {
                return Err(FetchError::new(
                    FetchErrorKind::NotHtml,
                    format!("content type {mime} ({final_url})"),
                ));
            }
        }
        let mut reader = response.into_body().into_reader();
        let (bytes, found) = self.read_to_title(&mut reader, content_type.as_deref(), &url)?;
        let (encoding, title) = match found {
            Some(found) => found,
            None => {
                let sniffed = charset::sniff(&bytes, content_type.as_deref(), true);
                let title = match title::scan(&charset::decode(&bytes, &sniffed), true) {
                    Scan::Found(t) => Some(t),
                    Scan::NotYet => None,
                };
                (sniffed.encoding, title)
            }
        };
        Ok(Page {
            url: final_url,
            status,
            title,
            content_type,
            encoding: encoding.name().to_string(),
            bytes: bytes.len() as u64,
            fetch_ms: start.elapsed().as_millis() as u64,
        })
    }

    /// Fetches the whole body at `url` (up to `max_bytes`), whatever its
    /// type: the final URL and the bytes.
    pub fn document(&self, url: &str, max_bytes: u64) -> Result<(String, Vec<u8>), FetchError> {
        let url = check_url(url)?;
        let response = self.get(&url)?;
        let final_url = response.get_uri().to_string();
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| self.error(e.into(), &url))?;
        if body.len() as u64 > max_bytes {
            return Err(FetchError::new(
                FetchErrorKind::TooLarge,
                format!("more than {max_bytes} bytes ({final_url})"),
            ));
        }
        Ok((final_url, body))
    }

    /// Sends the request; a 4xx or 5xx status is an error.
    fn get(&self, url: &Url) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let response = self
            .agent
            .get(url.as_str())
            .call()
            .map_err(|e| self.error(e, url))?;
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            let reason = status.canonical_reason().unwrap_or("").to_lowercase();
            return Err(FetchError::new(
                FetchErrorKind::HttpStatus,
                format!("{} {reason} ({})", status.as_u16(), response.get_uri()),
            ));
        }
        Ok(response)
    }

    fn error(&self, e: ureq::Error, url: &Url) -> FetchError {
        FetchError::from_ureq(e, url.as_str(), &self.limits)
    }

    /// Reads until the title has ended, the body has ended, or
    /// `max_bytes`. Gives the bytes read and, if the title was found
    /// before the end, the encoding and the title.
    fn read_to_title(
        &self,
        reader: &mut impl Read,
        content_type: Option<&str>,
        url: &Url,
    ) -> Result<(Vec<u8>, Option<Titled>), FetchError> {
        let max = self.limits.max_bytes;
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; 16 << 10];
        let mut scanned = 0;
        let mut title_ended = false;
        while (bytes.len() as u64) < max {
            let room = (max - bytes.len() as u64).min(chunk.len() as u64) as usize;
            let n = reader
                .read(&mut chunk[..room])
                .map_err(|e| self.error(e.into(), url))?;
            if n == 0 {
                return Ok((bytes, None));
            }
            bytes.extend_from_slice(&chunk[..n]);
            title_ended = title_ended || has_title_end(&bytes, scanned);
            scanned = bytes.len().saturating_sub(16);
            // The prescan wants 1024 bytes before it decides.
            if title_ended && bytes.len() >= PRESCAN_BYTES {
                if let Some(found) = title_so_far(&bytes, content_type) {
                    return Ok((bytes, Some(found)));
                }
                title_ended = false;
            }
        }
        match title_so_far(&bytes, content_type) {
            Some(found) => Ok((bytes, Some(found))),
            None => Err(FetchError::new(
                FetchErrorKind::TooLarge,
                format!("no </title> in the first {max} bytes (--max-bytes) ({url})"),
            )),
        }
    }
}

/// A page's encoding and title.
type Titled = (&'static encoding_rs::Encoding, Option<String>);

/// The encoding and title, if `bytes` (the start of a page) hold all of
/// the title.
fn title_so_far(bytes: &[u8], content_type: Option<&str>) -> Option<Titled> {
    let sniffed = charset::sniff(bytes, content_type, false);
    match title::scan(&charset::decode(bytes, &sniffed), false) {
        Scan::Found(t) => Some((sniffed.encoding, Some(t))),
        Scan::NotYet => None,
    }
}

/// Whether `</title` (any case) appears at or after `from`, ignoring NUL
/// bytes so that UTF-16 text matches too. A cheap test before decoding.
fn has_title_end(bytes: &[u8], from: usize) -> bool {
    const PATTERN: &[u8] = b"/title";
    let starts = bytes[from.min(bytes.len())..]
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'<')
        .map(|(i, _)| from + i + 1);
    starts.into_iter().any(|mut at| {
        PATTERN.iter().all(|want| {
            while bytes.get(at) == Some(&0) {
                at += 1;
            }
            let ok = bytes.get(at).is_some_and(|b| b.eq_ignore_ascii_case(want));
            at += 1;
            ok
        })
    })
}

/// `url` parsed, if it is an absolute http or https URL with a host.
pub fn check_url(url: &str) -> Result<Url, FetchError> {
    let bad = |why: String| FetchError::new(FetchErrorKind::BadUrl, format!("{why} ({url})"));
    let parsed = Url::parse(url.trim()).map_err(|e| bad(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(bad(format!(
                "unsupported scheme {other}: only http and https"
            )))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_string()));
    }
    Ok(parsed)
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::{check_url, has_title_end};

    #[test]
    fn title_ends_are_seen_in_any_case_and_in_utf16() {
        assert!(has_title_end(b"<title>x</TITLE>", 0));
        assert!(!has_title_end(b"<title>x</titl", 0));
        let le: Vec<u8> = "<title>x</title>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "<title>x</title>"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(has_title_end(&le, 0) && has_title_end(&be, 0));
        assert!(!has_title_end(b"</title> then more", 3));
    }

    #[test]
    fn only_absolute_http_urls_with_a_host() {
        assert!(check_url("http://127.0.0.1:8000/page/1").is_ok());
        assert!(check_url(" https://example.com ").is_ok());
        for (bad, why) in [
            ("not a url", "relative URL without a base"),
            ("ftp://example.com/f", "unsupported scheme ftp"),
            ("file:///etc/passwd", "unsupported scheme file"),
            ("http://", "empty host"),
        ] {
            let e = check_url(bad).unwrap_err().to_string();
            assert!(e.starts_with("bad_url: "), "{e}");
            assert!(e.contains(why) && e.contains(bad), "{e}");
        }
    }
}
