//! Writing above the bar: log lines (the log sink's writer, gathered and
//! written in blocks) and standard output ([`to_stdout`]) reach the
//! terminal as whole lines above a bar that is drawn, which is lifted for
//! the write and drawn again below them.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::ProgressBar;
use tracing_subscriber::fmt::MakeWriter;

use super::ACTIVE;

/// What was written to a terminal's stdout after its last newline while a
/// bar was drawn: written when more comes, or when the bar goes.
pub(super) static TAIL: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Writes to stdout with `write`. While a bar is drawn on the terminal
/// that stdout also shows, the bar is lifted for the write and the text
/// appears as whole lines above it: a last line without its newline waits
/// for the rest (or for the bar to go), so the bar never overwrites it.
pub(crate) fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let bar = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(bar) = bar.filter(|_| io::stdout().is_terminal()) else {
        let mut out = io::stdout().lock();
        return write(&mut out).and_then(|()| out.flush());
    };
    flush_logs();
    bar.suspend(|| {
        let mut tail = TAIL.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines = WholeLines {
            out: io::stdout().lock(),
            tail: &mut tail,
        };
        write(&mut lines).and_then(|()| lines.out.flush())
    })
}

/// The longest line end held back.
const TAIL_MAX: usize = 64 << 10;

/// A writer that passes on whole lines and keeps the rest in `tail`.
struct WholeLines<'a, W: Write> {
    out: W,
    tail: &'a mut Vec<u8>,
}

impl<W: Write> Write for WholeLines<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match buf.iter().rposition(|&b| b == b'\n') {
            Some(end) => {
                if !self.tail.is_empty() {
                    self.out.write_all(self.tail)?;
                    self.tail.clear();
                }
                self.out.write_all(&buf[..=end])?;
                self.tail.extend_from_slice(&buf[end + 1..]);
            }
            None => self.tail.extend_from_slice(buf),
        }
        // A command that never ends its line is shown all the same.
        if self.tail.len() > TAIL_MAX {
            self.out.write_all(self.tail)?;
            self.tail.clear();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes `line` and a newline above `bar`, after any log lines waiting.
pub(super) fn above(bar: &ProgressBar, line: &str) {
    flush_logs();
    bar.suspend(|| {
        let _ = io::stderr()
            .lock()
            .write_all(format!("{line}\n").as_bytes());
    });
}

/// The log sink's writer: standard error, above the bar when one is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogWriter;

/// One log line being written.
pub(crate) struct LineWriter(Vec<u8>);

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
        let bar = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) => {
                flush_logs();
                bar.suspend(|| {
                    let _ = io::stderr().lock().write_all(&self.0);
                });
            }
            None => LINES.queue(&self.0),
        }
    }
}

/// How long a log line may wait before it is written.
const LINE_DELAY: Duration = Duration::from_millis(10);

/// Log lines gathered to be written together: a pool whose workers log
/// every item makes one write per many lines, not one per line. Lines keep
/// their order, wait at most [`LINE_DELAY`], and are written at once when
/// a progress bar is drawn or [`flush_logs`] is called.
struct Lines {
    pending: Mutex<(Vec<u8>, bool)>,
    wake: std::sync::Condvar,
    flusher: std::sync::Once,
}

static LINES: Lines = Lines {
    pending: Mutex::new((Vec::new(), false)),
    wake: std::sync::Condvar::new(),
    flusher: std::sync::Once::new(),
};

impl Lines {
    fn queue(&'static self, line: &[u8]) {
        self.flusher.call_once(|| {
            let started = std::thread::Builder::new()
                .name("mproc-log".into())
                .stack_size(64 << 10)
                .spawn(move || self.flush_loop());
            drop(started);
        });
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.0.extend_from_slice(line);
        if p.0.len() >= 64 << 10 {
            write_out(&mut p.0);
        } else if !p.1 {
            p.1 = true;
            self.wake.notify_one();
        }
    }

    fn flush_loop(&self) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if p.1 {
                p = self
                    .wake
                    .wait_timeout(p, LINE_DELAY)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                write_out(&mut p.0);
                p.1 = false;
            } else {
                p = self.wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

fn write_out(buf: &mut Vec<u8>) {
    if !buf.is_empty() {
        let _ = io::stderr().lock().write_all(buf);
        buf.clear();
    }
}

/// Writes every gathered log line now (before exiting, or drawing).
pub(crate) fn flush_logs() {
    let mut p = LINES.pending.lock().unwrap_or_else(|e| e.into_inner());
    write_out(&mut p.0);
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::with_capacity(128))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_pass_and_a_line_without_its_newline_waits() {
        let (mut out, mut tail) = (Vec::new(), Vec::new());
        let mut lines = WholeLines {
            out: &mut out,
            tail: &mut tail,
        };
        lines.write_all(b"one\ntw").unwrap();
        lines.write_all(b"o").unwrap();
        lines.write_all(b"\nthree").unwrap();
        assert_eq!(out, b"one\ntwo\n");
        assert_eq!(tail, b"three");
        let (mut out, mut tail) = (Vec::new(), Vec::new());
        let mut lines = WholeLines {
            out: &mut out,
            tail: &mut tail,
        };
        lines.write_all(&vec![b'.'; TAIL_MAX + 1]).unwrap();
        assert_eq!((out.len(), tail.len()), (TAIL_MAX + 1, 0));
    }
}
