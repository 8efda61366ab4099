//! Which input a result belongs to: the inputs handed to the pool
//! ([`Feed`]), where a result finds its input again ([`Lookup`]), and a
//! stream's inputs while their results are outstanding ([`StreamInputs`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The inputs handed to the pool: a list's, pulled between results, or a
/// stream's, pulled on a thread of their own.
pub(super) enum Feed<'a, T> {
    List(ListFeed<'a, T>),
    Stream(Box<dyn Iterator<Item = T> + Send>),
}

impl<T: Clone> Iterator for Feed<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Feed::List(inputs) => inputs.next(),
            Feed::Stream(inputs) => inputs.next(),
        }
    }
}

/// A list's inputs in order, or those `chosen` (`--resume`), cloned as
/// the pool takes them (a plain iterator, so a million are taken without a
/// call each).
pub(super) struct ListFeed<'a, T> {
    pub(super) all: &'a [T],
    pub(super) chosen: Option<&'a [usize]>,
    pub(super) next: usize,
}

impl<T: Clone> Iterator for ListFeed<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        let i = match self.chosen {
            None => self.next,
            Some(chosen) => *chosen.get(self.next)?,
        };
        let input = self.all.get(i)?.clone();
        self.next += 1;
        Some(input)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.chosen.map_or(self.all.len(), <[usize]>::len);
        let left = n.saturating_sub(self.next);
        (left, Some(left))
    }
}

/// Where a result finds its input.
pub(super) enum Lookup<'a, T> {
    /// A list; `chosen` maps the pool's indexes to the list's (`--resume`).
    List {
        all: &'a [T],
        chosen: Option<&'a [usize]>,
    },
    /// A stream's inputs as they are read.
    Stream(&'a Mutex<StreamInputs<T>>),
}

impl<'a, T: Clone> Lookup<'a, T> {
    /// The input of the pool's item `index`, with its index among all the
    /// inputs.
    pub(super) fn take(&self, index: usize) -> Option<(usize, Cow<'a, T>)> {
        match self {
            Lookup::List { all, chosen } => {
                let i = chosen.map_or(Some(index), |c| c.get(index).copied())?;
                Some((i, Cow::Borrowed(all.get(i)?)))
            }
            Lookup::Stream(held) => {
                let (i, input) = lock(held).outstanding.remove(&index)?;
                Some((i, Cow::Owned(input)))
            }
        }
    }
}

/// A stream's inputs: those whose results are outstanding, and with
/// `keep` every one read (for a human report).
pub(super) struct StreamInputs<T> {
    keep: bool,
    /// Every input read, with `keep`.
    pub(super) seen: Vec<T>,
    outstanding: HashMap<usize, (usize, T)>,
    /// Inputs read from the stream.
    pub(super) read: usize,
    /// Inputs handed to the pool.
    pub(super) next: usize,
}

impl<T: Clone + Send + 'static> StreamInputs<T> {
    pub(super) fn new(keep: bool) -> StreamInputs<T> {
        StreamInputs {
            keep,
            seen: Vec::new(),
            outstanding: HashMap::new(),
            read: 0,
            next: 0,
        }
    }

    /// The inputs of `items` that `skip` does not skip, each noted in
    /// `held` as it goes to the pool.
    pub(super) fn feed(
        held: Arc<Mutex<StreamInputs<T>>>,
        items: impl Iterator<Item = T> + Send + 'static,
        skip: impl Fn(&T) -> bool + Send + 'static,
    ) -> impl Iterator<Item = T> + Send + 'static {
        items.filter_map(move |input| {
            let mut held = lock(&held);
            let original = held.read;
            held.read += 1;
            if held.keep {
                held.seen.push(input.clone());
            }
            if skip(&input) {
                return None;
            }
            let index = held.next;
            held.next += 1;
            held.outstanding.insert(index, (original, input.clone()));
            Some(input)
        })
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
