//! The progress bar as a person sees it: the real `mproc` drawing into a
//! pseudo-terminal of a set size, read back and checked line by line. The
//! run is held open by `chaos` items that hang until the test kills their
//! worker, so each check happens at a moment the test chose (no sleeps).

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use nix::libc;

use crate::support::{mproc, output, temp_dir, wait_bounded};

/// How long any one wait may take before the test fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// A pseudo-terminal: the test holds the master side and reads from it all
/// the child writes to the other side.
pub(crate) struct Pty {
    pub(crate) master: File,
    slave: Option<OwnedFd>,
}

fn winsize(cols: u16, rows: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    pub(crate) fn open(cols: u16, rows: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let size = winsize(cols, rows);
        // SAFETY: openpty writes two descriptors into the ints it is given
        // and reads the window size; the name and termios are left null.
        let got = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(got, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and belong to nobody else.
        unsafe {
            Pty {
                master: File::from_raw_fd(master),
                slave: Some(OwnedFd::from_raw_fd(slave)),
            }
        }
    }

    /// Makes the terminal `cols` wide, as a window being resized does.
    pub(crate) fn resize(&self, cols: u16, rows: u16) {
        let size = winsize(cols, rows);
        // SAFETY: TIOCSWINSZ reads one winsize, which lives for the call.
        let got = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(got, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    }

    /// Starts `mproc args` with its stderr on the terminal (stdout piped),
    /// and gives the test's copy of the terminal side away, so that reading
    /// ends when the child is gone.
    fn spawn(&mut self, args: &[&str], env: &[(&str, Option<&str>)]) -> (Running, Screen) {
        self.spawn_with(args, env, false)
    }

    /// As [`spawn`](Self::spawn), with stdout on the terminal too when
    /// `stdout` (as at a shell prompt), and stdin empty.
    pub(crate) fn spawn_with(
        &mut self,
        args: &[&str],
        env: &[(&str, Option<&str>)],
        stdout: bool,
    ) -> (Running, Screen) {
        let slave = self.slave.take().expect("one child per terminal");
        let out = match stdout {
            true => Stdio::from(slave.try_clone().expect("dup the terminal")),
            false => Stdio::piped(),
        };
        let mut cmd = mproc();
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::from(slave))
            .env("TERM", "xterm")
            .env_remove("CI")
            .env_remove("NO_COLOR")
            .env_remove("COLUMNS");
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let child = Running(cmd.spawn().expect("mproc runs"));
        drop(cmd);
        let mut master = self.master.try_clone().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the last holder of the other side has closed it.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        (
            child,
            Screen {
                rx,
                raw: Vec::new(),
            },
        )
    }
}

/// The child, killed if the test fails before it ends.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What the terminal has received so far.
pub(crate) struct Screen {
    rx: Receiver<Vec<u8>>,
    pub(crate) raw: Vec<u8>,
}

impl Screen {
    /// Reads until `seen` holds for the text so far (ANSI stripped).
    #[track_caller]
    pub(crate) fn wait_for(&mut self, what: &str, seen: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !seen(&strip(&self.text())) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(bytes) => self.raw.extend_from_slice(&bytes),
                Err(_) => panic!("never saw {what}; the terminal got:\n{}", self.text()),
            }
        }
    }

    /// Takes what has arrived so far, without waiting.
    pub(crate) fn take_ready(&mut self) {
        while let Ok(bytes) = self.rx.try_recv() {
            self.raw.extend_from_slice(&bytes);
        }
    }

    /// Reads to the end (the child has ended).
    pub(crate) fn drain(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        while let Ok(bytes) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.raw.extend_from_slice(&bytes);
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// `text` without ANSI escape sequences (CSI: ESC [ ... final byte).
fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                chars.by_ref().find(|c| ('@'..='~').contains(c));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What was written between carriage returns and newlines: each piece is
/// what one line of the terminal showed (ANSI stripped), in order.
fn pieces(text: &str) -> Vec<String> {
    strip(text)
        .split(['\r', '\n'])
        .filter(|p| !p.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// A log line (a failure named above the bar, the summary), which the
/// terminal wraps like any text, as opposed to a drawing of the bar.
fn is_log(piece: &str) -> bool {
    let p = piece.trim_start();
    ["ERROR [", "WARN [", "INFO [", "DEBUG [", "TRACE ["]
        .iter()
        .any(|l| p.starts_with(l))
}

/// The bar's drawings among `pieces`.
pub(crate) fn bars(text: &str) -> Vec<String> {
    pieces(text).into_iter().filter(|p| !is_log(p)).collect()
}

/// True for a drawing that shows `done/total`, an elapsed time (`m:ss`)
/// first and a percentage.
pub(crate) fn shows(bar: &str, count: &str) -> bool {
    let words: Vec<&str> = bar.split_whitespace().collect();
    let clock = words.first().is_some_and(|w| {
        let (m, s) = w.split_once(':').unwrap_or(("", ""));
        !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) && s.len() == 2
    });
    let percent = words.iter().any(|w| {
        w.strip_suffix('%')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    clock && percent && words.contains(&count)
}

#[track_caller]
fn assert_fits(bars: &[String], cols: usize) {
    for bar in bars {
        let wide = bar.chars().count();
        assert!(
            wide <= cols,
            "a drawing {wide} wide in {cols} columns: {bar:?}"
        );
    }
}

/// Waits for `file` (a `hang` item's pid) and kills that worker: its item
/// ends as crashed, at the moment the test chose.
#[track_caller]
pub(crate) fn kill_hung(file: &Path) {
    let deadline = Instant::now() + PATIENCE;
    let pid = loop {
        if let Ok(pid) = std::fs::read_to_string(file) {
            break pid.trim().parse::<i32>().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn the_bar_fits_a_64_column_terminal_and_names_each_failure_as_it_happens() {
    let dir = temp_dir("progress-fits");
    let hang = dir.join("hang");
    let hang_item = format!("hang:{}", hang.display());
    let mut pty = Pty::open(64, 24);
    let (mut child, mut screen) = pty.spawn(
        &[
            "pool",
            "-n",
            "2",
            "--progress",
            "chaos",
            "fail:boom",
            &hang_item,
        ],
        &[],
    );
    // The run cannot end while the hang item runs: what is seen now was
    // drawn during the run.
    let live = "ERROR [parent] item 0 (fail:boom): boom";
    screen.wait_for("the failure's line", |t| t.contains(live));
    screen.wait_for("the bar counting it", |t| {
        bars(t)
            .iter()
            .any(|b| shows(b, "1/2") && b.contains("1 not ok"))
    });
    kill_hung(&hang);
    let out = wait_bounded(&mut child.0, 60);
    assert_eq!(out.status.code(), Some(1));
    screen.drain();
    let text = screen.text();
    let all = pieces(&text);
    assert_fits(&bars(&text), 64);
    assert!(bars(&text).iter().any(|b| shows(b, "0/2")), "{all:#?}");
    // Each failure's line is printed once, as it happens (the list at the
    // end leaves it out), before the summary.
    let summary = all
        .iter()
        .position(|p| p.contains("WARN [parent] 2 items"))
        .unwrap_or_else(|| panic!("no summary: {all:#?}"));
    let crash = format!("ERROR [parent] item 1 ({hang_item}): worker crashed");
    for line in [live, crash.as_str()] {
        let at: Vec<usize> = (0..all.len())
            .filter(|&i| all[i].starts_with(line))
            .collect();
        assert_eq!(at.len(), 1, "{line}: {all:#?}");
        assert!(at[0] < summary, "{all:#?}");
    }
    // The live line comes while the bar is drawn: a drawing follows it.
    let first = all.iter().position(|p| p.starts_with(live)).unwrap();
    assert!(!is_log(&all[first + 1]), "{all:#?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("boom"), "{stdout}");
}

#[test]
fn the_bar_follows_the_terminal_when_it_is_resized() {
    let dir = temp_dir("progress-resize");
    let files: Vec<_> = ["a", "b", "c"].iter().map(|f| dir.join(f)).collect();
    let items: Vec<String> = files
        .iter()
        .map(|f| format!("hang:{}", f.display()))
        .collect();
    let mut args = vec!["pool", "-n", "3", "--progress", "chaos"];
    args.extend(items.iter().map(String::as_str));
    let mut pty = Pty::open(64, 24);
    let (mut child, mut screen) = pty.spawn(&args, &[]);
    screen.wait_for("the first drawing", |t| {
        bars(t).iter().any(|b| shows(b, "0/3"))
    });
    // Narrower: the item ends after the resize, so the drawing that counts
    // it was laid out after it.
    pty.resize(40, 24);
    let before = screen.raw.len();
    kill_hung(&files[0]);
    screen.wait_for("a drawing counting one", |t| {
        bars(t).iter().any(|b| shows(b, "1/3"))
    });
    let after = String::from_utf8_lossy(&screen.raw[before..]).into_owned();
    let narrow: Vec<String> = bars(&after)
        .into_iter()
        .skip_while(|b| !shows(b, "1/3"))
        .collect();
    assert_fits(&narrow, 40);
    // Each drawing first erases from the bar's start to the end of the
    // screen, where a terminal that re-wraps lines put the old bar's
    // pieces; then it parks the cursor at the bar's start again.
    let raw = strip_colour(&after);
    let at = raw.find("1/3").unwrap();
    let start = raw[..at]
        .rfind("\r\x1b[J")
        .expect("an erase before the drawing");
    assert!(!raw[start + 4..at].contains(['\r', '\n']), "{raw:?}");
    assert!(raw[at..].contains('\r'));
    // Wider: the bar grows into the room.
    pty.resize(120, 24);
    let before = screen.raw.len();
    kill_hung(&files[1]);
    screen.wait_for("a drawing counting two", |t| {
        bars(t).iter().any(|b| shows(b, "2/3"))
    });
    let after = String::from_utf8_lossy(&screen.raw[before..]).into_owned();
    let wide: Vec<String> = bars(&after)
        .into_iter()
        .skip_while(|b| !shows(b, "2/3"))
        .collect();
    assert_fits(&wide, 120);
    assert!(
        wide.iter().any(|b| b.trim_end().chars().count() > 64),
        "{wide:#?}"
    );
    kill_hung(&files[2]);
    let out = wait_bounded(&mut child.0, 60);
    assert_eq!(out.status.code(), Some(1));
}

/// `text` without colour sequences (ESC [ digits m), other escapes kept.
fn strip_colour(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if tail[digits..].starts_with('m') {
            rest = &tail[digits + 1..];
        } else {
            out.push_str("\x1b[");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_bar_is_drawn_on_a_terminal_unless_it_is_dumb() {
    let dir = temp_dir("progress-auto");
    let hang = dir.join("hang");
    let hang_item = format!("hang:{}", hang.display());
    // Without --progress: drawn, because stderr is a terminal.
    let mut pty = Pty::open(80, 24);
    let (mut child, mut screen) = pty.spawn(&["pool", "-n", "1", "chaos", &hang_item], &[]);
    screen.wait_for("a drawing", |t| bars(t).iter().any(|b| shows(b, "0/1")));
    kill_hung(&hang);
    let out = wait_bounded(&mut child.0, 60);
    assert_eq!(out.status.code(), Some(1));
    screen.drain();
    assert_fits(&bars(&screen.text()), 80);
    // TERM=dumb, CI or --json: not drawn (nothing but log lines arrives).
    for (args, env) in [
        (vec!["pool", "chaos", "ok:1"], ("TERM", Some("dumb"))),
        (vec!["pool", "chaos", "ok:1"], ("CI", Some("true"))),
        (
            vec!["pool", "--json", "chaos", "fail:x"],
            ("TERM", Some("xterm")),
        ),
    ] {
        let mut pty = Pty::open(80, 24);
        let (mut child, mut screen) = pty.spawn(&args, &[env]);
        let out = wait_bounded(&mut child.0, 60);
        screen.drain();
        assert!(out.status.code().is_some());
        let text = screen.text();
        assert!(bars(&text).is_empty(), "{args:?} {env:?}: {text:?}");
        assert!(!text.contains("\x1b[J"), "{args:?} {env:?}: {text:?}");
    }
}

#[test]
fn a_forced_bar_on_a_pipe_fits_columns_and_has_no_colour() {
    let r: crate::support::Run = output(mproc().env("COLUMNS", "50").args([
        "pool",
        "-n",
        "1",
        "--progress",
        "chaos",
        "sleep:300",
        "fail:gone wrong",
        "sleep:300",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("\x1b[3"), "{:?}", r.stderr);
    let drawn = bars(&r.stderr);
    assert!(drawn.iter().any(|b| b.contains("/3")), "{:?}", r.stderr);
    assert_fits(&drawn, 50);
    // Named as it happened, and not again at the end.
    let line = "ERROR [parent] item 1 (fail:gone wrong): gone wrong";
    assert_eq!(r.stderr.matches(line).count(), 1, "{:?}", r.stderr);
}

#[test]
fn only_the_first_50_failures_are_named_as_they_happen() {
    let mut args = vec!["pool", "-n", "2", "--progress", "chaos"];
    args.extend(["fail:x"; 60]);
    let r = output(mproc().args(&args));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let logs: Vec<String> = pieces(&r.stderr)
        .into_iter()
        .filter(|p| is_log(p))
        .collect();
    let named = |l: &String| l.starts_with("ERROR [parent] item ") && l.ends_with("): x");
    // 50 as they happen, then one note; the other 10 in the list at the
    // end: each failure named once.
    assert_eq!(logs.iter().filter(|l| named(l)).count(), 60, "{logs:#?}");
    let note = logs
        .iter()
        .position(|l| l == "ERROR [parent] more items not ok: named at the end")
        .unwrap_or_else(|| panic!("{logs:#?}"));
    assert_eq!(logs[..note].iter().filter(|l| named(l)).count(), 50);
    let mut items: Vec<&String> = logs.iter().filter(|l| named(l)).collect();
    items.sort();
    items.dedup();
    assert_eq!(items.len(), 60, "{logs:#?}");
}
