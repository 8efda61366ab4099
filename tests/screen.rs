//! The terminal as a person sees it when the run is over: the real `mproc`
//! with stdout and stderr on one pseudo-terminal, as at a shell prompt,
//! the bytes it wrote rendered by a terminal emulator (the `vt100` crate),
//! and the final screen checked: whatever was written while the bar was
//! drawn stands as whole lines above it, no piece of a bar is left behind,
//! and each failure is named once. Each run is held open at a moment the
//! test chooses (a gate file, a hung item, a held connection: no sleeps),
//! and the terminal is made narrower while the bar is drawn.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Instant;

use mproc_cli::web::{DemoOptions, DemoSite};

use crate::progress::{bars, kill_hung, shows, Pty, Running, Screen, PATIENCE};
use crate::support::{temp_dir, wait_bounded};

/// A terminal emulator fed with what the run writes.
struct Terminal {
    pty: Pty,
    child: Running,
    screen: Screen,
    emulator: vt100::Parser,
    /// How much of `screen.raw` the emulator has been given.
    fed: usize,
}

/// Room for every line these runs print, so nothing scrolls away.
const ROWS: u16 = 60;

impl Terminal {
    /// Starts `mproc args` on a terminal `cols` wide.
    fn start(cols: u16, args: &[&str]) -> Terminal {
        let mut pty = Pty::open(cols, ROWS);
        let proxies = PROXY_VARS.map(|v| (v, None));
        let (child, screen) = pty.spawn_with(args, &proxies, true);
        Terminal {
            pty,
            child,
            screen,
            emulator: vt100::Parser::new(nz(ROWS), nz(cols), 0),
            fed: 0,
        }
    }

    /// Waits until the bar shows `count` (`done/total`).
    #[track_caller]
    fn wait_for_bar(&mut self, count: &str) {
        self.screen.wait_for(&format!("a bar at {count}"), |t| {
            bars(t).iter().any(|b| shows(b, count))
        });
    }

    /// Makes the terminal `cols` wide once the bar shows `count`, and
    /// waits for a drawing at the new width.
    #[track_caller]
    fn resize_at(&mut self, count: &str, cols: u16) {
        self.wait_for_bar(count);
        self.resize_now(cols);
    }

    /// Makes the terminal `cols` wide now, and waits for a drawing at the
    /// new width.
    #[track_caller]
    fn resize_now(&mut self, cols: u16) {
        self.resize(cols);
        let drawn = bars(&String::from_utf8_lossy(&self.screen.raw)).len();
        self.screen
            .wait_for("a drawing after the resize", |t| bars(t).len() > drawn);
    }

    /// Makes the terminal `cols` wide, as dragging a window's edge does:
    /// the emulator first renders what it was sent at the old width.
    fn resize(&mut self, cols: u16) {
        self.screen.take_ready();
        self.feed();
        self.pty.resize(cols, ROWS);
        self.emulator.screen_mut().set_size(nz(ROWS), nz(cols));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.0.id() as i32),
            nix::sys::signal::Signal::SIGWINCH,
        );
    }

    fn feed(&mut self) {
        self.emulator.process(&self.screen.raw[self.fed..]);
        self.fed = self.screen.raw.len();
    }

    /// Waits for the run to end; gives its exit code and the final
    /// screen's lines, trailing blanks dropped.
    #[track_caller]
    fn finish(mut self) -> (i32, Vec<String>) {
        let out = wait_bounded(&mut self.child.0, PATIENCE.as_secs());
        self.screen.drain();
        // To look at what a failing run wrote: SCREEN_RAW=FILE keeps the
        // bytes (the last test to finish wins).
        if let Ok(path) = std::env::var("SCREEN_RAW") {
            let _ = std::fs::write(path, &self.screen.raw);
        }
        self.feed();
        // The screen's lines, a line the terminal wrapped joined again.
        let screen = self.emulator.screen();
        let mut rows = Vec::new();
        let mut line = String::new();
        for (i, row) in screen.rows(0, u16::MAX).enumerate() {
            line.push_str(&row);
            if !screen.row_wrapped(i as u16) {
                rows.push(line.trim_end().to_string());
                line.clear();
            }
        }
        while rows.last().is_some_and(String::is_empty) {
            rows.pop();
        }
        (out.status.code().unwrap_or(-1), rows)
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a size above 0")
}

/// Proxy settings would send loopback requests elsewhere.
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// No row shows any piece of the bar: its cells or its counts.
#[track_caller]
fn assert_no_bar(rows: &[String]) {
    for row in rows {
        assert!(
            !row.contains(['\u{2588}', '\u{2591}'])
                && !row.contains(" items ")
                && !row.contains("ETA"),
            "a piece of a bar is left on the screen:\n{}",
            rows.join("\n")
        );
    }
}

/// How many rows are exactly `line`.
fn count(rows: &[String], line: &str) -> usize {
    rows.iter().filter(|r| r.as_str() == line).count()
}

/// Creates `file`: a gated command goes on.
fn open_gate(file: &Path) {
    std::fs::write(file, b"").expect("the gate file is written");
}

