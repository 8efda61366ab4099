//! [`Bytes`]: a byte string that keeps a few bytes in place.
//!
//! A Done's outputs are read on the parent's reading thread and freed on
//! the consumer's. At `--chunksize 1` each is one number's encoding (8
//! bytes for a u64): a vector per item, allocated on one thread and freed
//! on another, which glibc's per-thread caches do not cover. Up to
//! [`INLINE`] bytes are kept in the value itself; longer strings, and
//! whatever a worker builds, in a vector. On the wire it is a byte string
//! as `serde_bytes` writes one.

use std::fmt;
use std::ops::Deref;

use serde::de::{Error, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most bytes kept in place.
pub(crate) const INLINE: usize = 22;

/// A byte string: up to 22 bytes in place, more in a vector.
#[derive(Clone, PartialEq, Eq)]
pub enum Bytes {
    /// `len` bytes at the start of `data`.
    Inline { len: u8, data: [u8; INLINE] },
    /// Any length.
    Heap(Vec<u8>),
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::Heap(Vec::new())
    }
}

impl Bytes {
    /// A copy of `bytes`, in place when it is short.
    pub fn copy_of(bytes: &[u8]) -> Bytes {
        if bytes.len() <= INLINE {
            let mut data = [0; INLINE];
            data[..bytes.len()].copy_from_slice(bytes);
            Bytes::Inline {
                len: bytes.len() as u8,
                data,
            }
        } else {
            Bytes::Heap(bytes.to_vec())
        }
    }

    /// The bytes as a vector to append to (moved into one if in place).
    pub fn vec_mut(&mut self) -> &mut Vec<u8> {
        if let Bytes::Inline { .. } = self {
            *self = Bytes::Heap(self.to_vec());
        }
        match self {
            Bytes::Heap(v) => v,
            Bytes::Inline { .. } => unreachable!("moved into a vector above"),
        }
    }

    /// Bytes the value can hold without allocating.
    pub fn capacity(&self) -> usize {
        match self {
            Bytes::Inline { .. } => INLINE,
            Bytes::Heap(v) => v.capacity(),
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, data } => &data[..usize::from(*len)],
            Bytes::Heap(v) => v,
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes::Heap(v)
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        d.deserialize_bytes(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes::copy_of(bytes))
    }

    fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
        Ok(if bytes.len() <= INLINE {
            Bytes::copy_of(&bytes)
        } else {
            Bytes::Heap(bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Bytes, INLINE};
    use crate::protocol::{decode, encode};

    #[test]
    fn short_strings_stay_in_place_and_every_length_travels_whole() {
        for len in [0, 1, 8, INLINE - 1, INLINE, INLINE + 1, 1000] {
            let sent: Vec<u8> = (0..len).map(|i| i as u8).collect();
            // The same bytes on the wire as a plain byte string.
            let wire = encode(&Bytes::from(sent.clone())).unwrap();
            assert_eq!(
                wire,
                encode(&serde_bytes::ByteBuf::from(sent.clone())).unwrap()
            );
            let back: Bytes = decode(&wire).unwrap();
            assert_eq!(&*back, &sent[..], "{len} bytes");
            assert_eq!(
                matches!(back, Bytes::Inline { .. }),
                len <= INLINE,
                "{len} bytes"
            );
        }
    }

    #[test]
    fn appending_moves_short_bytes_into_a_vector() {
        let mut b = Bytes::copy_of(b"abc");
        b.vec_mut().extend_from_slice(b"def");
        assert_eq!(&*b, b"abcdef");
        assert!(matches!(b, Bytes::Heap(_)));
        assert_eq!(Bytes::default().len(), 0);
    }
}
