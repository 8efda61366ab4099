//! `mproc fetch` and `mproc serve-demo`, through the real binary and real
//! workers, against servers this test process starts on 127.0.0.1: the
//! demo site (port 0, no latency), a listener that never answers, and a
//! port nothing listens on.

use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use serde_json::Value;

use mproc_cli::web::{DemoOptions, DemoSite};

use crate::support::{mproc, temp_dir, Run};

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

/// A demo site of `pages` pages for one test.
fn site(pages: usize) -> DemoSite {
    DemoSite::start(DemoOptions {
        pages,
        ..DemoOptions::default()
    })
    .expect("the demo site starts")
}

/// `mproc -q ARGS`, without proxies.
fn command(args: &[&str]) -> Command {
    let mut cmd = mproc();
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.arg("-q").args(args);
    cmd
}

/// Runs `mproc -q ARGS` and expects exit `code`.
#[track_caller]
fn run(args: &[&str], code: i32) -> Run {
    let r: Run = command(args).output().expect("mproc runs").into();
    assert_eq!(
        r.code, code,
        "mproc {args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

/// `mproc -q fetch --json ARGS`: the records, in input order.
#[track_caller]
fn fetch(args: &[&str], code: i32) -> Vec<Value> {
    let mut all = vec!["fetch", "--json"];
    all.extend(args);
    run(&all, code).json()["results"]
        .as_array()
        .expect("results")
        .clone()
}

/// A URL list in a folder of its own, removed when dropped; derefs to its
/// path.
struct UrlList {
    _dir: crate::support::TempDir,
    path: String,
}

impl std::ops::Deref for UrlList {
    type Target = str;
    fn deref(&self) -> &str {
        &self.path
    }
}

/// Writes `lines` as a URL list.
fn url_list(name: &str, lines: &[String]) -> UrlList {
    let dir = temp_dir(name);
    let path = dir.join("urls.txt");
    std::fs::write(&path, lines.join("\n")).unwrap();
    UrlList {
        _dir: dir,
        path: path.display().to_string(),
    }
}

fn titles(records: &[Value]) -> Vec<Value> {
    records.iter().map(|r| r["title"].clone()).collect()
}

fn page_title(i: usize) -> Value {
    Value::from(format!("Page {i} · mproc demo"))
}

#[track_caller]
fn assert_error(record: &Value, kind: &str) {
    assert_eq!(record["outcome"], "failed", "{record}");
    let error = record["error"].as_str().unwrap();
    assert!(error.starts_with(&format!("{kind}: ")), "{error}");
    assert!(record.get("title").is_none(), "{record}");
}

#[test]
fn titles_from_a_url_list_in_input_order() {
    let s = site(6);
    let b = s.base_url();
    let file = url_list(
        "list",
        &[
            format!("\u{feff}# pages, out of order\n\n{b}/page/5"),
            format!("  {b}/page/1  "),
            "# a comment".into(),
            format!("{b}/page/3\r"),
            format!("{b}/page/6"),
        ],
    );
    let r = fetch(&["-n", "2", &file], 0);
    assert_eq!(titles(&r), [5, 1, 3, 6].map(page_title));
    for (i, record) in r.iter().enumerate() {
        assert_eq!(record["index"], i);
        assert_eq!(record["status"], 200);
        assert_eq!(record["url"], record["input"]);
        assert_eq!(record["encoding"], "UTF-8");
        assert_eq!(record["content_type"], "text/html; charset=utf-8");
    }
    assert_eq!(fetch(&["--limit", "2", &file], 0).len(), 2);
}

#[test]
fn sitemaps_plain_index_namespaced_gzipped_and_relative() {
    let s = site(7);
    let b = s.base_url();
    let all: Vec<Value> = (1..=7).map(page_title).collect();
    // Over HTTP: a plain urlset, and an index whose children are a
    // namespaced sitemap with relative locations and a gzipped one.
    assert_eq!(titles(&fetch(&[&format!("{b}/sitemap.xml")], 0)), all);
    assert_eq!(titles(&fetch(&[&format!("{b}/sitemap-index.xml")], 0)), all);
    assert_eq!(
        titles(&fetch(
            &["--limit", "5", &format!("{b}/sitemap-index.xml")],
            0
        )),
        all[..5]
    );

    // From files: namespaced, whitespace around <loc>, and gzipped.
    let dir = temp_dir("sitemaps");
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<s:urlset xmlns:s=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n\
         <s:url><s:loc>\n   {b}/page/2\n</s:loc></s:url><s:url><s:loc>{b}/page/4</s:loc></s:url>\n</s:urlset>\n"
    );
    let plain = dir.join("sitemap.xml");
    std::fs::write(&plain, &xml).unwrap();
    let gz = dir.join("sitemap.bin");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(xml.as_bytes()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    for path in [&plain, &gz] {
        let r = fetch(&[path.to_str().unwrap()], 0);
        assert_eq!(titles(&r), [page_title(2), page_title(4)]);
    }

    // A relative location in a local file has no base: that item fails.
    let relative = dir.join("relative.xml");
    std::fs::write(&relative, "<urlset><url><loc>/page/1</loc></url></urlset>").unwrap();
    assert_error(&fetch(&[relative.to_str().unwrap()], 1)[0], "bad_url");
}

/// `(path, encoding, title)` of pages whose titles are not ASCII-only,
/// and of the real-world pages.
const ENCODED: [(&str, &str, &str); 23] = [
    (
        "/gen/shift_jis-meta",
        "Shift_JIS",
        "日本語のページ（Shift_JIS）",
    ),
    (
        "/gen/euc-jp-http-equiv",
        "EUC-JP",
        "日本語のページ（EUC-JP）",
    ),
    (
        "/gen/windows-1251-header",
        "windows-1251",
        "Пример страницы (windows-1251)",
    ),
    ("/gen/koi8-r-meta", "KOI8-R", "Пример страницы (KOI8-R)"),
    (
        "/gen/iso-8859-2-meta",
        "ISO-8859-2",
        "Zażółć gęślą jaźń (ISO-8859-2)",
    ),
    (
        "/gen/iso-8859-7-header",
        "ISO-8859-7",
        "Καλημέρα κόσμε (ISO-8859-7)",
    ),
    ("/gen/euc-kr-meta", "EUC-KR", "한국어 페이지 (EUC-KR)"),
    ("/gen/gbk-meta", "GBK", "中文网页 (GBK)"),
    (
        "/gen/utf-16le-bom",
        "UTF-16LE",
        "Unicode: 日本語, Ελληνικά, Русский (UTF-16LE)",
    ),
    (
        "/gen/utf-16be-header",
        "UTF-16BE",
        "Unicode: 日本語, Ελληνικά, Русский (UTF-16BE)",
    ),
    (
        "/gen/windows-1252-undeclared",
        "windows-1252",
        "Café déjà vu (windows-1252)",
    ),
    (
        "/gen/utf-8-undeclared",
        "UTF-8",
        "Ünïcödé, undeclared (UTF-8)",
    ),
    (
        "/enc/chardet/CP932__hardsoft.at.webry.info.xml",
        "Shift_JIS",
        "Perl 5.8.x で shiftjis 、CP932、MacJapanese の違い ハードなソフトの話/ウェブリブログ",
    ),
    (
        "/enc/chardet/CP932__www2.chuo-u.ac.jp-suishin.xml",
        "Shift_JIS",
        "yomenai moji?",
    ),
    (
        "/enc/chardet/EUC-JP___mozilla_bug426271_text-euc-jp.html",
        "EUC-JP",
        "日本語エンコードテスト",
    ),
    (
        "/enc/chardet/EUC-KR___mozilla_bug9357_text.html",
        "EUC-KR",
        "EUC-KR test",
    ),
    (
        "/enc/chardet/KOI8-R___chromium_KOI8-R_with_no_encoding_specified.html",
        "KOI8-R",
        "KOI8-R",
    ),
    (
        "/enc/chardet/SHIFT_JIS___chromium_Shift-JIS_with_no_encoding_specified.html",
        "Shift_JIS",
        "Shift_JIS",
    ),
    (
        "/enc/chardet/UTF-16BE__plane1-utf-16be.html",
        "UTF-16BE",
        "Unicode Plane 1 Example Using UTF-16",
    ),
    (
        "/enc/chardet/UTF-16LE__plane1-utf-16le.html",
        "UTF-16LE",
        "Unicode Plane 1 Example Using UTF-16",
    ),
    (
        "/enc/chardet/utf-8___mozilla_bug426271_text-utf-8.html",
        "UTF-8",
        "日本語エンコードテスト",
    ),
    (
        "/enc/chardet/windows-1251-russian___chromium_windows-1251_with_no_encoding_specified.html",
        "windows-1251",
        "windows-1251",
    ),
    (
        "/enc/chardet/windows-1252___mozilla_bug421271_text.html",
        "windows-1252",
        "BBC - 606 - A Forum Conversation",
    ),
];

#[test]
fn every_encoding_gives_the_right_title() {
    let s = site(1);
    let b = s.base_url();
    let file = url_list("encodings", &ENCODED.map(|(path, ..)| format!("{b}{path}")));
    let r = fetch(&["-n", "2", &file], 0);
    for (record, (path, encoding, title)) in r.iter().zip(ENCODED) {
        assert_eq!(record["title"], title, "{path}");
        assert_eq!(record["encoding"], encoding, "{path}");
    }
}

#[test]
fn declarations_are_found_as_browsers_find_them() {
    // jsdom's html-encoding-sniffer fixtures, served without a charset:
    // each name ends with the encoding a browser picks ("utf" ones: UTF-8).
    // The WPT pages declare ISO-8859-15 in a <meta>, or in the header
    // against a <meta> saying ISO-8859-1.
    let s = site(1);
    let b = s.base_url();
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/html/html-encoding-sniffer"
    );
    let mut expected = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let stem = name.trim_end_matches(".html");
        let encoding = match stem.split_once("__") {
            Some(("utf", _)) => "UTF-8".to_string(),
            _ => stem.rsplit('_').next().unwrap().to_string(),
        };
        expected.push((format!("{b}/enc/sniffer/{name}"), encoding));
    }
    for n in ["007", "009", "018"] {
        expected.push((
            format!("{b}/enc/wpt/the-input-byte-stream-{n}.html"),
            "ISO-8859-15".into(),
        ));
    }
    let file = url_list(
        "sniffer",
        &expected.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>(),
    );
    let r = fetch(&[&file], 0);
    assert_eq!(r.len(), 19);
    for (record, (url, encoding)) in r.iter().zip(&expected) {
        assert_eq!(record["encoding"], encoding.as_str(), "{url}");
    }
}

