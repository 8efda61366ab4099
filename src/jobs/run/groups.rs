//! From input sources to jobs, as GNU parallel 20221122 makes them: each
//! record split into columns (`--colsep`), a header taken off
//! (`--header`), linked sources read side by side (`:::+`, `--link`, the
//! shorter ones wrapped around), the rest combined in every way (the
//! first source varying slowest), empty records dropped (`-r`),
//! shuffled (`--shuf`), and several records per job (`-N`, `-n`, `-X`,
//! `-m`). One source that streams (stdin, a pipe) keeps streaming when
//! nothing needs all of it first.

use mproc::Error;
use mproc::Result;

use super::inputs::{bounded, collect_all, read_list, stream, Item, Source, Spec};
use crate::inputs::Inputs;

/// One job's arguments, and the longest input's length when one was
/// over the limit (the job then fails).
pub(super) type JobArgs = (Vec<Vec<u8>>, Option<u64>);

/// How `--colsep` splits a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Colsep {
    /// At each occurrence of these bytes.
    Text(Vec<u8>),
    /// At each run of blanks (`\s+`, ` +`).
    Blanks,
}

/// How many records a job takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PerJob {
    /// At most this many (`-N`, `-n`; 1 by default).
    Fixed(usize),
    /// As GNU's `-X`/`-m`: the records spread evenly over `slots` jobs
    /// running at once, each line at most [`MAX_LINE`] bytes.
    Spread {
        /// Jobs running at once.
        slots: usize,
    },
}

/// GNU parallel's longest command line (`--max-chars`' default here).
pub(super) const MAX_LINE: usize = 131_072 - 4096;

/// Everything that shapes the jobs.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    /// What ends a record on stdin and in files.
    pub sep: u8,
    /// `--colsep`
    pub colsep: Option<Colsep>,
    /// `--header`: the first record of each source names its columns.
    pub header: bool,
    /// `-r`: no job for a record of blanks only.
    pub skip_empty: bool,
    /// `--link`: every source linked to the one before.
    pub link: bool,
    /// `--shuf`
    pub shuf: bool,
    /// Records per job.
    pub per_job: PerJob,
}

/// The jobs, and the column names of `--header`.
pub(super) struct Jobs {
    /// Each job's arguments.
    pub jobs: Inputs<JobArgs>,
    /// `--header` names, in argument order.
    pub header: Vec<Vec<u8>>,
}

/// Reads the sources (`sources` after the command, else `files`, else
/// stdin) and makes the jobs.
pub(super) fn jobs(sources: Vec<Source>, shape: &Shape) -> Result<Jobs> {
    let sources = if sources.is_empty() {
        vec![Source {
            spec: Spec::File("-".into()),
            linked: false,
        }]
    } else {
        sources
    };
    let mut opened = Vec::new();
    for s in &sources {
        opened.push(open(&s.spec, shape.sep)?);
    }
    let streams = matches!(opened.as_slice(), [Inputs::Stream(_)]);
    if streams && !shape.header && !shape.shuf && matches!(shape.per_job, PerJob::Fixed(_)) {
        let Some(Inputs::Stream(stream)) = opened.pop() else {
            return Err(Error::usage("no input source"));
        };
        let shape = shape.clone();
        let jobs = Inputs::Stream(stream.then(move |records| {
            let shape2 = shape.clone();
            let recs = records.filter_map(move |r| match r {
                Ok(item) => record(item, &shape2).map(Ok),
                Err(e) => Some(Err(e)),
            });
            match shape.per_job {
                PerJob::Fixed(0) => Box::new(recs.map(|r| r.map(|(_, t)| (Vec::new(), t)))),
                PerJob::Fixed(n) => Box::new(chunks(recs, n)),
                PerJob::Spread { .. } => Box::new(recs),
            }
        }));
        return Ok(Jobs {
            jobs,
            header: Vec::new(),
        });
    }
    let mut lists = Vec::new();
    let mut header = Vec::new();
    for (s, inputs) in sources.iter().zip(opened) {
        let mut recs: Vec<JobArgs> = collect_all(inputs)?
            .into_iter()
            .map(|item| split(item, shape.colsep.as_ref()))
            .collect();
        if shape.header && !recs.is_empty() {
            header.extend(recs.remove(0).0);
        }
        let link = match (s.linked, shape.link && !lists.is_empty()) {
            (true, _) => Link::Shortest,
            (false, true) => Link::Wrap,
            (false, false) => Link::None,
        };
        lists.push((recs, link));
    }
    // An empty source among others gives one empty argument, as in GNU
    // parallel (`echo ::: a :::` runs `echo a ''`); all empty: no job.
    if lists.iter().any(|(l, _)| !l.is_empty()) {
        for (list, _) in lists.iter_mut().filter(|(l, _)| l.is_empty()) {
            list.push((vec![Vec::new()], None));
        }
    }
    let mut records = combine(lists);
    if shape.skip_empty {
        records.retain(|r| !blank(r));
    }
    if shape.shuf {
        shuffle(&mut records);
    }
    let jobs = match shape.per_job {
        // -N0: a job per record, with no arguments.
        PerJob::Fixed(0) => records.into_iter().map(|(_, t)| (Vec::new(), t)).collect(),
        PerJob::Fixed(n) => chunks(records.into_iter().map(Ok), n).collect::<Result<Vec<_>>>()?,
        PerJob::Spread { slots } => spread(records, slots),
    };
    Ok(Jobs {
        jobs: jobs.into(),
        header,
    })
}

