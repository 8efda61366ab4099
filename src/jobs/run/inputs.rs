//! Where the arguments come from, as GNU parallel reads them: the words
//! after `:::` (and `:::+`, linked to the source before), the lines of the
//! files after `::::` (and `::::+`) and of each `-a FILE`, or stdin.
//! Each source is a list of records (one per line, per NUL with `-0`, per
//! `-d` byte); a regular file and the `:::` words are read before the run,
//! stdin and pipes stream. Each record is bounded by [`MAX_INPUT`].

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use mproc::Error;
use mproc::Result;

use crate::inputs::{records, Inputs, List, Stream};

/// The longest input read from stdin or a file (longer lines are failed
/// items; `exec` itself refuses one argument over 128 KiB).
pub(super) const MAX_INPUT: usize = 1 << 20;

/// An input, and its length when it was longer than [`MAX_INPUT`] (then
/// it is cut).
pub(super) type Item = (Vec<u8>, Option<u64>);

/// One input source as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Spec {
    /// The words after `:::`.
    Words(Vec<OsString>),
    /// The lines of a file (`::::`, `-a`; `-` is stdin).
    File(PathBuf),
}

/// A source and whether it is linked to the one before (`:::+`, `::::+`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Source {
    /// Where its records come from.
    pub spec: Spec,
    /// Linked to the source before: their records go together, one by
    /// one, instead of in every combination.
    pub linked: bool,
}

/// The command words, and the input sources after them.
pub(super) type Groups = (Vec<Vec<u8>>, Vec<Source>);

/// Splits the command line at the first `:::`, `:::+`, `::::` or
/// `::::+`; the words after each are a source of words, or files (each
/// file its own source).
pub(super) fn split_groups(words: Vec<OsString>) -> Result<Groups> {
    let mut command = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    // What the words being read are: none yet, words, or files.
    let mut current: Option<(bool, bool)> = None;
    for w in words {
        let sep = match w.as_encoded_bytes() {
            b":::" => Some((false, false)),
            b":::+" => Some((false, true)),
            b"::::" => Some((true, false)),
            b"::::+" => Some((true, true)),
            _ => None,
        };
        if let Some((files, linked)) = sep {
            if !files {
                sources.push(Source {
                    spec: Spec::Words(Vec::new()),
                    linked,
                });
            }
            current = Some((files, linked));
            continue;
        }
        match current {
            None => command.push(w.into_vec()),
            Some((false, _)) => {
                if let Some(Source {
                    spec: Spec::Words(ws),
                    ..
                }) = sources.last_mut()
                {
                    ws.push(w);
                }
            }
            Some((true, linked)) => {
                sources.push(Source {
                    spec: Spec::File(PathBuf::from(w)),
                    linked,
                });
                // Only the first file after `::::+` is linked.
                current = Some((true, false));
            }
        }
    }
    if let Some(first) = sources.first() {
        if first.linked {
            return Err(Error::usage(
                ":::+ and ::::+ link a source to the one before; the first source has none",
            ));
        }
    }
    Ok((command, sources))
}

/// An input, cut at [`MAX_INPUT`] (with its length when it was longer).
pub(super) fn bounded(mut arg: Vec<u8>) -> Item {
    if arg.len() > MAX_INPUT {
        let len = arg.len() as u64;
        arg.truncate(MAX_INPUT);
        (arg, Some(len))
    } else {
        (arg, None)
    }
}

/// The records of `path`: read before the run from a regular file,
/// streamed as the run goes from stdin (`-`) or anything else (a pipe).
/// `flag` names where the path came from in messages.
pub(super) fn read_list(path: &Path, sep: u8, flag: &str) -> Result<Inputs<Item>> {
    let name = format!("{flag} {}", path.display());
    match List::open(path).map_err(|e| Error::io(format!("cannot open {name}"), e))? {
        List::File(file) => read_items(BufReader::new(file), sep)
            .map(Inputs::from)
            .map_err(|e| Error::io(format!("cannot read {name}"), e)),
        List::Stream(reader) => Ok(stream(reader, name, sep)),
    }
}

/// The records `reader` gives, read as the run goes; `name` says where
/// they come from in an error.
pub(super) fn stream(reader: Box<dyn Read + Send>, name: String, sep: u8) -> Inputs<Item> {
    let items = records(BufReader::new(reader), sep, MAX_INPUT)
        .map(move |r| r.map_err(|e| Error::io(format!("cannot read {name}"), e)));
    Inputs::Stream(Stream::new(items))
}

/// Reads records ending with `sep` (the last may lack it), never holding
/// more than [`MAX_INPUT`] bytes of one.
pub(super) fn read_items(reader: impl BufRead, sep: u8) -> std::io::Result<Vec<Item>> {
    records(reader, sep, MAX_INPUT).collect()
}

/// All of a source's records, read now (a stream to its end).
pub(super) fn collect_all(inputs: Inputs<Item>) -> Result<Vec<Item>> {
    match inputs {
        Inputs::List(list) => Ok(list),
        Inputs::Stream(stream) => {
            let (items, failure) = stream.split();
            let all: Vec<Item> = items.collect();
            match failure.take() {
                Some(e) => Err(e),
                None => Ok(all),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_read_per_line_or_per_nul_and_bounded() {
        let got = read_items(&b"a\nb c\n\nd"[..], b'\n').unwrap();
        let args: Vec<&[u8]> = got.iter().map(|(a, _)| a.as_slice()).collect();
        assert_eq!(args, [&b"a"[..], b"b c", b"", b"d"]);
        let got = read_items(&b"x\ny\0z\0"[..], b'\0').unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, b"x\ny");
        let long = vec![b'x'; MAX_INPUT + 10];
        let got = read_items(&long[..], b'\n').unwrap();
        assert_eq!(got[0].1, Some(MAX_INPUT as u64 + 10));
        assert_eq!(got[0].0.len(), MAX_INPUT);
        assert!(read_items(&b""[..], b'\n').unwrap().is_empty());
    }

    #[test]
    fn separators_make_sources_linked_or_not() {
        let w = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        let (cmd, sources) = split_groups(w(&[
            "echo", "{}", ":::", "a", "b", ":::+", "c", "::::", "f", "g",
        ]))
        .unwrap();
        assert_eq!(cmd, [b"echo".to_vec(), b"{}".to_vec()]);
        assert_eq!(sources.len(), 4);
        assert_eq!(sources[0].spec, Spec::Words(w(&["a", "b"])));
        assert!(sources[1].linked && !sources[2].linked && !sources[3].linked);
        assert_eq!(sources[3].spec, Spec::File("g".into()));
        assert!(split_groups(w(&["echo", ":::+", "a"])).is_err());
        let (_, empty) = split_groups(w(&["echo", ":::"])).unwrap();
        assert_eq!(empty[0].spec, Spec::Words(vec![]));
    }
}
