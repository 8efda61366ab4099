//! `mproc serve-demo`: start the offline demo site on 127.0.0.1, print its
//! base URL on stdout (and what to try on stderr), and serve until killed.

use super::Status;
use crate::errors::io_message;
use crate::report::{count, Stdout};
use crate::web::{DemoOptions, DemoSite};
use mproc::{Error, ErrorKind, Result};

pub(super) fn run(options: DemoOptions) -> Result<Status> {
    let site = DemoSite::start(options).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot serve on 127.0.0.1:{} (--port): {}",
                options.port,
                io_message(&e)
            ),
        )
    })?;
    let base = site.base_url();
    Stdout::print_all(&format!("{base}\n"))?;
    tracing::info!(
        "serving {} with {} ms latency; try: mproc fetch {base}/sitemap.xml, or {base}/tour.txt; \
         stop it with Ctrl-C, or, if started with &, with kill %1 (or kill {})",
        count(options.pages as u64, "page"),
        options.latency.as_millis(),
        std::process::id()
    );
    site.wait();
    Ok(Status::OK)
}
