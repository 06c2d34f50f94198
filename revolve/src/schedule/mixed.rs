//! The mixed schedule: a checkpoint unit holds either a state (forward restart data) or the
//! adjoint data of one step (a *recorded* step, whose reverse needs no forward step), optimal in
//! forward steps (Maddison 2024, "Step-based checkpointing with high-level algorithmic
//! differentiation", J. Comput. Sci. 82, 102405).
//!
//! # Recurrence
//! Let `M(m, k)` be the fewest forward steps that reverse `m` steps with the current state at
//! the first of them (held in no unit) and `k` free units, counting advances, records and the
//! taped step of every reverse of a step that was not recorded (so `M(m, k) >= m`: every step
//! runs at least once). The first step `a` of the interval is reversed either from a record or
//! from a state at `a`, so a schedule either
//! * records `a` at once (one forward step, one unit held until the very end): `1 + M(m-1, k-1)`;
//! * or stores the state at `a`, advances `i >= 1` steps, reverses the right part with the
//!   other `k - 1` units, restores `a` and reverses the left part `[a, a+i)` with all `k` units
//!   (storing `a` costs no forward step, so a held start is as good as a free one):
//!   `i + M(i, k) + M(m-i, k-1)`; `i = 1` is never better than recording (`2 + M(m-1, k-1)`).
//!
//! ```text
//! M(1, k) = 1                    M(m, 0) = ∞ (m >= 2)
//! M(m, k) = m                    if m <= k + 1 (record all but the last step)
//! M(m, k) = min( 1 + M(m-1, k-1),  min_{2 <= i <= m-1} i + M(i, k) + M(m-i, k-1) )
//! M(m, 1) = m (m + 1) / 2 - 1    (m >= 2: the only choice is i = m - 1)
//! ```
//!
//! **Counting convention.** `M(n, s)` is exactly checkpoint_schedules' `optimal_steps_mixed(n, s)`
//! (its `s` counts every unit, the one holding the initial state included, as retrace's
//! capacities do, and its count of forward steps includes the step run before each reverse), and
//! equals [`crate::Stats::forward`] of this schedule: see [`Mixed::optimal_forward`].
//!
//! # Cost of the table
//! `M` is not convex in `m` (its increments oscillate), so there is no closed form or split
//! formula as for the binomial schedule; the table of `M(m, k)` for `m <= n`, `2 <= k <= s` is
//! computed once (`8 n (s - 1)` bytes, shared by clones). Each entry's best split is found by
//! branch and bound over ranges of `i`, exact because `M` grows by at least 1 per step in `m`
//! (by induction on the recurrence): for `lo <= i <= hi`,
//! `i + M(i, k) + M(m-i, k-1) >= lo + M(lo, k) + M(m-hi, k-1) + (hi - lo)`.
//! The schedule itself is generated lazily from the table, re-deriving each split. A
//! [`MixedTable`] built once serves every smaller problem (as in the tests' sweeps).

use crate::{Action, Capacity, Error, Level};
use std::sync::Arc;

/// Most entries of the table (`(n + 1) (s - 1)` 64-bit counts): `2^27`, 1 GiB.
pub const MAX_TABLE_ENTRIES: u64 = 1 << 27;

/// Ranges of at most this many splits are scanned, not split further.
const LEAF: u64 = 8;

/// `M(m, k)` for `m <= n`, `k <= s` (rows `2..=s` stored).
#[derive(Debug)]
struct Table {
    n: u64,
    rows: Vec<u64>,
}

impl Table {
    /// `M(m, k)`, `u64::MAX` for infinity (`k = 0 < m - 1`). Needs `m <= n`, `k` within the rows
    /// when `2 <= k < m - 1`.
    #[inline]
    fn get(&self, m: u64, k: u64) -> u64 {
        if m <= k + 1 {
            m
        } else if k == 0 {
            u64::MAX
        } else if k == 1 {
            // m (m + 1) / 2 - 1 without overflowing the product (the total was checked).
            if m.is_multiple_of(2) {
                (m / 2) * (m + 1) - 1
            } else {
                m * m.div_ceil(2) - 1
            }
        } else {
            self.rows[((k - 2) * (self.n + 1) + m) as usize]
        }
    }

