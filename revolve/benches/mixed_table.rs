//! Bench binary: cost of the mixed schedule (its table, then the whole action stream) against
//! the binomial schedule's stream, as a table.
//!
//! `cargo bench --workspace --bench mixed_table`. The table is `8 n (s - 1)` bytes.

use revolve::{Binomial, MixedTable};
use std::time::Instant;

fn main() {
    println!(
        "{:>8} {:>5} {:>10} {:>10} {:>11} {:>11} {:>10} {:>10}",
        "n", "s", "table MB", "table s", "stream s", "binomial s", "forward", "T(n,s)"
    );
    let cases: &[(u64, u64)] = &[
        (1_000, 10),
        (10_000, 10),
        (10_000, 100),
        (30_000, 100),
        (100_000, 10),
        (100_000, 100),
    ];
    for &(n, s) in cases {
        let t = Instant::now();
        let table = MixedTable::new(n, s).unwrap();
        let build = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let plan = table.schedule(n, s).unwrap();
        let forward = plan.forward();
        let actions = plan.count();
        let stream = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let b = Binomial::new(n, s).unwrap();
        let t_ns = b.forward();
        let b_actions = b.count();
        let binomial = t.elapsed().as_secs_f64();
        std::hint::black_box((actions, b_actions));
        println!(
            "{n:>8} {s:>5} {:>10.1} {build:>10.3} {stream:>11.3} {binomial:>11.4} {forward:>10} {t_ns:>10}",
            (8 * n * (s - 1)) as f64 / 1e6
        );
    }
}
