//! Tables for multistage (RAM + disk) and cost-aware schedules.
//!
//! `cargo run --release --example multistage_table`
//!
//! 1. Multistage: total forward steps against `T(n, R + D)`, disk writes and reads, RAM traffic,
//!    for the lazy rule-based schedule (`Multistage::new`) and the exact one (`Multistage::exact`,
//!    n <= 10^4), with their speed (actions per second, validation included).
//! 2. Cost-aware: modelled makespan (uf, ub, wd, rd) against the RAM-only binomial schedule
//!    (`Multistage` with no disk) and against store-all (one RAM slot per step, no budget).

use revolve::Costs;
use revolve::cost::optimal_forward;
use revolve::pricing::price;
use revolve::{Action, Capacity, CostAware, Multistage, validate};
use std::time::Instant;

fn store_all(n: u64) -> Vec<Action> {
    let mut plan = Vec::new();
    for k in 0..n.saturating_sub(1) {
        plan.push(Action::Store {
            step: k,
            level: revolve::Level::Ram,
        });
        plan.push(Action::Advance { from: k, to: k + 1 });
    }
    for k in (0..n).rev() {
        if k + 1 < n {
            plan.push(Action::Restore {
                step: k,
                level: revolve::Level::Ram,
            });
            plan.push(Action::Free {
                step: k,
                level: revolve::Level::Ram,
            });
        }
        plan.push(Action::Reverse { step: k });
    }
    plan
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "# multistage: forward vs T(n, R+D); disk/RAM writes and reads of new (rules) and exact"
    );
    println!(
        "{:>7} {:>3} {:>3} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9}",
        "n",
        "R",
        "D",
        "forward",
        "T(n,R+D)",
        "disk_w",
        "disk_r",
        "ram_w",
        "ram_r",
        "ex_dw",
        "ex_dr",
        "ex_rw",
        "ex_rr",
        "new_Ma/s",
        "exact_s"
    );
    for (n, r, d) in [
        (10, 2, 1),
        (10, 1, 3),
        (100, 2, 3),
        (100, 1, 4),
        (1000, 4, 2),
        (1000, 1, 9),
        (10_000, 5, 5),
        (10_000, 8, 2),
        (100_000, 10, 4),
    ] {
        let cap = Capacity { ram: r, disk: d };
        let t0 = Instant::now();
        let s = validate(n, cap, Multistage::new(n, r, d)?)?;
        let rate = s.actions as f64 / t0.elapsed().as_secs_f64() / 1e6;
        let t1 = Instant::now();
        let exact = match Multistage::exact(n, r, d) {
            Ok(plan) => Some(validate(n, cap, plan)?),
            Err(_) => None,
        };
        let exact_s = t1.elapsed().as_secs_f64();
        let t = optimal_forward(n, r + d)?;
        assert_eq!(s.forward, t);
        let ex = |f: fn(&revolve::Stats) -> u64| {
            exact.as_ref().map_or("-".to_string(), |e| f(e).to_string())
        };
        if let Some(e) = &exact {
            assert_eq!(e.forward, t);
        }
        println!(
            "{:>7} {:>3} {:>3} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9.1} {:>9.3}",
            n,
            r,
            d,
            s.forward,
            t,
            s.stores[1],
            s.restores[1],
            s.stores[0],
            s.restores[0],
            ex(|e| e.stores[1]),
            ex(|e| e.restores[1]),
            ex(|e| e.stores[0]),
            ex(|e| e.restores[0]),
            rate,
            exact_s
        );
    }

    println!();
    println!("# cost-aware: modelled makespan vs binomial RAM-only and store-all");
    println!(
        "{:>6} {:>3} {:>3} {:>4} {:>4} {:>5} {:>5} {:>11} {:>11} {:>11} {:>7} {:>7} {:>8}",
        "n",
        "R",
        "D",
        "uf",
        "ub",
        "wd",
        "rd",
        "cost-aware",
        "ram-only",
        "store-all",
        "disk_w",
        "disk_r",
        "plan_s"
    );
    for (n, r, d, uf, ub, wd, rd) in [
        (100, 1, 4, 1.0, 1.0, 0.0, 0.0),
        (100, 1, 4, 1.0, 2.0, 2.0, 1.0),
        (100, 2, 8, 1.0, 2.0, 5.0, 5.0),
        (1000, 3, 5, 1.0, 2.0, 2.0, 1.0),
        (1000, 3, 5, 1.0, 2.0, 20.0, 20.0),
        (1000, 2, 10, 1.0, 1.0, 0.5, 0.5),
        (5000, 4, 4, 1.0, 2.0, 3.0, 2.0),
    ] {
        let costs = Costs::new(uf, ub - uf).and_then(|c| c.with_disk_seconds(wd, rd))?;
        let cap = Capacity { ram: r, disk: d };
        let t0 = Instant::now();
        let plan = CostAware::new(n, r, d, costs)?;
        let secs = t0.elapsed().as_secs_f64();
        let planned = plan.makespan();
        let p = price(plan, n, cap, &costs)?;
        assert!((p.makespan - planned).abs() <= 1e-9 * planned);
        let ram_only = price(Multistage::new(n, r, 0)?, n, Capacity::ram(r), &costs)?;
        let all = price(store_all(n), n, Capacity::ram(n), &costs)?;
        println!(
            "{:>6} {:>3} {:>3} {:>4} {:>4} {:>5} {:>5} {:>11.1} {:>11.1} {:>11.1} {:>7} {:>7} {:>8.3}",
            n,
            r,
            d,
            uf,
            ub,
            wd,
            rd,
            p.makespan,
            ram_only.makespan,
            all.makespan,
            p.stats.stores[1],
            p.stats.restores[1],
            secs
        );
    }
    Ok(())
}
