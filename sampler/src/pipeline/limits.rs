//! Refusing what cannot fit, before a run starts: a thread count far above the cores, or a run
//! whose memory (states held by the store policy, scores, per-worker buffers) exceeds what the
//! machine has available.

use super::StorePolicy;
use crate::strategy::RunParams;
use crate::{ConfigError, Error, Result};

/// The most worker threads a run accepts: 8 per core, and at least 1024 (more threads than
/// that only cost memory and start-up time; a million would take minutes to create).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_mul(8).max(1024)
}

/// Refuse `threads` above [`max_threads`], naming `key` (the option or config key given).
pub fn check_threads(key: &str, threads: u64) -> Result<()> {
    let max = max_threads();
    if threads > max as u64 {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        return Err(Error::config(
            key,
            format!(
                "must be at most {max} (8 per core of this machine's {cores}, at least 1024), got {threads}"
            ),
        ));
    }
    Ok(())
}

/// The memory a run needs at least, in bytes, by part (saturating at `u64::MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryNeed {
    /// States the store keeps in RAM: every state of every trajectory for store-all, at most
    /// the budget for the budget policies (Monte Carlo keeps none).
    pub states: u64,
    /// Scores of every step of every trajectory (TAMS: `N x (steps + 1) x 8`).
    pub scores: u64,
    /// Per-worker buffers: a working state and a copy of the initial one per worker thread.
    pub workers: u64,
}

impl MemoryNeed {
    /// The estimate for `params` with `state_bytes` per state, `threads` workers, `tams`
    /// (else Monte Carlo) and the store policy `store`.
    pub fn estimate(
        params: &RunParams,
        state_bytes: u64,
        threads: u64,
        tams: bool,
        store: &StorePolicy,
    ) -> MemoryNeed {
        let n = u128::from(params.ntrajectories);
        let snapshots = u128::from(params.horizon.nsteps) + 1;
        let s = u128::from(state_bytes);
        let sat = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
        let workers = sat(u128::from(threads).saturating_mul(2 * s));
        if !tams {
            return MemoryNeed {
                states: 0,
                scores: 0,
                workers,
            };
        }
        let all = (n * snapshots).saturating_mul(s);
        let states = match store {
            StorePolicy::StoreAll => all,
            StorePolicy::Uniform { budget, .. } | StorePolicy::Schedule { budget, .. } => {
                all.min(u128::from(*budget))
            }
        };
        MemoryNeed {
            states: sat(states),
            scores: sat(n * snapshots * 8),
            workers,
        }
    }

    /// The total (saturating).
    pub fn total(&self) -> u64 {
        self.states
            .saturating_add(self.scores)
            .saturating_add(self.workers)
    }

    /// Refuse a need above `available` bytes (`limit` says what the limit is) or above what an
    /// address space can hold.
    pub fn check(&self, available: Option<u64>, limit: &'static str) -> Result<()> {
        let total = self.total();
        let (cap, what) = match available {
            Some(a) => (a, limit),
            None => (isize::MAX as u64, "the address space"),
        };
        if total > cap {
            return Err(ConfigError::TooLarge {
                needed: total,
                states: self.states,
                scores: self.scores,
                workers: self.workers,
                available: cap,
                limit: what,
            }
            .into());
        }
        Ok(())
    }
}

/// `MemAvailable` of `/proc/meminfo` in bytes (Linux; `None` elsewhere or if unreadable).
pub fn available_memory() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// The `MemAvailable:` line of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

/// The checks [`super::Run::run`] makes before anything is allocated: the thread count and
/// the memory estimate against the machine's available memory.
pub(super) fn check_fits(
    params: &RunParams,
    state_bytes: u64,
    threads: Option<usize>,
    tams: bool,
    store: &StorePolicy,
) -> Result<()> {
    if let Some(t) = threads {
        check_threads("threads", t as u64)?;
    }
    let workers =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let need = MemoryNeed::estimate(params, state_bytes, workers as u64, tams, store);
    need.check(
        available_memory(),
        "available (MemAvailable in /proc/meminfo)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::Horizon;

    fn params(n: u64, end: f64) -> RunParams {
        RunParams {
            ntrajectories: n,
            nsplititer: 10,
            l: 1,
            walltime: None,
            horizon: Horizon::new(end, 0.01, 1.0),
            on_stall: Default::default(),
            init_ensemble_only: false,
        }
    }

    #[test]
    fn meminfo_is_parsed() {
        let text = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(mem_available(text), Some(20_000_000 * 1024));
        assert_eq!(mem_available("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn estimate_by_policy() {
        let p = params(100, 1.0); // 100 steps: 101 snapshots
        let all = MemoryNeed::estimate(&p, 8, 2, true, &StorePolicy::StoreAll);
        assert_eq!(all.states, 100 * 101 * 8);
        assert_eq!(all.scores, 100 * 101 * 8);
        assert_eq!(all.workers, 2 * 2 * 8);
        let budget = StorePolicy::Uniform {
            budget: 1000,
            interval: None,
            spill_dir: None,
        };
        assert_eq!(MemoryNeed::estimate(&p, 8, 2, true, &budget).states, 1000);
        let mc = MemoryNeed::estimate(&p, 8, 2, false, &StorePolicy::StoreAll);
        assert_eq!((mc.states, mc.scores), (0, 0));
        let huge = MemoryNeed::estimate(&params(u64::MAX, 1.0), u64::MAX, 2, true, &budget);
        assert_eq!(huge.total(), u64::MAX);
        assert!(huge.check(None, "x").is_err());
        assert!(all.check(Some(all.total()), "x").is_ok());
        let e = all
            .check(Some(all.total() - 1), "available")
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than") && e.contains("available"), "{e}");
    }

    #[test]
    fn threads_are_capped() {
        assert!(check_threads("threads", 1024).is_ok());
        let e = check_threads("--threads", 1_000_000)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--threads: must be at most"), "{e}");
        assert!(e.ends_with("got 1000000"), "{e}");
    }
}
