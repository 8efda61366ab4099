//! An input's exact text, for the job log: a string's bytes, a file path's
//! raw bytes (not UTF-8 perhaps), anything else as JSON.
//!
//! JSON would do for every input but a path that is not UTF-8, which it
//! turns into U+FFFD, so that two names become one. [`FilePath`] writes its
//! raw bytes to a serializer that is not human-readable; this is the
//! smallest such serializer: it accepts strings, bytes and newtypes around
//! them, and refuses the rest, which then go as JSON.
//!
//! [`FilePath`]: mproc::FilePath

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

/// The exact text of `input` as bytes: a string or a path as is, anything
/// else as compact JSON (`5`, `["a",1]`), as the job log's input column
/// has always held.
pub(crate) fn input_bytes<T: Serialize + ?Sized>(input: &T) -> Vec<u8> {
    // Through `Value`, as before: an object's keys in sorted order, so a job
    // log written by an earlier version still matches.
    input
        .serialize(Exact)
        .unwrap_or_else(|NotText| match serde_json::to_value(input) {
            Ok(value) => value.to_string().into_bytes(),
            Err(e) => format!("unprintable input: {e}").into_bytes(),
        })
}

/// The serializer: raw bytes of a string or byte string.
struct Exact;

/// Anything that is not a string, bytes or a newtype around them.
#[derive(Debug)]
struct NotText;

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not text")
    }
}

impl std::error::Error for NotText {}

impl ser::Error for NotText {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotText
    }
}

type No = Impossible<Vec<u8>, NotText>;

macro_rules! refuse {
    ($($name:ident($($ty:ty),*);)*) => {
        $(fn $name(self, $(_: $ty),*) -> Result<Vec<u8>, NotText> { Err(NotText) })*
    };
}

impl ser::Serializer for Exact {
    type Ok = Vec<u8>;
    type Error = NotText;
    type SerializeSeq = No;
    type SerializeTuple = No;
    type SerializeTupleStruct = No;
    type SerializeTupleVariant = No;
    type SerializeMap = No;
    type SerializeStruct = No;
    type SerializeStructVariant = No;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_str(self, v: &str) -> Result<Vec<u8>, NotText> {
        Ok(v.as_bytes().to_vec())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Vec<u8>, NotText> {
        Ok(v.to_vec())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Vec<u8>, NotText> {
        value.serialize(self)
    }

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Vec<u8>, NotText> {
        Err(NotText)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<u8>, NotText> {
        Err(NotText)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<No, NotText> {
        Err(NotText)
    }

    fn serialize_tuple(self, _: usize) -> Result<No, NotText> {
        Err(NotText)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<No, NotText> {
        Err(NotText)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<No, NotText> {
        Err(NotText)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<No, NotText> {
        Err(NotText)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<No, NotText> {
        Err(NotText)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<No, NotText> {
        Err(NotText)
    }
}

#[cfg(test)]
mod tests {
    use super::input_bytes;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn strings_and_paths_exactly_the_rest_as_json() {
        assert_eq!(input_bytes("a b"), b"a b");
        assert_eq!(input_bytes(&5u64), b"5");
        assert_eq!(input_bytes(&("a", 1)), br#"["a",1]"#);
        #[derive(serde::Serialize)]
        struct Part {
            seed: u64,
            count: u64,
        }
        let part = Part { seed: 1, count: 2 };
        assert_eq!(input_bytes(&part), br#"{"count":2,"seed":1}"#);
        let path = mproc::FilePath(OsString::from_vec(b"x\xff.txt".to_vec()).into());
        assert_eq!(input_bytes(&path), b"x\xff.txt");
    }
}
