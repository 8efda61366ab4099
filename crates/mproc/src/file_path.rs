//! [`FilePath`]: a path that crosses process boundaries whole.
//!
//! serde writes a `PathBuf` as a string and refuses one that is not UTF-8,
//! which a Linux file name need not be. A `FilePath` is written as its raw
//! bytes by binary formats (the worker protocol), so any file name reaches
//! the worker intact, and as a string by human-readable ones (JSON output),
//! lossy only where the name is not UTF-8.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A path as a job input; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilePath(pub PathBuf);

impl From<PathBuf> for FilePath {
    fn from(path: PathBuf) -> Self {
        FilePath(path)
    }
}

impl AsRef<Path> for FilePath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Serialize for FilePath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.0.to_string_lossy())
        } else {
            s.serialize_bytes(self.0.as_os_str().as_bytes())
        }
    }
}

impl<'de> Deserialize<'de> for FilePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d).map(|s| FilePath(s.into()))
        } else {
            let bytes = serde_bytes::ByteBuf::deserialize(d)?.into_vec();
            Ok(FilePath(OsString::from_vec(bytes).into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_file_name_survives_the_protocol() {
        let path = FilePath(OsString::from_vec(b"/tmp/\xFF\xFEname.txt".to_vec()).into());
        let bytes = crate::protocol::encode(&path).unwrap();
        assert_eq!(crate::protocol::decode::<FilePath>(&bytes).unwrap(), path);
        let json = serde_json::to_value(&path).unwrap();
        assert_eq!(json, "/tmp/\u{FFFD}\u{FFFD}name.txt");
        let plain = FilePath("/tmp/a b.txt".into());
        let back: FilePath = serde_json::from_value(serde_json::to_value(&plain).unwrap()).unwrap();
        assert_eq!(back, plain);
    }
}
