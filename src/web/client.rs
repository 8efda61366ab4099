//! [`Client`]: HTTP GET with limits, on `ureq` (blocking, rustls). One
//! client per worker process, shared by its threads, so connections to a
//! host are reused.
//!
//! [`Client::page`] fetches one page and reads only as far as its title:
//! it stops once `</title>` has arrived, and gives up after `max_bytes`.
//! [`Client::document`] reads a whole body (a sitemap). Neither logs; a
//! failure is a [`FetchError`]. The one retry is curl's: a request that
//! met a pooled connection the server had just closed is sent once more
//! on a new connection (`web/reuse.rs`).
//!
//! Redirects are followed here, not in ureq, so that each step is
//! checked: only to http and https (anything else is `bad_redirect`,
//! naming the target), at most `max_redirects`, all within the request
//! timeout, and each through the proxy its own URL calls for.
//!
//! Certificates are checked against the system store and `--cacert`
//! ([`tls`](super::tls)); proxies are chosen as curl chooses them
//! ([`proxy`](super::proxy)).

use std::io::Read;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, DefaultConnector, TcpConnector};
use ureq::Agent;
use url::Url;

use super::charset::{self, PRESCAN_BYTES};
use super::error::{FetchError, FetchErrorKind};
use super::page::Page;
use super::proxy::{AbsoluteForm, Proxies, ProxyUrl, ToProxy};
use super::reuse::{self, CountOpened};
use super::title::{self, Scan};

/// The `User-Agent` header: `mproc/VERSION`.
pub(crate) const USER_AGENT: &str = concat!("mproc/", env!("CARGO_PKG_VERSION"));

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

/// Where requests go and whom they trust: `--cacert`, `--proxy`,
/// `--noproxy`. The environment (`SSL_CERT_FILE`, `HTTPS_PROXY`...) is
/// read when a [`Client`] is built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// A PEM file of certificate authorities trusted besides the system's.
    pub cacert: Option<String>,
    /// The proxy for every URL, instead of the environment's.
    pub proxy: Option<String>,
    /// Hosts reached directly, instead of `NO_PROXY`'s.
    pub noproxy: Option<String>,
}

/// An HTTP client with [`Limits`].
#[derive(Debug, Clone)]
pub struct Client {
    /// Requests sent straight to the host.
    direct: Agent,
    /// `http://` URLs through their proxy (absolute-form requests).
    http: Option<Route>,
    /// `https://` URLs through their proxy (`CONNECT`).
    https: Option<Route>,
    proxies: Proxies,
    limits: Limits,
    /// Problems reading the system's certificate store.
    warnings: Vec<String>,
}

/// An agent that sends requests through one proxy.
#[derive(Debug, Clone)]
struct Route {
    agent: Agent,
    proxy: ProxyUrl,
}

impl Client {
    /// A client that keeps to `limits`, with the system's certificates and
    /// the environment's proxies (a malformed proxy URL is an error naming
    /// its variable).
    pub fn new(limits: Limits) -> Result<Client, String> {
        Client::with_network(limits, &Network::default())
    }

