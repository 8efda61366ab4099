//! The chapter's "fetch URLs in parallel" job: [`Fetch`] takes one URL and
//! gives its [`Page`] (final URL, status, title, content type, encoding,
//! bytes, time), or fails with an error that starts with its kind
//! (`timeout: ...`, see [`FetchErrorKind`](crate::web::FetchErrorKind)).
//!
//! Each worker process builds one HTTP client, on first use, and shares
//! it between its threads (`--concurrency`), so connections are reused.
//! The job knows nothing of pools, processes or where the URLs came from.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use std::fmt::Write as _;
use std::time::Duration;

use mproc::{Job, JobError};

use super::{Builtin, Context, Plan, Report};
use crate::report::table::{columns, fit};
use crate::web::{Client, Limits, Network, Page};
use mproc::ItemResult;

/// Fetches one URL with [`Limits`] and [`Network`] settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Fetch {
    /// Timeouts, redirects and the body cap.
    pub limits: Limits,
    /// `--cacert`, `--proxy`, `--noproxy`.
    #[serde(default)]
    pub network: Network,
    /// This process's client, made on first use (or why it could not be).
    #[serde(skip)]
    client: OnceLock<Result<Client, String>>,
}

impl Fetch {
    /// The job with `limits`, the system's certificates and the
    /// environment's proxies.
    pub fn new(limits: Limits) -> Fetch {
        Fetch::with_network(limits, Network::default())
    }

    /// The job with `limits` and `network`.
    pub fn with_network(limits: Limits, network: Network) -> Fetch {
        Fetch {
            limits,
            network,
            client: OnceLock::new(),
        }
    }

    /// The client this process uses, or why there is none (an unreadable
    /// `--cacert`, a malformed proxy URL).
    pub fn client(&self) -> Result<&Client, String> {
        self.client
            .get_or_init(|| Client::with_network(self.limits, &self.network))
            .as_ref()
            .map_err(String::clone)
    }
}

impl Job for Fetch {
    const NAME: &'static str = "fetch";
    type Input = String;
    type Output = Page;

    fn run(&self, url: String) -> Result<Page, JobError> {
        tracing::debug!("Process {} fetching {url}", std::process::id());
        let client = self.client().map_err(JobError::from)?;
        Ok(client.page(&url)?)
    }
}
/// `--concurrency` for `mproc fetch` when not given: requests in flight
/// per worker process.
pub(crate) const FETCH_CONCURRENCY: u32 = 16;

/// The widest the title column gets, in terminal columns.
const TITLE_COLUMNS: usize = 60;

/// `mproc fetch SOURCE` and `mproc pool fetch SOURCE`.
// The field docs are the command's help text, written for a terminal.
#[allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FetchArgs {
    /// The URLs: a text file (one a line, # comments), a sitemap XML file
    /// (urlset or sitemapindex), either gzipped, - for standard input, or
    /// the http(s) URL of any of these. Each document is read up to 64 MiB
    /// (stdin too); sitemap indexes are followed 3 levels deep.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Fetch only the first K URLs.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Child sitemaps read from sitemap indexes, at most; the rest are
    /// skipped with a warning naming how many.
    #[arg(long, value_name = "N", default_value_t = crate::web::source::MAX_SITEMAPS)]
    pub max_sitemaps: usize,
    /// URLs kept from the source, at most; the rest are skipped with a
    /// warning naming how many (--limit stops quietly).
    #[arg(long, value_name = "N", default_value_t = crate::web::source::MAX_URLS)]
    pub max_urls: usize,
    /// Seconds to resolve a host name, and again to connect (TLS included).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = crate::units::seconds)]
    pub connect_timeout: Duration,
    /// Seconds for a whole request: connecting, redirects and reading.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = crate::units::seconds)]
    pub request_timeout: Duration,
    /// Redirects to follow before failing with too_many_redirects.
    #[arg(long, value_name = "N", default_value = "10")]
    pub max_redirects: u32,
    /// Bytes of a page to read at most while looking for its </title>.
    #[arg(long, value_name = "BYTES", default_value = "4194304", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_bytes: u64,
    /// A PEM file of certificate authorities to trust besides the system
    /// store (itself read from SSL_CERT_FILE and SSL_CERT_DIR when set).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<String>,
    /// The proxy for every URL (http://[USER:PASSWORD@]HOST:PORT), instead
    /// of http_proxy, https_proxy and all_proxy.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Hosts to reach without the proxy, comma-separated (* for all;
    /// names match their subdomains; IPs and ADDR/BITS ranges), instead of
    /// no_proxy.
    #[arg(long, value_name = "LIST")]
    pub noproxy: Option<String>,
}

