//! Docs that stay true: every file path and every Rust type name that
//! README.md, crates/mproc/README.md and docs/ name in backticks exists in
//! the tree. A path (`src/progress.rs`, `crates/mproc/examples/`) must be
//! there, from the repository's root; a bare file name (`progress.rs`)
//! must be some file's name; a type (`ItemResult`, `Outcome::Failed`,
//! `mproc::Pool`) must be defined in the Rust sources (a struct, enum,
//! trait, type alias or enum variant; for `A::b`, `A` defined and `b`
//! a word of the sources).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Names the docs use that are not this tree's: Python's, other tools'
/// and other crates'. Each is checked to be used, so the list stays short.
const FOREIGN: [&str; 6] = [
    // Python's logging and urllib.
    "QueueHandler",
    "QueueListener",
    "HTTPError",
    // An encoding's name.
    "Shift_JIS",
    // The standard library's trait.
    "Drop",
    // A slurm.conf setting.
    "SlurmdTimeout",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, skipping build output and version control.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The inline code spans of a markdown text, outside fenced blocks.
fn spans(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            out.push(code.to_string());
        }
    }
    out
}

/// The standard library's wrappers, looked into rather than looked up.
const STD: [&str; 8] = [
    "Box", "Vec", "Option", "Arc", "Mutex", "Result", "String", "PathBuf",
];

/// The roots a repository path starts with.
const ROOTS: [&str; 8] = [
    "src/",
    "crates/",
    "docs/",
    "tests/",
    "examples/",
    "bench/",
    ".ci/",
    "Cargo.toml",
];

/// What a span names, if it names a path or a type.
#[derive(Debug, PartialEq)]
enum Named {
    Path(String),
    FileName(String),
    Type(Vec<String>),
}

fn classify(span: &str) -> Option<Named> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./".contains(c);
    if span.chars().all(plain) && !span.contains("..") {
        if ROOTS.iter().any(|r| span.starts_with(r)) || span == "README.md" {
            return Some(Named::Path(span.to_string()));
        }
        let extension = [".rs", ".md", ".toml"].iter().any(|e| span.ends_with(e));
        if extension && !span.contains('/') && span.len() > 3 {
            return Some(Named::FileName(span.to_string()));
        }
    }
    // `Type`, `Type<T>`, `a::Type::Variant`, `Type::method()`; inside the
    // standard library's wrappers (`Box<dyn Call>`), the type wrapped.
    let bare = span
        .split('<')
        .next()
        .unwrap_or(span)
        .trim_end_matches("()");
    if STD.contains(&bare) {
        let inner = span.get(bare.len() + 1..span.len().saturating_sub(1))?;
        return classify(inner.trim_start_matches("dyn "));
    }
    let segments: Vec<&str> = bare.split("::").collect();
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    let camel = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().any(|c| c.is_ascii_lowercase())
    };
    if segments.iter().all(|s| ident(s)) && segments.iter().any(|s| camel(s)) {
        // Only the segments from the first type on: `mproc::Pool` is `Pool`.
        let from = segments.iter().position(|s| camel(s)).unwrap_or(0);
        return Some(Named::Type(
            segments[from..].iter().map(|s| s.to_string()).collect(),
        ));
    }
    None
}

/// The Rust sources' definitions (types, traits, aliases, variants) and
/// their words.
struct Sources {
    defined: BTreeSet<String>,
    words: BTreeSet<String>,
}

impl Sources {
    fn read(all: &[PathBuf]) -> Sources {
        let mut defined = BTreeSet::new();
        let mut words = BTreeSet::new();
        for path in all
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            for line in text.lines() {
                let tokens: Vec<&str> = line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|t| !t.is_empty())
                    .collect();
                for pair in tokens.windows(2) {
                    if ["struct", "enum", "trait", "type", "union", "macro_rules"]
                        .contains(&pair[0])
                    {
                        defined.insert(pair[1].to_string());
                    }
                }
                // A variant: a line that starts with a capitalised name
                // followed by `(`, `{`, `,` or nothing.
                let t = line.trim_start();
                let name: String = t
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let rest = t[name.len()..].trim_start();
                if name.starts_with(|c: char| c.is_ascii_uppercase())
                    && (rest.is_empty() || rest.starts_with(['(', '{', ',', '=']))
                {
                    defined.insert(name);
                }
                words.extend(tokens.iter().map(|t| t.to_string()));
            }
        }
        Sources { defined, words }
    }

    fn has(&self, segments: &[String]) -> bool {
        let Some((first, rest)) = segments.split_first() else {
            return true;
        };
        self.defined.contains(first) && rest.iter().all(|s| self.words.contains(s))
    }
}

#[test]
fn every_path_and_type_the_docs_name_exists() {
    let root = root();
    let mut all = Vec::new();
    files(&root, &mut all);
    let names: BTreeSet<String> = all
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let sources = Sources::read(&all);
    let mut docs: Vec<PathBuf> = vec![root.join("README.md"), root.join("crates/mproc/README.md")];
    docs.extend(
        all.iter()
            .filter(|p| {
                p.starts_with(root.join("docs")) && p.extension().is_some_and(|e| e == "md")
            })
            .cloned(),
    );
    let mut wrong = Vec::new();
    let mut foreign_used = BTreeSet::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        let shown = doc.strip_prefix(&root).unwrap_or(doc).display().to_string();
        for span in spans(&text) {
            if FOREIGN.contains(&span.as_str()) {
                foreign_used.insert(span.clone());
                continue;
            }
            let ok = match classify(&span) {
                None => true,
                Some(Named::Path(p)) => root.join(&p).exists(),
                Some(Named::FileName(n)) => names.contains(&n),
                Some(Named::Type(segments)) => sources.has(&segments),
            };
            if !ok {
                wrong.push(format!("{shown}: `{span}`"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "{} names in the docs are not in the tree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let unused: Vec<&str> = FOREIGN
        .iter()
        .copied()
        .filter(|f| !foreign_used.contains(*f))
        .collect();
    assert!(unused.is_empty(), "FOREIGN names no doc uses: {unused:?}");
}

#[test]
fn what_counts_as_a_name() {
    let path = |s: &str| Some(Named::Path(s.to_string()));
    let ty = |s: &[&str]| Some(Named::Type(s.iter().map(|s| s.to_string()).collect()));
    assert_eq!(classify("src/progress.rs"), path("src/progress.rs"));
    assert_eq!(
        classify("crates/mproc/examples/"),
        path("crates/mproc/examples/")
    );
    assert_eq!(
        classify("progress.rs"),
        Some(Named::FileName("progress.rs".into()))
    );
    assert_eq!(classify("mproc::Pool"), ty(&["Pool"]));
    assert_eq!(classify("Outcome::Failed"), ty(&["Outcome", "Failed"]));
    assert_eq!(classify("ItemResult<T>"), ty(&["ItemResult"]));
    assert_eq!(classify("Pool::map_fn()"), ty(&["Pool", "map_fn"]));
    assert_eq!(classify("Box<dyn Call>"), ty(&["Call"]));
    assert_eq!(classify("Option<Exit>"), ty(&["Exit"]));
    for not_a_name in [
        "--json",
        "SIGTERM",
        "mproc run",
        "/proc/self/exe",
        "text/html",
        "0.2",
        "HTTP",
    ] {
        assert_eq!(classify(not_a_name), None, "{not_a_name}");
    }
    assert_eq!(spans("a `x` b `y`\n```\n`z`\n```\n`w`"), ["x", "y", "w"]);
}
