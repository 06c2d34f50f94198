//! Periodic checkpointing (and store-all, its special case): checkpoints at `0, k, 2k, ...`;
//! every segment `[jk, jk + k)` but the last is replayed once from its checkpoint with all its
//! states stored, the last segment's states are stored during the forward sweep. Counts have an
//! exact closed form (checked against the validator in the tests).

use super::Schedule;
use crate::{Action, Capacity, Error, Level};

/// Where a stored state goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Multiples of the period at this level, every other state in RAM.
    Outer(Level),
    /// Steps below this many in RAM, the rest on disk (store-all over two levels).
    Split(u64),
}

/// Cursor of the lazy generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    /// Forward sweep at step `p < n - 1`: store (if due), advance.
    Sweep(u64),
    /// `reverse n-1`.
    Last,
    /// Restore, free and reverse `hi - 1`, down to `lo`.
    Tail {
        hi: u64,
        lo: u64,
    },
    /// Replay of segment `[a, a + k)` storing `p < a + k - 1`.
    Fill {
        a: u64,
        p: u64,
    },
    Done,
}

/// A periodic schedule; an `Iterator<Item = Action>` holding O(1) state.
///
/// ```
/// use revolve::schedule::periodic::Periodic;
/// use revolve::{validate, Level, Schedule};
/// // n = 10, k = 4: checkpoints 0, 4, 8; segments [4, 8) and [0, 4) are replayed.
/// let p = Periodic::new(10, 4, Level::Ram).unwrap();
/// assert_eq!(p.capacity().ram, 4);
/// let s = validate(10, p.capacity(), p).unwrap();
/// assert_eq!((s.forward, s.peak[0]), (19 + 2 * 3, 4)); // 2n - 1, plus two replays of 3 steps
/// ```
#[derive(Clone, Debug)]
pub struct Periodic {
    steps: u64,
    period: u64,
    place: Place,
    counts: Counts,
    cursor: Cursor,
    /// Segments `0..segments` still to replay (highest first).
    segments: u64,
    queue: [Action; 3],
    qpos: u8,
    qlen: u8,
}

/// Exact counts of a periodic schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    forward: u64,
    disk_writes: u64,
    disk_reads: u64,
    peak_ram: u64,
    peak_disk: u64,
}

impl Periodic {
    /// Period `period` (clamped to `1..=steps`; `k = 1` and `k = n` store every state), the
    /// checkpoints at multiples of `k` at level `outer`, every other state in RAM.
    ///
    /// Errors: [`Error::ZeroSteps`]; [`Error::Overflow`] when the forward count passes 64 bits.
    pub fn new(steps: u64, period: u64, outer: Level) -> Result<Periodic, Error> {
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        let k = period.clamp(1, steps);
        Periodic::build(steps, k, Place::Outer(outer), counts(steps, k, outer)?)
    }

    /// Store every state, steps below `ram` in RAM and the rest on disk.
    ///
    /// Errors: [`Error::ZeroSteps`]; [`Error::Overflow`] when `2n - 1` passes 64 bits.
    pub fn store_all(steps: u64, ram: u64) -> Result<Periodic, Error> {
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        let need = steps - 1;
        let ram = ram.min(need);
        let disk = need - ram;
        let forward = steps.checked_mul(2).ok_or(Error::Overflow {
            what: "store-all forward steps 2n - 1",
        })? - 1;
        let c = Counts {
            forward,
            disk_writes: disk,
            disk_reads: disk,
            peak_ram: ram,
            peak_disk: disk,
        };
        Periodic::build(steps, steps, Place::Split(ram), c)
    }

    fn build(steps: u64, k: u64, place: Place, counts: Counts) -> Result<Periodic, Error> {
        Ok(Periodic {
            steps,
            period: k,
            place,
            counts,
            cursor: if steps >= 2 {
                Cursor::Sweep(0)
            } else {
                Cursor::Last
            },
            segments: steps.div_ceil(k) - 1,
            queue: [Action::Reverse { step: 0 }; 3],
            qpos: 0,
            qlen: 0,
        })
    }

    /// The period `k`.
    pub fn period(&self) -> u64 {
        self.period
    }

    /// Total forward steps: advances plus the `n` taped steps.
    pub fn forward(&self) -> u64 {
        self.counts.forward
    }

    /// States written to disk.
    pub fn disk_writes(&self) -> u64 {
        self.counts.disk_writes
    }

    /// States read from disk.
    pub fn disk_reads(&self) -> u64 {
        self.counts.disk_reads
    }

    #[inline]
    fn level(&self, step: u64) -> Level {
        match self.place {
            Place::Outer(outer) if step.is_multiple_of(self.period) => outer,
            Place::Outer(_) => Level::Ram,
            Place::Split(ram) if step < ram => Level::Ram,
            Place::Split(_) => Level::Disk,
        }
    }

    #[inline]
    fn push(&mut self, a: Action) {
        self.queue[usize::from(self.qlen)] = a;
        self.qlen += 1;
    }

