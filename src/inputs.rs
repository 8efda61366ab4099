//! A plan's inputs: a list known before the run, or a stream read while
//! the run goes (`--files-from -`, `mproc run` reading stdin, a list in a
//! pipe).
//!
//! A stream is pulled by the pool's feeder thread only as fast as results
//! are taken, so a slow producer never delays the items it has already
//! written, and an endless one (`yes path | mproc pool analyze
//! --files-from - --jsonl`) runs in bounded memory. A source that fails
//! while it is read ends the stream; the items read before still run and
//! are reported, and the failure is the run's error afterwards.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use mproc::{Error, Result};

/// The inputs of a run.
pub(crate) enum Inputs<T> {
    /// Known before the run.
    List(Vec<T>),
    /// Read while the run goes.
    Stream(Stream<T>),
}

impl<T> From<Vec<T>> for Inputs<T> {
    fn from(list: Vec<T>) -> Self {
        Inputs::List(list)
    }
}

impl<T: Send + 'static> Inputs<T> {
    /// Each input made into another.
    pub(crate) fn map<U: Send + 'static>(
        self,
        mut f: impl FnMut(T) -> U + Send + 'static,
    ) -> Inputs<U> {
        match self {
            Inputs::List(list) => Inputs::List(list.into_iter().map(f).collect()),
            Inputs::Stream(stream) => Inputs::Stream(Stream {
                source: Box::new(stream.source.map(move |r| r.map(&mut f))),
                failure: stream.failure,
            }),
        }
    }
}

/// Inputs read while the run goes; see the module docs.
pub(crate) struct Stream<T> {
    source: Box<dyn Iterator<Item = Result<T>> + Send>,
    failure: Arc<Mutex<Option<Error>>>,
}

impl<T: Send + 'static> Stream<T> {
    /// A stream of what `source` yields, up to its first error.
    pub(crate) fn new(source: impl Iterator<Item = Result<T>> + Send + 'static) -> Stream<T> {
        Stream {
            source: Box::new(source),
            failure: Arc::default(),
        }
    }

    /// The same stream reshaped by `f` (filtered, grouped), keeping where
    /// its read error goes.
    pub(crate) fn then<U: Send + 'static>(
        self,
        f: impl FnOnce(
            Box<dyn Iterator<Item = Result<T>> + Send>,
        ) -> Box<dyn Iterator<Item = Result<U>> + Send>,
    ) -> Stream<U> {
        Stream {
            source: f(self.source),
            failure: self.failure,
        }
    }

    /// The inputs, ending at the first error (which [`Failure::take`]
    /// gives once the run is over), and that failure's holder.
    pub(crate) fn split(self) -> (impl Iterator<Item = T> + Send + 'static, Failure) {
        let failure = Failure(Arc::clone(&self.failure));
        let holder = self.failure;
        let mut source = self.source;
        let items = std::iter::from_fn(move || match source.next()? {
            Ok(item) => Some(item),
            Err(e) => {
                tracing::error!("{e}; the items read before it still run");
                *holder.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                None
            }
        });
        (items, failure)
    }
}

/// Where a stream's read error is kept for after the run.
pub(crate) struct Failure(Arc<Mutex<Option<Error>>>);

impl Failure {
    /// The error that ended the stream early, if one did.
    pub(crate) fn take(&self) -> Option<Error> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A `--files-from` list, opened: a regular file is read whole before the
/// run (so the count is known); stdin (`-`) or anything else (a pipe,
/// `<(find ...)`) streams.
pub(crate) enum List {
    /// A regular file.
    File(std::fs::File),
    /// Stdin, a pipe, a socket.
    Stream(Box<dyn Read + Send>),
}

impl List {
    /// Opens the list at `path` (`-`: stdin).
    pub(crate) fn open(path: &Path) -> std::io::Result<List> {
        if path.as_os_str() == "-" {
            return Ok(List::Stream(Box::new(std::io::stdin())));
        }
        let file = std::fs::File::open(path)?;
        Ok(match file.metadata() {
            Ok(m) if m.is_file() => List::File(file),
            _ => List::Stream(Box::new(file)),
        })
    }
}

/// One record of a list: its bytes, cut at the reader's limit, and its
/// length when it was longer.
pub(crate) type Record = (Vec<u8>, Option<u64>);

/// The records of `reader`, each ending with `sep` (the last may lack
/// it), read one at a time and never holding more than `max` bytes of
/// one.
pub(crate) fn records<R: BufRead>(
    mut reader: R,
    sep: u8,
    max: usize,
) -> impl Iterator<Item = std::io::Result<Record>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let record = next_record(&mut reader, sep, max);
        match &record {
            Ok(None) | Err(_) => done = true,
            Ok(Some(_)) => {}
        }
        record.transpose()
    })
}

fn next_record(reader: &mut impl BufRead, sep: u8, max: usize) -> std::io::Result<Option<Record>> {
    let mut record = Vec::new();
    let mut len = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            // The end: a last record without its separator, or none.
            return Ok((len > 0).then(|| cut(record, len, max)));
        }
        let (part, found) = match buf.iter().position(|&b| b == sep) {
            Some(at) => (&buf[..at], true),
            None => (buf, false),
        };
        len += part.len() as u64;
        let room = max.saturating_sub(record.len());
        record.extend_from_slice(&part[..room.min(part.len())]);
        let used = part.len() + usize::from(found);
        reader.consume(used);
        if found {
            return Ok(Some(cut(record, len, max)));
        }
    }
}

fn cut(record: Vec<u8>, len: u64, max: usize) -> Record {
    (record, (len > max as u64).then_some(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_ends_at_its_first_error_and_keeps_it() {
        let source = vec![Ok(1), Ok(2), Err(Error::usage("broken pipe")), Ok(3)];
        let (items, failure) = Stream::new(source.into_iter()).split();
        assert_eq!(items.collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(
            failure.take().map(|e| e.message().to_string()).as_deref(),
            Some("broken pipe")
        );
        assert!(failure.take().is_none());
    }

    #[test]
    fn records_are_cut_at_the_limit_with_their_length() {
        let got: Vec<Record> = records(&b"ab\n\nabcdef\nxyz"[..], b'\n', 4)
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            got,
            vec![
                (b"ab".to_vec(), None),
                (Vec::new(), None),
                (b"abcd".to_vec(), Some(6)),
                (b"xyz".to_vec(), None),
            ]
        );
    }
}
