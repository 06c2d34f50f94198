//! The planner's rows agree with the validator, the closed forms and the budgets.

use revolve::cost::optimal_forward;
use revolve::planner::{
    Config, Figures, Outcome, PlanError, Problem, SkipReason, Source, Strategy, plan,
    tradeoff_curve,
};
use revolve::schedule::online;
use revolve::{
    Binomial, Capacity, CostAware, Error, Level, Multistage, Periodic, Schedule, pricing, validate,
};

const MIB: u64 = 1 << 20;

fn figures(p: &Problem, s: Strategy) -> Figures {
    *plan(p)
        .unwrap()
        .row(s)
        .unwrap_or_else(|| panic!("no {s} row"))
        .figures()
        .unwrap_or_else(|| panic!("{s} skipped"))
}

fn problems() -> Vec<Problem> {
    let mut v = Vec::new();
    for n in [1, 2, 3, 7, 10, 64, 100, 1000, 2345] {
        for (ram, disk) in [
            (0, 0),
            (1, 0),
            (3, 5),
            (10, 0),
            (10, 100),
            (5000, 0),
            (2, 9000),
        ] {
            let p = Problem::new(n, MIB, ram * MIB, disk * MIB)
                .with_costs(1.0, 2.0, 1e9, 1e9, 0.01)
                .unwrap();
            v.push(p);
        }
    }
    v
}

#[test]
fn rows_match_the_validator() {
    for p in problems() {
        let n = p.steps;
        let result = plan(&p).unwrap();
        for row in &result.rows {
            let Outcome::Planned(f) = row.outcome else {
                continue;
            };
            assert_eq!(f.source, Source::Validated, "{row:?}");
            assert_eq!(f.reverse, n);
            assert_eq!(f.recompute_factor, f.forward as f64 / n as f64);
            assert_eq!(
                f.disk_bytes_written,
                u128::from(f.disk_writes) * u128::from(MIB)
            );
            assert_eq!(
                f.disk_bytes_read,
                u128::from(f.disk_reads) * u128::from(MIB)
            );
            assert_eq!(f.fits, f.fits_ram && f.fits_disk);
            assert_eq!(f.fits_ram, f.peak_ram_bytes <= u128::from(p.ram_bytes));
            assert_eq!(f.fits_disk, f.peak_disk_bytes <= u128::from(p.disk_bytes));
            // The schedule, rerun independently here.
            assert_eq!(row.config.strategy(), row.strategy);
            // The row's own schedule gives its counts.
            let own = row.schedule().unwrap();
            let own = validate(own.steps(), own.capacity(), own).unwrap();
            assert_eq!(
                (own.forward, own.stores[1], own.restores[1]),
                (f.forward, f.disk_writes, f.disk_reads),
                "{row:?}"
            );
            let stats = match row.config {
                Config::Binomial { slots: s } => {
                    assert_eq!(s, (p.ram_slots()).clamp(1, n));
                    validate(n, Capacity::ram(s), Binomial::new(n, s).unwrap()).unwrap()
                }
                Config::Periodic { period, outer } => {
                    let schedule = Periodic::new(n, period, outer).unwrap();
                    validate(n, schedule.capacity(), schedule).unwrap()
                }
                Config::Multistage { ram, disk } | Config::CostAware { ram, disk, .. } => {
                    assert_eq!(
                        (ram, disk),
                        if p.ram_slots() + p.disk_slots() == 0 {
                            (1, 0)
                        } else {
                            (p.ram_slots().min(n), p.disk_slots().min(n))
                        }
                    );
                    let cap = Capacity { ram, disk };
                    if row.strategy == Strategy::Multistage {
                        let slots = (ram + disk).min(n - 1).max(1);
                        assert_eq!(f.forward, optimal_forward(n, slots).unwrap());
                        validate(n, cap, Multistage::new(n, ram, disk).unwrap()).unwrap()
                    } else {
                        let costs = p.costs;
                        let plan = CostAware::best(n, ram, disk, costs).unwrap();
                        let makespan = plan.makespan();
                        let priced = pricing::price(plan, n, cap, &costs).unwrap();
                        // The same model: the schedule's own optimum, its priced stream, our time.
                        assert!((priced.makespan - makespan).abs() <= 1e-9 * makespan);
                        assert!((f.time - makespan).abs() <= 1e-9 * makespan, "{row:?}");
                        priced.stats
                    }
                }
                Config::Online { slots: s } => {
                    assert_eq!(s, p.ram_slots().clamp(1, n));
                    assert!(f.forward >= optimal_forward(n, s).unwrap());
                    validate(n, Capacity::ram(s), online::simulate(n, s).unwrap()).unwrap()
                }
                _ => continue,
            };
            let (r, d) = (Level::Ram.index(), Level::Disk.index());
            assert_eq!(f.forward, stats.forward, "{row:?}");
            assert_eq!(
                (f.disk_writes, f.disk_reads),
                (stats.stores[d], stats.restores[d]),
                "{row:?}"
            );
            assert_eq!(
                (f.peak_ram_bytes, f.peak_disk_bytes),
                (
                    u128::from(stats.peak[r]) * u128::from(MIB),
                    u128::from(stats.peak[d]) * u128::from(MIB)
                ),
                "{row:?}"
            );
        }
    }
}

