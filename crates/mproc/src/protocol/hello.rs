//! The handshake's first frame, read by the parent: the [`Hello`] whose
//! first fields never change layout (so a version mismatch is reported as
//! one, and a worker that does not send its build still speaks), and text
//! found where that frame belongs (a program that is not an mproc worker,
//! such as a test binary without `enable_test_support!`), named for what
//! it is.

use super::{check_hello, decode_handshake_prefix, Hello};
use crate::error::{Error, ErrorKind, Result};

/// Decodes a worker's hello and checks it against this build: the magic,
/// the version, the pid, then the build if the worker sent one. Messages
/// start with a verb, to follow the worker's name.
pub fn decode_hello(bytes: &[u8]) -> Result<Hello> {
    let malformed = |e: Error| {
        Error::new(
            ErrorKind::Handshake,
            format!("sent a malformed handshake: {}", e.message()),
        )
    };
    let ((magic, version, pid), used) =
        decode_handshake_prefix::<([u8; 4], u32, u32)>(bytes).map_err(malformed)?;
    let mut hello = Hello {
        magic,
        version,
        pid,
        build: 0,
    };
    check_hello(&hello)?;
    if used < bytes.len() {
        hello.build = decode_handshake_prefix::<u64>(&bytes[used..])
            .map_err(malformed)?
            .0;
    }
    Ok(hello)
}

/// When the first bytes of a worker's stream are text rather than a frame
/// (a hello's length is a few bytes, so its first four bytes are never
/// all printable), what to say about them: a line that quotes the text and
/// says what is likely wrong. `None` for bytes that may be a frame.
pub fn text_instead_of_frames(first: &[u8]) -> Option<String> {
    let text = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~');
    if first.len() < 4 || !first[..4].iter().all(text) {
        return None;
    }
    let shown: String = String::from_utf8_lossy(&first[..first.len().min(80)])
        .chars()
        .flat_map(char::escape_default)
        .collect();
    let hint = if first.windows(8).any(|w| w == b"running ") {
        "this looks like a test binary's harness: a test that makes a pool or a Process \
         must call mproc::enable_test_support!(Job, ...) once in its test binary \
         (feature \"test-support\" of mproc)"
    } else {
        "text comes from a login or shell banner, or from a program whose main does not \
         call mproc::serve_if_worker(&registry) first"
    };
    Some(format!(
        "wrote text where frames belong (\"{shown}\"): {hint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{encode_handshake as encode, VERSION};

    #[test]
    fn a_hello_with_or_without_its_build() {
        let hello = Hello::new();
        let back = decode_hello(&encode(&hello).unwrap()).unwrap();
        assert_eq!((back.pid, back.build), (hello.pid, hello.build));
        let old = encode(&(*b"MPRC", VERSION, 7u32)).unwrap();
        assert_eq!(decode_hello(&old).unwrap().build, 0);
        let other = encode(&(*b"MPRC", VERSION + 1, 7u32, 5u64)).unwrap();
        let e = decode_hello(&other).unwrap_err();
        assert!(e.is_handshake() && e.message().contains("speaks protocol version"));
        assert!(decode_hello(b"MP")
            .unwrap_err()
            .message()
            .starts_with("sent a malformed"));
    }

    #[test]
    fn text_where_frames_belong_is_named() {
        let said = text_instead_of_frames(b"\nrunning 1 test\n").unwrap();
        assert!(said.contains("(\"\\nrunning 1 test\\n\")"), "{said}");
        assert!(said.contains("enable_test_support!") && said.contains("test-support"));
        let said = text_instead_of_frames(b"Welcome to host\x1b[2J").unwrap();
        assert!(
            said.contains("serve_if_worker") && said.contains("\\u{1b}"),
            "{said}"
        );
        let frame = crate::protocol::encode_handshake(&Hello::new()).unwrap();
        let mut framed = (frame.len() as u32).to_le_bytes().to_vec();
        framed.extend_from_slice(&frame);
        assert_eq!(text_instead_of_frames(&framed), None);
        assert_eq!(text_instead_of_frames(b"ab"), None);
    }
}
