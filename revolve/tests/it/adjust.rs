//! `schedule::adjust` against C++ Revolve's `adjust` as pyrevolve 2.2.8 ships it.

use revolve::schedule::adjust;

/// `(n, adjust(n))` from pyrevolve 2.2.8's `pyrevolve.crevolve.adjust` (built from its sdist
/// with gcc 12, Python 3.11): every n in 0..=20000 was evaluated; the result is
/// nondecreasing and changes value exactly at the n listed (`first n with this value`).
const FIRST_N_OF_VALUE: [(u64, u64); 10] = [
    (0, 0),
    (2, 1),
    (3, 2),
    (7, 3),
    (21, 4),
    (71, 5),
    (253, 6),
    (925, 7),
    (3433, 8),
    (12871, 9),
];

/// Single values from the same build (C++ `int` steps, so at most 2^31 - 1).
const SAMPLES: [(u64, u64); 9] = [
    (100_000, 10),
    (123_456, 10),
    (999_999, 12),
    (1_000_000, 12),
    (5_000_000, 13),
    (10_000_000, 13),
    (100_000_000, 15),
    (1_000_000_000, 17),
    (2_147_483_647, 17),
];

#[test]
fn adjust_equals_pyrevolve_on_0_to_20000() {
    for n in 0..=20_000u64 {
        let want = FIRST_N_OF_VALUE
            .iter()
            .rev()
            .find(|&&(first, _)| first <= n)
            .map(|&(_, v)| v)
            .unwrap();
        assert_eq!(adjust(n), want, "n = {n}");
    }
}

#[test]
fn adjust_equals_pyrevolve_samples() {
    for (n, want) in SAMPLES {
        assert_eq!(adjust(n), want, "n = {n}");
    }
}

/// C(2u, u) in u128, `None` past it.
fn central(u: u64) -> Option<u128> {
    let mut c: u128 = 1;
    for i in 0..u128::from(u) {
        c = c.checked_mul(2 * (2 * i + 1))? / (i + 1);
    }
    Some(c)
}

#[test]
fn adjust_is_the_least_balanced_reach_covering_n() {
    let mut ns: Vec<u64> = (0..3000).collect();
    ns.extend((0..64).map(|k| 1u64 << k));
    ns.extend((1..64).map(|k| (1u64 << k) - 1));
    ns.extend([u64::MAX, u64::MAX - 1, 2_333_606_220, 2_333_606_221]);
    for n in ns {
        let u = adjust(n);
        assert!(central(u).unwrap() >= u128::from(n), "n = {n}, u = {u}");
        if u > 0 {
            assert!(central(u - 1).unwrap() < u128::from(n), "n = {n}, u = {u}");
        }
    }
}
