//! Lists of numbers sent as one byte string: each number in little-endian
//! order, at its full width. A [`Done`](super::Done) of a million tiny
//! items carries a million output ends; as a byte string they are copied,
//! not encoded and decoded one number at a time through serde.
//!
//! A byte string whose length is not a multiple of the width is refused
//! (the frame does not decode, and its worker is treated as broken).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

/// A number with a fixed little-endian width.
///
/// # Safety
///
/// Implemented only for unsigned integers: no padding, every byte of a
/// value initialised, so a list of them may be read as its bytes.
pub(crate) unsafe trait Packed: Copy {
    const WIDTH: usize;
    fn put(self, out: &mut Vec<u8>);
    fn take(bytes: &[u8]) -> Self;
}

/// [`Packed`] for the unsigned integers, each at its own width.
macro_rules! packed {
    ($($t:ty),*) => {$(
        // SAFETY: an unsigned integer has no padding bytes.
        unsafe impl Packed for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            #[inline]
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn take(bytes: &[u8]) -> $t {
                let mut b = [0; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
        }
    )*};
}

packed!(u32, u64);

/// `#[serde(with = "packed")]` on a `Vec<u32>` or `Vec<u64>`.
pub(crate) fn serialize<T: Packed, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
    if cfg!(target_endian = "little") {
        // The list's memory is its little-endian bytes already: written
        // as it is, without a copy (a worker sends a Done per item at
        // `--chunksize 1`).
        // SAFETY: `Packed` types have no padding; the slice covers
        // exactly the values' initialised bytes and lives as long as
        // `values`.
        let bytes = unsafe {
            std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
        };
        return s.serialize_bytes(bytes);
    }
    let mut bytes = Vec::with_capacity(values.len() * T::WIDTH);
    for v in values {
        v.put(&mut bytes);
    }
    s.serialize_bytes(&bytes)
}

/// See [`serialize`].
pub(crate) fn deserialize<'de, T: Packed, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    d.deserialize_bytes(Unpack(PhantomData))
}

struct Unpack<T>(PhantomData<T>);

impl<T: Packed> Unpack<T> {
    fn unpack<E: Error>(bytes: &[u8]) -> Result<Vec<T>, E> {
        if bytes.len() % T::WIDTH != 0 {
            return Err(E::custom(format!(
                "a packed list of {}-byte numbers is {} bytes long",
                T::WIDTH,
                bytes.len()
            )));
        }
        Ok(bytes.chunks_exact(T::WIDTH).map(T::take).collect())
    }
}

impl<'de, T: Packed> Visitor<'de> for Unpack<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a byte string of {}-byte numbers", T::WIDTH)
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<T>, E> {
        Self::unpack(bytes)
    }

    fn visit_borrowed_bytes<E: Error>(self, bytes: &'de [u8]) -> Result<Vec<T>, E> {
        Self::unpack(bytes)
    }

    fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<T>, E> {
        Self::unpack(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, encode, Done};

    #[test]
    fn ends_and_times_travel_whole() {
        let done = Done {
            count: 3,
            times: vec![0, 1, u64::MAX],
            ends: crate::protocol::Ends::Many(vec![1, 300, u32::MAX]),
            ..Done::default()
        };
        let back: Done = decode(&encode(&done).unwrap()).unwrap();
        assert_eq!(back.times, done.times);
        assert_eq!(back.ends, done.ends);
        // Ends of one width travel as the width and the count.
        let even = Done {
            count: 1_000_000,
            ends: crate::protocol::Ends::Even {
                width: 8,
                count: 1_000_000,
            },
            ..Done::default()
        };
        let bytes = encode(&even).unwrap();
        assert!(bytes.len() < 100, "{} bytes", bytes.len());
        let back: Done = decode(&bytes).unwrap();
        assert_eq!(back.ends, even.ends);
    }

    #[test]
    fn a_byte_string_of_the_wrong_length_is_refused() {
        // A Done whose `times` says 3 bytes: not a whole number of u64s.
        let mut bytes = encode(&Done::default()).unwrap();
        // chunk (8 bytes), from and count (4 each), started (8); then
        // `times`, its length in 8 bytes.
        assert_eq!(bytes[24..32], [0; 8], "times is empty");
        let three = [3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3];
        bytes.splice(24..32, three);
        let err = decode::<Done>(&bytes).unwrap_err().to_string();
        assert!(err.contains("3 bytes long"), "{err}");
    }
}
