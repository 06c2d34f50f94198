//! Cost-aware schedule: the least modelled makespan (Aupy & Herrmann's model, see
//! [`Costs`]) with at most `R` RAM and `D` disk checkpoints alive at any time.
//!
//! It generalises Revolve's `Opt0(l, c) = min_j [j uf + Opt0(l - j, c - 1) + Opt0(j - 1, c)]` and
//! Disk-Revolve / H-Revolve to two levels with STRICT budgets: with the start checkpoint of a
//! sub-reversal of `l` steps held at level `L` and `r` RAM and `d` disk slots free,
//!
//! `Opt(1, r, d, L) = ub`,
//! `Opt(l, r, d, L) = min_m [ m uf + Right(l - m, r, d) + read(L) + Opt(m, r, d, L) ]`,
//! `Right(1, r, d) = ub`,
//! `Right(k, r, d) = min(write(ram) + Opt(k, r - 1, d, ram), write(disk) + Opt(k, r, d - 1, disk))`,
//!
//! where after each restore of a start that is not its last, the start may move to the other level
//! (`restore K L; free K L; store K L'`, paying the write) when that lowers the rest's cost;
//! so every budget holds by construction (a level with no free slot is never chosen; the
//! validator checks it in the tests). With `uf = ub = 1` and free checkpoints it gives `T(n, R + D)`.
//! On every case with `n <= 7`, `R + D <= 4` and five cost sets it equals the least makespan
//! over all valid action sequences found by exhaustive search (tests/it/cost_aware_schedule.rs).
//!
//! Limits: the dynamic programme takes `O(n^2 (R' + 1)(D' + 1))` time and `O(n (R' + 1)(D' + 1))`
//! memory (`R' = min(R, n - 1)`, likewise `D'`), so [`CostAware::new`] refuses (with
//! [`Error::TooLarge`]) more than [`MAX_STEPS`] steps, more than [`MAX_ENTRIES`] table entries or
//! more than [`MAX_WORK`] inner-loop steps. The iterator itself holds only the stack of live
//! checkpoints besides the tables.

use super::Schedule;
use super::multistage::Multistage;
use super::split_run::{SplitPolicy, SplitRun, Top};
use super::two_level::TwoLevel;
use crate::Costs;
use crate::{Action, Capacity, Error, Level};

/// Most steps [`CostAware::new`] plans for.
pub const MAX_STEPS: u64 = 10_000;
/// Most entries `2 (n + 1)(R' + 1)(D' + 1)` of its tables (16 bytes each, plus 9 for the
/// right-part table).
pub const MAX_ENTRIES: u64 = 1 << 23;
/// Most inner-loop steps `n^2 (R' + 1)(D' + 1)` of its dynamic programme (a few seconds).
pub const MAX_WORK: u64 = 4_000_000_000;
/// Most work `n^2 (R' + 1)(D' + 1)` for which [`CostAware::best`] builds the exhaustive table
/// (under a second in a release build); above it, the two-level search.
pub const BEST_WORK: u64 = 300_000_000;

/// What [`CostAware::best`] chose; an `Iterator<Item = Action>` and a [`Schedule`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Best {
    /// The exhaustive table.
    Exact(CostAware),
    /// The two-level search.
    TwoLevel(TwoLevel),
    /// The multistage schedule, with its priced makespan.
    Multistage(Multistage, f64),
}

impl Best {
    /// The modelled makespan.
    pub fn makespan(&self) -> f64 {
        match self {
            Best::Exact(c) => c.makespan(),
            Best::TwoLevel(t) => t.makespan(),
            Best::Multistage(_, v) => *v,
        }
    }
}

impl Iterator for Best {
    type Item = Action;

    fn next(&mut self) -> Option<Action> {
        match self {
            Best::Exact(c) => c.next(),
            Best::TwoLevel(t) => t.next(),
            Best::Multistage(m, _) => m.next(),
        }
    }
}

impl Schedule for Best {
    fn steps(&self) -> u64 {
        match self {
            Best::Exact(c) => Schedule::steps(c),
            Best::TwoLevel(t) => Schedule::steps(t),
            Best::Multistage(m, _) => Schedule::steps(m),
        }
    }

    fn capacity(&self) -> Capacity {
        match self {
            Best::Exact(c) => c.capacity(),
            Best::TwoLevel(t) => t.capacity(),
            Best::Multistage(m, _) => m.capacity(),
        }
    }
}

