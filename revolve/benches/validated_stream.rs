//! Bench binary: nanoseconds per reversed step of generating a schedule (`gen`), of generating
//! it with the validator's [`Machine`] checking every action in a plain loop (`stream`: what
//! `retrace schedule --summary` does), and of [`validate()`] (which also builds the
//! [`Violation`](revolve::Violation) on error). `ratio` is stream / gen, measured in the same
//! run. Times are the best of five runs in thread CPU time (see [`cpu_seconds`]).
//!
//! `cargo bench -p revolve --bench validated_stream [-- STEPS]` (default `10^7`).

use revolve::{Binomial, Machine, Multistage, Periodic, Schedule, validate};
use std::hint::black_box;
use std::time::Instant;

/// Seconds this thread has run on a CPU (Linux `schedstat`), so that other processes sharing the
/// cores do not inflate the figures; wall-clock time where that is not available.
fn cpu_seconds(wall: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| wall.elapsed().as_secs_f64(), |ns| ns as f64 * 1e-9)
}

/// Best of `reps` runs of `f`, seconds on the CPU.
fn best(reps: usize, mut f: impl FnMut() -> u64) -> f64 {
    (0..reps)
        .map(|_| {
            let wall = Instant::now();
            let t = cpu_seconds(wall);
            black_box(f());
            cpu_seconds(wall) - t
        })
        .fold(f64::INFINITY, f64::min)
}

fn row<P: Schedule + Clone>(name: &str, schedule: P) {
    let n = schedule.steps();
    let cap = schedule.capacity();
    let gen_s = best(5, || {
        schedule
            .clone()
            .fold(0u64, |acc, a| acc.wrapping_add(a.forward_steps()))
    });
    let machine_s = best(5, || {
        let mut m = Machine::new(n, cap);
        for a in schedule.clone() {
            m.execute(a).expect("valid schedule");
        }
        m.finish().expect("complete schedule").forward
    });
    let validate_s = best(5, || validate(n, cap, schedule.clone()).unwrap().forward);
    let ns = |s: f64| s * 1e9 / n as f64;
    println!(
        "{name:<28} {n:>10} {:>10.1} {:>12.1} {:>12.1} {:>8.2}",
        ns(gen_s),
        ns(machine_s),
        ns(validate_s),
        machine_s / gen_s
    );
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    println!(
        "{:<28} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "schedule", "steps", "gen ns/st", "stream ns/st", "validate ns/st", "ratio"
    );
    row("binomial s=10", Binomial::new(n, 10).unwrap());
    row("binomial s=100", Binomial::new(n, 100).unwrap());
    row("multistage R=5 D=5", Multistage::new(n, 5, 5).unwrap());
    let k = n.isqrt();
    row(
        "periodic k=sqrt(n)",
        Periodic::new(n, k, revolve::Level::Disk).unwrap(),
    );
}
