//! The Revolver allocates nothing per action: the counting allocator sees the same number of
//! allocations for a run of 100 steps and a run of 1000 (and none at all with in-place
//! operators and a RAM slot for the spare buffer).

use crate::counting::thread_allocs;
use revolve::{Binomial, RamStore, Revolver};
use std::convert::Infallible;

/// Allocations made by `apply_forward` + `apply_reverse` (construction excluded).
fn run_allocs(n: u64, s: u64) -> u64 {
    let fwd = |u: &mut Vec<f64>, from: u64, to: u64| -> Result<(), Infallible> {
        for _ in from..to {
            u.iter_mut().for_each(|x| *x = x.sin() * 1.01 + 0.1);
        }
        Ok(())
    };
    let rev = |u: &Vec<f64>, lam: &mut Vec<f64>, _k: u64| -> Result<(), Infallible> {
        lam.iter_mut()
            .zip(u)
            .for_each(|(l, x)| *l *= x.cos() * 1.01);
        Ok(())
    };
    let mut u: Vec<f64> = (0..512).map(|i| f64::from(i) * 0.01).collect();
    let mut lam = vec![1.0; u.len()];
    let ram = RamStore::new(s as usize, &u);
    let mut rv = Revolver::new(Binomial::new(n, s).unwrap(), fwd, rev, ram).unwrap();
    let before = thread_allocs();
    rv.apply_forward(&mut u).unwrap();
    rv.apply_reverse(&mut lam).unwrap();
    thread_allocs() - before
}

#[test]
fn allocations_do_not_grow_with_steps() {
    let small = run_allocs(100, 10);
    let large = run_allocs(1000, 10);
    assert_eq!(small, large, "allocations grew with n: {small} vs {large}");
    // The buffer of u_{n-1} comes with the Revolver, the operators work in place.
    assert_eq!(large, 0, "{large} allocations per run");
}
