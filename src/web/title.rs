//! A page's title, as `document.title` gives it: the text of the first
//! `<title>` element, with character references decoded and ASCII
//! whitespace stripped and collapsed to single spaces.
//!
//! A small scanner, not a full HTML parser: it skips comments, doctypes,
//! processing instructions and end tags, the contents of `<script>`,
//! `<style>` and the other raw-text elements, and `<svg>`/`<math>`
//! subtrees (whose `<title>` is not the document's), and steps over
//! quoted attribute values, so a `<title>` in any of those does not count.
//! It works on decoded text; choosing the encoding is `charset`'s job.

use super::entities;

/// Elements whose content is text up to their end tag, not markup.
const RAW_TEXT: [&str; 10] = [
    "script", "style", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript", "svg",
    "math",
];

/// What scanning for the title found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The title (cleaned; it may be empty: `<title></title>`).
    Found(String),
    /// The text has no title; with more of the page there may be one.
    NotYet,
}

/// Scans `html` for its title. With `complete` true, `html` is the whole
/// page: an unclosed `<title>` runs to the end, as in a browser. Otherwise
/// only a closed `<title>` counts.
pub(crate) fn scan(html: &str, complete: bool) -> Scan {
    let bytes = html.as_bytes();
    let mut pos = 0;
    while let Some(lt) = find_byte(bytes, b'<', pos) {
        pos = lt + 1;
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            match comment_end(&html[lt + 4..]) {
                Some(end) => pos = lt + 4 + end,
                None => return Scan::NotYet,
            }
        } else if rest.starts_with("<!") || rest.starts_with("<?") || rest.starts_with("</") {
            match find_byte(bytes, b'>', lt + 1) {
                Some(gt) => pos = gt + 1,
                None => return Scan::NotYet,
            }
        } else if bytes.get(lt + 1).is_some_and(u8::is_ascii_alphabetic) {
            let Some((name, after)) = start_tag(html, lt + 1) else {
                return Scan::NotYet;
            };
            pos = after;
            if name == "title" {
                return match end_tag(html, after, "title") {
                    Some((end, _)) => Scan::Found(clean(&html[after..end])),
                    None if complete => Scan::Found(clean(&html[after..])),
                    None => Scan::NotYet,
                };
            }
            if RAW_TEXT.contains(&name.as_str()) {
                match end_tag(html, after, &name) {
                    Some((_, next)) => pos = next,
                    None => return Scan::NotYet,
                }
            }
        }
    }
    Scan::NotYet
}

/// Decodes character references, then strips and collapses ASCII
/// whitespace.
pub(crate) fn clean(raw: &str) -> String {
    let decoded = entities::decode(raw);
    decoded
        .split(['\t', '\n', '\x0C', '\r', ' '])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a comment whose body starts at `body` ends (just past its `>`):
/// `<!-->` and `<!--->` are whole comments, as in the tokenizer.
fn comment_end(body: &str) -> Option<usize> {
    if body.starts_with('>') {
        return Some(1);
    }
    if body.starts_with("->") {
        return Some(2);
    }
    body.find("-->").map(|i| i + 3)
}

/// A start tag whose name begins at `at`: its lowercased name and the
/// position just past its `>`, stepping over quoted attribute values.
fn start_tag(html: &str, at: usize) -> Option<(String, usize)> {
    let bytes = html.as_bytes();
    let name_len = bytes[at..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')?;
    let name = html[at..at + name_len].to_ascii_lowercase();
    let mut pos = at + name_len;
    let mut quote = None;
    loop {
        let b = *bytes.get(pos)?;
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'>' => return Some((name, pos + 1)),
            // A quote opens a value only just after `=` (and spaces).
            None if (b == b'"' || b == b'\'') && after_equals(bytes, pos) => quote = Some(b),
            None => {}
        }
        pos += 1;
    }
}

fn after_equals(bytes: &[u8], pos: usize) -> bool {
    bytes[..pos]
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'=')
}

/// The end tag `</name` (any case, followed by whitespace, `/` or `>`)
/// at or after `from`: where it starts, and where the text after it
/// starts.
fn end_tag(html: &str, from: usize, name: &str) -> Option<(usize, usize)> {
    let bytes = html.as_bytes();
    let mut pos = from;
    while let Some(lt) = find_byte(bytes, b'<', pos) {
        pos = lt + 1;
        let after = lt + 2 + name.len();
        let matches = bytes.get(lt + 1) == Some(&b'/')
            && bytes
                .get(lt + 2..after)
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if !matches {
            continue;
        }
        match bytes.get(after) {
            Some(b) if b.is_ascii_whitespace() || *b == b'/' || *b == b'>' => {
                let next = find_byte(bytes, b'>', after).map_or(bytes.len(), |gt| gt + 1);
                return Some((lt, next));
            }
            Some(_) => continue,
            None => return None,
        }
    }
    None
}

fn find_byte(bytes: &[u8], b: u8, from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|x| *x == b)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::{scan, Scan};

    fn title(html: &str) -> Option<String> {
        match scan(html, true) {
            Scan::Found(t) => Some(t),
            Scan::NotYet => None,
        }
    }

    #[test]
    fn entities_and_whitespace() {
        assert_eq!(
            title("<title>\n  Tom &amp; Jerry\t&mdash;  the&nbsp;show \r\n</title>").as_deref(),
            Some("Tom & Jerry — the\u{a0}show")
        );
        assert_eq!(title("<title></title>").as_deref(), Some(""));
        assert_eq!(title("<title>  </title>").as_deref(), Some(""));
    }

    #[test]
    fn attributes_and_case() {
        assert_eq!(
            title("<TITLE lang=en>Loud</TiTlE >").as_deref(),
            Some("Loud")
        );
        assert_eq!(title("<title\nid='t'>x</title\n>").as_deref(), Some("x"));
        assert_eq!(
            title("<meta content='a>b'><title>after</title>").as_deref(),
            Some("after")
        );
        // Not a title element: <titles>, and </titlex> does not close it.
        assert_eq!(
            title("<titles>no</titles><title>a</titlex>b</title>").as_deref(),
            Some("a</titlex>b")
        );
    }

    #[test]
    fn comments_scripts_and_svg_do_not_count() {
        let html =
            "<!-- <title>comment</title> --><script>var s = '<title>script</title>';</script>\
                    <style>/* <title> */</style><svg><title>icon</title></svg><title>real</title>";
        assert_eq!(title(html).as_deref(), Some("real"));
        assert_eq!(
            title("<!--><title>short comment</title>").as_deref(),
            Some("short comment")
        );
        assert_eq!(
            title("<!DOCTYPE html><?xml x?></p><title>t</title>").as_deref(),
            Some("t")
        );
        assert_eq!(title("<body>no title here</body>"), None);
    }

    #[test]
    fn partial_pages() {
        assert_eq!(scan("<head><title>Half", false), Scan::NotYet);
        assert_eq!(scan("<head><title>Half", true), Scan::Found("Half".into()));
        assert_eq!(scan("<!-- <title>x</title>", false), Scan::NotYet);
        assert_eq!(scan("<script><title>x</title>", false), Scan::NotYet);
        assert_eq!(
            scan("<title>Done</title><body>", false),
            Scan::Found("Done".into())
        );
    }
}
