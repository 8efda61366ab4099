//! `mproc fetch` and `mproc serve-demo`, through the real binary and real
//! workers, against servers this test process starts on 127.0.0.1: the
//! demo site (port 0, no latency), a listener that never answers, and a
//! port nothing listens on.

use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use serde_json::Value;

use mproc_cli::web::{DemoOptions, DemoSite};

use crate::support::{mproc, output, temp_dir, Run};

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
    let r: Run = output(&mut command(args));
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
    // Its only non-ASCII bytes are two pound signs (0xA3): from 127.0.0.1,
    // with no top-level domain to hint, chardetng (and so Firefox) guesses
    // windows-1250; from the BBC's .uk it says windows-1252. Its title is
    // ASCII either way.
    (
        "/enc/chardet/windows-1252___mozilla_bug421271_text.html",
        "windows-1250",
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
    // The URL is the item's: the error does not repeat it.
    assert_eq!(r[0]["error"], "http_status: 404 not found");
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

// ---- Pages that declare no encoding -------------------------------------

#[test]
fn undeclared_pages_get_the_titles_a_browser_shows() {
    // The chardet pages with no charset anywhere (not in the header, not in
    // a <meta>, no BOM): the titles Firefox shows, guessed with chardetng,
    // or from Basic Latin in every other byte for UTF-16.
    let s = site(1);
    let b = s.base_url();
    let pages = [
        (
            "EUC-JP___mozilla_bug426271_text-euc-jp.html",
            "EUC-JP",
            "日本語エンコードテスト",
        ),
        (
            "SHIFT_JIS___chromium_Shift-JIS_with_no_encoding_specified.html",
            "Shift_JIS",
            "Shift_JIS",
        ),
        (
            "windows-1251-russian___chromium_windows-1251_with_no_encoding_specified.html",
            "windows-1251",
            "windows-1251",
        ),
        // KOI8-U is chardetng's (and Firefox's) name for KOI8 text.
        (
            "KOI8-R___chromium_KOI8-R_with_no_encoding_specified.html",
            "KOI8-U",
            "KOI8-R",
        ),
        (
            "UTF-16LE__plane1-utf-16le.html",
            "UTF-16LE",
            "Unicode Plane 1 Example Using UTF-16",
        ),
        (
            "UTF-16BE__plane1-utf-16be.html",
            "UTF-16BE",
            "Unicode Plane 1 Example Using UTF-16",
        ),
        (
            "EUC-KR___mozilla_bug9357_text.html",
            "EUC-KR",
            "EUC-KR test",
        ),
    ];
    let file = url_list(
        "undeclared",
        &pages.map(|(name, ..)| format!("{b}/enc/undeclared/{name}")),
    );
    let r = fetch(&[&file], 0);
    for (record, (name, encoding, title)) in r.iter().zip(pages) {
        assert_eq!(record["title"], title, "{name}");
        assert_eq!(record["encoding"], encoding, "{name}");
        assert_eq!(record["encoding_source"], "detected", "{name}");
    }

    // How the other decisions are reported.
    let decided = [
        ("/gen/utf-16le-bom", "bom"),
        ("/gen/iso-8859-7-header", "header"),
        ("/gen/euc-kr-meta", "meta"),
        (
            "/enc/sniffer/no-result__http-equiv-refresh_windows-1252.html",
            "default",
        ),
        (
            "/enc/sniffer/no-result__no-indicators_windows-1252.html",
            "detected",
        ),
    ];
    let file = url_list("decided", &decided.map(|(p, _)| format!("{b}{p}")));
    for (record, (path, source)) in fetch(&[&file], 0).iter().zip(decided) {
        assert_eq!(record["encoding_source"], source, "{path}");
    }
}

// ---- Redirects and errors ----------------------------------------------

#[test]
fn redirects_to_other_schemes_are_refused_and_errors_name_the_url_once() {
    let s = site(1);
    let b = s.base_url();
    let file = url_list(
        "redirects",
        &[
            format!("{b}/redirect-file"),
            format!("{b}/status/404"),
            format!("{b}/redirect/1"),
        ],
    );
    let r = fetch(&[&file], 1);
    assert_error(&r[0], "bad_redirect");
    let error = r[0]["error"].as_str().unwrap();
    assert!(
        error.contains("file:///etc/passwd") && error.contains("only http and https"),
        "{error}"
    );
    assert_eq!(r[1]["error"], "http_status: 404 not found");
    assert_eq!(r[2]["url"], format!("{b}/redirect/0"));

    // The log line names the item's URL once.
    let mut cmd = mproc();
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    let out = cmd.args(["fetch", &file]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let not_found = format!("{b}/status/404");
    let line = stderr
        .lines()
        .find(|l| l.contains("http_status"))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"));
    assert_eq!(line.matches(&not_found).count(), 1, "{line}");
    assert!(line.contains("http_status: 404 not found"), "{line}");
}

// ---- Certificates ------------------------------------------------------

/// A throwaway CA and an HTTPS server for 127.0.0.1 signed by it, serving
/// `<title>TITLE</title>` to every request until the test process ends.
struct Https {
    _dir: crate::support::TempDir,
    ca: String,
    port: u16,
}

impl Https {
    fn start(title: &'static str) -> Https {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mproc test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();

        let dir = temp_dir("https");
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, ca_cert.pem()).unwrap();

        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        let config = std::sync::Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let config = config.clone();
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    if read_head(&mut tls).is_none() {
                        return;
                    }
                    let body = format!("<html><head><title>{title}</title></head></html>");
                    let _ = write!(
                        tls,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        Https {
            ca: ca.display().to_string(),
            _dir: dir,
            port,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/secure", self.port)
    }
}

/// Reads a request head (up to the blank line): its lines.
fn read_head(stream: &mut impl Read) -> Option<Vec<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 64 << 10 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    Some(
        text.split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn a_private_ca_is_trusted_with_cacert_ssl_cert_file_or_ssl_cert_dir_and_only_then() {
    let server = Https::start("Behind a private CA");
    let list = url_list("tls", &[server.url()]);

    let untrusted = fetch(&[&list], 1);
    assert_error(&untrusted[0], "tls");
    let error = untrusted[0]["error"].as_str().unwrap();
    assert!(
        error.contains("certificate of 127.0.0.1 is from an unknown issuer")
            && error.contains("--cacert"),
        "{error}"
    );

    let with_flag = fetch(&["--cacert", &server.ca, &list], 0);
    assert_eq!(with_flag[0]["title"], "Behind a private CA");

    let out: Run = command(&["fetch", "--json", &list])
        .env("SSL_CERT_FILE", &server.ca)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["results"][0]["title"], "Behind a private CA");

    // SSL_CERT_DIR alone: every PEM file in the folder.
    let certs = temp_dir("ssl-cert-dir");
    std::fs::copy(&server.ca, certs.join("private-ca.pem")).unwrap();
    let out: Run = command(&["fetch", "--json", &list])
        .env_remove("SSL_CERT_FILE")
        .env("SSL_CERT_DIR", certs.as_os_str())
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["results"][0]["title"], "Behind a private CA");

    let dir = temp_dir("cacert");
    let missing = dir.join("missing.pem");
    let e = run(&["fetch", "--cacert", missing.to_str().unwrap(), &list], 2).stderr;
    assert!(
        e.contains("--cacert") && e.contains("missing.pem") && e.contains("no such file"),
        "{e}"
    );
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let e = run(&["fetch", "--cacert", not_pem.to_str().unwrap(), &list], 2).stderr;
    assert!(e.contains("no certificate in --cacert"), "{e}");
}

// ---- Proxies -----------------------------------------------------------

/// A small HTTP proxy on 127.0.0.1 that records each request head. An
/// absolute-form GET is answered by the proxy itself with a page titled
/// `Proxied PATH`; a CONNECT to 127.0.0.1 is tunnelled. It serves until
/// the test process ends.
struct Proxy {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<String>>>>,
}

impl Proxy {
    fn start() -> Proxy {
        use std::net::TcpStream;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut client) = stream else { return };
                let record = record.clone();
                std::thread::spawn(move || {
                    let Some(head) = read_head(&mut client) else {
                        return;
                    };
                    record.lock().unwrap().push(head.clone());
                    let line: Vec<&str> = head[0].split(' ').collect();
                    match line[0] {
                        "CONNECT" if line[1].starts_with("127.0.0.1:") => {
                            let Ok(target) = TcpStream::connect(line[1]) else {
                                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                                return;
                            };
                            let _ =
                                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                            let (mut up_r, mut up_w) = (target.try_clone().unwrap(), target);
                            let (mut down_r, mut down_w) = (client.try_clone().unwrap(), client);
                            let up = std::thread::spawn(move || {
                                let _ = std::io::copy(&mut down_r, &mut up_w);
                                let _ = up_w.shutdown(std::net::Shutdown::Write);
                            });
                            let _ = std::io::copy(&mut up_r, &mut down_w);
                            let _ = down_w.shutdown(std::net::Shutdown::Write);
                            let _ = up.join();
                        }
                        "GET" => {
                            let path = line[1].splitn(4, '/').nth(3).unwrap_or("");
                            let body = format!("<title>Proxied /{path}</title>");
                            let _ = write!(
                                client,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\
                                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                        }
                        _ => {
                            let _ =
                                client.write_all(b"HTTP/1.1 405 No\r\nContent-Length: 0\r\n\r\n");
                        }
                    }
                });
            }
        });
        Proxy { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request lines seen since the last call, sorted.
    fn take(&self) -> Vec<String> {
        let mut lines: Vec<String> = std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .map(|head| head[0].clone())
            .collect();
        lines.sort();
        lines
    }

    /// The `Proxy-Authorization` headers seen since the last call.
    fn take_auth(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .filter_map(|head| {
                head.iter()
                    .find(|l| l.to_ascii_lowercase().starts_with("proxy-authorization:"))
                    .map(|l| l.split_once(':').unwrap().1.trim().to_string())
            })
            .collect()
    }
}

/// `mproc -q fetch --json ARGS` with `vars` set: the records.
#[track_caller]
fn fetch_with(vars: &[(&str, &str)], args: &[&str], code: i32) -> Vec<Value> {
    let mut cmd = command(&["fetch", "--json"]);
    cmd.args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let r: Run = output(&mut cmd);
    assert_eq!(
        r.code, code,
        "{vars:?} {args:?}\n{}\n{}",
        r.stdout, r.stderr
    );
    r.json()["results"].as_array().unwrap().clone()
}

#[test]
fn proxies_are_used_as_curl_uses_them() {
    let s = site(1);
    let page = format!("{}/page/1", s.base_url());
    let http = url_list("http", std::slice::from_ref(&page));
    let proxy = Proxy::start();
    let p = proxy.url();
    let authed = format!("http://user:pw@127.0.0.1:{}", proxy.port);

    // HTTP_PROXY: an http URL is sent to the proxy as an absolute-form GET,
    // with the proxy URL's user and password as Proxy-Authorization.
    let r = fetch_with(&[("HTTP_PROXY", &authed)], &[&http], 0);
    assert_eq!(r[0]["title"], "Proxied /page/1");
    assert_eq!(
        proxy.take(),
        [format!("GET {page} HTTP/1.1")],
        "an absolute-form GET, not a CONNECT"
    );
    fetch_with(&[("http_proxy", &authed)], &[&http], 0);
    assert_eq!(proxy.take_auth(), ["Basic dXNlcjpwdw=="]);

    // HTTPS_PROXY alone leaves http URLs alone.
    let r = fetch_with(&[("HTTPS_PROXY", &p)], &[&http], 0);
    assert_eq!(r[0]["title"], "Page 1 · mproc demo");
    assert!(proxy.take().is_empty());

    // NO_PROXY, and --noproxy over it.
    let r = fetch_with(
        &[("HTTP_PROXY", &p), ("NO_PROXY", "localhost,127.0.0.0/8")],
        &[&http],
        0,
    );
    assert_eq!(r[0]["title"], "Page 1 · mproc demo");
    assert!(proxy.take().is_empty());
    let r = fetch_with(
        &[("HTTP_PROXY", &p), ("NO_PROXY", "*")],
        &["--noproxy", "example.org", &http],
        0,
    );
    assert_eq!(r[0]["title"], "Proxied /page/1");
    assert_eq!(proxy.take().len(), 1);

    // ALL_PROXY, and --proxy over the environment.
    fetch_with(&[("ALL_PROXY", &p)], &[&http], 0);
    assert_eq!(proxy.take().len(), 1);
    let r = fetch_with(
        &[("HTTP_PROXY", "http://127.0.0.1:1")],
        &["--proxy", &p, &http],
        0,
    );
    assert_eq!(r[0]["title"], "Proxied /page/1");
    assert_eq!(proxy.take().len(), 1);

    // HTTPS_PROXY: an https URL goes through a CONNECT tunnel; the page
    // comes from the server behind it.
    let server = Https::start("Through the tunnel");
    let https = url_list("https", &[server.url()]);
    let r = fetch_with(
        &[("HTTPS_PROXY", &authed)],
        &["--cacert", &server.ca, &https],
        0,
    );
    assert_eq!(r[0]["title"], "Through the tunnel");
    let lines = proxy.take();
    assert_eq!(
        lines,
        [format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port)],
        "{lines:?}"
    );
    fetch_with(
        &[("https_proxy", &authed)],
        &["--cacert", &server.ca, &https],
        0,
    );
    assert_eq!(proxy.take_auth(), ["Basic dXNlcjpwdw=="], "on the CONNECT");
    // HTTP_PROXY alone leaves https URLs alone.
    fetch_with(&[("HTTP_PROXY", &p)], &["--cacert", &server.ca, &https], 0);
    assert!(proxy.take().is_empty());

    // A proxy that is not there, or not http, is named.
    let r = fetch_with(&[("HTTP_PROXY", "http://127.0.0.1:1")], &[&http], 1);
    let error = r[0]["error"].as_str().unwrap();
    assert!(
        error.contains("(via proxy 127.0.0.1:1 from HTTP_PROXY)"),
        "{error}"
    );
    let r = fetch_with(&[("HTTP_PROXY", &p)], &["--proxy", "", &http], 0);
    assert_eq!(
        r[0]["title"], "Page 1 · mproc demo",
        "--proxy '' is no proxy"
    );
    assert!(proxy.take().is_empty());
    let e = run(&["fetch", "--proxy", "socks5://127.0.0.1:1", &http], 2).stderr;
    assert!(e.contains("--proxy") && e.contains("socks5"), "{e}");
}

#[test]
fn imap_prints_a_row_per_page_as_it_comes_and_map_a_table() {
    let s = site(3);
    let sitemap = format!("{}/sitemap.xml", s.base_url());
    let rows = run(&["fetch", "-n", "2", "--mode", "imap", &sitemap], 0).stdout;
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 4, "{rows}");
    for (i, line) in lines[..3].iter().enumerate() {
        let title = format!("Page {} · mproc demo", i + 1);
        assert!(
            line.trim_start()
                .starts_with(&format!("{i}    200  {title}  ")),
            "{line}"
        );
    }
    assert!(lines[3].starts_with("3 items: 3 ok"), "{rows}");
    let table = run(&["fetch", "-n", "2", &sitemap], 0).stdout;
    assert!(table.starts_with("# status  title"), "{table}");
}
