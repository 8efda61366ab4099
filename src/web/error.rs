//! [`FetchError`]: why one URL gave no page, as a kind and a one-line
//! message. Its text always starts with the kind (`timeout: ...`), so a
//! failed row of `--json` output can be sorted by kind without parsing
//! anything else. The URL asked for is the item's input, and every line
//! that shows the error names it already; the message names a URL only
//! when it is another one (where a redirect led), at its end in
//! parentheses.
//!
//! This module also turns `ureq`'s errors into kinds; it does no I/O.

use std::fmt;
use std::time::Duration;

/// What kind of failure a [`FetchError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchErrorKind {
    /// Not a URL, not http or https, or no host.
    BadUrl,
    /// The host name could not be resolved.
    Dns,
    /// Nothing listens on the port.
    Refused,
    /// The connection failed or broke for another reason (reset,
    /// unreachable, closed early).
    Connection,
    /// The connect timeout or the request timeout ran out.
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The proxy refused the request or the tunnel (`CONNECT`).
    Proxy,
    /// More redirects than `--max-redirects` (a loop ends here too).
    TooManyRedirects,
    /// A redirect to a scheme other than http and https, or to a location
    /// that is not a URL.
    BadRedirect,
    /// The server answered with a 4xx or 5xx status.
    HttpStatus,
    /// The content type is not HTML.
    NotHtml,
    /// No `</title>` in the first `--max-bytes` bytes.
    TooLarge,
    /// The server's answer was not valid HTTP.
    Protocol,
}

impl FetchErrorKind {
    /// The kind as it starts an error message (`bad_url`, `http_status`...).
    pub fn as_str(self) -> &'static str {
        match self {
            FetchErrorKind::BadUrl => "bad_url",
            FetchErrorKind::Dns => "dns",
            FetchErrorKind::Refused => "refused",
            FetchErrorKind::Connection => "connection",
            FetchErrorKind::Timeout => "timeout",
            FetchErrorKind::Tls => "tls",
            FetchErrorKind::Proxy => "proxy",
            FetchErrorKind::TooManyRedirects => "too_many_redirects",
            FetchErrorKind::BadRedirect => "bad_redirect",
            FetchErrorKind::HttpStatus => "http_status",
            FetchErrorKind::NotHtml => "not_html",
            FetchErrorKind::TooLarge => "too_large",
            FetchErrorKind::Protocol => "protocol",
        }
    }
}

/// Why one URL gave no page: `kind: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// The kind.
    pub kind: FetchErrorKind,
    /// One line; it ends with ` (URL)` when the error happened at another
    /// URL than the one asked for.
    pub message: String,
}

impl FetchError {
    /// An error of `kind`.
    pub fn new(kind: FetchErrorKind, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            message: message.into(),
        }
    }

    /// The same error, naming `at` when it is not `asked`.
    pub fn at(mut self, asked: &url::Url, at: &url::Url) -> FetchError {
        if asked != at {
            self.message = format!("{} ({at})", self.message);
        }
        self
    }

    /// A `ureq` error met while fetching from `host`, with the limits that
    /// apply.
    pub fn from_ureq(e: ureq::Error, host: &str, limits: &super::Limits) -> FetchError {
        use FetchErrorKind as K;
        let (kind, what) = match e {
            ureq::Error::Timeout(which) => {
                let (limit, flag) = match which {
                    ureq::Timeout::Connect | ureq::Timeout::Resolve => {
                        (limits.connect_timeout, "--connect-timeout")
                    }
                    _ => (limits.request_timeout, "--request-timeout"),
                };
                (
                    K::Timeout,
                    format!("no answer within {} ({flag})", seconds(limit)),
                )
            }
            ureq::Error::HostNotFound => (K::Dns, "cannot resolve the host name".to_string()),
            ureq::Error::TooManyRedirects => (
                K::TooManyRedirects,
                format!(
                    "more than {} (--max-redirects)",
                    crate::report::count(limits.max_redirects as u64, "redirect")
                ),
            ),
            ureq::Error::StatusCode(code) => (K::HttpStatus, code.to_string()),
            ureq::Error::BadUri(why) => (K::BadUrl, lower(&why)),
            ureq::Error::Tls(why) => (K::Tls, format!("{host}: {}", lower(why))),
            ureq::Error::Rustls(e) => (K::Tls, tls_message(&e, host)),
            ureq::Error::ConnectProxyFailed(why) => (K::Proxy, lower(&why)),
            ureq::Error::InvalidProxyUrl => (K::Proxy, "bad proxy URL".to_string()),
            ureq::Error::Pem(e) => (K::Tls, format!("{e:?}")),
            ureq::Error::TlsRequired => (K::Tls, "no TLS on an https connection".to_string()),
            ureq::Error::Io(e) => io_kind(&e, host),
            ureq::Error::ConnectionFailed => (K::Connection, "connection failed".to_string()),
            ureq::Error::Protocol(e) => (K::Protocol, lower(&e.to_string())),
            ureq::Error::LargeResponseHeader(..) => {
                (K::Protocol, "response header too large".to_string())
            }
            other => (K::Connection, lower(&other.to_string())),
        };
        FetchError::new(kind, what)
    }
}

