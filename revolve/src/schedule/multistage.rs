//! Multistage checkpointing: `R` RAM slots and `D` disk slots, the optimal number of forward
//! steps `T(n, R + D)`, and as little disk traffic as the rules below give.
//!
//! The schedule is a binomial reversal (Griewank & Walther): from the top checkpoint `a` with
//! `c` slots left (counting `a`'s), advance to a split point `a + m` chosen from the interval of
//! optimal splits of `T(l, c) = min_m [m + T(m, c) + T(l - m, c - 1)]`, so the total forward
//! count is exactly `T(n, R + D)`. Where each checkpoint lives is decided on the fly (after
//! Stumm & Walther 2009: keep disk for the checkpoints that cover deep excursions):
//! - a new checkpoint goes to RAM when the whole sub-reversal it starts fits in the free RAM
//!   slots, else to disk (when a disk slot is free);
//! - the split point is the one whose left part fits in the free RAM (`m = free RAM + 2`, clamped
//!   to the optimal interval) when that left part does fit; otherwise the split with the fewest
//!   stores overall ([`min_store_split`]), since those stores are disk writes; below a disk
//!   checkpoint the smallest optimal split is taken when the right part fits in RAM, which saves
//!   reads of the disk checkpoint;
//! - when a disk checkpoint is restored (not for the last time) and the rest of its
//!   sub-reversal fits in the free RAM with it, it moves to RAM (`restore K disk; free K disk;
//!   store K ram`): later restores read RAM and no disk write is added;
//! - step 0 goes to whichever level gives fewer disk writes, then fewer disk reads (both plans
//!   are counted in the constructor, O(actions) time, O(R + D) memory).
//!
//! Measured against an exhaustive optimum over all binomial schedules and store-time level
//! choices (tests/it/multistage_schedule.rs, `n <= 30`, `R + D <= 7`, 539 cases): disk writes are
//! minimal in all but 2 cases (one write more, `R = 1, D = 3, n = 29, 30`); reads are above
//! that optimum in 76 more cases, by at most 50 %. Against the optimum over every valid action
//! sequence (moves included) for `n <= 7`, `R + D <= 4`: writes always minimal, reads in 25 of 28.
//!
//! Memory of [`Multistage::new`] is `O(R + D)`: the iterator holds the stack of live checkpoints
//! only. [`Multistage::exact`] instead solves the level/split choice exactly by a dynamic
//! programme (fewest disk writes, then fewest disk reads, moves between levels allowed; up to
//! [`EXACT_MAX_STEPS`] steps) and [`Multistage::best`] takes `exact` where its limits allow and
//! `new` beyond.

use super::split_run::{SplitPolicy, SplitRun, Top};
use crate::cost::{beta, optimal_forward, repetition_number};
use crate::{Action, Capacity, Error, Level};
use std::sync::Arc;

/// Slots a sub-reversal of `len` steps with `slots` slots (its start's included) holds at its
/// peak: `min(slots, len - 1)` (an optimal reversal uses every slot it is given, up to `len - 1`).
pub(crate) fn peak_slots(len: u64, slots: u64) -> u64 {
    if len <= 1 { 0 } else { slots.min(len - 1) }
}

