//! The one error type of the crate: [`Error`], with an [`ErrorKind`].
//!
//! Messages are one line, lowercase, without a trailing period, and name the
//! flag, file or program involved. Per-item failures are *not* errors: they
//! are [`Outcome`](crate::Outcome)s. An `Error` means a whole operation could
//! not run (bad usage, a worker binary that cannot start, a broken protocol).

use std::fmt;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad command-line usage or an invalid option value.
    Usage,
    /// A worker process could not be started.
    Spawn,
    /// A worker answered the handshake wrongly (other version, not mproc).
    Handshake,
    /// A frame on a worker pipe was malformed, truncated or too large.
    Protocol,
    /// An operating-system I/O error.
    Io,
    /// A wait ran past its time limit.
    Timeout,
    /// A result was asked of a pool or process that cannot give it.
    Closed,
    /// An item did not end ok where a value was required.
    Item,
}

/// The crate's error: a kind, a one-line message and an optional source.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Makes an error of `kind` with a one-line `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the lower-level error that caused this one.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Shorthand for a [`ErrorKind::Usage`] error.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, message)
    }

    /// Shorthand for a [`ErrorKind::Protocol`] error.
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// An I/O error with context, e.g. `io("cannot read urls.txt", err)`.
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error::new(
            ErrorKind::Io,
            format!("{context}: {}", lower_first(&err.to_string())),
        )
        .with_source(err)
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The one-line message, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True for bad usage or option values.
    pub fn is_usage(&self) -> bool {
        self.kind == ErrorKind::Usage
    }

    /// True when a worker process could not be started.
    pub fn is_spawn(&self) -> bool {
        self.kind == ErrorKind::Spawn
    }

    /// True when a worker failed the handshake.
    pub fn is_handshake(&self) -> bool {
        self.kind == ErrorKind::Handshake
    }

    /// True for malformed, truncated or oversized frames.
    pub fn is_protocol(&self) -> bool {
        self.kind == ErrorKind::Protocol
    }

    /// True when a wait ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }
}

/// Lowercases the first letter of an OS message ("No such file" → "no such file").
pub(crate) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An I/O error's text for a one-line message: lowercase, without the
/// " (os error N)" suffix ("no such file or directory").
pub(crate) fn io_message(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => &text,
    };
    lower_first(text)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `{:?}` is the one-line message, so that `main() -> mproc::Result<()>`
/// prints `Error: item 3 was not ok: ...`; `{:#?}` shows the fields.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("Error")
                .field("kind", &self.kind)
                .field("message", &self.message)
                .finish()
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, lower_first(&err.to_string())).with_source(err)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
