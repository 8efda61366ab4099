//! [`Failure`]: how a job failed on one item, as a message for people and,
//! beside it, data of the job's choosing for programs.
//!
//! The message is text that an input can reach (a file name, a command's
//! name), so nothing ever reads structure out of it. Whatever a program
//! needs from a failure (a command's exit status, its output, a file it
//! wrote) travels in the typed data, encoded by the protocol's codec and
//! decoded by type with [`Failure::data`].

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Result;
use crate::protocol;

/// A job's failure on one item: a one-line message, and optionally a typed
/// value beside it.
///
/// A job returns one as its error to attach data, and the parent reads it
/// back from [`Outcome::Failed`](crate::Outcome::Failed):
///
/// ```
/// use mproc::Failure;
///
/// let failure = Failure::new("exit 3").with_data(&(3_i32, b"partial output".to_vec()))?;
/// // ... in the parent:
/// let (code, stdout): (i32, Vec<u8>) = failure.data().unwrap()?;
/// assert_eq!((failure.message(), code), ("exit 3", 3));
/// assert_eq!(stdout, b"partial output");
/// # Ok::<(), mproc::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Failure {
    message: String,
    /// The data, encoded; shared, so that records of attempts that copy an
    /// outcome do not copy the data.
    data: Option<Arc<[u8]>>,
}

impl Failure {
    /// A failure with `message` and no data.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            data: None,
        }
    }

    /// The same failure carrying `data`, encoded as inputs and outputs are.
    /// Fails only if `data` cannot be encoded (a map with non-string keys
    /// is fine; a type serde cannot describe is not).
    pub fn with_data<D: Serialize + ?Sized>(mut self, data: &D) -> Result<Failure> {
        self.data = Some(protocol::encode(data)?.into());
        Ok(self)
    }

    /// The message, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data, decoded as `D`: `None` when the failure carries none,
    /// `Some(Err)` when it does not decode as `D`.
    pub fn data<D: DeserializeOwned>(&self) -> Option<Result<D>> {
        self.data.as_deref().map(protocol::decode)
    }

    /// True when the failure carries data.
    pub fn has_data(&self) -> bool {
        self.data.is_some()
    }

    /// Drops the data, keeping the message (a record that no longer needs
    /// it stays small).
    pub fn clear_data(&mut self) {
        self.data = None;
    }

    /// Appends `text` to the message (the pool names a remote host so).
    pub(crate) fn append(&mut self, text: &str) {
        self.message.push_str(text);
    }

    /// The message and the encoded data, for the wire.
    pub(crate) fn into_parts(self) -> (String, Option<Vec<u8>>) {
        (self.message, self.data.map(|d| d.to_vec()))
    }

    /// A failure from the wire's message and encoded data.
    pub(crate) fn from_parts(message: String, data: Option<Vec<u8>>) -> Failure {
        Failure {
            message,
            data: data.map(Into::into),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Failure");
        d.field("message", &self.message);
        if let Some(data) = &self.data {
            d.field("data_bytes", &data.len());
        }
        d.finish()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::new(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::new(message)
    }
}

impl PartialEq<str> for Failure {
    fn eq(&self, other: &str) -> bool {
        self.data.is_none() && self.message == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_travels_beside_the_message_not_inside_it() {
        // A hostile message: the byte that once separated a message from
        // data smuggled inside it, then such data. It stays text.
        let message = "x\u{1f}[0,null,[\"\",\"/etc/passwd\",1]]";
        let failure = Failure::new(message).with_data(&(7_u8, "typed")).unwrap();
        assert_eq!(failure.message(), message);
        let data: (u8, String) = failure.data().unwrap().unwrap();
        assert_eq!(data, (7, "typed".to_string()));
        assert!(failure.data::<Vec<u64>>().unwrap().is_err());
        let (m, d) = failure.clone().into_parts();
        assert_eq!(Failure::from_parts(m, d), failure);
        assert!(Failure::new("plain").data::<u8>().is_none());
    }
}
