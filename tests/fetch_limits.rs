//! `mproc fetch` as curl does it (issue 22): a request that meets a pooled
//! connection the server has just closed is retried once on a new one, a
//! failure on a new connection is not retried, and a sitemap index that
//! fans out without end is capped with a warning. Servers are started here,
//! on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

use mproc_cli::web::http_server::{Handler, Response, Server};

use crate::support::{mproc, output, temp_dir, Run};

/// `mproc -q ARGS` without proxies from the environment.
fn command(args: &[&str]) -> Command {
    let mut cmd = mproc();
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(var);
    }
    cmd.env("no_proxy", "*").arg("-q").args(args);
    cmd
}

/// Reads a request head; false when the client closed first.
fn read_head(reader: &mut impl BufRead) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line.trim().is_empty() => return true,
            Ok(_) => {}
        }
    }
}

/// A server whose keep-alive times out at the worst moment: it answers
/// the first request on a connection (and says nothing of closing), then
/// closes the connection, unanswered, when the next request arrives.
/// Counts connections, and requests closed unanswered.
struct OneAnswerPerConnection {
    port: u16,
    connections: Arc<AtomicUsize>,
    hung_up: Arc<AtomicUsize>,
}

impl OneAnswerPerConnection {
    /// `answer`: whether it answers the first request at all.
    fn start(answer: bool) -> OneAnswerPerConnection {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let hung_up = Arc::new(AtomicUsize::new(0));
        let (count, hang) = (Arc::clone(&connections), Arc::clone(&hung_up));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let hang = Arc::clone(&hang);
                std::thread::spawn(move || serve_once(stream, answer, &hang));
            }
        });
        OneAnswerPerConnection {
            port,
            connections,
            hung_up,
        }
    }
}

fn serve_once(mut stream: TcpStream, answer: bool, hung_up: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    if !read_head(&mut reader) {
        return;
    }
    if answer {
        let body = "<html><title>Kept alive</title></html>";
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if !read_head(&mut reader) {
            return;
        }
    }
    hung_up.fetch_add(1, Ordering::SeqCst);
}

fn url_file(dir: &std::path::Path, urls: impl Iterator<Item = String>) -> String {
    let path = dir.join("urls.txt");
    std::fs::write(&path, urls.collect::<Vec<_>>().join("\n")).unwrap();
    path.display().to_string()
}

