//! What a person sees on stderr while a run is in progress: an optional
//! progress bar, with log lines printed above it without tearing it.
//!
//! The bar shows done/total, the rate, the ETA and how many items were not
//! ok. It is drawn only when stderr is a terminal (never into a pipe or a
//! file, never in CI, never beside `--json`) unless forced.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;

/// Whether to draw the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressChoice {
    /// When stderr is a terminal, not in CI, and output is not JSON.
    #[default]
    Auto,
    /// Always (`--progress`).
    Always,
    /// Never (`--no-progress`).
    Never,
}

static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A live progress bar; dropping it clears the bar.
pub struct Progress {
    bar: ProgressBar,
    not_ok: u64,
}

impl Progress {
    /// Starts a bar for `total` items if `choice` (and, for `Auto`, the
    /// terminal and `json`) allows one.
    pub fn start(total: u64, choice: ProgressChoice, json: bool) -> Option<Progress> {
        let show = match choice {
            ProgressChoice::Always => true,
            ProgressChoice::Never => false,
            ProgressChoice::Auto => {
                io::stderr().is_terminal() && std::env::var_os("CI").is_none() && !json
            }
        };
        if !show {
            return None;
        }
        let target = match choice {
            // Forced: draw even into a pipe or a file.
            ProgressChoice::Always => {
                ProgressDrawTarget::term_like_with_hz(Box::new(RawStderr), 10)
            }
            _ => ProgressDrawTarget::stderr_with_hz(10),
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        let style = ProgressStyle::with_template(
            "{bar:40.green/white} {pos}/{len} items  {rate}  ETA {eta}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", state.per_sec());
            },
        );
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        Some(Progress { bar, not_ok: 0 })
    }

    /// Counts one finished item.
    pub fn item(&mut self, ok: bool) {
        if !ok {
            self.not_ok += 1;
            self.bar.set_message(format!("{} not ok", self.not_ok));
        }
        self.bar.inc(1);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.bar.finish_and_clear();
    }
}

/// Standard error as a terminal, whether or not it is one: the forced
/// bar's target (indicatif's own targets stay silent off a terminal).
#[derive(Debug)]
struct RawStderr;

impl RawStderr {
    fn put(&self, s: &str) -> io::Result<()> {
        io::stderr().lock().write_all(s.as_bytes())
    }
}

impl indicatif::TermLike for RawStderr {
    fn width(&self) -> u16 {
        100
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.put(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// The log sink's writer: standard error, above the bar when one is drawn.
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
pub fn flush_logs() {
    let mut p = LINES.pending.lock().unwrap_or_else(|e| e.into_inner());
    write_out(&mut p.0);
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::with_capacity(128))
    }
}
