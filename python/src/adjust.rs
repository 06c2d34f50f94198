//! `adjust(steps)`: C++ Revolve's snapshot count for `steps` steps.

use pyo3::prelude::*;

/// The snapshot count C++ Revolve's `adjust(steps)` gives (pyrevolve's `n_checkpoints=None`):
/// the least `u` with `C(2u, u) >= steps`.
#[pyfunction]
pub(crate) fn adjust(steps: u64) -> u64 {
    revolve::schedule::adjust(steps)
}
