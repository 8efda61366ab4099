//! Which proxy a URL goes through, decided as curl decides it, and the
//! pieces that send a request through one.
//!
//! - `--proxy URL` is the proxy for every URL (`--proxy ''`: none, whatever
//!   the environment says). Without it, an `http://` URL
//!   uses `http_proxy` (or `HTTP_PROXY`), an `https://` URL uses
//!   `https_proxy` (or `HTTPS_PROXY`), and either falls back on `all_proxy`
//!   (or `ALL_PROXY`). An empty variable is unset.
//! - `--noproxy LIST`, or else `no_proxy` (`NO_PROXY`): hosts reached
//!   directly. Comma-separated; `*` alone is every host; a name matches
//!   itself and its subdomains (`example.com` and `.example.com` both match
//!   `www.example.com`); an IP address matches itself, and `ADDR/BITS` a
//!   range (`10.0.0.0/8`, `::1/128`).
//! - Through a proxy, an `http://` URL is sent to it as an absolute-form
//!   request (`GET http://host/path HTTP/1.1`); an `https://` URL is
//!   tunnelled with `CONNECT host:443`, so the proxy never sees the page.
//!   A user and password in the proxy's URL become a `Proxy-Authorization:
//!   Basic` header on either.
//!
//! Only `http://` proxies are supported (a proxy URL without a scheme is
//! one); any other scheme is a usage error naming where it came from.

use std::fmt;
use std::net::IpAddr;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use url::Url;

/// A proxy: where it is, and its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyUrl {
    /// `http://host:port/` with the user and password removed: safe to
    /// show.
    pub url: Url,
    /// The URL as ureq takes it (credentials kept).
    pub full: String,
    /// `Basic ...` for `Proxy-Authorization`, when the URL has a user.
    pub authorization: Option<String>,
    /// Where the URL came from: `--proxy` or the variable's name.
    pub from: String,
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.url.host_str().unwrap_or("");
        match self.url.port_or_known_default() {
            Some(port) => write!(f, "proxy {host}:{port} from {}", self.from),
            None => write!(f, "proxy {host} from {}", self.from),
        }
    }
}

impl ProxyUrl {
    /// Parses a proxy URL from `from` (`--proxy`, `HTTPS_PROXY`...).
    pub(crate) fn parse(text: &str, from: &str) -> Result<ProxyUrl, String> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let bad = |why: String| format!("bad proxy URL '{text}' in {from}: {why}");
        let mut url = Url::parse(&with_scheme).map_err(|e| bad(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad(format!(
                "unsupported scheme {}: only http:// proxies",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("no host".into()));
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let authorization = (!url.username().is_empty()).then(|| {
            let user = decode(url.username());
            let password = decode(url.password().unwrap_or(""));
            format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
        });
        let full = url.as_str().to_string();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(ProxyUrl {
            url,
            full,
            authorization,
            from: from.to_string(),
        })
    }
}

/// The proxies for each scheme, and the hosts reached directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Proxies {
    /// For `http://` URLs.
    pub http: Option<ProxyUrl>,
    /// For `https://` URLs.
    pub https: Option<ProxyUrl>,
    /// Hosts that bypass both.
    pub no_proxy: NoProxy,
}

impl Proxies {
    /// From `--proxy` and `--noproxy` (if given) and the environment.
    pub(crate) fn new(proxy: Option<&str>, noproxy: Option<&str>) -> Result<Proxies, String> {
        Proxies::with_env(proxy, noproxy, |name| std::env::var(name).ok())
    }

    /// [`Proxies::new`] reading variables with `env`.
    pub(crate) fn with_env(
        proxy: Option<&str>,
        noproxy: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Proxies, String> {
        // The lowercase name first, as curl reads it.
        let var = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                env(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (v, name))
            })
        };
        let parse = |found: Option<(String, &str)>| {
            found
                .map(|(value, from)| ProxyUrl::parse(&value, from))
                .transpose()
        };
        let (http, https) = match proxy.map(str::trim) {
            // As with curl, `--proxy ''` means no proxy, whatever is set.
            Some("") => (None, None),
            Some(p) => {
                let p = ProxyUrl::parse(p, "--proxy")?;
                (Some(p.clone()), Some(p))
            }
            None => {
                let all = var(["all_proxy", "ALL_PROXY"]);
                (
                    parse(var(["http_proxy", "HTTP_PROXY"]).or_else(|| all.clone()))?,
                    parse(var(["https_proxy", "HTTPS_PROXY"]).or(all))?,
                )
            }
        };
        let no_proxy = match noproxy {
            Some(list) => NoProxy::parse(list),
            None => var(["no_proxy", "NO_PROXY"])
                .map(|(list, _)| NoProxy::parse(&list))
                .unwrap_or_default(),
        };
        Ok(Proxies {
            http,
            https,
            no_proxy,
        })
    }

    /// The proxy for `url`, or `None` to connect directly.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&ProxyUrl> {
        let proxy = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }?;
        (!self.no_proxy.matches(url)).then_some(proxy)
    }
}

