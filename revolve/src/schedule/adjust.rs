//! Revolve's `adjust(steps)`: the snapshot count C++ Revolve (Griewank & Walther) proposes when
//! the caller gives none (pyrevolve's `n_checkpoints=None`).
//!
//! C++ Revolve first looks for the smallest balanced pair `snaps = reps = u` whose reach
//! `β(u, u) = C(2u, u)` covers `steps`, then lowers the larger of the two while the reach still
//! covers `steps`, undoing the last lowering. Lowering `reps` to `u - 1` may still cover
//! `steps`, lowering `snaps` next never does (`u` is the least balanced one), so the snapshot
//! count it returns is always `u`: the least `u >= 0` with `C(2u, u) >= steps` (so 0 for
//! `steps <= 1`, as in C++).

/// The snapshot count C++ Revolve's `adjust(steps)` gives: the least `u` with
/// `C(2u, u) >= steps`.
///
/// ```
/// use revolve::schedule::adjust;
/// assert_eq!((adjust(1), adjust(2), adjust(6), adjust(7), adjust(1000)), (0, 1, 2, 3, 7));
/// ```
pub fn adjust(steps: u64) -> u64 {
    let steps = u128::from(steps);
    // central = C(2u, u); C(2u + 2, u + 1) = C(2u, u) * 2 (2u + 1) / (u + 1), exact. u stays
    // below 34 for any u64 `steps`, so the product fits in u128.
    let (mut u, mut central) = (0u64, 1u128);
    while central < steps {
        central = central * 2 * (2 * u128::from(u) + 1) / (u128::from(u) + 1);
        u += 1;
    }
    u
}
