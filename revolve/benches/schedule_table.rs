//! Bench binary: speed of generating whole binomial schedules, as a table.
//!
//! `cargo bench --bench schedule_table`. Reference: native C++ Revolve (-O3) does 29-32 ns per
//! step (~120 M actions/s); pyrevolve 0.22-0.25 M actions/s.

use revolve::Binomial;
use revolve::cost::optimal_forward;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// (actions, forward steps) of the whole schedule.
fn generate(n: u64, s: u64) -> (u64, u64) {
    Binomial::new(n, s)
        .unwrap()
        .fold((0u64, 0u64), |(k, f), a| (k + 1, f + a.forward_steps()))
}

fn main() {
    println!(
        "{:>10} {:>6} {:>11} {:>8} {:>10} {:>14} {:>14}",
        "n", "s", "actions", "ns/step", "M act/s", "forward", "T(n,s)"
    );
    let cases: &[(u64, u64)] = &[
        (1_000_000, 1),
        (1_000_000, 2),
        (1_000_000, 5),
        (1_000_000, 10),
        (1_000_000, 20),
        (1_000_000, 100),
        (1_000_000, 1000),
        (10_000_000, 10),
        (10_000_000, 100),
    ];
    for &(n, s) in cases {
        let (actions, forward) = generate(n, s);
        // Best of repeated runs, at least 0.3 s in all.
        let mut best = Duration::MAX;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(300) {
            let t = Instant::now();
            black_box(generate(black_box(n), black_box(s)));
            best = best.min(t.elapsed());
        }
        let secs = best.as_secs_f64();
        println!(
            "{:>10} {:>6} {:>11} {:>8.2} {:>10.1} {:>14} {:>14}",
            n,
            s,
            actions,
            secs * 1e9 / n as f64,
            actions as f64 / secs / 1e6,
            forward,
            optimal_forward(n, s).unwrap()
        );
    }
}
