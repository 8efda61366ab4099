//! Where the inputs come from: the words after `:::`, or items read from
//! stdin or `--files-from`, one per line or NUL-separated, each bounded by
//! [`MAX_INPUT`].

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use mproc::error::Error;
use mproc::Result;

use crate::inputs::{records, Inputs, List, Stream};

/// The longest input read from stdin or `--files-from` (longer lines are
/// failed items; `exec` itself refuses one argument over 128 KiB).
pub const MAX_INPUT: usize = 1 << 20;

/// An input, and its length when it was longer than [`MAX_INPUT`] (then
/// it is cut).
pub type Item = (Vec<u8>, Option<u64>);

/// The command words, and the inputs after `:::` if there are any.
pub type Groups = (Vec<Vec<u8>>, Option<Vec<OsString>>);

/// Splits the command at the first `:::`.
pub fn split_groups(words: Vec<OsString>) -> Result<Groups> {
    let mut words = words.into_iter();
    let mut command = Vec::new();
    let mut group = None;
    for w in words.by_ref() {
        match w.as_encoded_bytes() {
            b":::" => {
                group = Some(Vec::new());
                break;
            }
            b"::::" => {
                return Err(Error::usage(
                    ":::: (inputs from files) is not supported: use --files-from FILE",
                ))
            }
            _ => command.push(w.into_vec()),
        }
    }
    if let Some(group) = group.as_mut() {
        for w in words {
            if w == ":::" || w == "::::" {
                return Err(Error::usage(
                    "mproc run takes one ::: group of inputs; combine several groups \
                     yourself (for example with a loop that prints each pair on a line)",
                ));
            }
            group.push(w);
        }
    }
    Ok((command, group))
}

/// An input, cut at [`MAX_INPUT`] (with its length when it was longer).
pub fn bounded(mut arg: Vec<u8>) -> Item {
    if arg.len() > MAX_INPUT {
        let len = arg.len() as u64;
        arg.truncate(MAX_INPUT);
        (arg, Some(len))
    } else {
        (arg, None)
    }
}

/// The inputs `--files-from path` names: read before the run from a
/// regular file, streamed as the run goes from stdin (`-`) or anything
/// else (a pipe).
pub fn read_list(path: &Path, sep: u8) -> Result<Inputs<Item>> {
    let name = format!("--files-from {}", path.display());
    match List::open(path).map_err(|e| Error::io(format!("cannot open {name}"), e))? {
        List::File(file) => read_items(BufReader::new(file), sep)
            .map(Inputs::from)
            .map_err(|e| Error::io(format!("cannot read {name}"), e)),
        List::Stream(reader) => Ok(stream(reader, name, sep)),
    }
}

/// The inputs `reader` gives, read as the run goes; `name` says where
/// they come from in an error.
pub fn stream(reader: Box<dyn Read + Send>, name: String, sep: u8) -> Inputs<Item> {
    let items = records(BufReader::new(reader), sep, MAX_INPUT)
        .map(move |r| r.map_err(|e| Error::io(format!("cannot read {name}"), e)));
    Inputs::Stream(Stream::new(items))
}

/// Reads inputs ending with `sep` (the last may lack it), never holding
/// more than [`MAX_INPUT`] bytes of one.
pub fn read_items(reader: impl BufRead, sep: u8) -> std::io::Result<Vec<Item>> {
    records(reader, sep, MAX_INPUT).collect()
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
}