/// The makespan-optimal schedule for given costs and budgets; an `Iterator<Item = Action>`.
///
/// ```
/// use revolve::Costs;
/// use revolve::pricing::price;
/// use revolve::{CostAware, Capacity};
/// let costs = Costs::new(1.0, 0.0).unwrap(); // adjoint free, free checkpoints
/// let plan = CostAware::new(100, 1, 4, costs).unwrap();
/// assert_eq!(plan.makespan(), 416.0); // T(100, 5)
/// let p = price(plan, 100, Capacity { ram: 1, disk: 4 }, &costs).unwrap();
/// assert_eq!(p.makespan, 416.0);
/// ```
#[derive(Clone, Debug)]
pub struct CostAware {
    steps: u64,
    ram: u64,
    disk: u64,
    costs: Costs,
    tables: Tables,
    makespan: f64,
    run: SplitRun,
}

#[derive(Clone, Debug)]
struct Tables {
    /// Steps `n`; lengths index `0..=n`.
    n: usize,
    rc: usize,
    dc: usize,
    /// `Opt(l, r, d, L)` at `idx(L, r, d, l)`.
    opt: Vec<f64>,
    /// The optimal first advance `m` (0 for `l = 1`).
    arg: Vec<u32>,
    /// `Left(l, r, d, L)`: `Opt` after a restore of the start, which may first move the start
    /// to the other level (`restore K L; free K L; store K L'`) when that is cheaper.
    left: Vec<f64>,
    /// Whether `Left` moves the start.
    moved: Vec<bool>,
    /// `Right(k, r, d)` at `ridx(r, d, k)`.
    right: Vec<f64>,
    /// Level of the checkpoint starting the right part (for `k >= 2`).
    right_level: Vec<Level>,
}

impl Tables {
    fn idx(&self, level: Level, r: usize, d: usize, l: usize) -> usize {
        ((level.index() * (self.rc + 1) + r) * (self.dc + 1) + d) * (self.n + 1) + l
    }

    fn ridx(&self, r: usize, d: usize, k: usize) -> usize {
        (r * (self.dc + 1) + d) * (self.n + 1) + k
    }

    fn build(n: usize, rc: usize, dc: usize, c: &Costs) -> Tables {
        let combos = (rc + 1) * (dc + 1);
        let mut t = Tables {
            n,
            rc,
            dc,
            opt: vec![f64::INFINITY; 2 * combos * (n + 1)],
            arg: vec![0; 2 * combos * (n + 1)],
            left: vec![f64::INFINITY; 2 * combos * (n + 1)],
            moved: vec![false; 2 * combos * (n + 1)],
            right: vec![f64::INFINITY; combos * (n + 1)],
            right_level: vec![Level::Ram; combos * (n + 1)],
        };
        let (uf, ub) = (c.forward(), c.taped_reverse());
        for l in 1..=n {
            for level in Level::ALL {
                let read = c.read(level);
                for r in 0..=rc {
                    for d in 0..=dc {
                        let (best, arg) = if l == 1 {
                            (ub, 0)
                        } else {
                            let base = t.idx(level, r, d, 0);
                            let rbase = t.ridx(r, d, 0);
                            let opt = &t.left[base..base + l];
                            let right = &t.right[rbase..rbase + l];
                            let mut best = (f64::INFINITY, 0usize);
                            let mut advance = 0.0;
                            // m = 1, 2, ...: advance m, right part l - m, restore the start
                            // (read, maybe move it), left part m.
                            for (k, (left, right)) in
                                opt[1..].iter().zip(right[1..].iter().rev()).enumerate()
                            {
                                advance += uf;
                                let v = advance + right + read + left;
                                if v < best.0 {
                                    best = (v, k + 1);
                                }
                            }
                            best
                        };
                        let i = t.idx(level, r, d, l);
                        t.opt[i] = best;
                        t.arg[i] = arg as u32;
                    }
                }
            }
            for level in Level::ALL {
                for r in 0..=rc {
                    for d in 0..=dc {
                        let i = t.idx(level, r, d, l);
                        let stay = t.opt[i];
                        // The other level's free counts once the start moves there.
                        let other = match level {
                            Level::Ram if d >= 1 && r < rc => Some((Level::Disk, r + 1, d - 1)),
                            Level::Disk if r >= 1 && d < dc => Some((Level::Ram, r - 1, d + 1)),
                            _ => None,
                        };
                        let mut best = (stay, false);
                        if let Some((to, r2, d2)) = other {
                            let v = c.write(to) + t.opt[t.idx(to, r2, d2, l)];
                            if l > 1 && v < stay {
                                best = (v, true);
                            }
                        }
                        t.left[i] = best.0;
                        t.moved[i] = best.1;
                    }
                }
            }
            for r in 0..=rc {
                for d in 0..=dc {
                    let (v, level) = if l == 1 {
                        (ub, Level::Ram)
                    } else {
                        let ram = if r >= 1 {
                            c.write(Level::Ram) + t.opt[t.idx(Level::Ram, r - 1, d, l)]
                        } else {
                            f64::INFINITY
                        };
                        let disk = if d >= 1 {
                            c.write(Level::Disk) + t.opt[t.idx(Level::Disk, r, d - 1, l)]
                        } else {
                            f64::INFINITY
                        };
                        if disk < ram {
                            (disk, Level::Disk)
                        } else {
                            (ram, Level::Ram)
                        }
                    };
                    let i = t.ridx(r, d, l);
                    t.right[i] = v;
                    t.right_level[i] = level;
                }
            }
        }
        t
    }
}

