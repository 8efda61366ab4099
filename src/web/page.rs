//! [`Page`]: what fetching one URL gives. Its fields are the fetch job's
//! output, so they are also the job fields of every `--json` record.

use serde::{Deserialize, Serialize};

/// One fetched page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The URL after redirects.
    pub url: String,
    /// The HTTP status (2xx or 3xx: 4xx and 5xx are errors).
    pub status: u16,
    /// The first `<title>`'s text, entities decoded and whitespace
    /// collapsed; `None` when the page has none.
    pub title: Option<String>,
    /// The `Content-Type` header, as sent.
    pub content_type: Option<String>,
    /// The encoding the page was decoded with (`UTF-8`, `Shift_JIS`...).
    pub encoding: String,
    /// How the encoding was decided: `bom`, `header` (the `Content-Type`
    /// charset), `meta`, `detected` (guessed from the bytes) or `default`
    /// (all ASCII: windows-1252).
    pub encoding_source: String,
    /// Body bytes read (after any gzip decoding). Reading stops once the
    /// title has ended, so this is often less than the whole page.
    pub bytes: u64,
    /// Milliseconds from sending the request to the last byte read.
    pub fetch_ms: u64,
}