    /// The best first move for `m >= 2` steps and `1 <= k <= m - 1` units: `(M(m, k), i)` with
    /// `i = 0` for recording the first step, else the split. Ties go to recording, then to the
    /// smallest split. `hint` is a split to try first (any value).
    fn best(&self, m: u64, k: u64, hint: u64) -> (u64, u64) {
        if k + 1 >= m {
            return (m, 0);
        }
        if k == 1 {
            return (self.get(m, 1), m - 1);
        }
        let cost = |i: u64| (i + self.get(i, k)).saturating_add(self.get(m - i, k - 1));
        let mut best = (self.get(m - 1, k - 1).saturating_add(1), 0u64);
        let better = |c: u64, i: u64, best: (u64, u64)| {
            c < best.0 || (c == best.0 && best.1 != 0 && i < best.1)
        };
        if (2..m).contains(&hint) {
            let c = cost(hint);
            if better(c, hint, best) {
                best = (c, hint);
            }
        }
        let mut stack = [(0u64, 0u64); 130];
        stack[0] = (2, m - 1);
        let mut len = 1;
        while len > 0 {
            len -= 1;
            let (lo, hi) = stack[len];
            let lb = (lo + self.get(lo, k) + (hi - lo)).saturating_add(self.get(m - hi, k - 1));
            if lb > best.0 || (lb == best.0 && (best.1 == 0 || lo >= best.1)) {
                continue;
            }
            if hi - lo < LEAF {
                for i in lo..=hi {
                    let c = cost(i);
                    if better(c, i, best) {
                        best = (c, i);
                    }
                }
                continue;
            }
            let mid = lo + (hi - lo) / 2;
            stack[len] = (mid + 1, hi);
            stack[len + 1] = (lo, mid);
            len += 2;
        }
        best
    }
}

/// Units the schedule uses: more than `n - 1` never help.
fn units(steps: u64, snaps: u64) -> u64 {
    snaps.min(steps.saturating_sub(1))
}

/// Build the table for `steps` steps and `s` units (already clamped).
fn table(steps: u64, s: u64) -> Result<Table, Error> {
    if s == 1 {
        // M(n, 1) = n (n + 1) / 2 - 1 must fit.
        let m = u128::from(steps) * (u128::from(steps) + 1) / 2;
        if m > u128::from(u64::MAX) {
            return Err(Error::Overflow {
                what: "forward steps of the mixed schedule",
            });
        }
    }
    let rows = s.saturating_sub(1);
    let entries = rows.saturating_mul(steps.saturating_add(1));
    if entries > MAX_TABLE_ENTRIES {
        return Err(Error::TooLarge {
            what: "mixed-schedule table entries ((steps + 1) (snaps - 1))",
            found: entries,
            limit: MAX_TABLE_ENTRIES,
        });
    }
    let mut t = Table {
        n: steps,
        rows: vec![0; entries as usize],
    };
    let width = (steps + 1) as usize;
    for k in 2..=s {
        let base = (k - 2) as usize * width;
        let mut hint = 0;
        for m in 0..=steps {
            let v = if m <= k + 1 {
                m
            } else {
                let (c, i) = t.best(m, k, hint);
                if i != 0 {
                    hint = i;
                }
                c
            };
            t.rows[base + m as usize] = v;
        }
    }
    Ok(t)
}

/// The table of `M(m, k)` for `m <= steps`, `k <= min(snaps, steps - 1)`, shared (cheap to
/// clone) by every schedule made from it.
///
/// ```
/// use revolve::schedule::mixed::MixedTable;
/// let t = MixedTable::new(100, 5).unwrap();
/// assert_eq!(t.forward(10, 3), Some(19));
/// assert_eq!(t.forward(100, 5), Some(352));
/// assert_eq!(t.forward(101, 5), None); // outside the table
/// assert_eq!(t.schedule(10, 3).unwrap().forward(), 19);
/// ```
#[derive(Clone, Debug)]
pub struct MixedTable {
    steps: u64,
    units: u64,
    table: Arc<Table>,
}

impl MixedTable {
    /// The table for problems of at most `steps` steps and `snaps` units.
    ///
    /// Errors: as [`Mixed::new`].
    pub fn new(steps: u64, snaps: u64) -> Result<Self, Error> {
        check(steps, snaps)?;
        let units = units(steps, snaps);
        Ok(MixedTable {
            steps,
            units,
            table: Arc::new(table(steps, units)?),
        })
    }

    /// `M(steps, snaps)` (see [`Mixed::optimal_forward`]), `None` outside the table or for
    /// `steps == 0` or `snaps == 0 < steps - 1`.
    pub fn forward(&self, steps: u64, snaps: u64) -> Option<u64> {
        let k = self.inside(steps, snaps)?;
        Some(self.table.get(steps, k))
    }