    /// A client that keeps to `limits`, with `network`'s settings: an
    /// unreadable `--cacert` or a malformed proxy URL is an error naming
    /// it.
    pub fn with_network(limits: Limits, network: &Network) -> Result<Client, String> {
        let roots = super::tls::roots(network.cacert.as_deref())?;
        let proxies = Proxies::new(network.proxy.as_deref(), network.noproxy.as_deref())?;
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(roots.roots)
            .build();
        let config = |proxy: Option<ureq::Proxy>| {
            Agent::config_builder()
                .timeout_resolve(Some(limits.connect_timeout))
                .timeout_connect(Some(limits.connect_timeout))
                .timeout_global(Some(limits.request_timeout))
                .max_redirects(0)
                .http_status_as_error(false)
                .user_agent(USER_AGENT)
                .accept("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
                .tls_config(tls.clone())
                .proxy(proxy)
                // Many requests in flight to one host: keep their connections.
                .max_idle_connections(256)
                .max_idle_connections_per_host(128)
                .build()
        };
        let http = match &proxies.http {
            Some(proxy) => {
                let connector =
                    ().chain(TcpConnector::default())
                        .chain(AbsoluteForm)
                        .chain(CountOpened);
                let agent = Agent::with_parts(config(None), connector, ToProxy::new(proxy)?);
                Some(Route {
                    agent,
                    proxy: proxy.clone(),
                })
            }
            None => None,
        };
        let https = match &proxies.https {
            Some(proxy) => {
                let tunnel = ureq::Proxy::new(&proxy.full)
                    .map_err(|e| format!("bad proxy URL {} in {}: {e}", proxy.url, proxy.from))?;
                Some(Route {
                    agent: counted(config(Some(tunnel))),
                    proxy: proxy.clone(),
                })
            }
            None => None,
        };
        Ok(Client {
            direct: counted(config(None)),
            http,
            https,
            proxies,
            limits,
            warnings: roots.warnings,
        })
    }

    /// Problems met reading the system's certificate store (an unreadable
    /// `SSL_CERT_FILE`...), one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Fetches the page at `url` and reads it as far as its title.
    pub fn page(&self, url: &str) -> Result<Page, FetchError> {
        let asked = check_url(url)?;
        let start = Instant::now();
        let (url, response) = self.get(&asked, start)?;
        let status = response.status().as_u16();
        let content_type = header(&response, "content-type");
        if let Some(mime) = content_type.as_deref().map(charset::mime_type) {
            if !mime.is_empty() && !HTML_TYPES.contains(&mime.as_str()) {
                return Err(FetchError::new(
                    FetchErrorKind::NotHtml,
                    format!("content type {mime}"),
                )
                .at(&asked, &url));
            }
        }
        let mut reader = response.into_body().into_reader();
        let read = Reading {
            content_type: content_type.as_deref(),
            host: url.host_str(),
        };
        let (bytes, found) = self
            .read_to_title(&mut reader, &read)
            .map_err(|e| e.at(&asked, &url))?;
        let (sniffed, title) = match found {
            Some(found) => found,
            None => {
                let sniffed = charset::sniff_from(&bytes, read.content_type, true, read.host);
                let title = match title::scan(&charset::decode(&bytes, &sniffed), true) {
                    Scan::Found(t) => Some(t),
                    Scan::NotYet => None,
                };
                (sniffed, title)
            }
        };
        Ok(Page {
            url: url.to_string(),
            status,
            title,
            content_type,
            encoding: sniffed.encoding.name().to_string(),
            encoding_source: sniffed.source.as_str().to_string(),
            bytes: bytes.len() as u64,
            fetch_ms: start.elapsed().as_millis() as u64,
        })
    }

    /// Fetches the whole body at `url` (up to `max_bytes`), whatever its
    /// type: the final URL and the bytes.
    pub fn document(&self, url: &str, max_bytes: u64) -> Result<(String, Vec<u8>), FetchError> {
        let asked = check_url(url)?;
        let (url, response) = self.get(&asked, Instant::now())?;
        let host = url.host_str().unwrap_or("");
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| self.error(e.into(), host, None).at(&asked, &url))?;
        if body.len() as u64 > max_bytes {
            return Err(FetchError::new(
                FetchErrorKind::TooLarge,
                format!("more than {}", crate::report::count(max_bytes, "byte")),
            )
            .at(&asked, &url));
        }
        Ok((url.to_string(), body))
    }

