//! The online schedule: validity over the grid, quality against the offline optimum and
//! C++ Revolve's online mode, API properties.

use revolve::cost::optimal_forward;
use revolve::schedule::online::{Online, simulate};
use revolve::{Action, Capacity, Error, Machine, Stats, validate};

/// Total forward steps of every `n` in `1..=nmax` for `snaps` slots, each run checked by the
/// validator; one planner per `n`, fed event by event.
fn run(n: u64, snaps: u64) -> Stats {
    let mut m = Machine::new(n, Capacity::ram(snaps));
    let mut plan = Online::new(snaps).unwrap();
    for _ in 1..n {
        for a in plan.advance().unwrap() {
            m.execute(a)
                .unwrap_or_else(|r| panic!("n={n} s={snaps} {a}: {r}"));
        }
    }
    for a in plan.finish() {
        m.execute(a)
            .unwrap_or_else(|r| panic!("n={n} s={snaps} {a}: {r}"));
    }
    m.finish()
        .unwrap_or_else(|r| panic!("n={n} s={snaps}: {r}"))
}

/// Validates every `n` in `1..=nmax` for each `s` in `ss` (two threads) and returns, per `s`,
/// the total forward steps indexed by `n`. One forward sweep per `s`: the planner is
/// deterministic and its sweep for `n` steps is a prefix of the sweep for `nmax`, so at each `n`
/// the planner and the validating machine are cloned and the clone is finished; every `n`'s
/// whole action stream is thereby executed by the validator.
fn grid(nmax_of: impl Fn(u64) -> u64 + Sync, ss: &[u64]) -> Vec<(u64, Vec<u64>)> {
    let nmax_of = &nmax_of;
    let half = ss.len().div_ceil(2).max(1);
    std::thread::scope(|scope| {
        let hs: Vec<_> = ss
            .chunks(half)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&s| {
                            let nmax = nmax_of(s);
                            let mut totals = vec![0u64; nmax as usize + 1];
                            let mut plan = Online::new(s).unwrap();
                            let mut prefix: Vec<Action> = Vec::new();
                            for n in 1..=nmax {
                                // The state is at step n - 1: end here, on a clone, and replay
                                // the whole stream through a fresh validator for n steps.
                                let mut m = Machine::new(n, Capacity::ram(s));
                                for &a in prefix
                                    .iter()
                                    .chain(&plan.clone().finish().collect::<Vec<_>>())
                                {
                                    m.execute(a)
                                        .unwrap_or_else(|r| panic!("n={n} s={s} {a}: {r}"));
                                }
                                let st = m.finish().unwrap_or_else(|r| panic!("n={n} s={s}: {r}"));
                                assert_eq!(st.reverse, n);
                                assert!(st.peak[0] <= s, "n={n} s={s} peak {}", st.peak[0]);
                                assert!(
                                    st.forward >= optimal_forward(n, s).unwrap(),
                                    "n={n} s={s}"
                                );
                                totals[n as usize] = st.forward;
                                if n < nmax {
                                    prefix.extend(plan.advance().unwrap());
                                }
                            }
                            (s, totals)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

fn worst_ratio(res: &[(u64, Vec<u64>)]) -> f64 {
    let mut worst = 1.0f64;
    for (s, totals) in res {
        for (n, &f) in totals.iter().enumerate().skip(1) {
            worst = worst.max(f as f64 / optimal_forward(n as u64, *s).unwrap() as f64);
        }
    }
    worst
}

#[test]
fn dense_subset_is_valid() {
    let ss: Vec<u64> = (2..=40).collect();
    let res = grid(|_| 400, &ss);
    // Spot check: the cloned-prefix counts equal independent runs.
    for (s, totals) in &res {
        for n in [1u64, 2, 7, 99, 400] {
            assert_eq!(totals[n as usize], run(n, *s).forward, "n={n} s={s}");
        }
    }
    let w = worst_ratio(&res);
    assert!(w < 1.1, "worst ratio {w}");
}

#[test]
#[ignore = "full grid 1 <= n <= 2000, 2 <= s <= 40: cargo test --release -p revolve --test it -- --ignored online_schedule"]
fn full_grid_is_valid() {
    let ss: Vec<u64> = (2..=40).collect();
    let w = worst_ratio(&grid(|_| 2000, &ss));
    assert!(w < 1.1, "worst ratio {w}");
}

fn cpp_rows() -> Vec<(u64, u64, u64, u64)> {
    include_str!("../data/online_revolve_cpp.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<u64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            (f[0], f[1], f[2], f[3])
        })
        .collect()
}

/// Rows of the C++ grid where C++ Revolve's online mode (its Wang-Moin-Iaccarino phase) is
/// better: `(n, s, ours, cpp)`. C++ is optimal or nearly so there thanks to nested sub-phase
/// targets after the last phase target. Adding that rule to this planner (forcing nested
/// targets when at most 3 slots remain, tested) removes all 8 rows but evicts, at later phase
/// starts, the old checkpoints covering the beginning: the worst ratio to `T(n, s)` over
/// `n <= 2000` rises from 1.043 to 1.087 (s = 3) and from 1.027 to 1.097 (s = 4), and the mean
/// over `2 <= s <= 40` from 1.0012 to 1.0019. The planner keeps the globally better rule; over
/// the whole C++ grid its excess over the optimum is 497 steps against C++'s 693.
/// For `s = 3` no placement can match C++ on all its rows without a worse ratio than this
/// planner's worst over `n <= 2000`: see `matching_cpp_at_s3_forces_a_worse_ratio`.
const KNOWN_WORSE: [(u64, u64, u64, u64); 8] = [
    (45, 3, 208, 205),
    (46, 3, 211, 210),
    (49, 3, 226, 225),
    (50, 3, 233, 230),
    (51, 3, 241, 236),
    (54, 4, 218, 215),
    (55, 4, 221, 219),
    (56, 4, 225, 224),
];

#[test]
fn against_cpp_online_on_its_grid() {
    let rows = cpp_rows();
    assert_eq!(rows.len(), 931);
    let (mut better, mut equal) = (0, 0);
    let mut worse = Vec::new();
    for &(n, s, cpp, opt) in &rows {
        assert_eq!(
            optimal_forward(n, s).unwrap(),
            opt,
            "CSV optimum n={n} s={s}"
        );
        let ours = run(n, s).forward;
        match ours.cmp(&cpp) {
            std::cmp::Ordering::Less => better += 1,
            std::cmp::Ordering::Equal => equal += 1,
            std::cmp::Ordering::Greater => worse.push((n, s, ours, cpp)),
        }
    }
    assert_eq!(worse, KNOWN_WORSE, "rows worse than C++ online changed");
    assert_eq!((better, equal), (26, 897));
}

#[test]
fn reference_points() {
    for (n, s, cpp) in [(10, 3, 25), (20, 3, 65), (101, 5, 431), (1000, 10, 4636)] {
        let st = validate(n, Capacity::ram(s), simulate(n, s).unwrap()).unwrap();
        assert!(st.forward <= cpp, "n={n} s={s}: {} > {cpp}", st.forward);
        assert_eq!(st.forward, run(n, s).forward);
    }
}

#[test]
fn optimal_up_to_beta_s_2() {
    // Like Stumm & Walther's Online_r2: the offline optimum for every n <= beta(s, 2).
    let ss: Vec<u64> = (2..=40).rev().collect();
    for (s, totals) in grid(|s| (s + 1) * (s + 2) / 2, &ss) {
        for (n, &f) in totals.iter().enumerate().skip(1) {
            assert_eq!(f, optimal_forward(n as u64, s).unwrap(), "n={n} s={s}");
        }
    }
}

#[test]
fn one_slot_stores_only_step_0() {
    for n in 1..=120u64 {
        let acts: Vec<Action> = simulate(n, 1).unwrap().collect();
        let stores: Vec<&Action> = acts
            .iter()
            .filter(|a| matches!(a, Action::Store { .. }))
            .collect();
        if n == 1 {
            assert!(stores.is_empty());
        } else {
            assert_eq!(
                stores,
                [&Action::Store {
                    step: 0,
                    level: revolve::Level::Ram
                }]
            );
        }
        let st = validate(n, Capacity::ram(1), acts).unwrap();
        assert_eq!(st.forward, n * (n + 1) / 2);
    }
}

#[test]
fn errors() {
    assert!(matches!(Online::new(0), Err(Error::ZeroSnaps)));
    assert!(matches!(simulate(5, 0), Err(Error::ZeroSnaps)));
    assert!(matches!(simulate(0, 3), Err(Error::ZeroSteps)));
}

#[test]
fn never_more_than_s_live_checkpoints_during_the_sweep() {
    let mut plan = Online::new(4).unwrap();
    for _ in 0..500 {
        plan.advance().unwrap();
        assert!(plan.checkpoints().len() <= 4);
        assert_eq!(plan.checkpoints()[0], 0);
        assert!(plan.checkpoints().windows(2).all(|w| w[0] < w[1]));
    }
    assert_eq!(plan.current(), 500);
}

/// `n` cannot reach the planner early: no constructor or method takes a step count. This is
/// checked at compile time by the signatures below (a method taking `n` would not coerce).
#[test]
fn api_takes_no_step_count() {
    let _new: fn(u64) -> Result<Online, Error> = Online::new; // the one argument is `snaps`
    let _advance: fn(&mut Online) -> Result<_, Error> = Online::advance;
    let _finish: fn(Online) -> revolve::schedule::online::Reversal = Online::finish;
    let plan = Online::new(3).unwrap();
    assert_eq!(plan.snaps(), 3);
    assert_eq!(plan.current(), 0);
}

#[test]
fn optimal_at_every_phase_end() {
    // At n = beta(s, r) every slot holds the phase's targets: the unique optimal placement.
    for s in 2..=40u64 {
        for r in 1.. {
            let n = revolve::cost::beta(s, r).unwrap();
            if n > 3000 {
                break;
            }
            assert_eq!(
                run(n, s).forward,
                optimal_forward(n, s).unwrap(),
                "n={n} s={s}"
            );
        }
    }
}

#[test]
fn simulate_merges_advances_and_matches_the_events() {
    for (n, s) in [(1u64, 3u64), (2, 1), (57, 2), (300, 6)] {
        let acts: Vec<Action> = simulate(n, s).unwrap().collect();
        for w in acts.windows(2) {
            assert!(
                !matches!(
                    (w[0], w[1]),
                    (Action::Advance { .. }, Action::Advance { .. })
                ),
                "unmerged advances {} {}",
                w[0],
                w[1]
            );
        }
        let st = validate(n, Capacity::ram(s), acts).unwrap();
        assert_eq!(st.forward, run(n, s).forward);
    }
}

#[test]
fn many_slots_and_huge_slot_counts() {
    for (n, s) in [
        (1u64, u64::MAX),
        (50, u64::MAX),
        (3000, 500),
        (700, 699),
        (700, 701),
    ] {
        let cap = Capacity::ram(s);
        let st = validate(n, cap, simulate(n, s).unwrap()).unwrap();
        // With s >= n every step is stored: 2n - 1 (revolve::cost overflows for s near u64::MAX).
        let opt = if s >= n {
            2 * n - 1
        } else {
            optimal_forward(n, s).unwrap()
        };
        assert_eq!(st.forward, opt, "n={n} s={s}");
        assert!(st.peak[0] <= s.min(n));
    }
}

/// Exact reversal cost model of the planner: the forward sweep (`n - 1`), the taped last step,
/// and for the checkpoints kept (`q_0 = 0 < q_1 < ...`, the best subset of `cps`) the optimal
/// offline cost `T(q_{j+1} - q_j, s - j)` of each segment, the last one ending at `n - 1`.
fn model_total(cps: &[u64], n: u64, s: u64) -> u64 {
    if n == 1 {
        return 1;
    }
    let t = |l: u64, k: u64| {
        if l == 0 {
            0
        } else {
            optimal_forward(l, k).unwrap()
        }
    };
    let m = cps.len();
    // f[i][j]: cost from cps[i] on, cps[i] being the j-th kept checkpoint (slots s - j).
    let mut f = vec![vec![u64::MAX; m]; m];
    for i in (0..m).rev() {
        for j in 0..=i {
            let slots = s - j as u64;
            let mut best = t(n - 1 - cps[i], slots);
            for i2 in i + 1..m {
                best = best.min(t(cps[i2] - cps[i], slots).saturating_add(f[i2][j + 1]));
            }
            f[i][j] = best;
        }
    }
    n + f[0][0]
}

/// Exhaustive search over every placement that stores only the current state (all online
/// planners here, C++ Revolve's included): with `s = 3`, being no worse than C++ online at
/// every `n <= 51` of its grid forces the C++ placement at `n = 43` (198 forward steps against
/// the optimum 188: ratio 1.0532), while this planner's worst ratio over `n <= 2000` for `s = 3`
/// is 1.043. Removing the `s = 3` rows of `KNOWN_WORSE` therefore needs a worse worst case.
#[test]
fn matching_cpp_at_s3_forces_a_worse_ratio() {
    let s = 3u64;
    let cpp: std::collections::HashMap<u64, u64> = cpp_rows()
        .into_iter()
        .filter(|r| r.1 == s)
        .map(|r| (r.0, r.2))
        .collect();
    // The model is the planner's real cost: check it on the planner's own placements.
    let mut plan = Online::new(s).unwrap();
    for n in 1..=60u64 {
        assert_eq!(
            model_total(plan.checkpoints(), n, s),
            run(n, s).forward,
            "n={n}"
        );
        plan.advance().unwrap();
    }
    // Placements alive after requiring cost <= C++ and cost <= cap * T(n, s) at every end.
    let reachable = |cap_num: u64, cap_den: u64| -> bool {
        let mut states: std::collections::BTreeSet<Vec<u64>> = [Vec::new()].into();
        for k in 0..51u64 {
            let n = k + 1;
            let opt = optimal_forward(n, s).unwrap();
            let mut next = std::collections::BTreeSet::new();
            for st in &states {
                let c = model_total(st, n, s);
                if c > cpp.get(&n).copied().unwrap_or(u64::MAX) || c * cap_den > opt * cap_num {
                    continue;
                }
                // Storing the current state: into a free slot, or over a checkpoint other than 0.
                let mut with = st.clone();
                with.push(k);
                if (st.len() as u64) < s {
                    next.insert(with);
                    continue;
                }
                next.insert(st.clone());
                for i in 1..st.len() {
                    let mut v = with.clone();
                    v.remove(i);
                    next.insert(v);
                }
            }
            states = next;
        }
        !states.is_empty()
    };
    assert!(
        reachable(198, 188),
        "the C++ placement itself meets its own rows"
    );
    assert!(
        !reachable(1979, 1880),
        "a ratio below 198/188 = 1.0532 would be possible"
    );
    // This planner's worst ratio for s = 3 (1.043 at n = 99; the same over n <= 2000) is lower.
    let w = worst_ratio(&grid(|_| 400, &[3]));
    assert!(w < 198.0 / 188.0, "worst ratio {w}");
}
