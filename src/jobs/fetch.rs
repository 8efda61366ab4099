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

use crate::job::{Job, JobError};
use crate::web::{Client, Limits, Page};

/// Fetches one URL with [`Limits`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Fetch {
    /// Timeouts, redirects and the body cap.
    pub limits: Limits,
    /// This process's client, made on first use.
    #[serde(skip)]
    client: OnceLock<Client>,
}

impl Fetch {
    /// The job with `limits`.
    pub fn new(limits: Limits) -> Fetch {
        Fetch {
            limits,
            client: OnceLock::new(),
        }
    }

    /// The client this process uses.
    pub fn client(&self) -> &Client {
        self.client.get_or_init(|| Client::new(self.limits))
    }
}

impl Job for Fetch {
    const NAME: &'static str = "fetch";
    type Input = String;
    type Output = Page;

    fn run(&self, url: String) -> Result<Page, JobError> {
        tracing::debug!("Process {} fetching {url}", std::process::id());
        Ok(self.client().page(&url)?)
    }
}
