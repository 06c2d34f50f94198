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
            m.execute(a).unwrap_or_else(|r| panic!("n={n} s={snaps} {a}: {r}"));
        }
    }
    for a in plan.finish() {
        m.execute(a).unwrap_or_else(|r| panic!("n={n} s={snaps} {a}: {r}"));
    }
    m.finish().unwrap_or_else(|r| panic!("n={n} s={snaps}: {r}"))
}

/// Checks every `(n, s)` with `n` in `ns` and `s` in `ss` on two threads; returns the worst
/// ratio forward / T(n, s).
fn grid(ns: &[u64], ss: &[u64]) -> f64 {
    let half = ss.len().div_ceil(2);
    std::thread::scope(|scope| {
        let hs: Vec<_> = ss
            .chunks(half.max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    let mut worst = 1.0f64;
                    for &s in chunk {
                        for &n in ns {
                            let st = run(n, s);
                            assert_eq!(st.reverse, n);
                            assert!(st.peak[0] <= s, "n={n} s={s} peak {}", st.peak[0]);
                            let t = optimal_forward(n, s).unwrap();
                            assert!(st.forward >= t, "n={n} s={s}: below the optimum?");
                            worst = worst.max(st.forward as f64 / t as f64);
                        }
                    }
                    worst
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).fold(1.0, f64::max)
    })
}

#[test]
fn dense_subset_is_valid() {
    let ns: Vec<u64> = (1..=300).chain((301..=2000).step_by(97)).collect();
    let ss: Vec<u64> = (1..=12).chain([16, 25, 40]).collect();
    let worst = grid(&ns, &ss);
    assert!(worst < 1.2, "worst ratio {worst}");
}

#[test]
#[ignore = "full grid 1 <= n <= 2000, 2 <= s <= 40: run with --release -- --ignored"]
fn full_grid_is_valid() {
    let ns: Vec<u64> = (1..=2000).collect();
    let ss: Vec<u64> = (2..=40).collect();
    let worst = grid(&ns, &ss);
    assert!(worst < 1.2, "worst ratio {worst}");
}

fn cpp_rows() -> Vec<(u64, u64, u64, u64)> {
    include_str!("data/online_revolve_cpp.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<u64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            (f[0], f[1], f[2], f[3])
        })
        .collect()
}

#[test]
fn never_worse_than_cpp_online_on_its_grid() {
    let rows = cpp_rows();
    assert!(rows.len() > 900);
    let mut worse = Vec::new();
    for &(n, s, cpp, opt) in &rows {
        assert_eq!(optimal_forward(n, s).unwrap(), opt, "CSV optimum n={n} s={s}");
        let ours = run(n, s).forward;
        if ours > cpp {
            worse.push((n, s, ours, cpp, opt));
        }
    }
    assert!(worse.is_empty(), "worse than C++ online: {worse:?}");
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
    for s in 1..=40u64 {
        let b2 = (s + 1) * (s + 2) / 2;
        for n in 1..=b2 {
            assert_eq!(run(n, s).forward, optimal_forward(n, s).unwrap(), "n={n} s={s}");
        }
    }
}

#[test]
fn one_slot_stores_only_step_0() {
    for n in 1..=40u64 {
        let acts: Vec<Action> = simulate(n, 1).unwrap().collect();
        let stores: Vec<&Action> = acts.iter().filter(|a| matches!(a, Action::Store { .. })).collect();
        if n == 1 {
            assert!(stores.is_empty());
        } else {
            assert_eq!(stores, [&Action::Store { step: 0, level: revolve::Level::Ram }]);
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
