//! Measurement helpers shared by the benches, examples and tests: a synthetic model that times
//! its own operators ([`overhead`]), disk store modes and an I/O-timing store wrapper
//! ([`disk`]), and clocks. Not part of the checkpointing API.

pub mod disk;
pub mod overhead;

use std::time::Instant;

/// On-CPU seconds of this thread (Linux `/proc/thread-self/schedstat`, updated at scheduler
/// ticks: meaningful for intervals of seconds), `None` elsewhere.
pub fn cpu_secs() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

/// `f`'s result with its wall and on-CPU seconds (on-CPU falls back to wall).
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let c0 = cpu_secs();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_secs()) {
        (Some(a), Some(b)) => b - a,
        _ => wall,
    };
    (out, wall, cpu)
}

/// Wall seconds per call of `f`: the minimum over `rounds` rounds of calls lasting at least
/// 50 ms each.
pub fn time_per_call(rounds: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    let first = t.elapsed().as_secs_f64();
    let reps = ((0.05 / first.max(1e-9)).ceil() as usize).clamp(5, 1_000_000);
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    best
}
