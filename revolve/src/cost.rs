//! Closed-form costs of binomial checkpointing, with checked 64-bit arithmetic.
//!
//! Conventions (Griewank & Walther): `n` steps, `s` slots counting the one that holds the
//! initial state. `beta(s, r) = C(s + r, s)` is the largest `n` that `s` slots reverse with
//! repetition number `r`; the optimal total forward steps (advances plus the `n` taped steps) is
//! `T(n, s) = (r + 1) n - C(s + r, s + 1)`.

use crate::Error;

/// Binomial coefficient `C(a, b)`, `None` if it does not fit in `u64`.
pub fn binomial_coefficient(a: u64, b: u64) -> Option<u64> {
    if b > a {
        return Some(0);
    }
    let k = b.min(a - b);
    let mut c: u128 = 1;
    for i in 1..=k {
        // c * (a - k + i) / i is exact: c = C(a - k + i - 1, i - 1).
        c = c.checked_mul(u128::from(a - k + i))? / u128::from(i);
        if c > u128::from(u64::MAX) {
            return None;
        }
    }
    u64::try_from(c).ok()
}

/// `beta(s, r) = C(s + r, s)`: the most steps `s` slots reverse with repetition number `r`.
///
/// ```
/// assert_eq!(revolve::cost::beta(3, 2).unwrap(), 10);
/// assert!(revolve::cost::beta(1000, 1000).is_err());
/// ```
pub fn beta(snaps: u64, reps: u64) -> Result<u64, Error> {
    let top = snaps
        .checked_add(reps)
        .ok_or(Error::Overflow { what: "beta(s, r)" })?;
    binomial_coefficient(top, snaps).ok_or(Error::Overflow { what: "beta(s, r)" })
}

/// `beta(s, r) >= n`, computed without overflow (an overflowing beta is >= any `n`).
fn beta_at_least(snaps: u64, reps: u64, steps: u64) -> bool {
    match snaps
        .checked_add(reps)
        .and_then(|t| binomial_coefficient(t, snaps))
    {
        Some(b) => b >= steps,
        None => true,
    }
}

fn check(steps: u64, snaps: u64) -> Result<(), Error> {
    if steps == 0 {
        return Err(Error::ZeroSteps);
    }
    if snaps == 0 {
        return Err(Error::ZeroSnaps);
    }
    Ok(())
}

/// Repetition number `r(n, s)`: the least `r` with `beta(s, r) >= n`.
///
/// ```
/// assert_eq!(revolve::cost::repetition_number(10, 3).unwrap(), 2);
/// assert_eq!(revolve::cost::repetition_number(1000, 10).unwrap(), 4);
/// ```
pub fn repetition_number(steps: u64, snaps: u64) -> Result<u64, Error> {
    check(steps, snaps)?;
    // beta(s, n - 1) >= n always, so r lies in [0, n - 1]; binary search (beta is increasing in r).
    let (mut lo, mut hi) = (0u64, steps - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if beta_at_least(snaps, mid, steps) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// Optimal total forward steps `T(n, s)` of an offline reversal (advances plus the `n` taped
/// steps), as reached by [`crate::Binomial`].
///
/// ```
/// use revolve::cost::optimal_forward;
/// assert_eq!(optimal_forward(10, 3).unwrap(), 25);
/// assert_eq!(optimal_forward(1000, 10).unwrap(), 4636);
/// ```
pub fn optimal_forward(steps: u64, snaps: u64) -> Result<u64, Error> {
    let r = repetition_number(steps, snaps)?;
    let over = || Error::Overflow {
        what: "T(n, s) = (r + 1) n - C(s + r, s + 1)",
    };
    let first = u128::from(r + 1) * u128::from(steps);
    let sub = if r == 0 {
        0
    } else {
        // C(s + r, s + 1) = C(s + r, r - 1) <= (r + 1) n, so it fits whenever the result can.
        let top = snaps.checked_add(r).ok_or_else(over)?;
        u128::from(binomial_coefficient(top, snaps + 1).ok_or_else(over)?)
    };
    u64::try_from(first - sub).map_err(|_| over())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E(n, s) by the textbook recursion (independent of the closed form).
    fn dp(nmax: usize, smax: usize) -> Vec<Vec<u64>> {
        let mut e = vec![vec![0u64; nmax + 1]; smax + 1];
        for (n, e1) in e[1].iter_mut().enumerate().skip(1) {
            *e1 = (n as u64) * (n as u64 - 1) / 2;
        }
        for s in 2..=smax {
            for n in 2..=nmax {
                let mut best = u64::MAX;
                for i in 1..n {
                    best = best.min(i as u64 + e[s][i] + e[s - 1][n - i]);
                }
                e[s][n] = best;
            }
        }
        e
    }

    #[test]
    fn closed_form_matches_recursion() {
        let e = dp(300, 8);
        for s in 1..=8u64 {
            for n in 1..=300u64 {
                assert_eq!(
                    optimal_forward(n, s).unwrap(),
                    n + e[s as usize][n as usize],
                    "n={n} s={s}"
                );
            }
        }
    }

    #[test]
    fn worked_values() {
        for (n, s, r, t) in [
            (10, 1, 9, 55),
            (10, 2, 3, 30),
            (10, 3, 2, 25),
            (10, 9, 1, 19),
            (20, 3, 3, 65),
            (50, 7, 3, 155),
            (100, 5, 4, 416),
            (100, 10, 3, 322),
            (1000, 10, 4, 4636),
        ] {
            assert_eq!(repetition_number(n, s).unwrap(), r, "r({n},{s})");
            assert_eq!(optimal_forward(n, s).unwrap(), t, "T({n},{s})");
        }
        assert_eq!(optimal_forward(6402, 1).unwrap(), 6402 * 6403 / 2);
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(matches!(beta(u64::MAX, 1), Err(Error::Overflow { .. })));
        assert!(optimal_forward(u64::MAX, 1).is_err());
        // T(n, s) >= 2n - 1: overflows for n = 2^64 - 1, just fits for n = s = 2^63.
        assert!(matches!(
            optimal_forward(u64::MAX, 64),
            Err(Error::Overflow { .. })
        ));
        assert_eq!(optimal_forward(1 << 63, 1 << 63).unwrap(), u64::MAX);
        assert!(matches!(optimal_forward(0, 3), Err(Error::ZeroSteps)));
        assert!(matches!(optimal_forward(3, 0), Err(Error::ZeroSnaps)));
    }
}
