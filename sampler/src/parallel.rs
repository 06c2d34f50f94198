//! Deterministic errors from parallel loops: when several items fail, the error reported is the
//! one of the first failing item in index order (the lowest trajectory id), for any thread count.

use crate::Result;
use rayon::prelude::*;

/// The items' values in order, or the error of the first failing item in index order (rayon's
/// `collect` into a `Vec` keeps the sequential order, indexed or not).
///
/// Every item runs (a failure does not cancel the others): errors are rare, and which one is
/// reported must not depend on scheduling.
pub(crate) fn collect_ordered<T, I>(items: I) -> Result<Vec<T>>
where
    T: Send,
    I: ParallelIterator<Item = Result<T>>,
{
    let all: Vec<Result<T>> = items.collect();
    all.into_iter().collect()
}
