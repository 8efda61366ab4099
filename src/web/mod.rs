//! The web side of `mproc fetch`: an HTTP client with limits
//! (`client`), decoding pages as a browser does (`charset`,
//! `entities`, `title`), reading the list of URLs to fetch
//! (`source`, `sitemap`), and the offline demo site (`demo_site` on
//! the small server in [`http_server`]).
//!
//! Nothing here knows about pools, workers or the command line: the fetch
//! job (`jobs/fetch.rs`) calls [`Client::page`] for one URL, and the pool
//! command calls `source::load` once, in the parent.

pub(crate) mod charset;
pub(crate) mod client;
pub(crate) mod demo_pages;
pub(crate) mod demo_site;
pub(crate) mod entities;
pub(crate) mod error;
pub mod http_server;
pub(crate) mod page;
pub(crate) mod proxy;
mod reuse;
pub(crate) mod sitemap;
pub(crate) mod source;
pub(crate) mod title;
pub(crate) mod tls;

pub use client::{Client, Limits, Network};
pub use demo_site::{DemoOptions, DemoSite};
pub use error::{FetchError, FetchErrorKind};
pub use page::Page;
