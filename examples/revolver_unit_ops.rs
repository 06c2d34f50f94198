//! The Rust-driven baseline of `python/bench/revolver_vs_pyrevolve.py`: the Revolver on
//! pyrevolve's benchmark shape with the script's operators, forward `u += 1` and reverse
//! `v += u`, on a state of `len` f64 (default 10^6, 8 MB), `n` steps, `s` RAM slots (binomial).
//! Prints one line per variant: `variant wall_seconds cpu_seconds copies`, in-place and
//! out-of-place (forward `u_out = u_in + 1`), the run with the least CPU time of `repeats` (CPU
//! time: the thread's on-CPU seconds, less disturbed than wall time on a shared machine). The kernels use AVX2 when the CPU has it (detected at
//! run time, as numpy does), so both sides run equally fast loops and the comparison is of the
//! drivers.
//!
//! Run: `cargo run --release --example revolver_unit_ops -- [len] [n] [s] [repeats]`

use revolve::{Binomial, ForwardOperator, RamStore, Revolver};
use std::convert::Infallible;
use std::time::Instant;

/// `f` over the slices, compiled once for AVX2 (used when the CPU has it) and once plainly.
macro_rules! kernel {
    ($name:ident, $avx:ident, ($($arg:ident: $ty:ty),*), $body:block) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx($($arg: $ty),*) $body

        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { $avx($($arg),*) };
            }
            $body
        }
    };
}

kernel!(add_one, add_one_avx2, (u: &mut [f64]), {
    for x in u.iter_mut() {
        *x += 1.0;
    }
});

kernel!(add_one_from, add_one_from_avx2, (src: &[f64], dst: &mut [f64]), {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s + 1.0;
    }
});

kernel!(add_assign, add_assign_avx2, (v: &mut [f64], u: &[f64]), {
    for (l, x) in v.iter_mut().zip(u) {
        *l += x;
    }
});

struct PlusOne {
    out_of_place: bool,
}

impl ForwardOperator<Vec<f64>> for PlusOne {
    type Error = Infallible;
    fn advance(&mut self, u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
        for _ in from..to {
            add_one(u);
        }
        Ok(())
    }
    fn out_of_place(&self) -> bool {
        self.out_of_place
    }
    fn advance_from(
        &mut self,
        src: &Vec<f64>,
        dst: &mut Vec<f64>,
        from: u64,
        to: u64,
    ) -> Result<(), Infallible> {
        add_one_from(src, dst);
        self.advance(dst, from + 1, to)
    }
}

/// On-CPU seconds of this thread (Linux `/proc/thread-self/schedstat`), `None` elsewhere.
fn cpu_secs() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

fn arg(i: usize, default: u64) -> Result<u64, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("argument {i} `{s}` is not a count")),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let len = usize::try_from(arg(1, 1_000_000)?)?;
    let n = arg(2, 1000)?;
    let s = arg(3, 20)?;
    let repeats = arg(4, 3)?.max(1);
    for out_of_place in [false, true] {
        let mut best = (f64::INFINITY, f64::INFINITY, 0);
        for _ in 0..repeats {
            let mut u = vec![0.0f64; len];
            let rev = |u: &Vec<f64>, v: &mut Vec<f64>, _k: u64| -> Result<(), Infallible> {
                add_assign(v, u);
                Ok(())
            };
            let ram = RamStore::new(usize::try_from(s)?, &u);
            let mut rv = Revolver::new(Binomial::new(n, s)?, PlusOne { out_of_place }, rev, ram)?;
            let mut v = vec![0.0f64; len];
            let c0 = cpu_secs();
            let t = Instant::now();
            rv.apply_forward(&mut u)?;
            rv.apply_reverse(&mut v)?;
            let wall = t.elapsed().as_secs_f64();
            let cpu = match (c0, cpu_secs()) {
                (Some(a), Some(b)) => b - a,
                _ => wall,
            };
            // u_n = n everywhere; v = sum of u_k = n (n - 1) / 2.
            if u[0] != n as f64 || v[0] != (n * (n - 1) / 2) as f64 {
                return Err(format!("wrong result: u[0] = {}, v[0] = {}", u[0], v[0]).into());
            }
            if cpu < best.1 {
                best = (wall, cpu, rv.stats().copies);
            }
        }
        let name = if out_of_place {
            "out-of-place"
        } else {
            "in-place"
        };
        println!("{name} {:.4} {:.4} {}", best.0, best.1, best.2);
    }
    Ok(())
}
