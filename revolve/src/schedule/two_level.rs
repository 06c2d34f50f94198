//! Two-level cost-aware schedule for large problems: disk checkpoints split the run into
//! segments, each segment is reversed by a RAM-only binomial schedule (the structure of
//! Aupy & Herrmann's Disk-Revolve).
//!
//! The forward sweep stores `k <= D` disk checkpoints at the starts `x_0 = 0 < x_1 < ...` of
//! the first `k` segments and keeps the start of the last segment in RAM. The last segment is
//! reversed first, by [`Binomial`] with the `R` RAM slots; then each earlier segment, highest
//! first: `restore x_j disk; free x_j disk`, and the segment by [`Binomial`] from `x_j` with the
//! `R` RAM slots (its start stored in RAM, free in the model). With `c(l) = uf (T(l, R) - l) +
//! ub l` the binomial cost of `l` steps, the makespan is
//!
//! `sum_{j<k} (uf l_j + wd + rd + c(l_j)) + c(l_last)`.
//!
//! `c` is convex in `l` (`T(l, R)` is piecewise linear with increasing slopes), so for `k`
//! segments of total length `L` the lengths `floor(L / k)` and `ceil(L / k)` are optimal; the
//! search takes every `l_last` and every `k` with `O(1)` work each: `O(n min(D, n))` time
//! and `O(n)` memory (`benches/cost_aware_search.rs` times [`CostAware::best`](super::cost_aware::CostAware::best),
//! which runs it). The family contains RAM-only binomial (`k = 0`) and store-all
//! (segments of one step), so the result is never worse than those. It is not always optimal over all schedules (on the grid
//! `n <= 200`, `R + D <= 10` of `tests/it/cost_aware_search.rs` it equals the exhaustive table on
//! about half the cases, and is at worst 4.1 times the optimum, with tiny `R`):
//! [`CostAware::best`](super::cost_aware::CostAware::best) uses the exhaustive
//! [`CostAware`](super::cost_aware::CostAware) table wherever that is feasible.

use super::Schedule;
use super::binomial::Binomial;
use super::online::t_cost;
use crate::Costs;
use crate::{Action, Capacity, Error, Level};

/// Most steps [`TwoLevel::new`] plans for (its search takes `O(n min(D, n))` time).
pub const MAX_STEPS: u64 = 10_000_000;

/// The best schedule of the two-level family (see the [module docs](self)); an
/// `Iterator<Item = Action>` holding `O(R)` state.
///
/// ```
/// use revolve::Costs;
/// use revolve::pricing::price;
/// use revolve::schedule::two_level::TwoLevel;
/// use revolve::Schedule;
/// let costs = Costs::new(1.0, 1.0).and_then(|c| c.with_disk_seconds(8.0, 8.0)).unwrap();
/// let plan = TwoLevel::new(1000, 20, 256, costs).unwrap();
/// let planned = plan.makespan();
/// let priced = price(plan.clone(), 1000, plan.capacity(), &costs).unwrap().makespan;
/// assert!((priced - planned).abs() < 1e-6 * planned);
/// ```
#[derive(Clone, Debug)]
pub struct TwoLevel {
    steps: u64,
    ram: u64,
    disk: u64,
    /// Disk segments and their lengths: the first `long` have `len + 1` steps, the rest `len`.
    segments: u64,
    len: u64,
    long: u64,
    /// Length of the last (RAM) segment.
    last: u64,
    makespan: f64,
    state: Cursor,
    inner: Option<(Binomial, u64)>,
    queue: [Option<Action>; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    /// Sweep: store segment `j`'s start on disk, advance over it.
    Sweep(u64),
    /// Reverse the last segment.
    Last,
    /// Reverse disk segment `j` (counting down).
    Segment(u64),
    Done,
}

impl TwoLevel {
    /// The best two-level schedule of `steps` steps with `ram` RAM and `disk` disk slots under
    /// `costs`.
    ///
    /// Errors: [`Error::ZeroSteps`]; [`Error::ZeroSnaps`] when the family has no schedule within
    /// the slots (no RAM slot and fewer than `n - 1` disk slots); [`Error::TooLarge`] beyond
    /// [`MAX_STEPS`].
    pub fn new(steps: u64, ram: u64, disk: u64, costs: Costs) -> Result<TwoLevel, Error> {
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        if steps > MAX_STEPS {
            return Err(Error::TooLarge {
                what: "two-level steps",
                found: steps,
                limit: MAX_STEPS,
            });
        }
        let n = steps;
        let (uf, ub) = (costs.forward(), costs.taped_reverse());
        let io = costs.write(Level::Disk) + costs.read(Level::Disk);
        // c(l) for l = 0..=n (infinite where R = 0 leaves no way to reverse l > 1 steps).
        let c: Vec<f64> = (0..=n)
            .map(|l| match (l, ram) {
                (0, _) => 0.0,
                (1, _) => ub,
                (_, 0) => f64::INFINITY,
                _ => {
                    let t = t_cost(l, ram.min(l)) as f64;
                    uf * (t - l as f64) + ub * l as f64
                }
            })
            .collect();
        let f = |l: u64| uf * l as f64 + io + c[l as usize];
        let mut best: Option<(f64, u64, u64)> = None; // (cost, last, segments)
        for last in 1..=n {
            let rest = n - last;
            let kmax = disk.min(rest);
            let kmin = u64::from(rest > 0);
            for k in kmin..=kmax {
                let v = match (rest.checked_div(k), rest.checked_rem(k)) {
                    (Some(q), Some(rem)) => {
                        // (No `0 * f(q + 1)`: it may be infinite.)
                        let long = if rem > 0 { rem as f64 * f(q + 1) } else { 0.0 };
                        long + (k - rem) as f64 * f(q) + c[last as usize]
                    }
                    _ => c[last as usize],
                };
                if v.is_finite() && best.is_none_or(|(b, ..)| v < b) {
                    best = Some((v, last, k));
                }
            }
        }
        let (makespan, last, segments) = best.ok_or(Error::ZeroSnaps)?;
        let rest = n - last;
        let len = rest.checked_div(segments).unwrap_or(0);
        let long = rest.checked_rem(segments).unwrap_or(0);
        Ok(TwoLevel {
            steps,
            ram,
            disk,
            segments,
            len,
            long,
            last,
            makespan,
            state: if segments > 0 {
                Cursor::Sweep(0)
            } else {
                Cursor::Last
            },
            inner: None,
            queue: [None, None],
        })
    }

