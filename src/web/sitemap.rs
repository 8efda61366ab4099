//! Reading a sitemap (sitemaps.org): a `<urlset>` of page locations, or a
//! `<sitemapindex>` of other sitemaps' locations. Element names are matched
//! without their namespace prefix (`<sit:loc>` is `<loc>`), the text of
//! each `<loc>` is trimmed and has its entities decoded, and only a `<loc>`
//! directly inside a `<url>` or `<sitemap>` counts (not an `<image:loc>`).
//! As crawler-commons does, an entry with no `<loc>` but text of its own
//! (`<sitemap> https://... </sitemap>`) gives that text.
//!
//! This module only parses bytes: it fetches nothing, does not resolve
//! relative locations and does not decompress.

use quick_xml::events::Event;
use quick_xml::Reader;

/// What a sitemap lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sitemap {
    /// `<urlset>`: pages.
    Urls(Vec<String>),
    /// `<sitemapindex>`: other sitemaps.
    Index(Vec<String>),
}

/// The locations in a sitemap's XML, in document order; or why it is not
/// a sitemap (one line, lowercase).
pub(crate) fn parse(xml: &[u8]) -> Result<Sitemap, String> {
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut index = None;
    let mut locs = Vec::new();
    // The text of the current <loc>, and of the current entry itself.
    let mut loc: Option<String> = None;
    let mut entry: Option<(String, bool)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("bad XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                match (path.len(), index) {
                    (0, _) => index = Some(root_kind(&name)?),
                    (1, Some(is_index)) if name == entry_name(is_index) => {
                        entry = Some((String::new(), false));
                    }
                    (2, _) if entry.is_some() && name == b"loc" => loc = Some(String::new()),
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(e) if path.is_empty() => {
                index = Some(root_kind(e.local_name().as_ref())?);
            }
            Event::End(_) => {
                match path.len() {
                    3 if loc.is_some() => {
                        let text = loc.take().unwrap_or_default();
                        if let Some((_, has_loc)) = entry.as_mut() {
                            *has_loc = true;
                        }
                        push_trimmed(&mut locs, &text);
                    }
                    2 => {
                        if let Some((text, false)) = entry.take() {
                            push_trimmed(&mut locs, &text);
                        }
                    }
                    _ => {}
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| format!("bad text: {e}"))?;
                append(&mut loc, &mut entry, path.len(), &text);
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| format!("bad text: {e}"))?;
                append(&mut loc, &mut entry, path.len(), &text);
            }
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.decode().map_err(|e| format!("bad entity: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_string)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                    }
                };
                append(&mut loc, &mut entry, path.len(), &text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match index {
        Some(true) => Ok(Sitemap::Index(locs)),
        Some(false) => Ok(Sitemap::Urls(locs)),
        None => Err("no root element".to_string()),
    }
}

/// Whether a root element makes an index; other roots are not sitemaps.
fn root_kind(name: &[u8]) -> Result<bool, String> {
    match name {
        b"urlset" => Ok(false),
        b"sitemapindex" => Ok(true),
        other => Err(format!(
            "not a sitemap: the root element is <{}>, not <urlset> or <sitemapindex>",
            String::from_utf8_lossy(other)
        )),
    }
}

fn entry_name(index: bool) -> &'static [u8] {
    if index {
        b"sitemap"
    } else {
        b"url"
    }
}

/// Adds text to the open `<loc>` (depth 3), or to the entry's own text
/// (depth 2).
fn append(loc: &mut Option<String>, entry: &mut Option<(String, bool)>, depth: usize, text: &str) {
    match (depth, loc.as_mut(), entry.as_mut()) {
        (3, Some(loc), _) => loc.push_str(text),
        (2, _, Some((own, _))) => own.push_str(text),
        _ => {}
    }
}

fn push_trimmed(locs: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        locs.push(text.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Sitemap};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sitemaps");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
    }

    fn urls(xml: &[u8]) -> Vec<String> {
        match parse(xml).unwrap() {
            Sitemap::Urls(u) => u,
            other => panic!("expected a urlset, got {other:?}"),
        }
    }

    #[test]
    fn namespaced_and_with_whitespace() {
        let two = ["http://www.example.com/1", "http://www.example.com/2"];
        assert_eq!(urls(&fixture("sitemap.ns.xml")), two);
        assert_eq!(urls(&fixture("sitemap.badns.xml")), two);
    }

    #[test]
    fn entities_are_decoded_and_extensions_ignored() {
        let gz = fixture("xmlSitemap.gz");
        let mut xml = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut xml).unwrap();
        let list = urls(&xml);
        assert_eq!(list.len(), 5);
        assert_eq!(
            list[1],
            "http://www.example.com/catalog?item=12&desc=vacation_hawaii"
        );
        assert_eq!(
            urls(&fixture("sitemap-images.xml")),
            ["http://www.example.com/images/some_image_landing_page.html"]
        );
        assert_eq!(urls(&fixture("shinpaideshou-news-sitemap.xml")).len(), 3);
        let news = urls(&fixture("hebdenbridgetimes-articles-sitemap.xml"));
        assert!(news
            .iter()
            .all(|u| u.starts_with("http://www.hebdenbridgetimes.co.uk/")));
        assert!(news.len() > 10, "{}", news.len());
    }

    #[test]
    fn an_index_with_bare_text_entries() {
        let Sitemap::Index(children) = parse(&fixture("sitemap.index.xml")).unwrap() else {
            panic!("expected an index");
        };
        assert_eq!(children.len(), 15);
        assert_eq!(
            children[0],
            "https://example.com/sitemap.jss?portalCode=10260&lang=en"
        );
    }

    #[test]
    fn cdata_char_refs_and_relative_locations_are_kept_as_text() {
        let xml = b"<urlset><url><loc><![CDATA[/a?x=1&y=2]]></loc></url>\
                    <url><loc> b&#47;c </loc></url><url/></urlset>";
        assert_eq!(urls(xml), ["/a?x=1&y=2", "b/c"]);
    }

    #[test]
    fn what_is_not_a_sitemap() {
        let e = parse(&fixture("atom.xml")).unwrap_err();
        assert!(e.contains("root element is <feed>"), "{e}");
        assert!(parse(b"<urlset><url><loc>x</url>")
            .unwrap_err()
            .starts_with("bad XML"));
        assert_eq!(parse(b"").unwrap_err(), "no root element");
    }
}