fn open(spec: &Spec, sep: u8) -> Result<Inputs<Item>> {
    use std::os::unix::ffi::OsStringExt;
    match spec {
        Spec::Words(words) => Ok(words
            .iter()
            .map(|w| bounded(w.clone().into_vec()))
            .collect::<Vec<_>>()
            .into()),
        Spec::File(path) if path.as_os_str() == "-" => {
            Ok(stream(Box::new(std::io::stdin()), "stdin".into(), sep))
        }
        Spec::File(path) => read_list(path, sep, "input file"),
    }
}

/// One record as a job's arguments, unless `-r` drops it.
fn record(item: Item, shape: &Shape) -> Option<JobArgs> {
    let r = split(item, shape.colsep.as_ref());
    (!(shape.skip_empty && blank(&r))).then_some(r)
}

fn blank(r: &JobArgs) -> bool {
    r.0.iter().all(|a| a.iter().all(u8::is_ascii_whitespace))
}

/// A record split into its columns.
fn split((bytes, too_long): Item, colsep: Option<&Colsep>) -> JobArgs {
    let Some(colsep) = colsep else {
        return (vec![bytes], too_long);
    };
    let mut cols = Vec::new();
    match colsep {
        Colsep::Text(sep) if !sep.is_empty() => {
            let mut rest = bytes.as_slice();
            while let Some(at) = rest.windows(sep.len()).position(|w| w == sep.as_slice()) {
                cols.push(rest[..at].to_vec());
                rest = &rest[at + sep.len()..];
            }
            cols.push(rest.to_vec());
        }
        Colsep::Text(_) => cols.push(bytes),
        Colsep::Blanks => {
            let mut col = Vec::new();
            let mut last_blank = false;
            for &b in &bytes {
                let is_blank = b == b' ' || b == b'\t';
                if is_blank && !last_blank {
                    cols.push(std::mem::take(&mut col));
                } else if !is_blank {
                    col.push(b);
                }
                last_blank = is_blank;
            }
            cols.push(col);
        }
    }
    // GNU parallel trims blanks around each column with --colsep (--trim lr).
    let trim = |c: Vec<u8>| -> Vec<u8> {
        let start = c
            .iter()
            .position(|b| *b != b' ' && *b != b'\t')
            .unwrap_or(c.len());
        let end = c
            .iter()
            .rposition(|b| *b != b' ' && *b != b'\t')
            .map_or(start, |e| e + 1);
        c[start..end.max(start)].to_vec()
    };
    (cols.into_iter().map(trim).collect(), too_long)
}

/// How a source goes with the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// In every combination.
    None,
    /// Side by side, as long as the shortest (`:::+`).
    Shortest,
    /// Side by side, the shorter wrapped around (`--link`).
    Wrap,
}

/// Linked sources side by side, then every combination of the groups,
/// the first varying slowest.
fn combine(lists: Vec<(Vec<JobArgs>, Link)>) -> Vec<JobArgs> {
    let mut groups: Vec<(Vec<Vec<JobArgs>>, bool)> = Vec::new();
    for (list, link) in lists {
        match groups.last_mut() {
            Some((group, shortest)) if link != Link::None => {
                *shortest |= link == Link::Shortest;
                group.push(list);
            }
            _ => groups.push((vec![list], false)),
        }
    }
    let zipped: Vec<Vec<JobArgs>> = groups
        .into_iter()
        .map(|(group, shortest)| {
            let longest = if shortest {
                group.iter().map(Vec::len).min().unwrap_or(0)
            } else {
                group.iter().map(Vec::len).max().unwrap_or(0)
            };
            if group.iter().any(Vec::is_empty) {
                return Vec::new();
            }
            (0..longest)
                .map(|i| join(group.iter().map(|l| &l[i % l.len()])))
                .collect()
        })
        .collect();
    let mut out: Vec<JobArgs> = vec![(Vec::new(), None)];
    for group in zipped {
        out = out
            .iter()
            .flat_map(|prefix| group.iter().map(move |r| join([prefix, r])))
            .collect();
    }
    if out.len() == 1 && out[0].0.is_empty() {
        out.clear();
    }
    out
}

