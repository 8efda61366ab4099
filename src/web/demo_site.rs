//! The offline demo site behind `mproc serve-demo`, and the tests' web
//! server: pages with titles, sitemaps (plain, index, namespaced with
//! relative locations, gzipped), URL lists, slow pages, error statuses,
//! redirect chains and loops, a page that is not HTML, a huge page, and
//! pages in many encodings (real-world pages from `tests/fixtures/html/`,
//! and pages generated here with `encoding_rs`).
//!
//! Every response except the lists and sitemaps waits `latency` first.
//! The routes are listed on `/` and in [`DemoSite`]'s docs. This module
//! decides what to answer; the server itself is `http_server`.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use super::demo_pages;
use super::http_server::{reason, Body, Request, Response, Server};

/// How to run the demo site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// The port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// How long each page waits before answering.
    pub latency: Duration,
    /// How many numbered pages (`/page/1` to `/page/N`).
    pub pages: usize,
}

impl Default for DemoOptions {
    fn default() -> DemoOptions {
        DemoOptions {
            port: 0,
            latency: Duration::ZERO,
            pages: 20,
        }
    }
}

/// The demo site, serving on 127.0.0.1 from a background thread until it
/// is dropped.
///
/// Routes: `/` (this list), `/page/1`..`/page/N`, `/sitemap.xml` (the N
/// pages), `/sitemap-index.xml` (two child sitemaps: a namespaced one with
/// relative locations and a gzipped one), `/urls.txt` (the N pages),
/// `/tour.txt` (one of everything), `/slow/MS`, `/status/CODE`,
/// `/redirect/N` (a chain of N redirects), `/loop` (redirects to itself),
/// `/redirect-file` (a redirect to `file:///etc/passwd`),
/// `/not-html`, `/big` (1 MiB, title first), `/huge` (64 MiB, no title),
/// `/enc/DIR/FILE` (the real-world pages), `/enc/undeclared/FILE` (the
/// `chardet` ones without a charset in the header) and `/gen/NAME`
/// (generated ones).
pub struct DemoSite {
    server: Server,
}

impl DemoSite {
    /// Starts the site.
    pub fn start(options: DemoOptions) -> io::Result<DemoSite> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))?;
        let site = Site {
            base: format!("http://{}", listener.local_addr()?),
            options,
        };
        let server = Server::on(
            listener,
            Arc::new(move |request: &Request| site.answer(request)),
        )?;
        Ok(DemoSite { server })
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Serves until the process ends.
    pub fn wait(self) {
        self.server.wait();
    }
}

/// What the handler knows.
struct Site {
    base: String,
    options: DemoOptions,
}

impl Site {
    fn answer(&self, request: &Request) -> Response {
        if request.method != "GET" && request.method != "HEAD" {
            return Response::new(405, "text/plain", "only GET and HEAD\n");
        }
        let path = request.path();
        let (mut response, lists) = match path {
            "/" => (self.home(), true),
            "/sitemap.xml" => (xml(self.urlset(1..=self.options.pages, "", true)), true),
            "/sitemap-index.xml" => (xml(self.sitemap_index()), true),
            "/sitemaps/first-half.xml" => (xml(self.first_half()), true),
            "/sitemaps/second-half.xml.gz" => (self.second_half(), true),
            "/urls.txt" => (text(&self.url_list()), true),
            "/tour.txt" => (text(&self.tour()), true),
            _ => (self.content(path), false),
        };
        if !lists {
            response.delay += self.options.latency;
        }
        response
    }

    /// Pages, statuses, redirects and the other things worth fetching.
    fn content(&self, path: &str) -> Response {
        let number = |prefix: &str| {
            path.strip_prefix(prefix)
                .and_then(|n| n.parse::<u64>().ok())
        };
        if let Some(i) = number("/page/") {
            if (1..=self.options.pages as u64).contains(&i) {
                return html(&demo_pages::numbered(i, self.options.pages));
            }
        }
        if let Some(ms) = number("/slow/") {
            let ms = ms.min(120_000);
            let mut page = html(&demo_pages::simple(&format!("Slow page ({ms} ms)")));
            page.delay = Duration::from_millis(ms);
            return page;
        }
        if let Some(code) = number("/status/").filter(|c| (200..=599).contains(c)) {
            let code = code as u16;
            let mut page = html(&demo_pages::simple(&format!("{code} {}", reason(code))));
            page.status = code;
            return page;
        }
        if let Some(n) = number("/redirect/").filter(|n| *n <= 100) {
            if n == 0 {
                return html(&demo_pages::simple("End of the redirect chain"));
            }
            return redirect(&format!("/redirect/{}", n - 1));
        }
        match path {
            "/loop" => redirect("/loop"),
            "/redirect-file" => redirect("file:///etc/passwd"),
            "/not-html" => Response::new(200, "application/json", "{\"title\": \"not a page\"}\n"),
            "/big" => big(1 << 20, "A big page (1 MiB, title first)"),
            "/huge" => big(64 << 20, ""),
            _ => demo_pages::encoded(path).unwrap_or_else(|| not_found(path)),
        }
    }