/// A `NO_PROXY` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    all: bool,
    names: Vec<String>,
    ranges: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    /// Parses a comma- (or space-) separated list.
    pub(crate) fn parse(list: &str) -> NoProxy {
        let mut no = NoProxy::default();
        for entry in list.split([',', ' ', '\t']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                no.all = true;
                continue;
            }
            let bare = entry.trim_start_matches("*.").trim_start_matches('.');
            let bare = bare.trim_start_matches('[').trim_end_matches(']');
            let (addr, bits) = match bare.split_once('/') {
                Some((a, b)) => (a, b.parse::<u8>().ok()),
                None => (bare, None),
            };
            match addr.parse::<IpAddr>() {
                Ok(ip) => {
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    no.ranges.push((ip, bits.unwrap_or(max).min(max)));
                }
                Err(_) => no
                    .names
                    .push(bare.trim_end_matches('.').to_ascii_lowercase()),
            }
        }
        no
    }

    /// Whether `url`'s host is on the list.
    pub(crate) fn matches(&self, url: &Url) -> bool {
        if self.all {
            return true;
        }
        match url.host() {
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                self.names.iter().any(|n| {
                    name == *n
                        || name
                            .strip_suffix(n.as_str())
                            .is_some_and(|rest| rest.ends_with('.'))
                })
            }
            Some(url::Host::Ipv4(ip)) => self.has_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.has_ip(IpAddr::V6(ip)),
            None => false,
        }
    }

    fn has_ip(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        })
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Resolves every host to the proxy's address, so that the TCP connector
/// opens a connection to the proxy.
#[derive(Debug)]
pub(crate) struct ToProxy {
    proxy: ureq::http::Uri,
    inner: DefaultResolver,
}

impl ToProxy {
    pub(crate) fn new(proxy: &ProxyUrl) -> Result<ToProxy, String> {
        let proxy = proxy
            .url
            .as_str()
            .parse()
            .map_err(|e| format!("bad proxy URL {}: {e}", proxy.url))?;
        Ok(ToProxy {
            proxy,
            inner: DefaultResolver::default(),
        })
    }
}

impl Resolver for ToProxy {
    fn resolve(
        &self,
        _: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.inner.resolve(&self.proxy, config, timeout)
    }
}

/// Makes the request line absolute-form (`GET http://host:port/path`), as
/// a request to a proxy must be.
#[derive(Debug)]
pub(crate) struct AbsoluteForm;

impl<In: Transport> Connector<In> for AbsoluteForm {
    type Out = AbsoluteTransport<In>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(inner) = chained else {
            return Ok(None);
        };
        let uri = details.uri;
        let host = uri.host().unwrap_or("");
        let origin = match uri.port_u16() {
            Some(port) => format!("http://{host}:{port}"),
            None => format!("http://{host}"),
        };
        Ok(Some(AbsoluteTransport { inner, origin }))
    }
}

/// A connection to a proxy that rewrites each request line.
#[derive(Debug)]
pub(crate) struct AbsoluteTransport<T> {
    inner: T,
    /// `http://host:port`, put before the path.
    origin: String,
}

impl<T: Transport> Transport for AbsoluteTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let head = &self.inner.buffers().output()[..amount];
        let Some(rewritten) = absolute_form(head, &self.origin) else {
            return self.inner.transmit_output(amount, timeout);
        };
        for piece in rewritten.chunks(self.inner.buffers().output().len().max(1)) {
            self.inner.buffers().output()[..piece.len()].copy_from_slice(piece);
            self.inner.transmit_output(piece.len(), timeout)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }
}

