//! The test binary's global allocator: forwards to the system allocator and counts, for the
//! tests that check hot paths allocate nothing.
//!
//! Two counts: [`thread_allocs`], every allocation of the calling thread; and [`COUNT`], while
//! [`ON`] is set, the allocations of threads that called [`count_this_thread`] and of the disk
//! store's I/O thread (not the test harness's threads).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The allocator.
pub(crate) struct Counting;
/// Whether [`COUNT`] counts.
pub(crate) static ON: AtomicBool = AtomicBool::new(false);
/// Allocations of the counted threads while [`ON`] is set.
pub(crate) static COUNT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// 0: not yet known, 1: counted, 2: not counted.
    static KIND: Cell<u8> = const { Cell::new(0) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Count this thread's allocations in [`COUNT`].
pub(crate) fn count_this_thread() {
    KIND.with(|k| k.set(1));
}

/// Allocations made by the calling thread so far.
pub(crate) fn thread_allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn counted() -> bool {
    KIND.with(|k| match k.get() {
        1 => true,
        2 => false,
        _ => {
            if BUSY.with(|b| b.replace(true)) {
                return false;
            }
            let io = std::thread::current().name() == Some("revolve-disk-io");
            BUSY.with(|b| b.set(false));
            k.set(if io { 1 } else { 2 });
            io
        }
    })
}

fn note() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    if ON.load(Ordering::Relaxed) && counted() {
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator; only counts on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;