/// The interval `[lo, hi]` of optimal first advances `m` of a reversal of `len >= 2` steps with
/// `slots >= 1` slots: every `m` in it gives `m + T(m, slots) + T(len - m, slots - 1) = T(len,
/// slots)`. The sum is convex in `m`, so both ends are found by bisection on its slope.
///
/// ```
/// assert_eq!(revolve::schedule::multistage::optimal_splits(10, 4), (1, 5));
/// ```
pub fn optimal_splits(len: u64, slots: u64) -> (u64, u64) {
    debug_assert!(len >= 2 && slots >= 1);
    if slots == 1 {
        return (len - 1, len - 1);
    }
    // f(m) = m + T(m, c) + T(len - m, c - 1) has slope f(m + 1) - f(m) = 1 + r(m + 1, c) -
    // r(len - m, c - 1) for 1 <= m < len - 1, since T(x + 1, c) - T(x, c) = r(x + 1, c) + 1.
    let rep = |x: u64, c: u64| repetition_number(x, c).unwrap_or(u64::MAX);
    let slope =
        |m: u64| -> std::cmp::Ordering { (1 + rep(m + 1, slots)).cmp(&rep(len - m, slots - 1)) };
    // First m in [1, len - 1] where pred holds (pred(len - 1) is taken as true).
    let first = |pred: &dyn Fn(u64) -> bool| -> u64 {
        let (mut a, mut b) = (1u64, len - 1);
        while a < b {
            let mid = a + (b - a) / 2;
            if pred(mid) {
                b = mid;
            } else {
                a = mid + 1;
            }
        }
        a
    };
    let lo = first(&|m| slope(m) != std::cmp::Ordering::Less);
    let hi = first(&|m| slope(m) == std::cmp::Ordering::Greater);
    (lo, hi)
}

/// The optimal split with the fewest stores in the whole reversal of `len >= 2` steps with
/// `slots` slots: `clamp(beta(s, r - 1) - beta(s - 2, r - 1), lo, hi)` with `r = r(len, s)` and
/// `[lo, hi]` the optimal interval (found by search and checked against an exhaustive minimum of
/// stores for all `s <= 9`, `len <= 400` in the unit tests).
pub fn min_store_split(len: u64, slots: u64, lo: u64, hi: u64) -> u64 {
    if slots < 2 {
        return hi;
    }
    let Ok(r) = repetition_number(len, slots) else {
        return hi;
    };
    // beta(s, r - 1) < len, so both fit.
    let a = beta(slots, r - 1).unwrap_or(u64::MAX);
    let b = beta(slots - 2, r - 1).unwrap_or(0);
    a.saturating_sub(b).clamp(lo, hi)
}

/// Multistage schedule over `R` RAM and `D` disk slots; an `Iterator<Item = Action>`.
///
/// ```
/// use revolve::{validate, Capacity, Multistage};
/// let plan = Multistage::new(10, 1, 3).unwrap();
/// let stats = validate(10, Capacity { ram: 1, disk: 3 }, plan).unwrap();
/// assert_eq!(stats.forward, 24); // T(10, 4)
/// assert_eq!(stats.stores[1], 3); // disk writes
/// ```
#[derive(Clone, Debug)]
pub struct Multistage {
    steps: u64,
    ram: u64,
    disk: u64,
    rules: Rules,
    run: SplitRun,
}

/// The decisions of the schedule: the rules of the module docs, or [`Multistage::exact`]'s tables.
#[derive(Clone, Debug)]
struct Rules {
    /// Slots in use: `min(R + D, n - 1)` (more never help).
    snaps: u64,
    /// Tables of [`Multistage::exact`]; `None` for the rule-based schedule.
    exact: Option<Arc<Exact>>,
}

impl Multistage {
    /// A schedule for `steps` steps with `ram` RAM and `disk` disk slots (the slot holding the
    /// initial state counts).
    ///
    /// Errors: [`Error::ZeroSteps`], [`Error::ZeroSnaps`] when `ram + disk == 0`,
    /// [`Error::Overflow`] when `T(n, R + D)` does not fit in 64 bits.
    pub fn new(steps: u64, ram: u64, disk: u64) -> Result<Multistage, Error> {
        let snaps = Multistage::new_unchecked_counts(steps, ram, disk)?.snaps();
        let mut best: Option<(Multistage, (u64, u64))> = None;
        for level0 in Level::ALL {
            let cap = [ram, disk][level0.index()];
            if cap == 0 {
                continue;
            }
            let plan = Multistage::with_level0(steps, ram, disk, snaps, level0);
            let mut traffic = (0u64, 0u64);
            for a in plan.clone() {
                match a {
                    Action::Store {
                        level: Level::Disk, ..
                    } => traffic.0 += 1,
                    Action::Restore {
                        level: Level::Disk, ..
                    } => traffic.1 += 1,
                    _ => {}
                }
            }
            if best.as_ref().is_none_or(|(_, b)| traffic < *b) {
                best = Some((plan, traffic));
            }
        }
        // At least one level has a slot, so `best` is set.
        best.map(|(p, _)| p).ok_or(Error::ZeroSnaps)
    }