/// The kind of an I/O error on the connection.
fn io_kind(e: &std::io::Error, host: &str) -> (FetchErrorKind, String) {
    use std::io::ErrorKind as Io;
    // rustls reports a failed handshake inside an I/O error.
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return (FetchErrorKind::Tls, tls_message(tls, host));
    }
    let text = crate::errors::io_message(e);
    let kind = match e.kind() {
        Io::ConnectionRefused => FetchErrorKind::Refused,
        Io::TimedOut | Io::WouldBlock => FetchErrorKind::Timeout,
        _ => FetchErrorKind::Connection,
    };
    (kind, text)
}

/// A TLS failure in words, naming the host: `certificate of HOST is from
/// an unknown issuer (...)`.
fn tls_message(e: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as C;
    let why = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "is from an unknown issuer (not trusted by the system store, \
                 SSL_CERT_FILE, SSL_CERT_DIR or --cacert)"
                .to_string(),
            C::Expired | C::ExpiredContext { .. } => "has expired".to_string(),
            C::NotValidYet | C::NotValidYetContext { .. } => "is not valid yet".to_string(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!("is not valid for the name {host}")
            }
            C::Revoked => "is revoked".to_string(),
            C::BadSignature => "has a bad signature".to_string(),
            C::BadEncoding => "is badly encoded".to_string(),
            other => format!("is invalid: {}", lower(&format!("{other:?}"))),
        },
        other => return format!("{host}: {}", lower(&other.to_string())),
    };
    format!("certificate of {host} {why}")
}

fn lower(s: &str) -> String {
    crate::errors::lower_first(s)
}

/// `0.5 s`, `30 s`.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for FetchError {}

/// A fetch error's text split into the message and the URL it names at
/// its end, in parentheses: `("http_status: 404 not found",
/// Some("http://..."))`.
pub(crate) fn split_url(text: &str) -> (&str, Option<&str>) {
    match text.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        Some((message, url)) if url.contains("://") => (message, Some(url)),
        _ => (text, None),
    }
}

/// The status code of an `http_status` error's text.
pub(crate) fn http_status(text: &str) -> Option<u16> {
    let rest = text.strip_prefix("http_status: ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{http_status, split_url, FetchError, FetchErrorKind};
    use crate::web::Limits;

    #[test]
    fn ureq_errors_get_kinds_and_name_the_flag() {
        let limits = Limits::default();
        let kind = |e: ureq::Error| FetchError::from_ureq(e, "h", &limits);
        let dns = kind(ureq::Error::HostNotFound);
        assert_eq!(dns.to_string(), "dns: cannot resolve the host name");
        let connect = kind(ureq::Error::Timeout(ureq::Timeout::Connect)).to_string();
        assert_eq!(
            connect,
            "timeout: no answer within 10 s (--connect-timeout)"
        );
        let total = kind(ureq::Error::Timeout(ureq::Timeout::Global)).to_string();
        assert!(total.contains("30 s (--request-timeout)"), "{total}");
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(kind(ureq::Error::Io(refused)).kind, FetchErrorKind::Refused);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            kind(ureq::Error::Io(reset)).kind,
            FetchErrorKind::Connection
        );
        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::General("bad certificate".into()),
        );
        assert_eq!(kind(ureq::Error::Io(tls)).kind, FetchErrorKind::Tls);
        let unknown = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let text = kind(ureq::Error::Io(unknown)).to_string();
        assert!(
            text.starts_with("tls: certificate of h is from an unknown issuer")
                && text.contains("--cacert"),
            "{text}"
        );
        assert_eq!(
            kind(ureq::Error::TooManyRedirects).kind,
            FetchErrorKind::TooManyRedirects
        );
    }

    #[test]
    fn messages_name_another_url_only() {
        let asked = url::Url::parse("http://h/a").unwrap();
        let moved = url::Url::parse("http://h/b").unwrap();
        let e = FetchError::new(FetchErrorKind::HttpStatus, "404 not found");
        assert_eq!(e.clone().at(&asked, &asked).message, "404 not found");
        assert_eq!(e.at(&asked, &moved).message, "404 not found (http://h/b)");
    }

    #[test]
    fn messages_start_with_the_kind_and_end_with_the_url() {
        let e = FetchError::new(FetchErrorKind::HttpStatus, "404 not found (http://h/x)");
        let text = e.to_string();
        assert_eq!(text, "http_status: 404 not found (http://h/x)");
        assert_eq!(
            split_url(&text),
            ("http_status: 404 not found", Some("http://h/x"))
        );
        assert_eq!(http_status(&text), Some(404));
        let bad = "bad_url: relative URL without a base (not a url)";
        assert_eq!(split_url(bad), (bad, None));
        assert_eq!(http_status(bad), None);
    }
}
