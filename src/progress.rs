//! What a person sees on stderr while a run is in progress: an optional
//! progress bar, with log lines and each failed item's line printed above
//! it without tearing it.
//!
//! The bar is one line that fits the terminal: the width is read again at
//! every redraw (at least five times a second), and in a narrow terminal
//! the least useful parts are dropped instead of wrapping (`layout`).
//! After each redraw the cursor is parked at the start of the bar, and each
//! redraw begins by erasing from there to the end of the screen: when a
//! terminal that re-wraps its lines is made narrower, the old bar's pieces
//! are all below the cursor and are erased, so no stale line is left.
//!
//! It is drawn only when stderr is a terminal (never into a pipe or a file,
//! never in CI or with `TERM=dumb`, never beside `--json`) unless forced;
//! forced onto something that is not a terminal it assumes `COLUMNS`
//! columns (else 80) and draws without colour.
//!
//! Standard output goes through [`to_stdout`]: while a bar is drawn on the
//! terminal stdout shows, the bar is lifted and the text is written above
//! it as whole lines (`above.rs`, with the log sink's writer). `line.rs`
//! lays the bar's line out.
//!
//! This module draws; it neither decides outcomes nor keeps results.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::Value;

use mproc::{ItemResult, OutcomeKind};

mod above;
mod line;

use above::{above, TAIL};
pub(crate) use above::{flush_logs, to_stdout, LogWriter};
use line::{layout, Snapshot};

/// Whether to draw the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ProgressChoice {
    /// When stderr is a terminal, not in CI, and output is not JSON.
    #[default]
    Auto,
    /// Always (`--progress`).
    Always,
    /// Never (`--no-progress`).
    Never,
}

static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How many failed items are named above the bar as they happen; the bar
/// counts the rest (the end-of-run list stops at as many).
const SHOWN: u64 = 50;

/// A live progress bar; dropping it clears the bar.
pub(crate) struct Progress {
    bar: ProgressBar,
    not_ok: Arc<AtomicU64>,
    /// The items whose failure was named above the bar, which the
    /// end-of-run list leaves out (a failure is named once).
    named: Vec<usize>,
    /// Failures not named above the bar, past [`SHOWN`].
    unnamed: u64,
}

impl Progress {
    /// Starts a bar for `total` items if `choice` (and, for `Auto`, the
    /// terminal and `json`) allows one.
    pub(crate) fn start(
        total: Option<u64>,
        choice: ProgressChoice,
        json: bool,
    ) -> Option<Progress> {
        let terminal = io::stderr().is_terminal();
        let dumb = std::env::var("TERM").map_or(true, |t| t.is_empty() || t == "dumb");
        let show = match choice {
            ProgressChoice::Always => true,
            ProgressChoice::Never => false,
            ProgressChoice::Auto => terminal && !dumb && std::env::var_os("CI").is_none() && !json,
        };
        if !show {
            return None;
        }
        let colour = terminal && !dumb && std::env::var_os("NO_COLOR").is_none();
        let screen = Screen::default();
        let width = Arc::clone(&screen.width);
        let not_ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::clone(&not_ok);
        let style = ProgressStyle::with_template("{line}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "line",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let now = Snapshot::of(state, failed.load(Ordering::Relaxed));
                    let _ = w.write_str(
                        &layout(usize::from(width.load(Ordering::Relaxed)), &now).render(colour),
                    );
                },
            );
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(screen), 10);
        let bar = ProgressBar::with_draw_target(total, target);
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        Some(Progress {
            bar,
            not_ok,
            named: Vec::new(),
            unnamed: 0,
        })
    }

    /// Counts one finished item; an item that was not ok is named above
    /// the bar by the line the end-of-run failure list gives it (`input`
    /// is its input as the report shows it, asked for only then).
    pub(crate) fn item<T>(&mut self, r: &ItemResult<T>, input: impl FnOnce() -> Value) {
        if !r.outcome.is_ok() {
            self.not_ok.fetch_add(1, Ordering::Relaxed);
            // Items not run are summed up as ranges at the end, as there.
            let named = r.outcome.kind() != OutcomeKind::NotRun
                && tracing::enabled!(target: "mproc_cli::report", tracing::Level::ERROR);
            if named && (self.named.len() as u64) < SHOWN {
                let error = r.outcome.error().unwrap_or_default();
                self.named.push(r.index);
                above(&self.bar, &failure_line(r.index, &input(), &error));
            } else if named {
                if self.unnamed == 0 {
                    above(
                        &self.bar,
                        &error_line("more items not ok: named at the end"),
                    );
                }
                self.unnamed += 1;
            }
        }
        self.bar.inc(1);
    }
}