    /// Queue the next one to three actions; `false` when the schedule is over.
    fn refill(&mut self) -> bool {
        self.qpos = 0;
        self.qlen = 0;
        let (n, k) = (self.steps, self.period);
        loop {
            match self.cursor {
                Cursor::Sweep(p) => {
                    let last = (n.div_ceil(k) - 1) * k;
                    if p.is_multiple_of(k) || p >= last {
                        let level = self.level(p);
                        self.push(Action::Store { step: p, level });
                    }
                    self.push(Action::Advance { from: p, to: p + 1 });
                    self.cursor = if p + 2 < n {
                        Cursor::Sweep(p + 1)
                    } else {
                        Cursor::Last
                    };
                    return true;
                }
                Cursor::Last => {
                    self.push(Action::Reverse { step: n - 1 });
                    let lo = (n.div_ceil(k) - 1) * k;
                    self.cursor = Cursor::Tail { hi: n - 1, lo };
                    return true;
                }
                Cursor::Tail { hi, lo } if hi > lo => {
                    let (step, level) = (hi - 1, self.level(hi - 1));
                    self.push(Action::Restore { step, level });
                    self.push(Action::Free { step, level });
                    self.push(Action::Reverse { step });
                    self.cursor = Cursor::Tail { hi: step, lo };
                    return true;
                }
                Cursor::Tail { .. } => {
                    if self.segments == 0 {
                        self.cursor = Cursor::Done;
                        continue;
                    }
                    self.segments -= 1;
                    let a = self.segments * k;
                    if k == 1 {
                        self.cursor = Cursor::Tail { hi: a + 1, lo: a };
                        continue;
                    }
                    let level = self.level(a);
                    self.push(Action::Restore { step: a, level });
                    self.push(Action::Advance { from: a, to: a + 1 });
                    self.cursor = Cursor::Fill { a, p: a + 1 };
                    return true;
                }
                Cursor::Fill { a, p } => {
                    let end = a + k - 1;
                    if p < end {
                        let level = self.level(p);
                        self.push(Action::Store { step: p, level });
                        self.push(Action::Advance { from: p, to: p + 1 });
                        self.cursor = Cursor::Fill { a, p: p + 1 };
                    } else {
                        self.push(Action::Reverse { step: end });
                        self.cursor = Cursor::Tail { hi: end, lo: a };
                    }
                    return true;
                }
                Cursor::Done => return false,
            }
        }
    }
}

impl Iterator for Periodic {
    type Item = Action;

    #[inline]
    fn next(&mut self) -> Option<Action> {
        if self.qpos == self.qlen && !self.refill() {
            return None;
        }
        let a = self.queue[usize::from(self.qpos)];
        self.qpos += 1;
        Some(a)
    }
}

impl std::iter::FusedIterator for Periodic {}

impl Schedule for Periodic {
    fn steps(&self) -> u64 {
        self.steps
    }

    /// The exact peaks of the schedule.
    fn capacity(&self) -> Capacity {
        Capacity {
            ram: self.counts.peak_ram,
            disk: self.counts.peak_disk,
        }
    }
}

/// Closed-form counts with the checkpoints at `0, k, ...` at level `outer` and all other states
/// in RAM.
fn counts(n: u64, k: u64, outer: Level) -> Result<Counts, Error> {
    let over = || Error::Overflow {
        what: "periodic forward steps",
    };
    let m = n.div_ceil(k);
    let last_len = n - (m - 1) * k;
    // Stored checkpoints at multiples of k: those <= n - 2.
    let outer_count = if n >= 2 { (n - 2) / k + 1 } else { 0 };
    let inner_last = last_len.saturating_sub(2);
    let inner_full = k.saturating_sub(2);
    // Reads of the outer checkpoints: 2 per replayed segment (1 if k = 1), 1 for the last.
    let outer_reads = (m - 1) * if k >= 2 { 2 } else { 1 } + u64::from(last_len >= 2);
    let forward = (m - 1)
        .checked_mul(k - 1)
        .and_then(|x| x.checked_add(n.checked_mul(2)? - 1))
        .ok_or_else(over)?;
    let end_of_sweep = outer_count + inner_last;
    let replay = if m >= 2 { m - 1 + inner_full } else { 0 };
    let (peak_ram, peak_disk, disk_writes, disk_reads) = match outer {
        Level::Ram => (end_of_sweep.max(replay), 0, 0, 0),
        Level::Disk => (
            inner_last.max(if m >= 2 { inner_full } else { 0 }),
            outer_count,
            outer_count,
            outer_reads,
        ),
    };
    Ok(Counts {
        forward,
        disk_writes,
        disk_reads,
        peak_ram,
        peak_disk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn closed_form_matches_validator() {
        for n in 1..=40u64 {
            for k in 1..=n {
                for outer in Level::ALL {
                    let p = Periodic::new(n, k, outer).unwrap();
                    let c = p.counts;
                    let s = validate(n, p.capacity(), p)
                        .unwrap_or_else(|v| panic!("n={n} k={k} {outer}: {v}"));
                    let d = Level::Disk.index();
                    assert_eq!(
                        (s.forward, s.stores[d], s.restores[d], s.peak),
                        (
                            c.forward,
                            c.disk_writes,
                            c.disk_reads,
                            [c.peak_ram, c.peak_disk]
                        ),
                        "n={n} k={k} {outer}"
                    );
                }
            }
            for ram in 0..=n {
                let p = Periodic::store_all(n, ram).unwrap();
                let c = p.counts;
                let s = validate(n, p.capacity(), p).unwrap();
                assert_eq!(s.forward, 2 * n - 1);
                assert_eq!((s.stores[1], s.restores[1]), (c.disk_writes, c.disk_reads));
                assert_eq!(s.peak, [c.peak_ram, c.peak_disk], "n={n} ram={ram}");
            }
        }
    }
}