    fn with_level0(steps: u64, ram: u64, disk: u64, snaps: u64, level0: Level) -> Multistage {
        Multistage {
            steps,
            ram,
            disk,
            rules: Rules { snaps, exact: None },
            run: SplitRun::new(steps, [ram, disk], level0, snaps),
        }
    }

    /// The schedule with the fewest disk writes, then the fewest disk reads, among all
    /// binomial reversals with `T(n, R + D)` forward steps, with each checkpoint's level chosen
    /// when stored and a restored checkpoint allowed to move to the other level (exhaustive
    /// dynamic programme; on every case with `n <= 7`, `R + D <= 4` it equals the optimum over
    /// all valid action sequences).
    ///
    /// It takes `O(n w (R' + 1)(D' + 1))` time, `w` the width of the optimal split intervals, and
    /// 17 bytes per entry of `2 (n + 1)(R' + 1)(D' + 1)` (`R' + D' = min(R + D, n - 1)`, RAM
    /// kept first): [`Error::TooLarge`] beyond [`EXACT_MAX_STEPS`] steps or
    /// [`EXACT_MAX_ENTRIES`] entries (about 3 s for `n = 10^4`, `R = D = 5` in a release build).
    /// The iterator then reads the tables.
    ///
    /// ```
    /// use revolve::{validate, Capacity, Multistage};
    /// let s = validate(100, Capacity { ram: 1, disk: 4 }, Multistage::exact(100, 1, 4).unwrap()).unwrap();
    /// assert_eq!((s.forward, s.stores[1], s.restores[1]), (416, 20, 43));
    /// ```
    pub fn exact(steps: u64, ram: u64, disk: u64) -> Result<Multistage, Error> {
        // Input checks as in `new`.
        let probe = Multistage::new_unchecked_counts(steps, ram, disk)?;
        let snaps = probe.snaps();
        if steps > EXACT_MAX_STEPS {
            return Err(Error::TooLarge {
                what: "exact multistage steps",
                found: steps,
                limit: EXACT_MAX_STEPS,
            });
        }
        let rc = ram.min(snaps);
        let dc = (snaps - rc).min(disk);
        let entries = 2 * (steps + 1) * (rc + 1) * (dc + 1);
        if entries > EXACT_MAX_ENTRIES {
            return Err(Error::TooLarge {
                what: "exact multistage table entries",
                found: entries,
                limit: EXACT_MAX_ENTRIES,
            });
        }
        let t = Exact::build(steps as usize, rc as usize, dc as usize);
        let mut best = ((u32::MAX, u32::MAX), Level::Ram);
        for level in Level::ALL {
            let (r, d) = match level {
                Level::Ram if rc > 0 => (rc - 1, dc),
                Level::Disk if dc > 0 => (rc, dc - 1),
                _ => continue,
            };
            let (w, rd) = t.cost[t.idx(level, r as usize, d as usize, steps as usize)];
            let v = (w + u32::from(level == Level::Disk), rd);
            if v < best.0 {
                best = (v, level);
            }
        }
        let mut plan = Multistage::with_level0(steps, ram, disk, snaps, best.1);
        plan.run = SplitRun::new(steps, [rc, dc], best.1, snaps);
        plan.rules.exact = Some(Arc::new(t));
        Ok(plan)
    }