impl CostAware {
    /// The exhaustive table ([`CostAware::new`]) when its work `n^2 (R' + 1)(D' + 1)` is at
    /// most [`BEST_WORK`]; else the cheaper of the best [`TwoLevel`] schedule (optimal within
    /// the two-level family) and [`Multistage::new`], priced by running it. The latter is not
    /// always optimal over all schedules, but never worse than RAM-only binomial, store-all
    /// or multistage (on the grid `n <= 200`, `R + D <= 10` of `tests/it/cost_aware_search.rs`
    /// it equals the table on 19,025 of 33,195 cases and is at worst 1.89 times the optimum).
    /// All stay within the budgets.
    ///
    /// ```
    /// use revolve::Costs;
    /// use revolve::schedule::cost_aware::Best;
    /// use revolve::CostAware;
    /// let costs = Costs::new(1.0, 1.0).and_then(|c| c.with_disk_seconds(8.0, 8.0)).unwrap();
    /// assert!(matches!(CostAware::best(100, 4, 4, costs).unwrap(), Best::Exact(_)));
    /// assert!(matches!(CostAware::best(100_000, 20, 300, costs).unwrap(), Best::TwoLevel(_)));
    /// ```
    pub fn best(steps: u64, ram: u64, disk: u64, costs: Costs) -> Result<Best, Error> {
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        if CostAware::table_feasible(steps, ram, disk) {
            return CostAware::new(steps, ram, disk, costs).map(Best::Exact);
        }
        let two = TwoLevel::new(steps, ram, disk, costs);
        // Multistage (forward-optimal T(n, R + D)) wins when recomputing costs more than disk
        // traffic; price it by running it.
        let multi = Multistage::new(steps, ram, disk).ok().and_then(|m| {
            let cap = Capacity { ram, disk };
            let p = crate::pricing::price(m.clone(), steps, cap, &costs).ok()?;
            Some((m, p.makespan))
        });
        match (two, multi) {
            (Ok(t), Some((m, v))) if v < t.makespan() => Ok(Best::Multistage(m, v)),
            (Ok(t), _) => Ok(Best::TwoLevel(t)),
            (Err(_), Some((m, v))) => Ok(Best::Multistage(m, v)),
            (Err(e), None) => Err(e),
        }
    }

    /// Whether [`CostAware::best`] uses the exhaustive table: its work
    /// `n^2 (R' + 1)(D' + 1)` is at most [`BEST_WORK`].
    pub fn table_feasible(steps: u64, ram: u64, disk: u64) -> bool {
        let m = steps.saturating_sub(1);
        let combos = u128::from(ram.min(m) + 1) * u128::from(disk.min(m) + 1);
        (u128::from(steps) * u128::from(steps))
            .checked_mul(combos)
            .is_some_and(|w| w <= u128::from(BEST_WORK))
    }

    /// The optimal makespan of [`CostAware::new`]`(m, ram, disk, costs)` for every `m` in
    /// `1..=steps` (index `m - 1`), from one table: the tables for `steps` hold every shorter
    /// reversal. Limits and errors as [`CostAware::new`].
    pub fn makespans(steps: u64, ram: u64, disk: u64, costs: Costs) -> Result<Vec<f64>, Error> {
        let full = CostAware::new(steps, ram, disk, costs)?;
        let t = &full.tables;
        Ok((1..=steps)
            .map(|m| {
                if m == 1 {
                    return costs.taped_reverse();
                }
                let (rc, dc) = (ram.min(m - 1) as usize, disk.min(m - 1) as usize);
                let mut best = f64::INFINITY;
                for level in Level::ALL {
                    let (r, d) = match level {
                        Level::Ram if rc > 0 => (rc - 1, dc),
                        Level::Disk if dc > 0 => (rc, dc - 1),
                        _ => continue,
                    };
                    best = best.min(costs.write(level) + t.opt[t.idx(level, r, d, m as usize)]);
                }
                best
            })
            .collect())
    }