#[test]
fn error_statuses_redirects_and_loops() {
    let s = site(1);
    let b = s.base_url();
    let file = url_list(
        "statuses",
        &[
            "/status/404",
            "/status/500",
            "/redirect/3",
            "/loop",
            "/not-html",
        ]
        .map(|p| format!("{b}{p}")),
    );
    let r = fetch(&[&file], 1);
    assert_error(&r[0], "http_status");
    assert!(r[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("http_status: 404 not found ("));
    assert_error(&r[1], "http_status");
    assert!(r[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("http_status: 500 "));
    assert_eq!(r[2]["outcome"], "ok");
    assert_eq!(r[2]["url"], format!("{b}/redirect/0"));
    assert_eq!(r[2]["title"], "End of the redirect chain");
    assert_error(&r[3], "too_many_redirects");
    assert_error(&r[4], "not_html");

    let chain = format!("{b}/redirect/3");
    assert_error(
        &fetch(&["--max-redirects", "2", &url_list("chain", &[chain])], 1)[0],
        "too_many_redirects",
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    // Accept, read the request, never answer: until the client hangs up.
    let silent = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
        sink
    });
    let r = fetch(
        &["--request-timeout", "0.5", &url_list("silent", &[url])],
        1,
    );
    assert_error(&r[0], "timeout");
    assert!(r[0]["error"]
        .as_str()
        .unwrap()
        .contains("--request-timeout"));
    let request = String::from_utf8(silent.join().unwrap()).unwrap();
    assert!(request.starts_with("GET / HTTP/1.1\r\n"), "{request}");
    let agent = format!("user-agent: mproc/{}\r\n", env!("CARGO_PKG_VERSION"));
    assert!(request.to_lowercase().contains(&agent), "{request}");
}

#[test]
fn reading_stops_at_the_title_or_the_cap() {
    let s = site(1);
    let b = s.base_url();
    let file = url_list("cap", &[format!("{b}/big"), format!("{b}/huge")]);
    let r = fetch(&["--max-bytes", "100000", &file], 1);
    assert_eq!(r[0]["title"], "A big page (1 MiB, title first)");
    assert!(r[0]["bytes"].as_u64().unwrap() < 100_000, "{}", r[0]);
    assert_error(&r[1], "too_large");
    assert!(r[1]["error"]
        .as_str()
        .unwrap()
        .contains("100000 bytes (--max-bytes)"));
}

#[test]
fn bad_urls_refused_ports_and_tls_against_plain_http() {
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let s = site(1);
    let tls = format!("https://{}/page/1", s.addr());
    let lines = [
        "not a url",
        "ftp://example.com/file",
        "file:///etc/hostname",
        "http://[oops/",
    ]
    .map(String::from)
    .into_iter()
    .chain([refused, tls])
    .collect::<Vec<_>>();
    let r = fetch(&[&url_list("bad", &lines)], 1);
    for record in &r[..4] {
        assert_error(record, "bad_url");
    }
    assert!(r[1]["error"]
        .as_str()
        .unwrap()
        .contains("unsupported scheme ftp"));
    assert_error(&r[4], "refused");
    assert_error(&r[5], "tls");
}

/// A record without what differs between runs: times, pids, workers, and
/// bytes (a read may stop at any chunk boundary after the title).
fn stable(record: &Value) -> Value {
    let mut r = record.clone();
    let obj = r.as_object_mut().unwrap();
    for key in [
        "pid",
        "worker",
        "started_ms",
        "elapsed_ms",
        "fetch_ms",
        "bytes",
    ] {
        obj.remove(key);
    }
    r
}

#[test]
fn the_same_results_with_1_and_4_processes() {
    let s = site(12);
    let b = s.base_url();
    let mut lines: Vec<String> = (1..=12).rev().map(|i| format!("{b}/page/{i}")).collect();
    lines.extend(
        ["/status/404", "/loop", "/gen/koi8-r-meta", "/redirect/2"].map(|p| format!("{b}{p}")),
    );
    lines.push("gopher://x/".into());
    let file = url_list("same", &lines);
    let one = fetch(&["-n", "1", "--concurrency", "1", &file], 1);
    let four = fetch(&["-n", "4", &file], 1);
    assert_eq!(one.len(), lines.len());
    assert_eq!(
        one.iter().map(stable).collect::<Vec<_>>(),
        four.iter().map(stable).collect::<Vec<_>>()
    );
    for (i, record) in four.iter().enumerate() {
        assert_eq!(record["index"], i);
        assert_eq!(record["input"], lines[i].as_str());
    }
}

#[test]
fn the_human_table_jsonl_and_the_pool_form() {
    let s = site(3);
    let b = s.base_url();
    let file = url_list("human", &[format!("{b}/page/2"), format!("{b}/status/404")]);
    let out = run(&["fetch", "-n", "1", &file], 1).stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].contains("status") && lines[0].contains("title"),
        "{out}"
    );
    assert!(
        lines[1].contains(" 200 ") && lines[1].contains("Page 2 · mproc demo"),
        "{out}"
    );
    assert!(lines[1].ends_with(&format!("{b}/page/2")), "{out}");
    assert!(
        lines[2].contains(" 404 ") && lines[2].contains("http_status: 404 not found"),
        "{out}"
    );
    assert!(
        lines[3].contains("2 items: 1 ok, 1 failed")
            && lines[3].contains("with 1 process x 16 at a time"),
        "{out}"
    );

    let jsonl = run(
        &[
            "pool",
            "-n",
            "2",
            "--jsonl",
            "fetch",
            &format!("{b}/urls.txt"),
        ],
        0,
    );
    let records = jsonl.json_lines();
    assert_eq!(records.len(), 4);
    assert_eq!(records[3]["summary"]["ok"], 3);

    let serial = run(
        &["pool", "--serial", "fetch", &format!("{b}/sitemap.xml")],
        0,
    )
    .stdout;
    assert!(
        serial.contains("Page 3 · mproc demo") && serial.contains("(serial)"),
        "{serial}"
    );
}

#[test]
fn sources_that_cannot_be_read_are_usage_errors() {
    let dir = temp_dir("sources");
    let missing = dir.join("missing.txt");
    let e = run(&["fetch", missing.to_str().unwrap()], 2).stderr;
    assert!(
        e.contains("cannot read") && e.contains("missing.txt") && e.contains("no such file"),
        "{e}"
    );
    let atom = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sitemaps/atom.xml"
    );
    let e = run(&["fetch", atom], 2).stderr;
    assert!(e.contains("not a sitemap") && e.contains("<feed>"), "{e}");
    let s = site(1);
    let e = run(&["fetch", &format!("{}/nothing.xml", s.base_url())], 2).stderr;
    assert!(e.contains("http_status: 404"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn serve_demo_prints_its_url_and_serves_until_killed() {
    let mut child = command(&[
        "serve-demo",
        "--port",
        "0",
        "--pages",
        "4",
        "--latency-ms",
        "0",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let r = fetch(&[&format!("{base}/sitemap.xml")], 0);
    let fetched = titles(&r);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(fetched, (1..=4).map(page_title).collect::<Vec<_>>());
}