#[test]
fn cost_aware_is_fastest_among_rows_that_fit() {
    let mut checked = 0;
    for p in problems() {
        let result = plan(&p).unwrap();
        let Some(best) = result.row(Strategy::CostAware).unwrap().figures().copied() else {
            continue;
        };
        if !best.fits {
            continue;
        }
        for row in &result.rows {
            // Mixed records steps (a richer machine than cost-aware's): it may be faster.
            if row.strategy == Strategy::Mixed {
                continue;
            }
            if let Some(f) = row.figures().filter(|f| f.fits) {
                checked += 1;
                assert!(
                    best.time <= f.time * (1.0 + 1e-12),
                    "n={} ram={} disk={}: cost-aware {} > {} {}",
                    p.steps,
                    p.ram_slots(),
                    p.disk_slots(),
                    best.time,
                    row.strategy,
                    f.time
                );
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn big_problems_skip_what_cannot_be_counted() {
    let p = Problem::new(10_000_000, MIB, 100 * MIB, 10_000 * MIB);
    let r = plan(&p).unwrap();
    for s in [Strategy::StoreAll, Strategy::Periodic, Strategy::Binomial] {
        assert_eq!(
            r.row(s).unwrap().figures().unwrap().source,
            Source::ClosedForm
        );
    }
    for s in [Strategy::Multistage, Strategy::CostAware, Strategy::Online] {
        let Outcome::Skipped(reason) = &r.row(s).unwrap().outcome else {
            panic!("{s} not skipped");
        };
        assert!(
            matches!(reason, SkipReason::RunLimit { limit: 100_000, .. }),
            "{reason}"
        );
        assert!(reason.to_string().contains("run limit"), "{reason}");
    }
    let Outcome::Skipped(reason) = &r.row(Strategy::Multistage).unwrap().outcome else {
        panic!("multistage not skipped");
    };
    assert!(
        reason
            .to_string()
            .starts_with("n > run limit 100000 (forward would be T(n, R+D) = ")
    );
}

#[test]
fn closed_forms_equal_validated_counts() {
    // With a run limit of 0 every count comes from a closed form (or the row is skipped).
    for p in problems() {
        let run = plan(&p).unwrap();
        let closed = plan(&Problem { run_limit: 0, ..p }).unwrap();
        for (a, b) in run.rows.iter().zip(&closed.rows) {
            assert_eq!(a.config, b.config);
            let (Some(fa), Some(fb)) = (a.figures(), b.figures()) else {
                continue;
            };
            assert_eq!(fb.source, Source::ClosedForm, "{b:?}");
            assert_eq!(
                Figures {
                    source: Source::ClosedForm,
                    ..*fa
                },
                *fb,
                "{:?} n={} ram={} disk={}",
                a.strategy,
                p.steps,
                p.ram_bytes,
                p.disk_bytes
            );
        }
    }
}

#[test]
fn store_all_recomputes_each_step_once() {
    for n in [1u64, 2, 5, 1000, 123_457] {
        let p = Problem::new(n, 8, 8 * n, 0);
        let f = figures(&p, Strategy::StoreAll);
        assert_eq!(f.forward, 2 * n - 1);
        assert_eq!(f.recompute_factor, (2 * n - 1) as f64 / n as f64);
        assert_eq!(f.peak_ram_bytes, u128::from(8 * (n - 1)));
        assert!(f.fits);
    }
    // Beyond the run limit, the same figures from the closed form.
    let mut p = Problem::new(10_000_000_000, 8, 1 << 30, 1 << 35);
    p.run_limit = 1000;
    let f = figures(&p, Strategy::StoreAll);
    assert_eq!((f.forward, f.source), (19_999_999_999, Source::ClosedForm));
    assert_eq!(f.peak_ram_bytes, 1 << 30);
    assert_eq!(f.peak_disk_bytes, (10_000_000_000 - 1) * 8 - (1 << 30));
    assert!(f.fits_ram && !f.fits_disk && !f.fits);
}

#[test]
fn binomial_row_is_t_n_s() {
    for (n, s) in [(10u64, 3u64), (100, 5), (1000, 10), (50, 7), (20, 3)] {
        let p = Problem::new(n, 100, 100 * s + 99, 0);
        let f = figures(&p, Strategy::Binomial);
        assert_eq!(f.forward, optimal_forward(n, s).unwrap());
        assert_eq!(f.ram_slots, s);
        assert_eq!(f.peak_ram_bytes, u128::from(100 * s));
        assert_eq!((f.disk_writes, f.peak_disk_bytes), (0, 0));
        assert!(f.fits);
    }
    // Large n: closed form T(n, s).
    let p = Problem::new(1_000_000_000, 1 << 20, 64 << 20, 0);
    let f = figures(&p, Strategy::Binomial);
    assert_eq!(f.source, Source::ClosedForm);
    assert_eq!(f.forward, optimal_forward(1_000_000_000, 64).unwrap());
}

#[test]
fn budgets_mark_rows_that_do_not_fit() {
    // 1000 steps of 1 MiB, 10 MiB RAM, no disk: only binomial fits; store-all needs 999 states.
    let p = Problem::new(1000, MIB, 10 * MIB, 0);
    let r = plan(&p).unwrap();
    let fits = |s| r.row(s).unwrap().figures().unwrap().fits;
    assert!(fits(Strategy::Binomial));
    assert!(!fits(Strategy::StoreAll));
    let sa = r.row(Strategy::StoreAll).unwrap().figures().unwrap();
    assert!(
        sa.fits_ram && !sa.fits_disk,
        "RAM filled, the rest spills to disk"
    );
    // Periodic needs about 2 sqrt(n) = 63 slots: does not fit, shown at its smallest.
    let per = r.row(Strategy::Periodic).unwrap().figures().unwrap();
    assert!(!per.fits_ram);
    assert!(per.peak_ram_bytes <= u128::from(64 * MIB));
    // With 100 MiB of disk as well, periodic fits with its outer checkpoints on disk.
    let p = Problem::new(1000, MIB, 10 * MIB, 100 * MIB);
    let r = plan(&p).unwrap();
    let row = r.row(Strategy::Periodic).unwrap();
    assert!(
        matches!(
            row.config,
            Config::Periodic {
                outer: Level::Disk,
                ..
            }
        ),
        "{row:?}"
    );
    assert!(row.config.to_string().ends_with(" outer=disk"));
    assert!(row.figures().unwrap().fits);
    // No RAM for one state: binomial shown with s = 1, not fitting.
    let p = Problem::new(100, MIB, MIB - 1, 0);
    let f = figures(&p, Strategy::Binomial);
    assert_eq!((f.ram_slots, f.forward), (1, 5050));
    assert!(!f.fits_ram);
}

#[test]
fn modelled_time() {
    let p = Problem::new(1000, 4 << 20, 10 << 20, 1 << 30)
        .with_costs(0.5, 1.25, 2e8, 4e8, 0.001)
        .unwrap();
    for row in plan(&p).unwrap().rows {
        let Some(f) = row.figures() else { continue };
        let b = (4 << 20) as f64;
        let expect = f.forward as f64 * 0.5
            + f.reverse as f64 * 1.25
            + f.disk_writes as f64 * (b / 2e8 + 0.001)
            + f.disk_reads as f64 * (b / 4e8 + 0.001);
        assert!((f.time - expect).abs() <= 1e-9 * expect, "{row:?}");
    }
}

#[test]
fn bad_input() {
    assert!(matches!(
        plan(&Problem::new(0, 8, 8, 0)),
        Err(PlanError::ZeroSteps)
    ));
    assert!(matches!(
        plan(&Problem::new(5, 0, 8, 0)),
        Err(PlanError::ZeroStateBytes)
    ));
    let p = Problem::new(5, 8, 8, 0);
    let e = p.with_costs(-1.0, 2.0, 1e9, 1e9, 0.0).unwrap_err();
    assert!(matches!(e, Error::BadCost { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "forward cost must be a finite number >= 0 (got -1)"
    );
    let e = p.with_costs(1.0, 2.0, 1e9, 0.0, 0.0).unwrap_err();
    assert!(matches!(e, Error::BadBandwidth { .. }), "{e}");
    assert_eq!(e.to_string(), "read bandwidth must be > 0 bytes/s (got 0)");
}

#[test]
fn tradeoff_curve_spans_one_slot_to_store_all() {
    let n = 10_000u64;
    let c = tradeoff_curve(n, 16, 100);
    assert!(c.len() >= 50 && c.len() <= 101, "{}", c.len());
    assert_eq!(c[0].slots, 1);
    assert_eq!(c[0].factor, (n + 1) as f64 / 2.0);
    let last = c.last().unwrap();
    assert_eq!((last.slots, last.bytes), (n - 1, u128::from(16 * (n - 1))));
    assert_eq!(last.factor, (2 * n - 1) as f64 / n as f64);
    for w in c.windows(2) {
        assert!(w[0].slots < w[1].slots && w[0].factor >= w[1].factor);
        assert_eq!(
            w[1].factor,
            optimal_forward(n, w[1].slots).unwrap() as f64 / n as f64
        );
    }
}

#[test]
fn extreme_sizes_do_not_panic() {
    for (n, b, ram, disk) in [
        (u64::MAX, 1, u64::MAX, u64::MAX),
        (u64::MAX, u64::MAX, 0, 0),
        (1 << 62, 1 << 20, 1 << 40, 1 << 50),
        (1_000_000_000_000, 8, 1 << 33, 0),
    ] {
        let r = plan(&Problem::new(n, b, ram, disk)).unwrap();
        assert_eq!(r.rows.len(), Strategy::ALL.len());
    }
    // T(10^12, 1) overflows: that row is skipped, the others stand.
    let r = plan(&Problem::new(1_000_000_000_000, 1 << 30, 1 << 30, 0)).unwrap();
    let Outcome::Skipped(why) = &r.row(Strategy::Binomial).unwrap().outcome else {
        panic!("binomial not skipped");
    };
    assert!(matches!(why, SkipReason::Overflow { .. }), "{why}");
    assert!(why.to_string().contains("overflow"), "{why}");
    assert!(r.row(Strategy::StoreAll).unwrap().figures().is_some());
}

#[test]
fn a_compression_ratio_scales_disk_bytes_slots_and_time() {
    let b = MIB;
    let p = Problem::new(2000, b, 4 * b, 40 * b)
        .with_costs(1.0, 2.0, 1e8, 2e8, 0.01)
        .unwrap();
    let c = p.with_compression_ratio(4.0).unwrap();
    assert_eq!((c.state_bytes, c.disk_state_bytes), (b, b / 4));
    assert_eq!(c.disk_slots(), 4 * p.disk_slots());
    assert_eq!(c.ram_slots(), p.ram_slots());
    assert_eq!(c.costs.write(Level::Disk), (b / 4) as f64 / 1e8 + 0.01);
    assert_eq!(c.costs.read(Level::Disk), (b / 4) as f64 / 2e8 + 0.01);
    let (fp, fc) = (
        figures(&p, Strategy::Multistage),
        figures(&c, Strategy::Multistage),
    );
    assert_eq!((fp.disk_slots, fc.disk_slots), (40, 160));
    assert_eq!(
        fc.disk_bytes_written,
        u128::from(fc.disk_writes) * u128::from(b / 4)
    );
    assert_eq!(fc.peak_disk_bytes % u128::from(b / 4), 0);
    assert!(fc.peak_disk_bytes <= u128::from(40 * b) && fc.fits_disk);
    assert!(fc.forward < fp.forward, "{fc:?} vs {fp:?}");
    assert!(fc.time < fp.time, "{fc:?} vs {fp:?}");
    // Ratio 1 changes nothing; a ratio that rounds to zero bytes keeps one.
    assert_eq!(p.with_compression_ratio(1.0).unwrap(), p);
    let tiny = Problem::new(10, 3, 0, 100)
        .with_compression_ratio(1e6)
        .unwrap();
    assert_eq!(tiny.disk_state_bytes, 1);
    for bad in [0.5, 0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(p.with_compression_ratio(bad), Err(Error::BadRatio { .. })),
            "{bad}"
        );
    }
    // Measured seconds per checkpoint scale with the bytes.
    let mut m = p;
    m.costs = m.costs.with_disk_seconds(0.4, 0.2).unwrap();
    let mc = m.with_compression_ratio(4.0).unwrap();
    assert_eq!(mc.costs.write(Level::Disk), 0.1);
    assert_eq!(mc.costs.read(Level::Disk), 0.05);
}
