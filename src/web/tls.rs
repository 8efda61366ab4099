//! Which certificate authorities `https://` URLs are checked against: the
//! system's store, read as OpenSSL and curl read it (`SSL_CERT_FILE` and
//! `SSL_CERT_DIR` when set, else the distribution's bundle), plus the
//! certificates of `--cacert FILE`. Where the system has no store at all,
//! the Mozilla roots compiled in (`webpki-root-certs`) stand in for it.
//! Nothing here turns verification off.

use ureq::tls::{Certificate, PemItem, RootCerts};

/// The trusted roots, and what was read.
pub(crate) struct Roots {
    /// For ureq.
    pub roots: RootCerts,
    /// Problems reading the system store (an unreadable `SSL_CERT_FILE`...),
    /// one line each.
    pub warnings: Vec<String>,
}

/// The most bytes `--cacert` reads: 16 MiB (the whole Mozilla bundle is
/// about 200 KiB).
pub(crate) const MAX_CACERT: u64 = 16 << 20;

/// The system store plus `cacert` (a PEM file with one or more
/// certificates). A `cacert` that cannot be read or holds no certificate
/// is an error naming it.
pub(crate) fn roots(cacert: Option<&str>) -> Result<Roots, String> {
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    let native = rustls_native_certs::load_native_certs();
    let warnings: Vec<String> = native
        .errors
        .iter()
        .map(|e| crate::errors::lower_first(&e.to_string()))
        .collect();
    for der in &native.certs {
        certs.push(Certificate::from_der(der.as_ref()).to_owned());
    }
    if certs.is_empty() {
        for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            certs.push(Certificate::from_der(der.as_ref()).to_owned());
        }
    }
    let mut extra = 0;
    if let Some(path) = cacert {
        let pem = mproc::bounded::read_file("--cacert", std::path::Path::new(path), MAX_CACERT)
            .map_err(|e| e.to_string())?;
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => {
                    certs.push(c.to_owned());
                    extra += 1;
                }
                Ok(_) => {}
                Err(e) => return Err(format!("bad PEM in --cacert {path}: {e}")),
            }
        }
        if extra == 0 {
            return Err(format!(
                "no certificate in --cacert {path} (expected PEM: -----BEGIN CERTIFICATE-----)"
            ));
        }
    }
    Ok(Roots {
        roots: RootCerts::new_with_certs(&certs),
        warnings,
    })
}