    /// [`Multistage::exact`] up to [`BEST_EXACT_STEPS`] steps (well under a second there), else
    /// [`Multistage::new`] (whose disk writes are within 1 % of exact's at `n = 10^4` in the
    /// cases measured).
    ///
    /// ```
    /// let p = revolve::Multistage::best(20_000, 2, 2).unwrap();
    /// assert!(!p.is_exact());
    /// assert!(revolve::Multistage::best(2_000, 2, 2).unwrap().is_exact());
    /// ```
    pub fn best(steps: u64, ram: u64, disk: u64) -> Result<Multistage, Error> {
        if steps > BEST_EXACT_STEPS {
            return Multistage::new(steps, ram, disk);
        }
        match Multistage::exact(steps, ram, disk) {
            Err(Error::TooLarge { .. }) => Multistage::new(steps, ram, disk),
            other => other,
        }
    }

    /// Whether the schedule comes from [`Multistage::exact`]'s tables.
    pub fn is_exact(&self) -> bool {
        self.rules.exact.is_some()
    }

    /// The input checks of [`Multistage::new`] and the plan with step 0 in RAM.
    fn new_unchecked_counts(steps: u64, ram: u64, disk: u64) -> Result<Multistage, Error> {
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        let total = ram.checked_add(disk).ok_or(Error::Overflow {
            what: "ram + disk slots",
        })?;
        if total == 0 {
            return Err(Error::ZeroSnaps);
        }
        let snaps = total.min(steps - 1).max(1);
        optimal_forward(steps, snaps)?;
        Ok(Multistage::with_level0(steps, ram, disk, snaps, Level::Ram))
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

    /// Slots the schedule uses in all: `min(R + D, n - 1)` (at least 1).
    pub fn snaps(&self) -> u64 {
        self.rules.snaps
    }

    /// Level of the checkpoint of step 0.
    pub fn level0(&self) -> Level {
        self.run.level0()
    }

    /// Total forward steps of the schedule: `T(n, min(R + D, n - 1))`.
    pub fn forward(&self) -> u64 {
        // Checked in `new`.
        optimal_forward(self.steps, self.rules.snaps).unwrap_or(u64::MAX)
    }
}

impl super::Schedule for Multistage {
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

impl Rules {
    /// Slots of the sub-reversal under `top`, its own included.
    fn slots(&self, top: Top) -> u64 {
        self.snaps - (top.held - 1)
    }

    /// The first advance over `len` steps from a checkpoint at `la` with `slots` slots and `r`
    /// free RAM slots.
    fn rule_split(len: u64, slots: u64, la: Level, r: u64) -> u64 {
        let (lo, hi) = optimal_splits(len, slots);
        let fits_ram = |m: u64| peak_slots(len - m, slots - 1) <= r;
        if la == Level::Disk && fits_ram(lo) {
            return lo;
        }
        let left_fits = r.saturating_add(2).clamp(lo, hi);
        if peak_slots(left_fits, slots) <= r.saturating_add(1) {
            return left_fits;
        }
        min_store_split(len, slots, lo, hi)
    }

    /// Level of a new checkpoint starting a sub-reversal of `len` steps with `slots` slots.
    fn level_for(len: u64, slots: u64, free: [u64; 2]) -> Level {
        let [r, d] = free;
        let want = if peak_slots(len, slots) <= r || d == 0 {
            Level::Ram
        } else {
            Level::Disk
        };
        if free[want.index()] > 0 {
            want
        } else {
            // The stack holds fewer than `snaps <= R + D` checkpoints here, so the other level
            // has room.
            match want {
                Level::Ram => Level::Disk,
                Level::Disk => Level::Ram,
            }
        }
    }
}

impl SplitPolicy for Rules {
    fn split(&self, top: Top, b: u64) -> u64 {
        let a = top.step;
        match &self.exact {
            Some(t) => {
                let [r, d] = top.free.map(|x| x as usize);
                a + u64::from(t.arg[t.idx(top.level, r, d, (b - a) as usize)])
            }
            None => a + Rules::rule_split(b - a, self.slots(top), top.level, top.free[0]),
        }
    }

    fn level(&self, top: Top, b: u64, m: u64) -> Level {
        match &self.exact {
            Some(t) => {
                let [r, d] = top.free.map(|x| x as usize);
                t.right[t.idx(top.level, r, d, (b - top.step) as usize)]
            }
            None => Rules::level_for(b - m, self.slots(top) - 1, top.free),
        }
    }

