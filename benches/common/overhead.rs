//! Shared by `benches/revolver_overhead.rs` and `examples/revolver_overhead.rs`: a memory-bound
//! elementwise model whose forward step costs about one state copy.
//!
//! Forward `u <- u (A + B u)`; the reverse operator first re-runs the step recording its
//! derivative `A + 2 B u` on a tape (the taped forward step counted in `T(n, s)`), then applies
//! the adjoint `lam <- lam * tape`.

#![allow(dead_code)]

use revolve::{Binomial, ForwardOperator, RamStore, ReverseOperator, Revolver, RevolverStats};
use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

pub const A: f64 = 0.999;
pub const B: f64 = 1e-4;

pub fn forward_kernel(src: &[f64], dst: &mut [f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s * (A + B * s);
    }
}

pub fn forward_in_place(u: &mut [f64]) {
    for x in u {
        *x *= A + B * *x;
    }
}

pub fn tape_kernel(u: &[f64], tape: &mut [f64]) {
    for (t, &x) in tape.iter_mut().zip(u) {
        *t = A + 2.0 * B * x;
    }
}

pub fn adjoint_kernel(tape: &[f64], lam: &mut [f64]) {
    for (l, &t) in lam.iter_mut().zip(tape) {
        *l *= t;
    }
}

/// The forward operator; `out_of_place` says whether it offers `advance_from`.
pub struct Fwd {
    pub out_of_place: bool,
}

impl ForwardOperator<Vec<f64>> for Fwd {
    type Error = Infallible;
    fn advance(&mut self, u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
        for _ in from..to {
            forward_in_place(u);
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
        forward_kernel(src, dst);
        self.advance(dst, from + 1, to)
    }
}

/// The reverse operator: taped forward step, then the adjoint.
pub struct Rev {
    pub tape: Vec<f64>,
}

impl ReverseOperator<Vec<f64>, Vec<f64>> for Rev {
    type Error = Infallible;
    fn reverse(&mut self, u: &Vec<f64>, lam: &mut Vec<f64>, _k: u64) -> Result<(), Infallible> {
        tape_kernel(u, &mut self.tape);
        adjoint_kernel(&self.tape, lam);
        Ok(())
    }
}

/// Seconds per call of `f`, the minimum over `rounds` rounds of `reps` calls.
pub fn time_per_call(rounds: usize, reps: usize, mut f: impl FnMut()) -> f64 {
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

/// Per-call seconds of: one forward step, one adjoint step (without its taped step), one
/// state copy.
pub fn kernel_times(len: usize) -> (f64, f64, f64) {
    let mut u = vec![0.5; len];
    let src = vec![0.25; len];
    let mut lam = vec![1.0; len];
    let tape = vec![A; len];
    let fwd = time_per_call(5, 20, || forward_in_place(black_box(&mut u)));
    let adj = time_per_call(5, 20, || {
        adjoint_kernel(black_box(&tape), black_box(&mut lam))
    });
    let copy = time_per_call(5, 20, || u.copy_from_slice(black_box(&src)));
    (fwd, adj, copy)
}

/// One full reversal (`apply_forward` + `apply_reverse`) through `Binomial(n, s)`; seconds and
/// counts. The stores are allocated before the clock starts.
pub fn run_revolver(len: usize, n: u64, s: u64, out_of_place: bool) -> (f64, RevolverStats) {
    let mut u = vec![0.5; len];
    let mut rv = Revolver::new(
        n,
        Binomial::new(n, s).expect("valid n, s"),
        Fwd { out_of_place },
        Rev {
            tape: vec![0.0; len],
        },
        RamStore::new(s as usize, &u),
    )
    .expect("valid Revolver");
    let mut lam = vec![1.0; len];
    let t = Instant::now();
    rv.apply_forward(&mut u).expect("forward sweep");
    rv.apply_reverse(&mut lam).expect("reverse sweep");
    let secs = t.elapsed().as_secs_f64();
    black_box(&lam);
    (secs, rv.stats())
}