impl Builtin for Fetch {
    type Args = FetchArgs;
    type Row = ItemResult<Self::Output>;
    const ABOUT: &'static str = "Fetch each URL and read its title (see also the top-level \
        mproc fetch, which runs 16 requests at once per process)";

    /// The URLs are read from the source once, here, before the pool starts.
    fn row(result: ItemResult<Self::Output>) -> Self::Row {
        result
    }

    fn plan(args: FetchArgs, _: &Context) -> mproc::Result<Plan<Fetch>> {
        let network = Network {
            cacert: args.cacert,
            proxy: args.proxy,
            noproxy: args.noproxy,
        };
        let job = Fetch::with_network(
            Limits {
                connect_timeout: args.connect_timeout,
                request_timeout: args.request_timeout,
                max_redirects: args.max_redirects,
                max_bytes: args.max_bytes,
            },
            network,
        );
        let caps = crate::web::source::Caps {
            limit: args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            max_sitemaps: args.max_sitemaps,
            max_urls: args.max_urls,
        };
        let client = job.client().map_err(mproc::Error::usage)?;
        for warning in client.warnings() {
            tracing::warn!("system certificate store: {warning}");
        }
        let urls = crate::web::source::load(&args.source, client, caps)?;
        if urls.is_empty() {
            tracing::warn!("no URLs in {}", args.source);
        } else {
            tracing::info!(
                "fetching {} from {}",
                crate::report::count(urls.len() as u64, "URL"),
                args.source
            );
        }
        Ok(Plan {
            job,
            inputs: urls.into(),
        })
    }

    /// One row per URL: its index, status, title (or error) and final URL;
    /// then a footer. A failed row shows the error without its kind's URL,
    /// the status when the error is `http_status`, and the URL the error
    /// names (after redirects) or else the input.
    /// In the imap modes, a row as it comes (the title cut as in the
    /// table; not padded, as later titles are not known yet).
    fn line(result: &ItemResult<Page>, input: &String) -> Option<String> {
        let [index, status, title, url] = cells(result, input);
        let title = fit(&title, TITLE_COLUMNS);
        Some(format!("{index:>4} {status:>6}  {title}  {url}\n"))
    }

    fn report(run: &Report<'_, Fetch>) -> String {
        if run.streamed {
            return format!("{}\n", footer(run));
        }
        let rows: Vec<[String; 4]> = run
            .results
            .iter()
            .map(|r| cells(r, run.inputs.get(r.index).map_or("?", String::as_str)))
            .collect();
        let index_width = rows
            .iter()
            .map(|r| r[0].len())
            .chain([1])
            .max()
            .unwrap_or(1);
        let titles: Vec<String> = rows.iter().map(|r| fit(&r[2], TITLE_COLUMNS)).collect();
        let title_width = titles
            .iter()
            .map(|t| columns(t))
            .chain([5])
            .max()
            .unwrap_or(5);
        let mut s = String::new();
        let pad = |s: &mut String, text: &str, width: usize| {
            s.push_str(text);
            s.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(columns(text)),
            ));
        };
        let _ = write!(s, "{:>index_width$} status  ", "#");
        pad(&mut s, "title", title_width);
        s.push_str("  url\n");
        for (row, title) in rows.iter().zip(&titles) {
            let _ = write!(s, "{:>index_width$} {:>6}  ", row[0], row[1]);
            pad(&mut s, title, title_width);
            let _ = writeln!(s, "  {}", row[3]);
        }
        let _ = writeln!(s, "{}", footer(run));
        s
    }
}

/// One result's cells: index, HTTP status, title (or what went wrong)
/// and URL.
fn cells(r: &ItemResult<Page>, input: &str) -> [String; 4] {
    match r.outcome.as_ok() {
        Some(page) => [
            r.index.to_string(),
            page.status.to_string(),
            page.title.clone().unwrap_or_else(|| "(no title)".into()),
            page.url.clone(),
        ],
        None => {
            let error = r.outcome.error().unwrap_or_default();
            let (message, url) = crate::web::error::split_url(&error);
            let status =
                crate::web::error::http_status(&error).map_or("-".to_string(), |s| s.to_string());
            let url = url.unwrap_or(input).to_string();
            [r.index.to_string(), status, message.to_string(), url]
        }
    }
}

/// `100 items: 100 ok in 2.034 s with 5 processes x 1 at a time`.
fn footer(run: &Report<'_, Fetch>) -> String {
    let summary = run.summary;
    match run.context.processes {
        0 => format!("{} in this process (serial)", summary.line()),
        n => {
            let processes = match n {
                1 => "1 process".to_string(),
                n => format!("{n} processes"),
            };
            format!(
                "{} with {processes} x {} at a time",
                summary.line(),
                run.context.concurrency.max(1)
            )
        }
    }
}
