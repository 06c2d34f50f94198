//! Cost-aware schedules: valid within strict per-level budgets, priced makespan equal to the
//! planner's optimum, equal to an exhaustive search on small cases, and T(n, s) in the
//! uniform-cost limit.

use revolve::Costs;
use revolve::cost::optimal_forward;
use revolve::pricing::price;
use revolve::{Action, Capacity, CostAware, Error, Level, Stats, validate};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

fn cost_sets() -> Vec<Costs> {
    [
        (1.0, 1.0, 0.0, 0.0),
        (1.0, 2.0, 5.0, 3.0),
        (1.0, 3.0, 0.5, 0.5),
        (2.0, 1.0, 20.0, 10.0),
        (1.0, 1.0, 1.0, 100.0),
    ]
    .into_iter()
    .map(|(uf, ub, wd, rd)| {
        Costs::new(uf, ub)
            .and_then(|c| c.with_disk_seconds(wd, rd))
            .unwrap()
    })
    .collect()
}

fn plan_and_price(n: u64, ram: u64, disk: u64, c: &Costs) -> (f64, Stats) {
    let plan = CostAware::new(n, ram, disk, *c).unwrap();
    let opt = plan.makespan();
    let p = price(plan, n, Capacity { ram, disk }, c)
        .unwrap_or_else(|v| panic!("n={n} R={ram} D={disk} {c:?}: {v}"));
    assert!(
        (p.makespan - opt).abs() <= 1e-9 * opt.max(1.0),
        "n={n} R={ram} D={disk} {c:?}: priced {} vs planned {opt}",
        p.makespan
    );
    (opt, p.stats)
}

#[test]
fn valid_within_budgets_and_priced_as_planned() {
    for c in cost_sets() {
        for n in 1..=40u64 {
            for total in 1..=n.min(6) {
                for disk in 0..=total {
                    let (_, s) = plan_and_price(n, total - disk, disk, &c);
                    assert!(s.peak[0] <= total - disk && s.peak[1] <= disk);
                }
            }
        }
    }
}

#[test]
fn uniform_costs_give_binomial_optimum() {
    let c = Costs::new(1.0, 0.0)
        .and_then(|c| c.with_disk_seconds(0.0, 0.0))
        .unwrap();
    for n in 1..=200u64 {
        for (ram, disk) in [(1, 0), (0, 1), (2, 1), (1, 3), (4, 4), (3, 0)] {
            let (opt, s) = plan_and_price(n, ram, disk, &c);
            let t = optimal_forward(n, ram + disk).unwrap();
            assert_eq!(opt, t as f64, "n={n} R={ram} D={disk}");
            assert_eq!(s.forward, t);
        }
    }
    // Opt0 table values of revolve.md.
    for (n, s, t) in [(10, 3, 25.0), (100, 5, 416.0), (50, 7, 155.0)] {
        assert_eq!(CostAware::new(n, s, 0, c).unwrap().makespan(), t);
    }
}

#[test]
fn disk_budget_holds_where_hrevolve_overshoots() {
    // checkpoint_schedules' HRevolve holds up to 12 live disk checkpoints when allowed 4 here.
    for (wd, rd) in [(0.0, 0.0), (0.5, 0.5), (2.0, 1.0), (10.0, 10.0)] {
        let c = Costs::new(1.0, 0.0)
            .and_then(|c| c.with_disk_seconds(wd, rd))
            .unwrap();
        let (_, s) = plan_and_price(100, 1, 4, &c);
        assert!(s.peak[0] <= 1 && s.peak[1] <= 4, "{s:?}");
        if wd == 0.0 {
            assert_eq!(s.peak[1], 4); // free disk is used up to the budget
        }
    }
}

#[test]
fn expensive_disk_is_avoided_and_cheap_disk_used() {
    // With disk dearer than any recomputation it saves, the schedule is RAM-only binomial.
    let dear = Costs::new(1.0, 0.0)
        .and_then(|c| c.with_disk_seconds(1e6, 1e6))
        .unwrap();
    let (opt, s) = plan_and_price(60, 3, 5, &dear);
    assert_eq!(s.stores[Level::Disk.index()], 0);
    assert_eq!(opt, optimal_forward(60, 3).unwrap() as f64);
    let cheap = Costs::new(1.0, 0.0)
        .and_then(|c| c.with_disk_seconds(0.01, 0.01))
        .unwrap();
    let (opt, s) = plan_and_price(60, 3, 5, &cheap);
    assert!(s.stores[Level::Disk.index()] > 0);
    assert!(opt < optimal_forward(60, 3).unwrap() as f64);
}