/// `bytes` with `origin` put before the path of its request line, if they
/// start with one (`GET /path HTTP/1.1`).
fn absolute_form(bytes: &[u8], origin: &str) -> Option<Vec<u8>> {
    let space = bytes.iter().position(|b| *b == b' ')?;
    let is_method = space > 0 && bytes[..space].iter().all(u8::is_ascii_uppercase);
    if !is_method || bytes.get(space + 1) != Some(&b'/') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() + origin.len());
    out.extend_from_slice(&bytes[..=space]);
    out.extend_from_slice(origin.as_bytes());
    out.extend_from_slice(&bytes[space + 1..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{absolute_form, base64, NoProxy, Proxies, ProxyUrl};
    use url::Url;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn each_scheme_has_its_own_variable_and_all_proxy_is_the_fallback() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let only_https = Proxies::with_env(None, None, env(&[("HTTPS_PROXY", "p:3128")])).unwrap();
        assert!(only_https.for_url(&url("http://a/")).is_none());
        let p = only_https.for_url(&url("https://a/")).unwrap();
        assert_eq!(p.url.as_str(), "http://p:3128/");
        assert_eq!(p.from, "HTTPS_PROXY");

        let only_http =
            Proxies::with_env(None, None, env(&[("http_proxy", "http://p:1")])).unwrap();
        assert!(only_http.for_url(&url("https://a/")).is_none());
        assert!(only_http.for_url(&url("http://a/")).is_some());

        let all = Proxies::with_env(
            None,
            None,
            env(&[
                ("ALL_PROXY", "http://all:1"),
                ("http_proxy", ""),
                ("NO_PROXY", "a.org"),
            ]),
        )
        .unwrap();
        assert_eq!(all.for_url(&url("http://b/")).unwrap().from, "ALL_PROXY");
        assert!(all.for_url(&url("https://www.a.org/")).is_none());

        let flag = Proxies::with_env(
            Some("http://u:p%40ss@f:8"),
            Some(""),
            env(&[("HTTP_PROXY", "http://e:1"), ("NO_PROXY", "*")]),
        )
        .unwrap();
        let p = flag.for_url(&url("http://x/")).unwrap();
        assert_eq!(
            (p.from.as_str(), p.url.as_str()),
            ("--proxy", "http://f:8/")
        );
        assert_eq!(p.authorization.as_deref(), Some("Basic dTpwQHNz"));
        assert_eq!(p.to_string(), "proxy f:8 from --proxy");
        let none = Proxies::with_env(Some(""), None, env(&[("HTTP_PROXY", "http://e:1")])).unwrap();
        assert!(
            none.for_url(&url("http://x/")).is_none(),
            "--proxy '' turns proxies off"
        );

        let e = Proxies::with_env(None, None, env(&[("ALL_PROXY", "socks5://s:1")])).unwrap_err();
        assert!(e.contains("socks5") && e.contains("ALL_PROXY"), "{e}");
        assert!(ProxyUrl::parse("http://", "--proxy").is_err());
    }

    #[test]
    fn no_proxy_lists_as_curl_reads_them() {
        let no = NoProxy::parse("example.com, .corp.net,*.x.io ,10.0.0.0/8,127.0.0.1,[::1]");
        for (u, expected) in [
            ("http://example.com/", true),
            ("http://www.example.com/", true),
            ("http://badexample.com/", false),
            ("http://a.corp.net/", true),
            ("http://corp.net/", true),
            ("http://y.x.io/", true),
            ("http://10.20.30.40/", true),
            ("http://11.0.0.1/", false),
            ("http://127.0.0.1:8080/", true),
            ("http://127.0.0.2/", false),
            ("http://[::1]:80/", true),
            ("http://other.org/", false),
        ] {
            assert_eq!(no.matches(&url(u)), expected, "{u}");
        }
        assert!(NoProxy::parse("*").matches(&url("http://anything/")));
        assert!(!NoProxy::parse("").matches(&url("http://anything/")));
    }

    #[test]
    fn request_lines_become_absolute() {
        let out = absolute_form(b"GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n", "http://h:81").unwrap();
        assert_eq!(out, b"GET http://h:81/a?b HTTP/1.1\r\nHost: h\r\n\r\n");
        assert!(absolute_form(b"user-agent: x\r\n", "http://h").is_none());
        assert!(absolute_form(b"", "http://h").is_none());
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"u:p"), "dTpw");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
