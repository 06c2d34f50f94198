//! The cost-aware search at realistic sizes: the two-level schedule against the exhaustive table
//! on every case with `n <= 200`, `R + D <= 10`, validated and priced; `CostAware::best` picks
//! the table wherever it is feasible.

use revolve::Costs;
use revolve::pricing::price;
use revolve::schedule::cost_aware::Best;
use revolve::schedule::two_level::TwoLevel;
use revolve::{Capacity, CostAware, Error, Multistage, Schedule};

fn cost_sets() -> Vec<Costs> {
    [
        (1.0, 2.0, 8.4, 8.4),
        (1.0, 3.0, 0.5, 0.5),
        (2.0, 1.0, 20.0, 10.0),
    ]
    .into_iter()
    .map(|(uf, ub, wd, rd)| {
        Costs::new(uf, ub)
            .and_then(|c| c.with_disk_seconds(wd, rd))
            .unwrap()
    })
    .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn two_level_against_the_exhaustive_table() {
    let (mut cases, mut equal, mut worst) = (0u64, 0u64, 1.0f64);
    // The same for the large-problem choice of `CostAware::best`: min(two-level, multistage).
    let (mut equal_best, mut worst_best) = (0u64, 1.0f64);
    for c in cost_sets() {
        for total in 1..=10u64 {
            for disk in 0..=total {
                let ram = total - disk;
                let exact = CostAware::makespans(200, ram, disk, c).unwrap();
                for n in 1..=200u64 {
                    let opt = exact[n as usize - 1];
                    let case = format!("n={n} R={ram} D={disk} {c:?}");
                    let plan = match TwoLevel::new(n, ram, disk, c) {
                        Ok(p) => p,
                        // No RAM slot and too few disk slots for a segment of one step each.
                        Err(Error::ZeroSnaps) => {
                            assert!(ram == 0 && disk + 1 < n, "{case}");
                            continue;
                        }
                        Err(e) => panic!("{case}: {e}"),
                    };
                    let planned = plan.makespan();
                    let cap = Capacity { ram, disk };
                    let priced = price(plan, n, cap, &c).unwrap_or_else(|v| panic!("{case}: {v}"));
                    assert!(priced.stats.peak[0] <= ram && priced.stats.peak[1] <= disk);
                    assert!(
                        close(priced.makespan, planned),
                        "{case}: {priced:?} vs {planned}"
                    );
                    // The table is optimal: the two-level family can only match it.
                    assert!(planned >= opt - 1e-9 * opt, "{case}: {planned} < {opt}");
                    cases += 1;
                    equal += u64::from(close(planned, opt));
                    worst = worst.max(planned / opt);
                    let multi = Multistage::new(n, ram, disk).unwrap();
                    let multi = price(multi, n, cap, &c).unwrap().makespan;
                    assert!(
                        multi >= opt - 1e-9 * opt,
                        "{case}: multistage {multi} < {opt}"
                    );
                    let chosen = planned.min(multi);
                    equal_best += u64::from(close(chosen, opt));
                    worst_best = worst_best.max(chosen / opt);
                }
            }
        }
    }
    println!(
        "two-level equals the exhaustive table on {equal} of {cases} cases, worst ratio {worst:.4}; \
         min(two-level, multistage): {equal_best} cases, worst ratio {worst_best:.4}"
    );
    // 65 (R, D) pairs and 200 n per cost set, less the R = 0 cases with n > D + 1.
    let infeasible: u64 = (1..=10u64).map(|d| 199 - d).sum();
    assert_eq!(cases, 3 * (65 * 200 - infeasible));
    assert!(equal > 0);
}

#[test]
fn one_table_gives_every_shorter_optimum() {
    let c = cost_sets()[0];
    for (ram, disk) in [(1, 0), (0, 3), (2, 2), (4, 6), (10, 0), (0, 10)] {
        let all = CostAware::makespans(120, ram, disk, c).unwrap();
        for n in [1u64, 2, 3, 7, 50, 119, 120] {
            let one = CostAware::new(n, ram, disk, c).unwrap().makespan();
            assert!(close(all[n as usize - 1], one), "n={n} R={ram} D={disk}");
        }
    }
}

#[test]
fn best_uses_the_table_on_the_grid_and_stays_valid() {
    // n^2 (R' + 1)(D' + 1) <= 200^2 * 36 on the grid: below the limit, so `best` is exact there.
    for n in 1..=200u64 {
        for total in 1..=10u64 {
            for disk in 0..=total {
                assert!(CostAware::table_feasible(n, total - disk, disk));
            }
        }
    }
    assert!(!CostAware::table_feasible(1000, 20, 256));
    let c = cost_sets()[0];
    for (n, ram, disk) in [(200u64, 5u64, 5u64), (97, 0, 10), (150, 10, 0)] {
        let best = CostAware::best(n, ram, disk, c).unwrap();
        assert!(matches!(best, Best::Exact(_)));
        let want = CostAware::new(n, ram, disk, c).unwrap().makespan();
        assert_eq!(best.makespan(), want);
        let p = price(best.clone(), n, best.capacity(), &c).unwrap();
        assert!(close(p.makespan, want));
    }
    // Large: the two-level search, within budgets, priced as planned.
    for (n, ram, disk) in [
        (10_000u64, 20u64, 300u64),
        (5_000, 0, 4_999),
        (20_000, 50, 0),
    ] {
        let best = CostAware::best(n, ram, disk, c).unwrap();
        assert!(matches!(best, Best::TwoLevel(_)), "n={n}");
        let want = best.makespan();
        let p = price(best, n, Capacity { ram, disk }, &c).unwrap();
        assert!(close(p.makespan, want), "n={n}: {} vs {want}", p.makespan);
        assert!(p.stats.peak[0] <= ram && p.stats.peak[1] <= disk);
    }
}