    fn moves(&self, top: Top, len: u64) -> bool {
        match &self.exact {
            Some(t) => {
                let [r, d] = top.free.map(|x| x as usize);
                t.moved[t.idx(top.level, r, d, len as usize)]
            }
            // The rest under the checkpoint fits in RAM with it moved there: later restores
            // read RAM, and no disk write is added.
            None => top.level == Level::Disk && top.free[0] >= peak_slots(len, self.slots(top)),
        }
    }
}

impl Iterator for Multistage {
    type Item = Action;

    fn next(&mut self) -> Option<Action> {
        self.run.next_action(&self.rules)
    }
}

/// Most steps for which [`Multistage::best`] takes the exact schedule.
pub const BEST_EXACT_STEPS: u64 = 2_000;
/// Most steps [`Multistage::exact`] plans for.
pub const EXACT_MAX_STEPS: u64 = 10_000;
/// Most table entries of [`Multistage::exact`] (17 bytes each).
pub const EXACT_MAX_ENTRIES: u64 = 1 << 22;

/// Lexicographic (disk writes, disk reads) optimum of every sub-reversal: `idx(L, r, d, l)` for
/// a start at level `L`, `r` RAM and `d` disk slots free, `l` steps.
#[derive(Debug)]
struct Exact {
    n: usize,
    rc: usize,
    dc: usize,
    cost: Vec<(u32, u32)>,
    /// First advance.
    arg: Vec<u32>,
    /// Level of the checkpoint stored at the end of the first advance.
    right: Vec<Level>,
    /// Cost after a (non-final) restore of the start, which may move it to the other level.
    left: Vec<(u32, u32)>,
    /// Whether that restore moves the start.
    moved: Vec<bool>,
}

fn add(a: (u32, u32), b: (u32, u32)) -> (u32, u32) {
    (a.0.saturating_add(b.0), a.1.saturating_add(b.1))
}

impl Exact {
    fn idx(&self, level: Level, r: usize, d: usize, l: usize) -> usize {
        ((level.index() * (self.rc + 1) + r) * (self.dc + 1) + d) * (self.n + 1) + l
    }