    /// The units a problem uses, if the table covers it.
    fn inside(&self, steps: u64, snaps: u64) -> Option<u64> {
        let k = units(steps, snaps);
        let covered = steps >= 1
            && steps <= self.steps
            && (k <= self.units || k + 1 >= steps)
            && (k >= 1 || steps == 1);
        covered.then_some(k)
    }

    /// The schedule for `steps` steps and `snaps` units, from this table.
    ///
    /// Errors: [`Error::ZeroSteps`], [`Error::ZeroSnaps`]; [`Error::TooLarge`] for a problem
    /// the table does not cover.
    pub fn schedule(&self, steps: u64, snaps: u64) -> Result<Mixed, Error> {
        check(steps, snaps)?;
        let units = self.inside(steps, snaps).ok_or(Error::TooLarge {
            what: "mixed schedule steps (beyond its table)",
            found: steps,
            limit: self.steps,
        })?;
        let mut stack = Vec::with_capacity(64);
        stack.push(Task::Solve {
            a: 0,
            m: steps,
            k: units,
            held: false,
        });
        Ok(Mixed {
            steps,
            units,
            level: Level::Ram,
            forward: self.table.get(steps, units),
            table: Arc::clone(&self.table),
            stack,
            queue: [Action::Reverse { step: 0 }; 4],
            qpos: 0,
            qlen: 0,
        })
    }
}

/// [`Error::ZeroSteps`] or [`Error::ZeroSnaps`] for a problem without steps or units.
fn check(steps: u64, snaps: u64) -> Result<(), Error> {
    if steps == 0 {
        return Err(Error::ZeroSteps);
    }
    if snaps == 0 && steps >= 2 {
        return Err(Error::ZeroSnaps);
    }
    Ok(())
}

/// Work still to do, innermost last.
#[derive(Clone, Copy, Debug)]
enum Task {
    /// Reverse `[a, a + m)` with the current state at `a` and `k` units; `held`: the state at
    /// `a` is in one of them.
    Solve { a: u64, m: u64, k: u64, held: bool },
    /// Restore `a`, then `Solve { held: true }`.
    Restore { a: u64, m: u64, k: u64 },
    /// Reverse the recorded step `a`.
    Reverse { a: u64 },
}

/// The optimal mixed schedule for `steps` steps and `snaps` units at one level (RAM unless
/// [`Mixed::at_level`]): each unit holds a state (`store`) or a recorded step (`record`).
///
/// ```
/// use revolve::schedule::mixed::Mixed;
/// use revolve::{validate, Schedule};
/// let plan = Mixed::new(10, 3).unwrap();
/// assert_eq!(Mixed::optimal_forward(10, 3).unwrap(), 19); // binomial: 25
/// let (n, cap) = (plan.steps(), plan.capacity());
/// let stats = validate(n, cap, plan).unwrap();
/// assert_eq!((stats.forward, stats.reverse), (19, 10));
/// assert!(stats.peak[0] <= 3 && stats.records[0] > 0);
/// ```
#[derive(Clone, Debug)]
pub struct Mixed {
    steps: u64,
    units: u64,
    level: Level,
    forward: u64,
    table: Arc<Table>,
    stack: Vec<Task>,
    queue: [Action; 4],
    qpos: u8,
    qlen: u8,
}

impl Mixed {
    /// The schedule for `steps >= 1` steps and `snaps` units (`snaps >= 1` unless `steps == 1`;
    /// more than `steps - 1` are never used), computing the table (see the module docs).
    ///
    /// Errors: [`Error::ZeroSteps`], [`Error::ZeroSnaps`], [`Error::TooLarge`] when the table
    /// would exceed [`MAX_TABLE_ENTRIES`], [`Error::Overflow`] when the count does not fit.
    pub fn new(steps: u64, snaps: u64) -> Result<Self, Error> {
        MixedTable::new(steps, snaps)?.schedule(steps, snaps)
    }

    /// The same schedule with every unit at `level`.
    pub fn at_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// `M(steps, snaps)`: the fewest forward steps of any schedule whose units hold states or
    /// recorded steps (checkpoint_schedules' `optimal_steps_mixed(steps, snaps)`; see the module
    /// docs). Builds the table: use [`Mixed::forward`] on a schedule already built.
    ///
    /// ```
    /// use revolve::schedule::mixed::Mixed;
    /// assert_eq!(Mixed::optimal_forward(5, 1).unwrap(), 14); // 5 * 6 / 2 - 1
    /// assert_eq!(Mixed::optimal_forward(5, 4).unwrap(), 5); // every step once
    /// ```
    pub fn optimal_forward(steps: u64, snaps: u64) -> Result<u64, Error> {
        check(steps, snaps)?;
        let units = units(steps, snaps);
        Ok(table(steps, units)?.get(steps, units))
    }

