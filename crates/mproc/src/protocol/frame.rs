//! The frame transport: a `u32` little-endian length, then that many bytes.
//!
//! [`FrameReader::read`] returns `Ok(None)` on a clean end of stream (no byte
//! of a new frame) and an error on a truncated one. A length above the
//! reader's maximum is an error before any allocation.

use std::io::{ErrorKind as IoKind, Read};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads frames from a byte stream.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
}

/// The most buffer a reader keeps between frames.
const KEPT: usize = 1 << 20;

impl<R: Read> FrameReader<R> {
    /// Wraps `inner`; frames longer than `max` bytes are refused.
    pub fn new(inner: R, max: usize) -> Self {
        FrameReader {
            inner,
            max,
            buf: Vec::new(),
        }
    }

    /// Reads the next frame's payload; `Ok(None)` at a clean end of stream.
    pub fn read_raw(&mut self) -> Result<Option<&[u8]>> {
        let mut len = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.inner.read(&mut len[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => {
                    return Err(Error::protocol(format!(
                        "truncated frame: stream ended after {got} of 4 length bytes"
                    )))
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(Error::io("cannot read frame", e)),
            }
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > self.max {
            return Err(Error::protocol(format!(
                "frame of {len} bytes is over the {} byte limit",
                self.max
            )));
        }
        // The buffer grows with the data actually received (64 KiB at a
        // time), never to the claimed length at once, and is kept: bytes
        // are zeroed once, when it grows, not for every frame. (Past a
        // large frame it goes back to [`KEPT`].)
        if self.buf.len() > KEPT && len <= KEPT {
            self.buf.truncate(KEPT);
            self.buf.shrink_to_fit();
        }
        let mut got = 0;
        while got < len {
            let want = (len - got).min(64 << 10);
            if self.buf.len() < got + want {
                self.buf.resize(got + want, 0);
            }
            let end = len.min(self.buf.len());
            let n = loop {
                match self.inner.read(&mut self.buf[got..end]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == IoKind::Interrupted => {}
                    Err(e) => return Err(Error::io("cannot read frame", e)),
                }
            };
            if n == 0 {
                return Err(Error::protocol(format!(
                    "truncated frame: stream ended after {got} of {len} bytes"
                )));
            }
            got += n;
        }
        Ok(Some(&self.buf[..len]))
    }

    /// Reads and decodes the next frame; `Ok(None)` at a clean end of stream.
    pub fn read<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        match self.read_raw()? {
            None => Ok(None),
            Some(bytes) => super::decode(bytes)
                .map(Some)
                .map_err(|e| Error::protocol(format!("malformed frame: {}", e.message()))),
        }
    }

    /// The wrapped stream.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}
