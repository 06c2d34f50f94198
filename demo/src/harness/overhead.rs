//! A memory-bound elementwise model whose forward step costs about one state copy, with
//! operators that time themselves (used by `benches/revolver_overhead.rs`,
//! `examples/revolver_overhead.rs` and `examples/disk_adjoint.rs`).
//!
//! Forward `u <- u (A + B u)`; reverse step `k`: `lam <- lam (A + 2 B u_k)` (the transposed
//! Jacobian at `u_k`: one pass, like the forward step; the reverse operator gets `u_k` and needs
//! no separate taped forward step, as in pyrevolve's benchmark).

use super::{time_per_call, timed};
use revolve::{Binomial, ForwardOperator, RamStore, ReverseOperator, Revolver, RevolverStats};
use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

/// The model's linear coefficient.
pub const A: f64 = 0.999;
/// The model's quadratic coefficient.
pub const B: f64 = 1e-4;

/// One forward step out of place: `dst = src (A + B src)`.
pub fn forward_kernel(src: &[f64], dst: &mut [f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s * (A + B * s);
    }
}

/// One forward step in place.
pub fn forward_in_place(u: &mut [f64]) {
    for x in u {
        *x *= A + B * *x;
    }
}

/// One reverse step: `lam *= A + 2 B u`.
pub fn adjoint_kernel(u: &[f64], lam: &mut [f64]) {
    for (l, &x) in lam.iter_mut().zip(u) {
        *l *= A + 2.0 * B * x;
    }
}

/// Seconds spent inside operator calls during a run (measured in place, per call).
#[derive(Clone, Copy, Debug, Default)]
pub struct InSitu {
    /// Forward steps and their seconds.
    pub forward: (u64, f64),
    /// Reverse steps and their seconds.
    pub reverse: (u64, f64),
    /// Out-of-place forward steps (included in `forward`) and their seconds.
    pub out_of_place: (u64, f64),
}

/// The forward operator; `out_of_place` says whether it offers `advance_from`.
pub struct Fwd {
    /// Whether it offers `advance_from`.
    pub out_of_place: bool,
    /// Forward steps taken.
    pub steps: u64,
    /// Seconds in them.
    pub secs: f64,
    /// Of which out of place (the first step of `advance_from`).
    pub oop_steps: u64,
    /// Seconds in those.
    pub oop_secs: f64,
}

impl ForwardOperator<Vec<f64>> for Fwd {
    type Error = Infallible;
    fn advance(&mut self, u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
        let t = Instant::now();
        for _ in from..to {
            forward_in_place(u);
        }
        self.secs += t.elapsed().as_secs_f64();
        self.steps += to - from;
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
        let t = Instant::now();
        forward_kernel(src, dst);
        let dt = t.elapsed().as_secs_f64();
        self.secs += dt;
        self.steps += 1;
        self.oop_secs += dt;
        self.oop_steps += 1;
        self.advance(dst, from + 1, to)
    }
}

/// The reverse operator.
#[derive(Default)]
pub struct Rev {
    /// Reverse steps taken.
    pub steps: u64,
    /// Seconds in them.
    pub secs: f64,
}

impl ReverseOperator<Vec<f64>, Vec<f64>> for Rev {
    type Error = Infallible;
    fn reverse(&mut self, u: &Vec<f64>, lam: &mut Vec<f64>, _k: u64) -> Result<(), Infallible> {
        let t = Instant::now();
        adjoint_kernel(u, lam);
        self.secs += t.elapsed().as_secs_f64();
        self.steps += 1;
        Ok(())
    }
}

/// Seconds per call of one forward step, one reverse step and one state copy (hot caches).
pub struct KernelTimes {
    /// One forward step in place.
    pub forward: f64,
    /// One reverse step.
    pub reverse: f64,
    /// One state copy.
    pub copy: f64,
}

/// [`KernelTimes`] for a state of `len` values.
pub fn kernel_times(len: usize) -> KernelTimes {
    let mut u = vec![0.5; len];
    let src = vec![0.25; len];
    let mut lam = vec![1.0; len];
    KernelTimes {
        forward: time_per_call(5, || forward_in_place(black_box(&mut u))),
        reverse: time_per_call(5, || adjoint_kernel(black_box(&src), black_box(&mut lam))),
        copy: time_per_call(5, || u.copy_from_slice(black_box(&src))),
    }
}

/// A Revolver over `Binomial(n, s)` with its stores allocated, and the initial state.
pub fn revolver(
    len: usize,
    n: u64,
    s: u64,
    out_of_place: bool,
) -> (Revolver<Vec<f64>, Fwd, Rev, Binomial>, Vec<f64>) {
    let u = vec![0.5; len];
    let rv = Revolver::new(
        Binomial::new(n, s).expect("valid n, s"),
        Fwd {
            out_of_place,
            steps: 0,
            secs: 0.0,
            oop_steps: 0,
            oop_secs: 0.0,
        },
        Rev::default(),
        RamStore::new(s as usize, &u),
    )
    .expect("valid Revolver");
    (rv, u)
}

/// One full reversal (`apply_forward` + `apply_reverse`): wall and on-CPU seconds, counts, and
/// the wall seconds spent inside the operators. The stores are allocated before the clock starts.
pub fn run_revolver(
    len: usize,
    n: u64,
    s: u64,
    out_of_place: bool,
) -> (f64, f64, RevolverStats, InSitu) {
    let (mut rv, mut u) = revolver(len, n, s, out_of_place);
    let mut lam = vec![1.0; len];
    let ((), wall, cpu) = timed(|| {
        rv.apply_forward(&mut u).expect("forward sweep");
        rv.apply_reverse(&mut lam).expect("reverse sweep");
    });
    black_box(&lam);
    let f = rv.forward_operator();
    let forward = (f.steps, f.secs);
    let out_of_place = (f.oop_steps, f.oop_secs);
    let r = rv.reverse_operator();
    let in_situ = InSitu {
        forward,
        reverse: (r.steps, r.secs),
        out_of_place,
    };
    (wall, cpu, rv.stats(), in_situ)
}
