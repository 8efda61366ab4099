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
        self.buf.clear();
        // Grows with the data actually received, never to the claimed
        // length at once; read straight into the buffer's spare room (not
        // zeroed first: `read_to_end` tracks what was written).
        // (`read_to_end` retries an interrupted read itself.)
        let got = (&mut self.inner)
            .take(len as u64)
            .read_to_end(&mut self.buf)
            .map_err(|e| Error::io("cannot read frame", e))?;
        if got < len {
            return Err(Error::protocol(format!(
                "truncated frame: stream ended after {got} of {len} bytes"
            )));
        }
        Ok(Some(&self.buf))
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