impl Progress {
    /// Clears the bar and gives the items whose failure was named above
    /// it, sorted (the end-of-run list leaves them out).
    pub(crate) fn finish(mut self) -> Vec<usize> {
        let mut named = std::mem::take(&mut self.named);
        named.sort_unstable();
        named
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.bar.finish_and_clear();
        // The end of a line the commands wrote without its newline, held
        // back while the bar was drawn below it.
        let tail = std::mem::take(&mut *TAIL.lock().unwrap_or_else(|e| e.into_inner()));
        if !tail.is_empty() {
            let mut out = io::stdout().lock();
            let _ = out.write_all(&tail).and_then(|()| out.flush());
        }
    }
}

/// The end-of-run failure list's line for an item (as
/// `report::log_failures` logs it and the log sink's text form writes it):
/// `ERROR [parent] item 3 (input): error`, escaped.
fn failure_line(index: usize, input: &Value, error: &str) -> String {
    error_line(&crate::report::failure_message(index, input, error))
}

/// `message` as the log sink's text form writes an error of the parent.
fn error_line(message: &str) -> String {
    format!("ERROR [parent] {}", crate::report::escaped(message))
}

/// Standard error as the bar's terminal, whether or not it is one. Each
/// redraw is gathered and written at once, ends with the cursor at the
/// start of the bar, and erases from there to the end of the screen before
/// drawing (see the module's notes on resizing).
#[derive(Debug, Default)]
struct Screen {
    pending: Mutex<Vec<u8>>,
    /// The width read at the last redraw, which the line's layout uses.
    width: Arc<AtomicU16>,
}

/// Standard error's window size as (columns, rows), if it is a terminal
/// that knows its size.
fn window() -> Option<(u16, u16)> {
    let mut size = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct it is given,
    // which lives for the call; on a descriptor that is not a terminal it
    // fails with ENOTTY and writes nothing.
    let got = unsafe { nix::libc::ioctl(2, nix::libc::TIOCGWINSZ, &mut size) };
    (got == 0 && size.ws_col > 0 && size.ws_row > 0).then_some((size.ws_col, size.ws_row))
}

/// The columns to draw in when stderr is not a terminal: `COLUMNS`, else 80.
fn assumed_columns() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c > 0)
        .unwrap_or(80)
}

impl Screen {
    fn put(&self, s: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(s.as_bytes());
    }
}

impl indicatif::TermLike for Screen {
    fn width(&self) -> u16 {
        let width = window().map_or_else(assumed_columns, |w| w.0);
        self.width.store(width, Ordering::Relaxed);
        width
    }

    fn height(&self) -> u16 {
        window().map_or(24, |w| w.1)
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"));
        }
        Ok(())
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"));
        }
        Ok(())
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"));
        }
        Ok(())
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"));
        }
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.put(s);
        self.put("\n");
        Ok(())
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.put(s);
        Ok(())
    }

    fn clear_line(&self) -> io::Result<()> {
        self.put("\r\x1b[J");
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.push(b'\r');
        let written = io::stderr().lock().write_all(&pending);
        pending.clear();
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_line_is_the_end_of_run_line_escaped() {
        let line = failure_line(3, &Value::from("a\x1b[2Jb\nc"), "boom\r");
        assert_eq!(line, "ERROR [parent] item 3 (a\\x1b[2Jb\\nc): boom\\r");
        let long = "x".repeat(100);
        let line = failure_line(0, &Value::from(long), "e");
        assert!(line.contains(&format!("({}...)", "x".repeat(77))), "{line}");
        assert_eq!(
            failure_line(1, &serde_json::json!([1, 2]), "e"),
            "ERROR [parent] item 1 ([1,2]): e"
        );
    }
}
