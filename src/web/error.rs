//! [`FetchError`]: why one URL gave no page, as a kind and a one-line
//! message naming the URL. Its text always starts with the kind
//! (`timeout: ...`), so a failed row of `--json` output can be sorted by
//! kind without parsing anything else.
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
    /// More redirects than `--max-redirects` (a loop ends here too).
    TooManyRedirects,
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
            FetchErrorKind::TooManyRedirects => "too_many_redirects",
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
    /// One line, naming the URL.
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

    /// A `ureq` error met while fetching `url`, with the limits that apply.
    pub fn from_ureq(e: ureq::Error, url: &str, limits: &super::Limits) -> FetchError {
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
                    "more than {} redirects (--max-redirects)",
                    limits.max_redirects
                ),
            ),
            ureq::Error::StatusCode(code) => (K::HttpStatus, code.to_string()),
            ureq::Error::BadUri(why) => (K::BadUrl, lower(&why)),
            ureq::Error::Tls(why) => (K::Tls, lower(why)),
            ureq::Error::Rustls(e) => (K::Tls, lower(&e.to_string())),
            ureq::Error::Pem(e) => (K::Tls, format!("{e:?}")),
            ureq::Error::TlsRequired => (K::Tls, "no TLS on an https connection".to_string()),
            ureq::Error::Io(e) => io_kind(&e),
            ureq::Error::ConnectionFailed => (K::Connection, "connection failed".to_string()),
            ureq::Error::Protocol(e) => (K::Protocol, lower(&e.to_string())),
            ureq::Error::LargeResponseHeader(..) => {
                (K::Protocol, "response header too large".to_string())
            }
            other => (K::Connection, lower(&other.to_string())),
        };
        FetchError::new(kind, format!("{what} ({url})"))
    }
}

/// The kind of an I/O error on the connection.
fn io_kind(e: &std::io::Error) -> (FetchErrorKind, String) {
    use std::io::ErrorKind as Io;
    let text = mproc::error::io_message(e);
    // rustls reports a failed handshake inside an I/O error.
    let tls = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
    let kind = match e.kind() {
        _ if tls => FetchErrorKind::Tls,
        Io::ConnectionRefused => FetchErrorKind::Refused,
        Io::TimedOut | Io::WouldBlock => FetchErrorKind::Timeout,
        _ => FetchErrorKind::Connection,
    };
    (kind, text)
}

fn lower(s: &str) -> String {
    mproc::error::lower_first(s)
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
pub fn split_url(text: &str) -> (&str, Option<&str>) {
    match text.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        Some((message, url)) if url.contains("://") => (message, Some(url)),
        _ => (text, None),
    }
}

/// The status code of an `http_status` error's text.
pub fn http_status(text: &str) -> Option<u16> {
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
        let kind = |e: ureq::Error| FetchError::from_ureq(e, "http://h/", &limits);
        let dns = kind(ureq::Error::HostNotFound);
        assert_eq!(
            dns.to_string(),
            "dns: cannot resolve the host name (http://h/)"
        );
        let connect = kind(ureq::Error::Timeout(ureq::Timeout::Connect)).to_string();
        assert_eq!(
            connect,
            "timeout: no answer within 10 s (--connect-timeout) (http://h/)"
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
        assert_eq!(
            kind(ureq::Error::TooManyRedirects).kind,
            FetchErrorKind::TooManyRedirects
        );
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