    /// The makespan-optimal schedule of `steps` steps with `ram` RAM and `disk` disk slots
    /// (the slot of the initial state counts) under `costs`.
    ///
    /// Errors: [`Error::ZeroSteps`], [`Error::ZeroSnaps`] (no slot at all),
    /// [`Error::TooLarge`] beyond [`MAX_STEPS`], [`MAX_ENTRIES`] or [`MAX_WORK`].
    pub fn new(steps: u64, ram: u64, disk: u64, costs: Costs) -> Result<CostAware, Error> {
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        if ram == 0 && disk == 0 {
            return Err(Error::ZeroSnaps);
        }
        if steps > MAX_STEPS {
            return Err(Error::TooLarge {
                what: "cost-aware steps",
                found: steps,
                limit: MAX_STEPS,
            });
        }
        let rc = ram.min(steps - 1);
        let dc = disk.min(steps - 1);
        let combos = (rc + 1) * (dc + 1); // <= 10^8: no overflow
        let entries = 2 * combos * (steps + 1);
        if entries > MAX_ENTRIES {
            return Err(Error::TooLarge {
                what: "cost-aware table entries",
                found: entries,
                limit: MAX_ENTRIES,
            });
        }
        let work = steps * steps * combos;
        if work > MAX_WORK {
            return Err(Error::TooLarge {
                what: "cost-aware work n^2 (R'+1)(D'+1)",
                found: work,
                limit: MAX_WORK,
            });
        }
        let (n, rc, dc) = (steps as usize, rc as usize, dc as usize);
        let tables = Tables::build(n, rc, dc, &costs);
        let (makespan, level0) = if steps == 1 {
            (costs.taped_reverse(), Level::Ram)
        } else {
            let mut best = (f64::INFINITY, Level::Ram);
            for level in Level::ALL {
                let (r, d) = match level {
                    Level::Ram if rc > 0 => (rc - 1, dc),
                    Level::Disk if dc > 0 => (rc, dc - 1),
                    _ => continue,
                };
                let v = costs.write(level) + tables.opt[tables.idx(level, r, d, n)];
                if v < best.0 {
                    best = (v, level);
                }
            }
            best
        };
        Ok(CostAware {
            steps,
            ram,
            disk,
            costs,
            tables,
            makespan,
            run: SplitRun::new(steps, [rc as u64, dc as u64], level0, (rc + dc + 1) as u64),
        })
    }

    /// Level of the checkpoint of step 0.
    pub fn level0(&self) -> Level {
        self.run.level0()
    }

    /// The modelled makespan of this schedule (the optimum of the model).
    pub fn makespan(&self) -> f64 {
        self.makespan
    }

    /// Steps reversed.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// RAM slots allowed.
    pub fn ram(&self) -> u64 {
        self.ram
    }

    /// Disk slots allowed.
    pub fn disk(&self) -> u64 {
        self.disk
    }

    /// The costs planned for.
    pub fn costs(&self) -> &Costs {
        &self.costs
    }
}

impl SplitPolicy for Tables {
    fn split(&self, top: Top, b: u64) -> u64 {
        let [r, d] = top.free.map(|x| x as usize);
        top.step + u64::from(self.arg[self.idx(top.level, r, d, (b - top.step) as usize)])
    }

    fn level(&self, top: Top, b: u64, m: u64) -> Level {
        let [r, d] = top.free.map(|x| x as usize);
        self.right_level[self.ridx(r, d, (b - m) as usize)]
    }

    fn moves(&self, top: Top, len: u64) -> bool {
        let [r, d] = top.free.map(|x| x as usize);
        self.moved[self.idx(top.level, r, d, len as usize)]
    }
}

impl Iterator for CostAware {
    type Item = Action;

    fn next(&mut self) -> Option<Action> {
        self.run.next_action(&self.tables)
    }
}

impl Schedule for CostAware {
    fn steps(&self) -> u64 {
        self.steps
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            ram: self.ram,
            disk: self.disk,
        }
    }
}
