//! An ensemble-wide memory budget for checkpoints: RAM bytes up to a limit, spill beyond.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Byte counters shared by every checkpoint of a [`super::CompactStore`].
///
/// ```
/// use sampler::store::Budget;
/// let b = Budget::new(100);
/// assert!(b.try_reserve_ram(60));
/// assert!(!b.try_reserve_ram(60)); // would pass the limit: the caller spills instead
/// b.release_ram(60);
/// assert_eq!(b.stats().ram_peak, 60);
/// ```
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    ram: AtomicU64,
    ram_peak: AtomicU64,
    disk: AtomicU64,
    disk_peak: AtomicU64,
    live: AtomicU64,
    live_peak: AtomicU64,
    spills: AtomicU64,
    disk_reads: AtomicU64,
}

/// A snapshot of a [`Budget`]'s counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BudgetStats {
    /// RAM limit for checkpoints, bytes.
    pub limit: u64,
    /// Checkpoint bytes in RAM now.
    pub ram: u64,
    /// Most checkpoint bytes ever in RAM at once (never above `limit`).
    pub ram_peak: u64,
    /// Checkpoint bytes in spill files now.
    pub disk: u64,
    /// Most checkpoint bytes ever in spill files at once.
    pub disk_peak: u64,
    /// Live checkpoints (RAM and disk; a shared one counts once).
    pub live: u64,
    /// Most live checkpoints at once.
    pub live_peak: u64,
    /// Checkpoints written to spill files so far.
    pub spills: u64,
    /// Spill files read back so far.
    pub disk_reads: u64,
}

impl Budget {
    /// A budget of `limit` bytes of RAM.
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            ram: AtomicU64::new(0),
            ram_peak: AtomicU64::new(0),
            disk: AtomicU64::new(0),
            disk_peak: AtomicU64::new(0),
            live: AtomicU64::new(0),
            live_peak: AtomicU64::new(0),
            spills: AtomicU64::new(0),
            disk_reads: AtomicU64::new(0),
        }
    }

    /// The RAM limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Take `bytes` of RAM if that stays within the limit (`false`: spill instead).
    pub fn try_reserve_ram(&self, bytes: u64) -> bool {
        match self.ram.fetch_update(Relaxed, Relaxed, |used| {
            used.checked_add(bytes).filter(|&t| t <= self.limit)
        }) {
            Ok(before) => {
                self.ram_peak.fetch_max(before + bytes, Relaxed);
                self.add_live();
                true
            }
            Err(_) => false,
        }
    }

    /// Give back `bytes` of RAM taken by [`Budget::try_reserve_ram`].
    pub fn release_ram(&self, bytes: u64) {
        self.ram.fetch_sub(bytes, Relaxed);
        self.live.fetch_sub(1, Relaxed);
    }

    pub(crate) fn add_disk(&self, bytes: u64) {
        let now = self.disk.fetch_add(bytes, Relaxed) + bytes;
        self.disk_peak.fetch_max(now, Relaxed);
        self.spills.fetch_add(1, Relaxed);
        self.add_live();
    }

    fn add_live(&self) {
        let now = self.live.fetch_add(1, Relaxed) + 1;
        self.live_peak.fetch_max(now, Relaxed);
    }

    pub(crate) fn release_disk(&self, bytes: u64) {
        self.disk.fetch_sub(bytes, Relaxed);
        self.live.fetch_sub(1, Relaxed);
    }

    pub(crate) fn count_read(&self) {
        self.disk_reads.fetch_add(1, Relaxed);
    }

    /// The counters now.
    pub fn stats(&self) -> BudgetStats {
        BudgetStats {
            limit: self.limit,
            ram: self.ram.load(Relaxed),
            ram_peak: self.ram_peak.load(Relaxed),
            disk: self.disk.load(Relaxed),
            disk_peak: self.disk_peak.load(Relaxed),
            live: self.live.load(Relaxed),
            live_peak: self.live_peak.load(Relaxed),
            spills: self.spills.load(Relaxed),
            disk_reads: self.disk_reads.load(Relaxed),
        }
    }
}
