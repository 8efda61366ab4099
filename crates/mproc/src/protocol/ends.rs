//! [`Ends`]: where each item's bytes end in a list of items encoded one
//! after another (a chunk's inputs, a report's outputs). Items of one
//! width, as a million numbers or a single item are, keep a width and a
//! count: no list to write, send, read or free.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Where each item ends in a list of encoded items: items of one width
/// (a million numbers; one item at `--chunksize 1`) as that width, others
/// in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ends {
    /// `count` items of `width` bytes each.
    Even { width: u32, count: u32 },
    /// Each item's end, ascending.
    Many(#[serde(with = "super::packed")] Vec<u32>),
}

impl Default for Ends {
    fn default() -> Self {
        Ends::Many(Vec::new())
    }
}

impl Ends {
    /// How many items.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Ends::Even { count, .. } => *count as usize,
            Ends::Many(ends) => ends.len(),
        }
    }

    /// No items.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The end of item `i` (which must be in the chunk).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Ends::Even { width, count } => {
                assert!(i < *count as usize, "item {i} of {count}");
                width * (i as u32 + 1)
            }
            Ends::Many(ends) => ends[i],
        }
    }

    /// Adds the end of the next item. Items of one width keep the chunk
    /// a width and a count; the first of another width makes it a list.
    #[inline]
    pub fn push(&mut self, end: u32) {
        match self {
            Ends::Even { width, count }
                if u64::from(end) == u64::from(*width) * (u64::from(*count) + 1) =>
            {
                *count += 1;
            }
            Ends::Many(ends) if !ends.is_empty() => ends.push(end),
            _ => self.push_other(end),
        }
    }

    /// [`Ends::push`] of the first end, or of one that breaks the width.
    #[cold]
    fn push_other(&mut self, end: u32) {
        *self = match std::mem::take(self) {
            Ends::Many(ends) if ends.is_empty() => Ends::Even {
                width: end,
                count: 1,
            },
            even @ Ends::Even { .. } => {
                let mut ends: Vec<u32> = even.iter().collect();
                ends.push(end);
                Ends::Many(ends)
            }
            Ends::Many(mut ends) => {
                ends.push(end);
                Ends::Many(ends)
            }
        };
    }

    /// Drops the last item's end.
    pub fn pop(&mut self) {
        match self {
            Ends::Even { count: 1, .. } => *self = Ends::default(),
            Ends::Even { count, .. } => *count -= 1,
            Ends::Many(ends) => {
                ends.pop();
            }
        }
    }

    /// The ends of items `range`, less `base` (the end of the item before
    /// it, or 0).
    pub fn shifted(&self, range: Range<usize>, base: u32) -> Ends {
        if range.is_empty() {
            return Ends::default();
        }
        match self {
            Ends::Even { width, .. } if base == width * range.start as u32 => Ends::Even {
                width: *width,
                count: range.len() as u32,
            },
            _ => {
                let mut shifted = Ends::default();
                for i in range {
                    shifted.push(self.get(i) - base);
                }
                shifted
            }
        }
    }

    /// The end of item `i`, if there is one.
    #[inline]
    pub fn try_get(&self, i: usize) -> Option<u32> {
        (i < self.len()).then(|| self.get(i))
    }

    /// Every end, in order (a range's map: collected without a check
    /// per element).
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Empties the list, keeping its memory.
    pub fn clear(&mut self) {
        match self {
            Ends::Many(ends) => ends.clear(),
            Ends::Even { .. } => *self = Ends::default(),
        }
    }

    /// True when the ends ascend and the last is at most `len` (as a
    /// worker must send them: a frame claiming otherwise is not believed).
    pub fn ascend_within(&self, len: usize) -> bool {
        match self {
            Ends::Even { width, count } => u64::from(*width) * u64::from(*count) <= len as u64,
            Ends::Many(ends) => ends
                .iter()
                .try_fold(0u32, |prev, &e| (e >= prev).then_some(e))
                .is_some_and(|last| last as usize <= len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ends;

    fn ends(e: &Ends) -> Vec<u32> {
        (0..e.len()).map(|i| e.get(i)).collect()
    }

    #[test]
    fn ends_keep_one_in_place_and_more_in_a_list() {
        let mut e = Ends::default();
        assert!(e.is_empty());
        e.push(3);
        assert!(matches!(e, Ends::Even { width: 3, count: 1 }));
        e.push(7);
        e.push(12);
        assert!(matches!(e, Ends::Many(_)));
        assert_eq!(ends(&e), [3, 7, 12]);
        assert_eq!(ends(&e.shifted(1..3, 3)), [4, 9]);
        assert!(matches!(
            e.shifted(2..3, 7),
            Ends::Even { width: 5, count: 1 }
        ));
        assert_eq!(e.shifted(1..1, 3).len(), 0);
        e.pop();
        assert_eq!(ends(&e), [3, 7]);
        let mut one = Ends::default();
        one.push(4);
        assert_eq!(ends(&one.shifted(0..1, 0)), [4]);
        one.pop();
        assert_eq!(one.len(), 0);
    }

    #[test]
    fn ends_of_one_width_are_kept_as_the_width() {
        let mut e = Ends::default();
        for end in [8, 16, 24, 32] {
            e.push(end);
        }
        assert!(matches!(e, Ends::Even { width: 8, count: 4 }));
        assert_eq!(ends(&e), [8, 16, 24, 32]);
        assert!(matches!(
            e.shifted(1..3, 8),
            Ends::Even { width: 8, count: 2 }
        ));
        assert_eq!(ends(&e.shifted(1..4, 8)), [8, 16, 24]);
        e.pop();
        assert_eq!(ends(&e), [8, 16, 24]);
        // A wider item ends the run of one width.
        e.push(33);
        assert!(matches!(e, Ends::Many(_)));
        assert_eq!(ends(&e), [8, 16, 24, 33]);
        // Items that encode to nothing.
        let mut empty = Ends::default();
        empty.push(0);
        empty.push(0);
        assert!(matches!(empty, Ends::Even { width: 0, count: 2 }));
        assert_eq!(ends(&empty.shifted(1..2, 0)), [0]);
    }

    #[test]
    fn ends_are_believed_only_when_they_ascend_within_the_outputs() {
        assert!(Ends::Even { width: 8, count: 4 }.ascend_within(32));
        assert!(!Ends::Even { width: 8, count: 4 }.ascend_within(31));
        assert!(!Ends::Even {
            width: u32::MAX,
            count: u32::MAX
        }
        .ascend_within(usize::MAX >> 32));
        assert!(Ends::Many(vec![1, 1, 5]).ascend_within(5));
        assert!(!Ends::Many(vec![2, 1]).ascend_within(5));
        assert!(Ends::default().ascend_within(0));
        let mut e = Ends::Even { width: 2, count: 3 };
        assert_eq!(e.try_get(2), Some(6));
        assert_eq!(e.try_get(3), None);
        assert_eq!(e.iter().collect::<Vec<_>>(), [2, 4, 6]);
        e.clear();
        assert!(e.is_empty());
    }
}
