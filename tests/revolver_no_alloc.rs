//! The Revolver allocates nothing per action: a counting allocator sees the same number of
//! allocations for a run of 100 steps and a run of 1000.

use retrace::burgers::{Burgers, BurgersAdjoint, BurgersForward};
use revolve::{Binomial, RamStore, Revolver};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts (thread-locally) on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Allocations made by `apply_forward` + `apply_reverse` (construction excluded).
fn run_allocs(n: u64, s: u64) -> u64 {
    let m = Burgers::with_stable_dt(512, 0.02, 2.0, 0.9).unwrap();
    let mut u = m.initial_condition();
    let mut rv = Revolver::new(
        Binomial::new(n, s).unwrap(),
        BurgersForward::<Vec<f64>>::new(m.clone()),
        BurgersAdjoint::<Vec<f64>>::new(m),
        RamStore::new(s as usize, &u),
    )
    .unwrap();
    let before = allocs();
    rv.apply_forward(&mut u).unwrap();
    let mut lam = u.clone(); // the test's own allocation, subtracted below
    rv.apply_reverse(&mut lam).unwrap();
    allocs() - before - 1
}

#[test]
fn allocations_do_not_grow_with_steps() {
    let small = run_allocs(100, 10);
    let large = run_allocs(1000, 10);
    assert_eq!(small, large, "allocations grew with n: {small} vs {large}");
    // The two operators' scratch fields (the buffer of u_{n-1} comes with the Revolver).
    assert!(large <= 2, "{large} allocations per run");
}