    fn home(&self) -> Response {
        let mut body = String::from("<ul>\n");
        for (href, what) in [
            ("/sitemap.xml", "sitemap of the numbered pages"),
            (
                "/sitemap-index.xml",
                "sitemap index: a namespaced child with relative locations and a gzipped child",
            ),
            ("/urls.txt", "the numbered pages, one URL a line"),
            (
                "/tour.txt",
                "one of everything: errors, redirects, encodings",
            ),
            ("/page/1", "page 1"),
            ("/slow/2000", "a page that takes 2 s more"),
            ("/status/404", "404"),
            ("/status/500", "500"),
            ("/redirect/3", "a chain of 3 redirects"),
            ("/loop", "a redirect loop"),
            (
                "/redirect-file",
                "a redirect to file:///etc/passwd (not followed)",
            ),
            ("/not-html", "JSON, not HTML"),
            ("/big", "1 MiB page, title first"),
            ("/huge", "64 MiB page without a title"),
        ] {
            let _ = writeln!(body, "<li><a href=\"{href}\">{href}</a>: {what}</li>");
        }
        for path in demo_pages::encoded_paths() {
            let _ = writeln!(body, "<li><a href=\"{path}\">{path}</a></li>");
        }
        body.push_str("</ul>\n");
        html(&demo_pages::with_body("mproc demo site", &body))
    }

    fn page_url(&self, i: usize) -> String {
        format!("{}/page/{i}", self.base)
    }

    /// A `<urlset>` of pages `range`, with element prefix `prefix` (`sm:`),
    /// absolute locations or relative ones (from `/sitemaps/`).
    fn urlset(
        &self,
        range: std::ops::RangeInclusive<usize>,
        prefix: &str,
        absolute: bool,
    ) -> String {
        let ns = match prefix.strip_suffix(':') {
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        let mut s = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{prefix}urlset {ns}=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        );
        for i in range {
            let loc = if absolute {
                self.page_url(i)
            } else {
                format!("../page/{i}")
            };
            let _ = writeln!(
                s,
                "  <{prefix}url>\n    <{prefix}loc>\n      {loc}\n    </{prefix}loc>\n    <{prefix}changefreq>daily</{prefix}changefreq>\n  </{prefix}url>"
            );
        }
        let _ = writeln!(s, "</{prefix}urlset>");
        s
    }

    fn sitemap_index(&self) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n\
         \x20 <sitemap><loc>sitemaps/first-half.xml</loc></sitemap>\n\
         \x20 <sitemap><loc>/sitemaps/second-half.xml.gz</loc></sitemap>\n\
         </sitemapindex>\n"
            .to_string()
    }

    fn first_half(&self) -> String {
        self.urlset(1..=self.options.pages / 2, "sm:", false)
    }

    fn second_half(&self) -> Response {
        let xml = self.urlset(self.options.pages / 2 + 1..=self.options.pages, "", true);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = gz.write_all(xml.as_bytes());
        Response::new(200, "application/gzip", gz.finish().unwrap_or_default())
    }

    fn url_list(&self) -> String {
        let mut s = format!(
            "# mproc demo site: {}\n",
            crate::report::count(self.options.pages as u64, "page")
        );
        for i in 1..=self.options.pages {
            let _ = writeln!(s, "{}", self.page_url(i));
        }
        s
    }

    fn tour(&self) -> String {
        let b = &self.base;
        let mut s = String::from("# mproc demo site: one of everything\n");
        for path in [
            "/page/1",
            "/slow/2000",
            "/status/404",
            "/status/500",
            "/redirect/3",
            "/loop",
            "/not-html",
            "/big",
            "/huge",
        ] {
            let _ = writeln!(s, "{b}{path}");
        }
        for path in demo_pages::encoded_paths() {
            let _ = writeln!(s, "{b}{path}");
        }
        s.push_str("# never fetched: not http(s), and not a URL\nftp://ftp.example.com/file.txt\nhttp://[not-an-address]/\n");
        s
    }
}

fn html(body: &str) -> Response {
    Response::new(200, "text/html; charset=utf-8", body)
}

fn xml(body: String) -> Response {
    Response::new(200, "application/xml", body)
}

fn text(body: &str) -> Response {
    Response::new(200, "text/plain; charset=utf-8", body)
}

fn redirect(to: &str) -> Response {
    let mut r = Response::new(302, "text/html", format!("<a href=\"{to}\">{to}</a>\n"));
    r.headers.push(("Location".into(), to.into()));
    r
}

fn not_found(path: &str) -> Response {
    let mut r = html(&demo_pages::simple(&format!(
        "404 Not Found: {}",
        escape(path)
    )));
    r.status = 404;
    r
}

/// A page of `total` bytes, streamed; with a title first unless `title`
/// is empty.
fn big(total: u64, title: &str) -> Response {
    let head = if title.is_empty() {
        "<!DOCTYPE html>\n<html><head>\n".to_string()
    } else {
        format!("<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>\n")
    };
    Response {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: Body::Repeat {
            head: head.into_bytes(),
            chunk: b"<p>Filler text, to make the page big.</p>\n".to_vec(),
            total,
        },
        delay: Duration::ZERO,
    }
}

/// `s` safe inside HTML text.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