#[test]
fn a_request_on_a_connection_the_server_closed_is_retried_once_on_a_new_one() {
    let server = OneAnswerPerConnection::start(true);
    let dir = temp_dir("fetch-reuse");
    let list = url_file(
        &dir,
        (0..2000).map(|i| format!("http://127.0.0.1:{}/page/{i}", server.port)),
    );
    let r: Run = output(&mut command(&["fetch", "-n", "2", "--json", &list]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 2000);
    let failed: Vec<&Value> = results.iter().filter(|r| r["outcome"] != "ok").collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert!(results.iter().all(|r| r["title"] == "Kept alive"));
    let hung_up = server.hung_up.load(Ordering::SeqCst);
    assert!(hung_up > 0, "the test reused no connection");
    // A connection answers once: a connection per page, the retries' ones
    // among them, and none wasted.
    assert_eq!(server.connections.load(Ordering::SeqCst), 2000);
}

#[test]
fn a_failure_on_a_new_connection_is_not_retried() {
    let server = OneAnswerPerConnection::start(false);
    let dir = temp_dir("fetch-no-retry");
    let list = url_file(
        &dir,
        (0..20).map(|i| format!("http://127.0.0.1:{}/page/{i}", server.port)),
    );
    let r: Run = output(&mut command(&["fetch", "-n", "1", "--json", &list]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert!(doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "failed"));
    assert_eq!(server.connections.load(Ordering::SeqCst), 20);
}

/// An index of `fan` indexes of `fan` sitemaps of one page each, and the
/// pages; counts the leaf sitemaps served.
fn fan_out(fan: usize, leaves: Arc<AtomicUsize>) -> Server {
    let xml = |body: String| Response::new(200, "application/xml", body);
    let index = |locs: Vec<String>| {
        let entries: String = locs
            .iter()
            .map(|l| format!("<sitemap><loc>{l}</loc></sitemap>\n"))
            .collect();
        format!("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{entries}</sitemapindex>\n")
    };
    let handler: Handler = Arc::new(move |request| {
        let parts: Vec<&str> = request.path().split('/').skip(1).collect();
        match parts.as_slice() {
            ["index.xml"] => xml(index((0..fan).map(|i| format!("/idx/{i}")).collect())),
            ["idx", i] => xml(index((0..fan).map(|j| format!("/map/{i}/{j}")).collect())),
            ["map", i, j] => {
                leaves.fetch_add(1, Ordering::SeqCst);
                xml(format!(
                    "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>/page/{i}/{j}</loc></url></urlset>"
                ))
            }
            ["page", i, j] => {
                Response::new(200, "text/html", format!("<title>Page {i}.{j}</title>"))
            }
            _ => Response::new(404, "text/plain", "no\n"),
        }
    });
    Server::on(TcpListener::bind("127.0.0.1:0").unwrap(), handler).unwrap()
}

/// `mproc fetch --json ARGS` with its warnings: no `-q`, no progress bar.
fn fetch_loud(args: &[&str]) -> Run {
    let mut cmd = mproc();
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(var);
    }
    cmd.env("no_proxy", "*")
        .args(["fetch", "--json", "--no-progress"])
        .args(args);
    output(&mut cmd)
}

fn count(r: &Run) -> usize {
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()["results"].as_array().unwrap().len()
}

#[test]
fn a_200_by_200_sitemap_index_is_capped_with_a_warning_naming_what_was_skipped() {
    let leaves = Arc::new(AtomicUsize::new(0));
    let server = fan_out(200, Arc::clone(&leaves));
    let index = format!("http://{}/index.xml", server.addr());

    // The defaults: at most 1000 child sitemaps are read (indexes and
    // sitemaps, depth first, 16 at a time), and a warning names the rest.
    let r = fetch_loud(&[&index]);
    let read = leaves.load(Ordering::SeqCst);
    assert_eq!(count(&r), read, "a page per sitemap read");
    assert!(read > 900 && read < 1000, "{read}");
    let prefix = "read 1000 child sitemaps (--max-sitemaps 1000): skipped ";
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains(prefix))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    let rest = &line[line.find(prefix).unwrap() + prefix.len()..];
    let (n, first) = rest.split_once(" more, the first ").unwrap();
    let n: usize = n.parse().unwrap();
    assert!(n > 0 && n + 1000 <= 200 + 200 * 200, "{line}");
    assert!(
        first.starts_with(&format!("http://{}/", server.addr())),
        "{line}"
    );

    // --limit stops quietly, and reading stops with it.
    leaves.store(0, Ordering::SeqCst);
    let r = fetch_loud(&["--limit", "50", &index]);
    assert_eq!(count(&r), 50);
    assert!(leaves.load(Ordering::SeqCst) < 50 + 16, "{leaves:?}");
    assert!(!r.stderr.contains("--max-"), "{}", r.stderr);

    // Each cap, lowered, names itself.
    let r = fetch_loud(&["--max-urls", "20", &index]);
    assert_eq!(count(&r), 20);
    assert!(
        r.stderr
            .contains("kept the first 20 URLs (--max-urls 20): skipped 0 more listed in the sitemaps read, and "),
        "{}",
        r.stderr
    );
    leaves.store(0, Ordering::SeqCst);
    let r = fetch_loud(&["--max-sitemaps", "30", &index]);
    assert_eq!(count(&r), leaves.load(Ordering::SeqCst));
    assert!(
        r.stderr
            .contains("read 30 child sitemaps (--max-sitemaps 30): skipped "),
        "{}",
        r.stderr
    );
}

#[test]
fn the_caps_and_their_defaults_are_in_the_help() {
    let r: Run = output(&mut command(&["fetch", "--help"]));
    assert_eq!(r.code, 0);
    let help = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("--max-sitemaps <N>"), "{help}");
    assert!(help.contains("[default: 1000]"), "{help}");
    assert!(help.contains("--max-urls <N>"), "{help}");
    assert!(help.contains("[default: 1000000]"), "{help}");
}