#[test]
fn run_output_stands_in_whole_lines_above_the_bar_through_resizes() {
    let dir = temp_dir("screen-run");
    let (first, second) = (dir.join("first"), dir.join("second"));
    // Every item waits for the first gate and prints its line; item 6
    // then waits for the second, and prints a line in two writes, a line
    // without its newline (held back until the bar goes) and a line on
    // stderr.
    let command = format!(
        "while [ ! -e {first} ]; do sleep 0.01; done; echo item{{}}; \
         [ {{}} = 6 ] || exit 0; \
         while [ ! -e {second} ]; do sleep 0.01; done; \
         printf 'part'; echo ' whole'; printf 'no newline'; echo late >&2",
        first = first.display(),
        second = second.display(),
    );
    let mut t = Terminal::start(
        64,
        &[
            "run", "-j", "2", &command, ":::", "1", "2", "3", "4", "5", "6",
        ],
    );
    // Narrower while only the bar is on the screen, wider while lines
    // written at the narrow width are.
    t.resize_at("0/6", 40);
    open_gate(&first);
    t.resize_at("5/6", 90);
    open_gate(&second);
    let (code, rows) = t.finish();
    let shown = rows.join("\n");
    assert_eq!(code, 0, "{shown}");
    assert_no_bar(&rows);
    for i in 1..=6 {
        assert_eq!(count(&rows, &format!("item{i}")), 1, "{shown}");
    }
    assert_eq!(count(&rows, "part whole"), 1, "{shown}");
    assert_eq!(
        count(&rows, " INFO [parent] item 5 (6): late"),
        1,
        "{shown}"
    );
    // The line without a newline is the screen's last, whole.
    assert_eq!(
        rows.last().map(String::as_str),
        Some("no newline"),
        "{shown}"
    );
    drop(dir);
}

#[test]
fn pool_names_each_failure_once_and_leaves_no_bar_through_resizes() {
    let dir = temp_dir("screen-pool");
    let (gate, hang) = (dir.join("gate"), dir.join("hang"));
    let gate_item = format!("wait:{}", gate.display());
    let hang_item = format!("hang:{}", hang.display());
    // One worker: nothing ends before the gate opens.
    let mut t = Terminal::start(
        72,
        &[
            "pool",
            "-n",
            "1",
            "chaos",
            &gate_item,
            "fail:boom",
            "log:hello there",
            "panic:oops",
            "ok:fine",
            &hang_item,
        ],
    );
    t.resize_at("0/6", 40);
    open_gate(&gate);
    // The hung item has started: every other item has ended.
    t.screen.wait_for("the hung item", |_| hang.exists());
    t.resize_now(100);
    kill_hung(&hang);
    let (code, rows) = t.finish();
    let shown = rows.join("\n");
    assert_eq!(code, 1, "{shown}");
    assert_no_bar(&rows);
    // A terminal forgets which rows it wrapped when it is resized: the
    // rows are read as one text.
    let text = rows.concat();
    for line in [
        "ERROR [parent] item 1 (fail:boom): boom".to_string(),
        "ERROR [parent] item 3 (panic:oops): panicked at ".to_string(),
        format!("ERROR [parent] item 5 ({hang_item}): worker crashed"),
        "] hello there".to_string(),
    ] {
        let at = text.matches(&line).count();
        assert_eq!(at, 1, "{line} is named {at} times:\n{shown}");
    }
    drop(dir);
}

/// A server on 127.0.0.1 that takes one connection and answers it only
/// when the test says so.
struct Held {
    listener: TcpListener,
}

impl Held {
    fn start() -> Held {
        Held {
            listener: TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
        }
    }

    fn url(&self) -> String {
        let port = self.listener.local_addr().expect("its address").port();
        format!("http://127.0.0.1:{port}/held")
    }

    /// Waits for the request and answers it with a page titled `title`.
    fn answer(&self, title: &str) {
        self.listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + PATIENCE;
        let mut stream = loop {
            match self.listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "the request never came");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(PATIENCE)).expect("a timeout");
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(n @ 1..) => request.extend_from_slice(&buf[..n]),
                _ => panic!("the request ended early"),
            }
        }
        let body = format!("<html><head><title>{title}</title></head></html>");
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
    }
}

#[test]
fn fetch_leaves_its_table_whole_and_each_failure_named_once() {
    let dir = temp_dir("screen-fetch");
    let site = DemoSite::start(DemoOptions {
        pages: 3,
        ..DemoOptions::default()
    })
    .expect("the demo site starts");
    let base = site.base_url();
    let held = Held::start();
    let list = dir.join("urls.txt");
    let urls = [
        format!("{base}/page/1"),
        format!("{base}/status/404"),
        format!("{base}/page/2"),
        held.url(),
    ];
    std::fs::write(&list, urls.join("\n") + "\n").expect("the list is written");
    let list = list.display().to_string();
    let mut t = Terminal::start(50, &["fetch", "-n", "2", &list]);
    t.resize_at("3/4", 100);
    held.answer("Held until now");
    let (code, rows) = t.finish();
    let shown = rows.join("\n");
    assert_eq!(code, 1, "{shown}");
    assert_no_bar(&rows);
    // A terminal forgets which rows it wrapped when it is resized: the
    // rows are read as one text.
    let named = format!("ERROR [parent] item 1 ({base}/status/404): http_status: 404");
    assert_eq!(rows.concat().matches(&named).count(), 1, "{shown}");
    drop(dir);
    for title in [
        "Held until now",
        "Page 1 · mproc demo",
        "Page 2 · mproc demo",
    ] {
        assert!(rows.iter().any(|r| r.contains(title)), "{title}:\n{shown}");
    }
}
