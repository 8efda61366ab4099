//! `mproc man`: man pages rendered by clap_mangen from the one command line,
//! [`command`](super::command): the top page alone (`mproc.1` on stdout),
//! or one page per subcommand written into a folder (`mproc.1`,
//! `mproc-pool.1`, `mproc-pool-analyze.1`, ...). A page names its
//! subcommands' pages in SUBCOMMANDS (clap_mangen's) and its parents' in SEE
//! ALSO: only pages that `--dir` writes too.

use std::path::Path;

use crate::errors::io_message;
use mproc::{Error, ErrorKind, Result};

/// One page: its name (`mproc-pool-analyze`), its command, and its
/// parents' pages (`mproc`, `mproc-pool`).
struct Page {
    name: String,
    command: clap::Command,
    see_also: Vec<String>,
}

/// The top page, `mproc.1`.
pub(super) fn page() -> Result<String> {
    let top = pages()
        .into_iter()
        .next()
        .expect("the top page comes first");
    Ok(String::from_utf8_lossy(&render(&top)?).into_owned())
}

/// Writes every page into `dir` (created if missing) and returns the paths
/// written, one per line.
pub(super) fn write_pages(dir: &Path) -> Result<String> {
    std::fs::create_dir_all(dir).map_err(|e| failed("cannot create --dir", dir, &e))?;
    let mut written = String::new();
    for page in pages() {
        let path = dir.join(format!("{}.1", page.name));
        std::fs::write(&path, render(&page)?).map_err(|e| failed("cannot write", &path, &e))?;
        written.push_str(&format!("{}\n", path.display()));
    }
    Ok(written)
}

/// `cannot write DIR/mproc.1: is a directory`: one line naming the file.
fn failed(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("{what} {}: {}", path.display(), io_message(e)),
    )
}

/// Every visible command, the top one first, parents before children.
fn pages() -> Vec<Page> {
    let mut top = without_help(super::command());
    top.build();
    let mut pages = Vec::new();
    collect(&top, &[], &mut pages);
    pages
}

/// clap's own `help` subcommands have no page.
fn without_help(command: clap::Command) -> clap::Command {
    command
        .disable_help_subcommand(true)
        .mut_subcommands(without_help)
}

fn collect(command: &clap::Command, parents: &[String], pages: &mut Vec<Page>) {
    let name = page_name(command);
    let children: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .collect();
    pages.push(Page {
        name: name.clone(),
        command: command.clone(),
        see_also: parents.to_vec(),
    });
    let mut parents = parents.to_vec();
    parents.push(name);
    for child in children {
        collect(child, &parents, pages);
    }
}

/// `mproc-pool-analyze`: clap's display name of a built subcommand, which is
/// also the name clap_mangen gives its page and uses in SUBCOMMANDS.
fn page_name(command: &clap::Command) -> String {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_string()
}

fn render(page: &Page) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(page.command.clone())
        .source(format!("mproc {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .map_err(|e| Error::io(format!("cannot render the man page {}", page.name), e))?;
    if !page.see_also.is_empty() {
        let names: Vec<String> = page
            .see_also
            .iter()
            .map(|n| format!("\\fB{}\\fR(1)", n.replace('-', "\\-")))
            .collect();
        out.extend_from_slice(format!(".SH \"SEE ALSO\"\n{}\n", names.join(", ")).as_bytes());
    }
    Ok(out)
}