    /// Total forward steps of this schedule: [`Mixed::optimal_forward`].
    pub fn forward(&self) -> u64 {
        self.forward
    }

    /// Units used at most: `min(snaps, steps - 1)`.
    pub fn units(&self) -> u64 {
        self.units
    }

    /// The level of every unit.
    pub fn level(&self) -> Level {
        self.level
    }

    #[inline]
    fn push(&mut self, a: Action) {
        self.queue[usize::from(self.qlen)] = a;
        self.qlen += 1;
    }

    /// Queue the actions of the next task (at least one while tasks remain).
    fn refill(&mut self) {
        self.qpos = 0;
        self.qlen = 0;
        let level = self.level;
        let Some(task) = self.stack.pop() else {
            return;
        };
        let (a, m, k, held) = match task {
            Task::Reverse { a } => {
                self.push(Action::Reverse { step: a });
                return;
            }
            Task::Restore { a, m, k } => {
                self.push(Action::Restore { step: a, level });
                (a, m, k, true)
            }
            Task::Solve { a, m, k, held } => (a, m, k, held),
        };
        if m == 1 {
            if held {
                self.push(Action::Free { step: a, level });
            }
            self.push(Action::Reverse { step: a });
            return;
        }
        let k = k.min(m - 1);
        let (_, i) = self.table.best(m, k, 0);
        if i == 0 {
            if held {
                self.push(Action::Free { step: a, level });
            }
            self.push(Action::Record { step: a, level });
            self.stack.push(Task::Reverse { a });
            self.stack.push(Task::Solve {
                a: a + 1,
                m: m - 1,
                k: k - 1,
                held: false,
            });
        } else {
            if !held {
                self.push(Action::Store { step: a, level });
            }
            self.push(Action::Advance { from: a, to: a + i });
            self.stack.push(Task::Restore { a, m: i, k });
            self.stack.push(Task::Solve {
                a: a + i,
                m: m - i,
                k: k - 1,
                held: false,
            });
        }
    }
}

impl Iterator for Mixed {
    type Item = Action;

    #[inline]
    fn next(&mut self) -> Option<Action> {
        if self.qpos == self.qlen {
            self.refill();
            if self.qlen == 0 {
                return None;
            }
        }
        let a = self.queue[usize::from(self.qpos)];
        self.qpos += 1;
        Some(a)
    }
}

impl std::iter::FusedIterator for Mixed {}

impl super::Schedule for Mixed {
    fn steps(&self) -> u64 {
        self.steps
    }

    fn capacity(&self) -> Capacity {
        match self.level {
            Level::Ram => Capacity::ram(self.units),
            Level::Disk => Capacity {
                ram: 0,
                disk: self.units,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    fn text(n: u64, s: u64) -> Vec<String> {
        Mixed::new(n, s).unwrap().map(|a| a.to_string()).collect()
    }

    #[test]
    fn small_traces() {
        assert_eq!(text(1, 0), ["reverse 0"]);
        assert_eq!(text(2, 1), ["record 0 ram", "reverse 1", "reverse 0"]);
        assert_eq!(
            text(3, 1),
            [
                "store 0 ram",
                "advance 0 2",
                "reverse 2",
                "restore 0 ram",
                "free 0 ram",
                "record 0 ram",
                "reverse 1",
                "reverse 0"
            ]
        );
    }

    #[test]
    fn every_small_case_is_valid_and_optimal() {
        for n in 1..=40u64 {
            for s in 1..=8u64 {
                let plan = Mixed::new(n, s).unwrap().at_level(Level::Disk);
                let want = plan.forward();
                let cap = crate::Schedule::capacity(&plan);
                let st = validate(n, cap, plan).unwrap_or_else(|v| panic!("n={n} s={s}: {v}"));
                assert_eq!(st.forward, want, "n={n} s={s}");
                assert_eq!(st.peak[0], 0);
            }
        }
    }

    #[test]
    fn errors() {
        assert!(matches!(Mixed::new(0, 3), Err(Error::ZeroSteps)));
        assert!(matches!(Mixed::new(3, 0), Err(Error::ZeroSnaps)));
        assert!(matches!(
            Mixed::new(1 << 40, 100),
            Err(Error::TooLarge { .. })
        ));
        assert!(matches!(
            Mixed::new(u64::MAX, 1),
            Err(Error::Overflow { .. })
        ));
    }
}
