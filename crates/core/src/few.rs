//! [`Few`]: the short lists a request needs (candidate pairs, keys, tokens, which of
//! them matched), without a heap allocation in the common case.

use smallvec::SmallVec;

/// A list that keeps up to two items inline (an endpoint has its current pair and at
/// most one previous pair) and moves to the heap beyond that, so that it holds any
/// number, like the `Vec` it stands for.
pub(crate) type Few<T> = SmallVec<[T; 2]>;

/// The items of `candidates` that `check` accepts, in order, `check` having run on
/// every one (no early exit at the first match): for the secrets a request is checked
/// against, each compared in constant time, so that the time taken does not tell which
/// of them matched.
pub(crate) fn matching<T>(candidates: &[T], mut check: impl FnMut(&T) -> bool) -> Few<&T> {
    candidates
        .iter()
        .filter(|candidate| check(candidate))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_checks_every_candidate_and_keeps_the_matches_in_order() {
        let mut checked = Vec::new();
        let matches = matching(&[1, 2, 3, 4], |n| {
            checked.push(*n);
            n % 2 == 0
        });
        assert_eq!(*matches, [&2, &4]);
        assert_eq!(checked, [1, 2, 3, 4]);
    }
}