#[test]
fn larger_steps() {
    let c = Costs::new(1.0, 1.0)
        .and_then(|c| c.with_disk_seconds(3.0, 2.0))
        .unwrap();
    for (n, ram, disk) in [(1000, 2, 3), (3000, 1, 1)] {
        let (opt, s) = plan_and_price(n, ram, disk, &c);
        let ram_only = optimal_forward(n, ram).unwrap();
        // Never worse than ignoring the disk (binomial with RAM only, priced the same way).
        assert!(opt <= (ram_only - n) as f64 + 2.0 * n as f64, "{opt}");
        assert!(s.peak[1] <= disk);
    }
}

#[test]
fn bad_input_is_an_error() {
    let c = Costs::new(1.0, 0.0)
        .and_then(|c| c.with_disk_seconds(1.0, 1.0))
        .unwrap();
    assert!(matches!(CostAware::new(0, 1, 1, c), Err(Error::ZeroSteps)));
    assert!(matches!(CostAware::new(5, 0, 0, c), Err(Error::ZeroSnaps)));
    assert!(matches!(
        CostAware::new(10_001, 1, 1, c),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        CostAware::new(10_000, 50, 50, c),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        Costs::new(f64::NAN, 1.0).and_then(|c| c.with_disk_seconds(1.0, 1.0)),
        Err(Error::BadCost { .. })
    ));
    assert!(matches!(
        Costs::new(1.0, -1.0).and_then(|c| c.with_disk_seconds(1.0, 1.0)),
        Err(Error::BadCost { .. })
    ));
    assert!(matches!(
        Costs::new(1.0, 0.0).and_then(|c| c.with_disk_seconds(f64::INFINITY, 1.0)),
        Err(Error::BadCost { .. })
    ));
}

#[test]
fn price_rejects_invalid_sequences() {
    let c = Costs::new(1.0, 0.0)
        .and_then(|c| c.with_disk_seconds(1.0, 1.0))
        .unwrap();
    let plan: Vec<Action> = ["store 0 disk", "advance 0 2", "reverse 2"]
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    assert!(price(plan.clone(), 3, Capacity { ram: 0, disk: 1 }, &c).is_err());
    assert!(price(plan, 3, Capacity { ram: 1, disk: 0 }, &c).is_err());
    let disk = Costs::new(1.0, 1.0)
        .and_then(|k| k.with_disk_seconds(2.0, 3.0))
        .unwrap();
    let p = price(
        [
            "store 0 disk",
            "advance 0 1",
            "reverse 1",
            "restore 0 disk",
            "free 0 disk",
            "reverse 0",
        ]
        .iter()
        .map(|l| l.parse::<Action>().unwrap()),
        2,
        Capacity { ram: 0, disk: 1 },
        &disk,
    )
    .unwrap();
    assert_eq!(
        (p.forward, p.reverse, p.writes, p.reads, p.makespan),
        (3.0, 2.0, [0.0, 2.0], [0.0, 3.0], 10.0)
    );
}

