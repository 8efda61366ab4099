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
//! it as whole lines.
//!
//! This module draws; it neither decides outcomes nor keeps results.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use mproc::{ItemResult, OutcomeKind};

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

/// How many failed items are named above the bar as they happen; the bar
/// counts the rest (the end-of-run list stops at as many).
const SHOWN: u64 = 50;

/// A live progress bar; dropping it clears the bar.
pub struct Progress {
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
    pub fn start(total: Option<u64>, choice: ProgressChoice, json: bool) -> Option<Progress> {
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
    pub fn item<T>(&mut self, r: &ItemResult<T>, input: impl FnOnce() -> Value) {
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
    pub fn finish(mut self) -> Vec<usize> {
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

/// What was written to a terminal's stdout after its last newline while a
/// bar was drawn: written when more comes, or when the bar goes.
static TAIL: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Writes to stdout with `write`. While a bar is drawn on the terminal
/// that stdout also shows, the bar is lifted for the write and the text
/// appears as whole lines above it: a last line without its newline waits
/// for the rest (or for the bar to go), so the bar never overwrites it.
pub fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
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
fn above(bar: &ProgressBar, line: &str) {
    flush_logs();
    bar.suspend(|| {
        let _ = io::stderr()
            .lock()
            .write_all(format!("{line}\n").as_bytes());
    });
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

/// What one redraw shows: the counts and times of the run so far.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    done: u64,
    /// `None` while a stream of inputs is still being read.
    total: Option<u64>,
    not_ok: u64,
    elapsed: Duration,
    per_sec: f64,
    eta: Duration,
}

impl Snapshot {
    fn of(state: &ProgressState, not_ok: u64) -> Snapshot {
        let done = state.pos();
        Snapshot {
            done,
            total: state.len(),
            not_ok,
            elapsed: state.elapsed(),
            per_sec: state.per_sec(),
            eta: state.eta(),
        }
    }
}

/// The parts of the bar's line that a narrow terminal can do without, in
/// the order they are dropped. Elapsed time and percentage always stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The word "items" after the count.
    ItemsWord,
    /// Items per second.
    Rate,
    /// The estimated time left.
    Eta,
    /// The bar itself (the percentage says as much).
    Bar,
    /// `done/total`.
    Count,
    /// How many items were not ok.
    NotOk,
}

const DROP_ORDER: [Part; 6] = [
    Part::ItemsWord,
    Part::Rate,
    Part::Eta,
    Part::Bar,
    Part::Count,
    Part::NotOk,
];

/// The narrowest bar worth drawing, and the widest.
const MIN_BAR: usize = 10;
const MAX_BAR: usize = 60;

/// One laid-out line: `0:12 ████░░░░ 45% 450/1000 items 3 not ok 12.3/s ETA 0:20`.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    elapsed: String,
    /// Cells of the bar and how many are filled.
    bar: Option<(usize, usize)>,
    percent: String,
    count: Option<String>,
    not_ok: Option<String>,
    rate: Option<String>,
    eta: Option<String>,
    /// The terminal's width, which the line never passes.
    width: usize,
}

/// The line for a terminal `width` columns wide (0: unknown, taken as 80).
fn layout(width: usize, s: &Snapshot) -> Line {
    let width = if width == 0 { 80 } else { width };
    let Some(total) = s.total.map(|t| t.max(s.done)) else {
        return unknown_total(width, s);
    };
    let percent = (u128::from(s.done) * 100)
        .checked_div(u128::from(total))
        .unwrap_or(100);
    let mut line = Line {
        elapsed: clock(s.elapsed),
        bar: Some((MIN_BAR, 0)),
        percent: format!("{percent}%"),
        count: Some(format!("{}/{total} items", s.done)),
        not_ok: (s.not_ok > 0).then(|| format!("{} not ok", s.not_ok)),
        rate: Some(if s.per_sec.is_finite() && s.per_sec < 10.0 {
            format!("{:.1}/s", s.per_sec.max(0.0))
        } else if s.per_sec.is_finite() {
            format!("{:.0}/s", s.per_sec)
        } else {
            "-/s".into()
        }),
        eta: Some(
            if s.done < total && (s.done == 0 || s.per_sec.is_nan() || s.per_sec <= 0.0) {
                "ETA ?".into()
            } else {
                format!("ETA {}", clock(s.eta))
            },
        ),
        width,
    }
    .fit();
    let spare = width.saturating_sub(line.text_width());
    if let Some((cells, filled)) = line.bar.as_mut() {
        *cells = (MIN_BAR + spare).min(MAX_BAR);
        *filled = (u128::from(s.done) * *cells as u128)
            .checked_div(u128::from(total))
            .map_or(*cells, |f| f as usize);
    }
    line
}

/// The line while the count is not known (a stream of inputs): elapsed
/// time, items done, not ok and rate; no bar, percentage or ETA.
fn unknown_total(width: usize, s: &Snapshot) -> Line {
    Line {
        elapsed: clock(s.elapsed),
        bar: None,
        percent: String::new(),
        count: Some(format!("{} items", s.done)),
        not_ok: (s.not_ok > 0).then(|| format!("{} not ok", s.not_ok)),
        rate: s
            .per_sec
            .is_finite()
            .then(|| format!("{:.0}/s", s.per_sec.max(0.0))),
        eta: None,
        width,
    }
    .fit()
}

impl Line {
    /// The line with parts dropped, least useful first, until it fits its
    /// width.
    fn fit(mut self) -> Line {
        for part in DROP_ORDER {
            if self.text_width() <= self.width {
                break;
            }
            self.drop_part(part);
        }
        self
    }

    fn drop_part(&mut self, part: Part) {
        match part {
            Part::ItemsWord => {
                if let Some(count) = &mut self.count {
                    count.truncate(count.trim_end_matches(" items").len());
                }
            }
            Part::Rate => self.rate = None,
            Part::Eta => self.eta = None,
            Part::Bar => self.bar = None,
            Part::Count => self.count = None,
            Part::NotOk => self.not_ok = None,
        }
    }

    /// The texts in order, the bar as `None`.
    fn parts(&self) -> Vec<Option<&str>> {
        let mut parts = vec![Some(self.elapsed.as_str())];
        if self.bar.is_some() {
            parts.push(None);
        }
        if !self.percent.is_empty() {
            parts.push(Some(&self.percent));
        }
        for text in [&self.count, &self.not_ok, &self.rate, &self.eta]
            .into_iter()
            .flatten()
        {
            parts.push(Some(text));
        }
        parts
    }

    /// Columns taken, with the bar at its current size and one space
    /// between parts.
    fn text_width(&self) -> usize {
        let parts = self.parts();
        let texts: usize = parts
            .iter()
            .map(|p| p.map_or(self.bar.map_or(0, |b| b.0), |t| t.chars().count()))
            .sum();
        texts + parts.len() - 1
    }

    /// The line as written: the bar filled in green and the count of items
    /// not ok in red when `colour`, never wider than the terminal.
    fn render(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| match colour {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        };
        if self.text_width() > self.width {
            // Too narrow even for elapsed time and percentage: cut.
            let plain = format!("{} {}", self.elapsed, self.percent);
            return plain.chars().take(self.width).collect();
        }
        let mut out = Vec::new();
        for part in self.parts() {
            out.push(match part {
                Some(text) if Some(text) == self.not_ok.as_deref() => paint("31", text),
                Some(text) => text.to_string(),
                None => {
                    let (cells, filled) = self.bar.unwrap_or_default();
                    let done = "\u{2588}".repeat(filled);
                    let left = "\u{2591}".repeat(cells - filled.min(cells));
                    let paint = |code, text: String| match text.is_empty() {
                        true => text,
                        false => paint(code, &text),
                    };
                    paint("32", done) + &paint("2", left)
                }
            });
        }
        out.join(" ")
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_of_unknown_length_shows_counts_and_no_percentage() {
        let s = Snapshot {
            total: None,
            ..at(450, 0, 3)
        };
        let text = layout(80, &s).render(false);
        assert_eq!(text, "1:15 450 items 3 not ok 12/s");
        for width in 1..80 {
            assert!(
                layout(width, &s).render(false).chars().count() <= width.max(10),
                "{width}"
            );
        }
    }

    fn at(done: u64, total: u64, not_ok: u64) -> Snapshot {
        Snapshot {
            done,
            total: Some(total),
            not_ok,
            elapsed: Duration::from_secs(75),
            per_sec: 12.34,
            eta: Duration::from_secs(3725),
        }
    }

    fn shown(width: usize, s: &Snapshot) -> String {
        layout(width, s).render(false)
    }

    #[test]
    fn a_wide_terminal_shows_everything_and_the_bar_fills_the_rest() {
        let line = shown(100, &at(450, 1000, 3));
        assert_eq!(line.chars().count(), 100, "{line:?}");
        assert!(line.starts_with("1:15 \u{2588}"), "{line:?}");
        assert!(
            line.ends_with(" 45% 450/1000 items 3 not ok 12/s ETA 1:02:05"),
            "{line:?}"
        );
    }

    #[test]
    fn the_bar_stops_growing_at_its_widest() {
        let line = layout(300, &at(1, 2, 0));
        assert_eq!(line.bar, Some((MAX_BAR, MAX_BAR / 2)));
        assert!(line.render(false).chars().count() < 300);
    }

    #[test]
    fn no_width_passes_the_terminal_and_parts_go_least_useful_first() {
        let s = at(450, 1000, 3);
        let mut last = layout(200, &s);
        for width in (1..200).rev() {
            let line = layout(width, &s);
            let text = line.render(false);
            assert!(text.chars().count() <= width, "{width}: {text:?}");
            if width >= 10 {
                assert!(
                    text.contains("1:15") && text.contains("45%"),
                    "{width}: {text:?}"
                );
            }
            // A part once dropped stays dropped in narrower terminals.
            for (now, before) in [
                (line.rate.is_some(), last.rate.is_some()),
                (line.eta.is_some(), last.eta.is_some()),
                (line.bar.is_some(), last.bar.is_some()),
                (line.count.is_some(), last.count.is_some()),
                (line.not_ok.is_some(), last.not_ok.is_some()),
            ] {
                assert!(!now || before, "{width}: {text:?}");
            }
            last = line;
        }
    }

    #[test]
    fn what_each_width_keeps() {
        let s = at(450, 1000, 3);
        // 64 columns, the issue's terminal: everything, with a short bar.
        let line = layout(64, &s);
        assert!(line.rate.is_some() && line.eta.is_some(), "{line:?}");
        assert_eq!(line.count.as_deref(), Some("450/1000 items"));
        assert_eq!(line.bar.map(|b| b.0), Some(14));
        // 50: the word "items", then the rate go before the bar shrinks
        // below its narrowest.
        let line = layout(50, &s);
        assert_eq!(line.count.as_deref(), Some("450/1000"));
        assert!(line.rate.is_none() && line.eta.is_some() && line.bar.is_some());
        // 40: the ETA too.
        let line = layout(40, &s);
        assert!(line.eta.is_none() && line.bar.is_some(), "{line:?}");
        // 30: no room for a bar; counts stay.
        assert_eq!(shown(30, &s), "1:15 45% 450/1000 3 not ok");
        assert_eq!(shown(20, &s), "1:15 45% 3 not ok");
        assert_eq!(shown(12, &s), "1:15 45%");
        assert_eq!(shown(6, &s), "1:15 4");
    }

    #[test]
    fn the_start_and_the_end_of_a_run() {
        let mut s = at(0, 4, 0);
        s.per_sec = 0.0;
        assert!(shown(80, &s).ends_with(" 0% 0/4 items 0.0/s ETA ?"));
        assert!(!shown(80, &s).contains('\u{2588}'));
        let s = at(4, 4, 0);
        let line = shown(80, &s);
        assert!(line.contains(" 100% 4/4 items") && !line.contains('\u{2591}'));
        // No items at all is done.
        assert!(shown(80, &at(0, 0, 0)).contains(" 100% 0/0 items"));
    }

    #[test]
    fn colour_does_not_change_what_is_shown() {
        let line = layout(70, &at(3, 7, 1));
        let plain = line.render(false);
        let painted = line.render(true);
        assert_ne!(plain, painted);
        let mut stripped = String::new();
        let mut chars = painted.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                stripped.push(c);
            }
        }
        assert_eq!(stripped, plain);
    }

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

    #[test]
    fn clocks() {
        assert_eq!(clock(Duration::from_millis(999)), "0:00");
        assert_eq!(clock(Duration::from_secs(61)), "1:01");
        assert_eq!(clock(Duration::from_secs(3600 * 25 + 61)), "25:01:01");
    }

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