fn join<'a>(parts: impl IntoIterator<Item = &'a JobArgs>) -> JobArgs {
    let mut args = Vec::new();
    let mut too_long = None;
    for (a, t) in parts {
        args.extend(a.iter().cloned());
        too_long = too_long.max(*t);
    }
    (args, too_long)
}

/// Groups of `n` records.
fn chunks(
    mut records: impl Iterator<Item = Result<JobArgs>> + Send + 'static,
    n: usize,
) -> impl Iterator<Item = Result<JobArgs>> + Send + 'static {
    std::iter::from_fn(move || {
        let mut group = Vec::new();
        for r in records.by_ref() {
            match r {
                Ok(r) => group.push(r),
                Err(e) => return Some(Err(e)),
            }
            if group.len() == n {
                break;
            }
        }
        (!group.is_empty()).then(|| Ok(join(group.iter())))
    })
}

/// `-X`/`-m`: the records spread evenly over `slots` jobs (as GNU
/// parallel does once it has read every argument), none longer than
/// [`MAX_LINE`].
fn spread(records: Vec<JobArgs>, slots: usize) -> Vec<JobArgs> {
    let per = records.len().div_ceil(slots.max(1)).max(1);
    let mut jobs = Vec::new();
    let mut group: Vec<JobArgs> = Vec::new();
    let mut len = 0;
    for r in records {
        let size: usize = r.0.iter().map(|a| a.len() + 3).sum();
        if !group.is_empty() && (group.len() == per || len + size > MAX_LINE) {
            jobs.push(join(group.iter()));
            group.clear();
            len = 0;
        }
        len += size;
        group.push(r);
    }
    if !group.is_empty() {
        jobs.push(join(group.iter()));
    }
    jobs
}

/// `--shuf`: the records in a random order.
fn shuffle(records: &mut [JobArgs]) {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let mut rng = crate::rng::Rng::new(seed);
    for i in (1..records.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        records.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(words: &[&str]) -> Vec<JobArgs> {
        words
            .iter()
            .map(|w| (vec![w.as_bytes().to_vec()], None))
            .collect()
    }

    fn shown(jobs: &[JobArgs]) -> Vec<String> {
        jobs.iter()
            .map(|(a, _)| String::from_utf8(a.join(&b' ')).unwrap())
            .collect()
    }

    #[test]
    fn sources_combine_as_gnu_parallel_combines_them() {
        let product = combine(vec![
            (recs(&["a", "b"]), Link::None),
            (recs(&["1", "2"]), Link::None),
        ]);
        assert_eq!(shown(&product), ["a 1", "a 2", "b 1", "b 2"]);
        let linked = combine(vec![
            (recs(&["a", "b", "c"]), Link::None),
            (recs(&["1"]), Link::Wrap),
        ]);
        assert_eq!(shown(&linked), ["a 1", "b 1", "c 1"]);
        let plus = combine(vec![
            (recs(&["a", "b", "c"]), Link::None),
            (recs(&["1", "2"]), Link::Shortest),
        ]);
        assert_eq!(shown(&plus), ["a 1", "b 2"]);
        assert!(combine(vec![(recs(&[]), Link::None), (recs(&["1"]), Link::None)]).is_empty());
        let per2: Vec<JobArgs> = chunks(recs(&["a", "b", "c"]).into_iter().map(Ok), 2)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(shown(&per2), ["a b", "c"]);
        assert_eq!(
            shown(&spread(recs(&["a", "b", "c", "d", "e"]), 2)),
            ["a b c", "d e"]
        );
    }

    #[test]
    fn colsep_splits_records() {
        let t = Colsep::Text(b",".to_vec());
        assert_eq!(split((b"a,,b".to_vec(), None), Some(&t)).0.len(), 3);
        let got = split((b"a  b\tc".to_vec(), None), Some(&Colsep::Blanks)).0;
        assert_eq!(got, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }
}