/// Least makespan over EVERY valid action sequence, by Dijkstra over machine states (integer
/// costs, so sums are exact). Without `moves`, each step is stored at most once (so no
/// checkpoint is ever moved between levels).
fn brute_force(n: u32, ram: u32, disk: u32, c: [u64; 4], moves: bool) -> u64 {
    let [uf, ub, wd, rd] = c;
    type St = (u32, u32, u32, u32, u32);
    let mut dist: HashMap<St, u64> = HashMap::new();
    let mut pq = BinaryHeap::new();
    let start: St = (0, n, 0, 0, 0);
    dist.insert(start, 0);
    pq.push(Reverse((0u64, start)));
    while let Some(Reverse((cost, st))) = pq.pop() {
        if dist.get(&st) != Some(&cost) {
            continue;
        }
        let (cur, nextp, hr, hd, used) = st;
        if nextp == 0 {
            return cost;
        }
        let next = nextp - 1;
        let mut push = |c2: u64, s2: St| {
            let keep = if s2.1 == 0 { 0 } else { (1u32 << s2.1) - 1 };
            let s2 = (
                s2.0,
                s2.1,
                s2.2 & keep,
                s2.3 & keep,
                if moves { 0 } else { s2.4 & keep },
            );
            if dist.get(&s2).is_none_or(|&d| d > c2) {
                dist.insert(s2, c2);
                pq.push(Reverse((c2, s2)));
            }
        };
        if cur < n {
            for to in cur + 1..=next {
                push(cost + uf * u64::from(to - cur), (to, nextp, hr, hd, used));
            }
            let bit = 1u32 << cur;
            if used & bit == 0 && (hr | hd) & bit == 0 {
                if hr.count_ones() < ram {
                    push(cost, (cur, nextp, hr | bit, hd, used | bit));
                }
                if hd.count_ones() < disk {
                    push(cost + wd, (cur, nextp, hr, hd | bit, used | bit));
                }
            }
            if cur == next {
                push(cost + ub, (n, next, hr, hd, used));
            }
        }
        for k in 0..n {
            let bit = 1u32 << k;
            if hr & bit != 0 {
                push(cost, (k, nextp, hr, hd, used));
                push(cost, (cur, nextp, hr & !bit, hd, used));
            }
            if hd & bit != 0 {
                push(cost + rd, (k, nextp, hr, hd, used));
                push(cost, (cur, nextp, hr, hd & !bit, used));
            }
        }
    }
    unreachable!("recomputing from step 0 always finishes")
}

#[test]
fn optimal_against_brute_force() {
    let sets = [
        [1, 1, 0, 0],
        [1, 2, 5, 3],
        [2, 1, 1, 4],
        [1, 3, 1, 1],
        [3, 1, 2, 9],
    ];
    let mut move_gains = 0;
    let mut cases = 0;
    for c in sets {
        let costs = Costs::new(c[0] as f64, c[1] as f64)
            .and_then(|k| k.with_disk_seconds(c[2] as f64, c[3] as f64))
            .unwrap();
        // The brute force charges a reverse step the taped forward step and the adjoint.
        let c = [c[0], c[0] + c[1], c[2], c[3]];
        for n in 1..=7u32 {
            for total in 1..=n.min(4) {
                for disk in 0..=total {
                    let ram = total - disk;
                    let plan = CostAware::new(u64::from(n), u64::from(ram), u64::from(disk), costs)
                        .unwrap();
                    let no_move = brute_force(n, ram, disk, c, false) as f64;
                    let with_moves = brute_force(n, ram, disk, c, true) as f64;
                    let got = plan.makespan();
                    assert_eq!(got, with_moves, "n={n} R={ram} D={disk} costs={c:?}");
                    assert!(got <= no_move);
                    if got < no_move {
                        move_gains += 1;
                    }
                    cases += 1;
                }
            }
        }
    }
    eprintln!(
        "{cases} cases, all optimal; moving a restored start between levels pays in {move_gains}"
    );
    assert!(move_gains > 0);
    let s = validate(
        1,
        Capacity::ram(1),
        CostAware::new(
            1,
            1,
            0,
            Costs::new(1.0, 0.0)
                .and_then(|c| c.with_disk_seconds(0.0, 0.0))
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(s.forward, 1);
}

#[test]
fn free_right_after_last_restore() {
    let mut moves = 0;
    for c in cost_sets() {
        for (n, ram, disk) in [(60, 2, 3), (9, 1, 1), (200, 3, 2), (100, 1, 4)] {
            let plan: Vec<Action> = CostAware::new(n, ram, disk, c).unwrap().collect();
            for (i, a) in plan.iter().enumerate() {
                if let Action::Free { step, level } = *a {
                    assert_eq!(plan[i - 1], Action::Restore { step, level }, "at {i}");
                    let later = plan[i + 1..].iter().any(|b| {
                        matches!(b, Action::Restore { step: k, level: l } if *k == step && *l == level)
                    });
                    assert!(!later);
                    if let Some(&Action::Store { step: k, level: to }) = plan.get(i + 1)
                        && k == step
                    {
                        assert_ne!(to, level);
                        moves += 1;
                    }
                }
            }
        }
    }
    eprintln!("{moves} checkpoint moves between levels");
    assert!(moves > 0);
}