    /// The modelled makespan.
    pub fn makespan(&self) -> f64 {
        self.makespan
    }

    /// Start and length of disk segment `j`.
    fn segment(&self, j: u64) -> (u64, u64) {
        let start = j * self.len + j.min(self.long);
        (start, self.len + u64::from(j < self.long))
    }

    /// A binomial reversal of `len` steps from `start` with the RAM slots.
    fn binomial(&self, start: u64, len: u64) -> Option<(Binomial, u64)> {
        // `new` accepted the segment lengths, so this cannot fail.
        Binomial::new(len, self.ram.max(1)).ok().map(|b| (b, start))
    }
}

/// `a` shifted by `offset` steps.
fn shift(a: Action, offset: u64) -> Action {
    match a {
        Action::Advance { from, to } => Action::Advance {
            from: from + offset,
            to: to + offset,
        },
        Action::Store { step, level } => Action::Store {
            step: step + offset,
            level,
        },
        Action::Restore { step, level } => Action::Restore {
            step: step + offset,
            level,
        },
        Action::Free { step, level } => Action::Free {
            step: step + offset,
            level,
        },
        Action::Record { step, level } => Action::Record {
            step: step + offset,
            level,
        },
        Action::Reverse { step } => Action::Reverse {
            step: step + offset,
        },
    }
}

impl Iterator for TwoLevel {
    type Item = Action;

    fn next(&mut self) -> Option<Action> {
        loop {
            if let Some(a) = self.queue[0].take() {
                self.queue[0] = self.queue[1].take();
                return Some(a);
            }
            if let Some((b, offset)) = self.inner.as_mut() {
                match b.next() {
                    Some(a) => return Some(shift(a, *offset)),
                    None => self.inner = None,
                }
            }
            match self.state {
                Cursor::Sweep(j) => {
                    let (start, len) = self.segment(j);
                    self.queue = [
                        Some(Action::Store {
                            step: start,
                            level: Level::Disk,
                        }),
                        Some(Action::Advance {
                            from: start,
                            to: start + len,
                        }),
                    ];
                    self.state = if j + 1 < self.segments {
                        Cursor::Sweep(j + 1)
                    } else {
                        Cursor::Last
                    };
                }
                Cursor::Last => {
                    self.inner = self.binomial(self.steps - self.last, self.last);
                    self.state = match self.segments {
                        0 => Cursor::Done,
                        k => Cursor::Segment(k - 1),
                    };
                }
                Cursor::Segment(j) => {
                    let (start, len) = self.segment(j);
                    let level = Level::Disk;
                    self.queue = [
                        Some(Action::Restore { step: start, level }),
                        Some(Action::Free { step: start, level }),
                    ];
                    self.inner = self.binomial(start, len);
                    self.state = match j {
                        0 => Cursor::Done,
                        _ => Cursor::Segment(j - 1),
                    };
                }
                Cursor::Done => return None,
            }
        }
    }
}

impl std::iter::FusedIterator for TwoLevel {}

impl Schedule for TwoLevel {
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
