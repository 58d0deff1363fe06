//! [`Few`]: the short lists a request needs (candidate pairs, keys, tokens, which of
//! them matched), without a heap allocation in the common case.

use std::ops::Deref;

/// A list of `Copy` items that keeps up to two inline (an endpoint has its current
/// pair and at most one previous pair) and moves to the heap beyond that, so that it
/// holds any number, like the `Vec` it stands for.
#[derive(Debug, Clone)]
pub(crate) enum Few<T: Copy> {
    Empty,
    /// `items[..len]`, `len` being 1 or 2 (the slot after the last is a copy of the
    /// first item, never read).
    Inline {
        items: [T; 2],
        len: usize,
    },
    Heap(Vec<T>),
}

impl<T: Copy> Few<T> {
    /// The list of `item` alone.
    pub(crate) fn one(item: T) -> Self {
        Self::Inline {
            items: [item, item],
            len: 1,
        }
    }

    pub(crate) fn push(&mut self, item: T) {
        match self {
            Self::Empty => *self = Self::one(item),
            Self::Inline {
                items,
                len: len @ 1,
            } => {
                items[1] = item;
                *len = 2;
            }
            Self::Inline { items, .. } => *self = Self::Heap(vec![items[0], items[1], item]),
            Self::Heap(items) => items.push(item),
        }
    }
}

impl<'c, T> Few<&'c T> {
    /// The items of `candidates` that `check` accepts, in order, `check` having run on
    /// every one (no early exit at the first match): for the secrets a request is
    /// checked against, each compared in constant time, so that the time taken does
    /// not tell which of them matched.
    pub(crate) fn matching(candidates: &'c [T], mut check: impl FnMut(&T) -> bool) -> Self {
        candidates
            .iter()
            .filter(|candidate| check(candidate))
            .collect()
    }
}

impl<T: Copy> Deref for Few<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Self::Empty => &[],
            Self::Inline { items, len } => &items[..*len],
            Self::Heap(items) => items,
        }
    }
}

impl<T: Copy> Extend<T> for Few<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

impl<T: Copy> FromIterator<T> for Few<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut few = Self::Empty;
        few.extend(iter);
        few
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_any_number_in_order() {
        for n in 0..6 {
            let few: Few<usize> = (0..n).collect();
            assert_eq!(*few, (0..n).collect::<Vec<_>>()[..]);
            assert_eq!(matches!(few, Few::Heap(_)), n > 2);
        }
        let mut few = Few::one('a');
        few.extend(['b', 'c']);
        assert_eq!(*few, ['a', 'b', 'c']);
    }

    #[test]
    fn matching_checks_every_candidate_and_keeps_the_matches_in_order() {
        let mut checked = Vec::new();
        let matches = Few::matching(&[1, 2, 3, 4], |n| {
            checked.push(*n);
            n % 2 == 0
        });
        assert_eq!(*matches, [&2, &4]);
        assert_eq!(checked, [1, 2, 3, 4]);
    }
}
