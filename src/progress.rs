//! Where human-facing stderr output goes while a run is in progress.
//!
//! Log lines go through [`LogWriter`]; it writes to stderr.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// The log sink's writer: standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

/// One log line being written.
pub struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let _ = io::stderr().lock().write_all(&self.0);
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::with_capacity(128))
    }
}
