//! Bench binary: seconds for the cost-aware search ([`CostAware::best`]: two-level search and
//! pricing multistage) at realistic sizes, and for validating the schedule it returns. Prints one row per case.
//!
//! `cargo bench -p revolve --bench cost_aware_search`

use revolve::Costs;
use revolve::schedule::cost_aware::Best;
use revolve::{CostAware, Schedule, validate};
use std::time::Instant;

fn main() {
    // The plan example of docs/planning.md: 8 MiB states, 1 ms forward, 2 ms reverse (+1 ms taped),
    // 1 GB/s disk: 8.39 ms per disk write and read.
    let io = 8.0 * 1024.0 * 1024.0 / 1e9;
    let costs = Costs::new(1e-3, 3e-3)
        .and_then(|c| c.with_disk_seconds(io, io))
        .expect("valid costs");
    println!(
        "{:>8} {:>5} {:>5} {:>10} {:>10} {:>12} {:>12}",
        "n", "R", "D", "search", "kind", "validate", "makespan"
    );
    for (n, ram, disk) in [
        (1_000u64, 20u64, 256u64),
        (10_000, 20, 256),
        (100_000, 20, 256),
        (100_000, 100, 500),
    ] {
        let t = Instant::now();
        let best = CostAware::best(n, ram, disk, costs).expect("a schedule");
        let search = t.elapsed().as_secs_f64();
        let kind = match best {
            Best::Exact(_) => "exact",
            Best::TwoLevel(_) => "two-level",
            Best::Multistage(..) => "multistage",
            _ => "other",
        };
        let makespan = best.makespan();
        let t = Instant::now();
        let cap = best.capacity();
        validate(n, cap, best).expect("valid schedule");
        let check = t.elapsed().as_secs_f64();
        println!(
            "{n:>8} {ram:>5} {disk:>5} {:>8.3} s {kind:>10} {:>10.3} s {:>10.2} s",
            search, check, makespan
        );
    }
}