    fn build(n: usize, rc: usize, dc: usize) -> Exact {
        let len = 2 * (rc + 1) * (dc + 1) * (n + 1);
        let none = (u32::MAX, u32::MAX);
        let mut t = Exact {
            n,
            rc,
            dc,
            cost: vec![none; len],
            arg: vec![0; len],
            right: vec![Level::Ram; len],
            left: vec![none; len],
            moved: vec![false; len],
        };
        let mut splits = vec![(0u64, 0u64); rc + dc + 2];
        for l in 1..=n {
            if l >= 2 {
                for (c, iv) in splits.iter_mut().enumerate().skip(1) {
                    *iv = optimal_splits(l as u64, c as u64);
                }
            }
            for level in Level::ALL {
                let read = (0, u32::from(level == Level::Disk));
                for r in 0..=rc {
                    for d in 0..=dc {
                        let mut best = ((0, 0), 0u32, Level::Ram);
                        if l >= 2 {
                            best.0 = none;
                            let (lo, hi) = splits[r + d + 1];
                            for m in lo as usize..=hi as usize {
                                let left = add(t.left[t.idx(level, r, d, m)], read);
                                let mut opts = [(none, Level::Ram), (none, Level::Disk)];
                                if l - m == 1 {
                                    opts[0].0 = (0, 0);
                                } else {
                                    if r >= 1 {
                                        opts[0].0 = t.cost[t.idx(Level::Ram, r - 1, d, l - m)];
                                    }
                                    if d >= 1 {
                                        let c = t.cost[t.idx(Level::Disk, r, d - 1, l - m)];
                                        opts[1].0 = add(c, (1, 0));
                                    }
                                }
                                for (c, lv) in opts {
                                    let v = add(c, left);
                                    if v < best.0 {
                                        best = (v, m as u32, lv);
                                    }
                                }
                            }
                        }
                        let i = t.idx(level, r, d, l);
                        t.cost[i] = best.0;
                        t.arg[i] = best.1;
                        t.right[i] = best.2;
                    }
                }
            }
            for level in Level::ALL {
                for r in 0..=rc {
                    for d in 0..=dc {
                        let i = t.idx(level, r, d, l);
                        let mut best = (t.cost[i], false);
                        let other = match level {
                            Level::Disk if r >= 1 && d < dc => Some((Level::Ram, r - 1, d + 1, 0)),
                            Level::Ram if d >= 1 && r < rc => Some((Level::Disk, r + 1, d - 1, 1)),
                            _ => None,
                        };
                        if let (true, Some((to, r2, d2, w))) = (l >= 2, other) {
                            let v = add(t.cost[t.idx(to, r2, d2, l)], (w, 0));
                            if v < best.0 {
                                best = (v, true);
                            }
                        }
                        t.left[i] = best.0;
                        t.moved[i] = best.1;
                    }
                }
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Infinite" cost, far above any `u64` sum and safe to add a few times.
    const INF: u128 = u128::MAX / 8;

    /// `T(x, c)` for sub-reversals: `T(1, c) = 1` for any `c` (a single step needs no checkpoint),
    /// `INF` when `x >= 2` and `c = 0`, or when the count does not fit in 64 bits.
    fn t(x: u64, c: u64) -> u128 {
        if x <= 1 {
            return u128::from(x);
        }
        if c == 0 {
            return INF;
        }
        optimal_forward(x, c).map_or(INF, u128::from)
    }

    #[test]
    fn splits_match_brute_force() {
        for slots in 1..=8u64 {
            for len in 2..=200u64 {
                let f = |m: u64| u128::from(m) + t(m, slots) + t(len - m, slots - 1);
                let best = (1..len).map(f).min().unwrap();
                assert_eq!(best, u128::from(optimal_forward(len, slots).unwrap()));
                let opt: Vec<u64> = (1..len).filter(|&m| f(m) == best).collect();
                let (lo, hi) = optimal_splits(len, slots);
                assert_eq!(
                    (lo, hi),
                    (opt[0], *opt.last().unwrap()),
                    "len={len} slots={slots}"
                );
                assert_eq!(opt.len() as u64, hi - lo + 1, "interval");
            }
        }
    }

    /// Fewest stores of an optimal reversal, exhaustively over the optimal splits.
    fn min_stores(
        len: u64,
        slots: u64,
        memo: &mut std::collections::HashMap<(u64, u64), u64>,
    ) -> u64 {
        if len == 1 {
            return 0;
        }
        if let Some(&v) = memo.get(&(len, slots)) {
            return v;
        }
        let (lo, hi) = optimal_splits(len, slots);
        let v = (lo..=hi)
            .map(|m| {
                u64::from(len - m >= 2)
                    + min_stores(len - m, slots - 1, memo)
                    + min_stores(m, slots, memo)
            })
            .min()
            .unwrap();
        memo.insert((len, slots), v);
        v
    }

    #[test]
    fn min_store_split_is_store_minimal() {
        let mut memo = std::collections::HashMap::new();
        for slots in 1..=9u64 {
            for len in 2..=400u64 {
                let (lo, hi) = optimal_splits(len, slots);
                let m = min_store_split(len, slots, lo, hi);
                assert!(lo <= m && m <= hi);
                let with_m = u64::from(len - m >= 2)
                    + min_stores(len - m, slots - 1, &mut memo)
                    + min_stores(m, slots, &mut memo);
                assert_eq!(
                    with_m,
                    min_stores(len, slots, &mut memo),
                    "len={len} slots={slots}"
                );
            }
        }
    }

    #[test]
    fn huge_steps_do_not_overflow_splits() {
        let (lo, hi) = optimal_splits(1 << 40, 3);
        assert!(lo >= 1 && lo <= hi && hi < 1 << 40);
    }
}