    /// Sends the request and follows redirects: the final URL and its
    /// response. A 4xx or 5xx status is an error.
    fn get(
        &self,
        asked: &Url,
        start: Instant,
    ) -> Result<(Url, ureq::http::Response<ureq::Body>), FetchError> {
        let mut url = asked.clone();
        let mut followed = 0;
        loop {
            let response = self.send(&url, start).map_err(|e| e.at(asked, &url))?;
            let status = response.status();
            let location = header(&response, "location");
            let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            if let (true, Some(location)) = (redirect, location) {
                let bad = |why: String| FetchError::new(FetchErrorKind::BadRedirect, why);
                if followed >= self.limits.max_redirects {
                    return Err(FetchError::new(
                        FetchErrorKind::TooManyRedirects,
                        format!(
                            "more than {} (--max-redirects)",
                            crate::report::count(self.limits.max_redirects as u64, "redirect")
                        ),
                    )
                    .at(asked, &url));
                }
                let next = url
                    .join(location.trim())
                    .map_err(|e| bad(format!("redirect to '{location}': {e}")).at(asked, &url))?;
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(bad(format!(
                        "redirect to {next}: only http and https are followed"
                    ))
                    .at(asked, &url));
                }
                if next.host_str() != url.host_str() {
                    tracing::debug!("{url} redirects to another host: {next}");
                }
                followed += 1;
                url = next;
                continue;
            }
            if status.is_client_error() || status.is_server_error() {
                let reason = status.canonical_reason().unwrap_or("").to_lowercase();
                return Err(FetchError::new(
                    FetchErrorKind::HttpStatus,
                    format!("{} {reason}", status.as_u16()),
                )
                .at(asked, &url));
            }
            return Ok((url, response));
        }
    }

    /// One request, direct or through the proxy for `url`, in what is left
    /// of the request timeout since `start`.
    fn send(
        &self,
        url: &Url,
        start: Instant,
    ) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let host = url.host_str().unwrap_or("");
        let route = match self.proxies.for_url(url) {
            Some(_) if url.scheme() == "http" => self.http.as_ref(),
            Some(_) => self.https.as_ref(),
            None => None,
        };
        let agent = route.map_or(&self.direct, |r| &r.agent);
        let call = |fresh: bool| {
            let mut request = agent.get(url.as_str());
            if let Some(auth) = route
                .filter(|_| url.scheme() == "http")
                .and_then(|r| r.proxy.authorization.as_ref())
            {
                request = request.header("Proxy-Authorization", auth);
            }
            let left = self.limits.request_timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(ureq::Error::Timeout(ureq::Timeout::Global));
            }
            let config = request.config().timeout_global(Some(left));
            // No pooled connection is young enough: a new one is opened.
            let config = match fresh {
                true => config.max_idle_age(Duration::ZERO),
                false => config,
            };
            config.build().call()
        };
        let opened = reuse::opened();
        let result = match call(false) {
            Err(e) if reuse::peer_gone(&e) && reuse::opened() == opened => {
                tracing::debug!("{url}: a pooled connection was closed under the request ({e}): once more on a new one");
                call(true)
            }
            result => result,
        };
        result.map_err(|e| self.error(e, host, route.map(|r| &r.proxy)))
    }

    fn error(&self, e: ureq::Error, host: &str, proxy: Option<&ProxyUrl>) -> FetchError {
        let mut error = FetchError::from_ureq(e, host, &self.limits);
        if let Some(proxy) = proxy {
            if error.kind != FetchErrorKind::HttpStatus {
                error.message = format!("{} (via {proxy})", error.message);
            }
        }
        error
    }

    /// Reads until the title has ended, the body has ended, or
    /// `max_bytes`. Gives the bytes read and, if the title was found
    /// before the end, the encoding and the title.
    fn read_to_title(
        &self,
        reader: &mut impl Read,
        read: &Reading<'_>,
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
                .map_err(|e| self.error(e.into(), read.host.unwrap_or(""), None))?;
            if n == 0 {
                return Ok((bytes, None));
            }
            bytes.extend_from_slice(&chunk[..n]);
            title_ended = title_ended || has_title_end(&bytes, scanned);
            scanned = bytes.len().saturating_sub(16);
            // The prescan wants 1024 bytes before it decides.
            if title_ended && bytes.len() >= PRESCAN_BYTES {
                if let Some(found) = title_so_far(&bytes, read) {
                    return Ok((bytes, Some(found)));
                }
                title_ended = false;
            }
        }
        match title_so_far(&bytes, read) {
            Some(found) => Ok((bytes, Some(found))),
            None => Err(FetchError::new(
                FetchErrorKind::TooLarge,
                format!(
                    "no </title> in the first {} (--max-bytes)",
                    crate::report::count(max, "byte")
                ),
            )),
        }
    }
}

/// An agent with ureq's own connectors, whose new connections
/// [`reuse`](super::reuse) counts.
fn counted(config: ureq::config::Config) -> Agent {
    let connector = DefaultConnector::new().chain(CountOpened);
    Agent::with_parts(config, connector, DefaultResolver::default())
}

/// What decoding a page needs besides its bytes.
struct Reading<'a> {
    content_type: Option<&'a str>,
    host: Option<&'a str>,
}

/// A page's encoding decision and title.
type Titled = (charset::Sniffed, Option<String>);

/// The encoding and title, if `bytes` (the start of a page) hold all of
/// the title.
fn title_so_far(bytes: &[u8], read: &Reading<'_>) -> Option<Titled> {
    let sniffed = charset::sniff_from(bytes, read.content_type, false, read.host);
    match title::scan(&charset::decode(bytes, &sniffed), false) {
        Scan::Found(t) => Some((sniffed, Some(t))),
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
pub(crate) fn check_url(url: &str) -> Result<Url, FetchError> {
    let bad = |why: String| FetchError::new(FetchErrorKind::BadUrl, why);
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

fn header<B>(response: &ureq::http::Response<B>, name: &str) -> Option<String> {
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
            assert!(e.contains(why), "{e}");
        }
    }
}
