//! The optimal offline binomial schedule (Griewank & Walther's Revolve), emitting the fewest
//! stores among all optimal schedules, lazily in `O(s)` memory.
//!
//! # Structure
//! A *segment* `(a, l, s)` reverses steps `a .. a + l` with the current state at `a` and `s` slots
//! (one of them for the state at `a`). If `l == 1` it is `reverse a`. Otherwise it advances `m`
//! steps, reverses the right part `(a + m, l - m, s - 1)` (storing `a + m` first unless
//! `l - m == 1`), restores `a` and reverses the left part `(a, m, s)`. Its total forward steps
//! are `m + T(l - m, s - 1) + T(m, s)`, and [`T`](crate::cost::optimal_forward) is reached exactly
//! when `m` lies in the optimal interval
//! `[max(β(s, r-2), l - β(s-1, r)), min(β(s, r-1), l - β(s-1, r-1))]`, `r = r(l, s)`.
//!
//! # Fewest stores
//! Every split costs one restore (so a schedule of this form always restores `n - 1` times);
//! a store is needed exactly for the initial state (if `n >= 2`) and for each right part of
//! length `>= 2`. Let `W(l, s)` be the fewest stores of a segment whose start is already held.
//! Among schedules of this nested form (the form every Revolve variant takes), by induction on
//! `l` (argued below; checked exhaustively against a dynamic program over every split for
//! `n <= 150`, `s <= 8` in the tests), for `l >= 2`, `s >= 2`:
//!
//! `W(l, s) = β(s-1, r-1) - 1 + max(0, l - β(s, r-1) - β(s-1, r-1))`
//!
//! (flat on a repetition class up to `β(s, r) - β(s-2, r)`, then one more store per step;
//! `W(l, 1) = 0`, `W(1, s) = 0`). On the optimal interval `m` and `l - m` lie in the classes
//! `r-1` (or its lower end) and `r` of `s` and `s - 1` slots, so the stores of a split are a
//! constant plus `max(0, m - A) + max(0, l - m - B)` with `A = β(s, r-1) - β(s-2, r-1)` and
//! `B = β(s-1, r-1) + β(s-2, r-1)`. This sum of two hinges is least for `m` between `A` and
//! `l - B`, clamped into the optimal interval; the schedule takes the **largest** such `m`
//! (it advances as far as the store budget allows). For `r = 1` the only optimal split is
//! `m = 1`, for `s = 1` it is `m = l - 1`.
//!
//! Examples: `n = 10, s = 3`: 25 forward steps, 6 stores, 9 restores; `n = 100, s = 5`:
//! 416 forward steps, 44 stores (the closed form is [`Binomial::stores`]).
//!
//! # Checkpoint hand-over
//! The last restore of a checkpoint `a` is always immediately followed by `free a ram` and
//! `reverse a`, so a driver can hand the buffer over instead of copying it.
//!
//! # Slots
//! Only what is needed is used: with `s >= n` the schedule stores steps `0 .. n - 2` once each
//! (`2n - 1` forward steps, peak `n - 1`).

use crate::cost;
use crate::{Action, Capacity, Error, Level};

/// A segment still to reverse: steps `a .. a + l` with `s` slots, repetition number `r`, and
/// `p = β(s, r - 1)` (only meaningful for `s >= 2`, `r >= 2`).
#[derive(Clone, Copy, Debug)]
struct Seg {
    a: u64,
    l: u64,
    s: u64,
    r: u64,
    p: u64,
}

/// `a * b / c` for an exact quotient that fits in `u64` (the product may not).
#[inline]
fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    match a.checked_mul(b) {
        Some(p) => p / c,
        None => ((u128::from(a) * u128::from(b)) / u128::from(c)) as u64,
    }
}

/// Split of a segment: the advance `m`, and the two children's `(r, p)`.
struct Split {
    m: u64,
    right: (u64, u64),
    left: (u64, u64),
}

/// The store-minimising optimal split of `seg` (`l >= 2`).
#[inline]
fn split(seg: &Seg) -> Split {
    let Seg { l, s, r, p, .. } = *seg;
    if s == 1 {
        // One slot: the right part must be a single step.
        return Split {
            m: l - 1,
            right: (0, 0),
            left: (0, 0),
        };
    }
    if r == 1 {
        // l <= s + 1: every step is advanced once, the only optimal split is m = 1.
        return Split {
            m: 1,
            right: (1, 1),
            left: (0, 0),
        };
    }
    // s >= 2, r >= 2, β(s, r-1) = p < l <= β(s, r). No overflow: s + r - 1 <= β(s, r-1) = p,
    // every β below is at most p, except r0 which may exceed u64 and is computed in u128.
    let q = mul_div(p, r - 1, s + r - 1); // β(s, r-2)
    let r1 = p - q; // β(s-1, r-1)
    let u = mul_div(r1, s - 1, s + r - 2); // β(s-2, r-1)
    let r0 = u128::from(r1) * u128::from(s + r - 1) / u128::from(r); // β(s-1, r)
    let lo = q.max(l.saturating_sub(u64::try_from(r0).unwrap_or(u64::MAX)));
    let hi = p.min(l - r1);
    let a = p - u;
    let b = l.saturating_sub(r1.saturating_add(u));
    let m = hi.min(a.max(b)).max(lo);
    debug_assert!(lo <= m && m <= hi, "l={l} s={s} r={r}: {lo} <= {m} <= {hi}");
    let right = if l - m == r1 {
        (r - 1, r1 - u)
    } else {
        (r, r1)
    };
    let left = if m == q {
        (r - 2, q - (r1 - u))
    } else {
        (r - 1, q)
    };
    Split { m, right, left }
}

/// The optimal offline binomial schedule for `steps` steps and `snaps` RAM slots (counting the
/// slot of the initial state), with the fewest stores among optimal schedules.
///
/// It yields [`Action`]s lazily (`O(snaps)` memory, amortised `O(1)` time per action); every
/// checkpoint is at [`Level::Ram`]. See the [module docs](self) for the rule and its proof.
///
/// ```
/// use revolve::{validate, Binomial, Capacity};
/// let schedule = Binomial::new(10, 3).unwrap();
/// let stats = validate(10, Capacity::ram(3), schedule).unwrap();
/// assert_eq!(stats.forward, revolve::cost::optimal_forward(10, 3).unwrap()); // 25
/// assert_eq!((stats.stores[0], stats.restores[0]), (6, 9));
/// ```
#[derive(Clone, Debug)]
pub struct Binomial {
    steps: u64,
    snaps: u64,
    forward: u64,
    stores: u64,
    cur: Seg,
    /// Whether `cur.a` is held in a checkpoint.
    held: bool,
    /// The next chunk starts by restoring `cur.a`.
    restore_next: bool,
    done: bool,
    stack: Vec<Seg>,
    queue: [Action; 4],
    qpos: u8,
    qlen: u8,
}

impl Binomial {
    /// The schedule for `steps >= 1` steps and `snaps >= 1` slots.
    ///
    /// Errors: [`Error::ZeroSteps`], [`Error::ZeroSnaps`], or [`Error::Overflow`] when the total
    /// forward steps `T(steps, snaps)` do not fit in `u64`.
    pub fn new(steps: u64, snaps: u64) -> Result<Self, Error> {
        let forward = cost::optimal_forward(steps, snaps)?;
        // More than `steps` slots are never used (r = 1 from `steps - 1` slots on).
        let s = snaps.min(steps);
        let r = cost::repetition_number(steps, s)?;
        let p = if s >= 2 && r >= 1 {
            cost::beta(s, r - 1)?
        } else {
            0
        };
        let stores = stores_closed_form(steps, s, r, p)?;
        Ok(Binomial {
            steps,
            snaps,
            forward,
            stores,
            cur: Seg {
                a: 0,
                l: steps,
                s,
                r,
                p,
            },
            held: false,
            restore_next: false,
            done: false,
            stack: Vec::with_capacity(usize::try_from(s.min(64)).unwrap_or(64)),
            queue: [Action::Reverse { step: 0 }; 4],
            qpos: 0,
            qlen: 0,
        })
    }

    /// Steps to reverse.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Slots given (counting the one holding the initial state).
    pub fn snaps(&self) -> u64 {
        self.snaps
    }

    /// Total forward steps of the whole schedule: `T(steps, snaps)`, the optimum.
    pub fn forward(&self) -> u64 {
        self.forward
    }

    /// Stores of the whole schedule (closed form; the fewest among optimal schedules).
    ///
    /// ```
    /// assert_eq!(revolve::Binomial::new(100, 5).unwrap().stores(), 44);
    /// ```
    pub fn stores(&self) -> u64 {
        self.stores
    }

    /// Restores of the whole schedule: every step but the last is reached by a restore.
    pub fn restores(&self) -> u64 {
        self.steps - 1
    }

    #[inline]
    fn push(&mut self, a: Action) {
        self.queue[usize::from(self.qlen)] = a;
        self.qlen += 1;
    }

    /// Make the segment on top of the stack current, its start to be restored.
    #[inline]
    fn pop(&mut self) {
        match self.stack.pop() {
            Some(seg) => {
                self.cur = seg;
                self.held = true;
                self.restore_next = true;
            }
            None => self.done = true,
        }
    }

    /// Queue the next few actions.
    #[inline]
    fn refill(&mut self) {
        self.qpos = 0;
        self.qlen = 0;
        let seg = self.cur;
        let level = Level::Ram;
        if self.restore_next {
            self.restore_next = false;
            self.push(Action::Restore { step: seg.a, level });
            if seg.l == 1 {
                self.push(Action::Free { step: seg.a, level });
                self.push(Action::Reverse { step: seg.a });
                self.pop();
                return;
            }
        } else if seg.l == 1 {
            self.push(Action::Reverse { step: seg.a });
            self.pop();
            return;
        }
        if !self.held {
            self.push(Action::Store { step: seg.a, level });
        }
        let sp = split(&seg);
        let to = seg.a + sp.m;
        self.push(Action::Advance { from: seg.a, to });
        let left = Seg {
            a: seg.a,
            l: sp.m,
            s: seg.s,
            r: sp.left.0,
            p: sp.left.1,
        };
        if seg.l - sp.m == 1 {
            // The right part is the single step `to`: reverse it now, then the left part.
            self.push(Action::Reverse { step: to });
            self.cur = left;
            self.held = true;
            self.restore_next = true;
        } else {
            self.stack.push(left);
            self.cur = Seg {
                a: to,
                l: seg.l - sp.m,
                s: seg.s - 1,
                r: sp.right.0,
                p: sp.right.1,
            };
            self.held = false;
        }
    }
}

/// Total stores: `[n >= 2] + W(n, s)` (see the module docs), `s = min(snaps, n)`.
fn stores_closed_form(n: u64, s: u64, r: u64, p: u64) -> Result<u64, Error> {
    if n == 1 {
        return Ok(0);
    }
    if s == 1 {
        return Ok(1);
    }
    if r == 1 {
        return Ok(n - 1);
    }
    // β(s-1, r-1) = β(s, r-1) s / (s + r - 1), exact.
    let r1 = mul_div(p, s, s + r - 1);
    Ok(r1 + n.saturating_sub(p.saturating_add(r1)))
}

impl Iterator for Binomial {
    type Item = Action;

    #[inline]
    fn next(&mut self) -> Option<Action> {
        if self.qpos == self.qlen {
            if self.done {
                return None;
            }
            self.refill();
        }
        let a = self.queue[usize::from(self.qpos)];
        self.qpos += 1;
        Some(a)
    }
}

impl std::iter::FusedIterator for Binomial {}

impl super::Schedule for Binomial {
    fn steps(&self) -> u64 {
        self.steps
    }

    fn capacity(&self) -> Capacity {
        Capacity::ram(self.snaps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capacity, validate};

    fn text(n: u64, s: u64) -> Vec<String> {
        Binomial::new(n, s)
            .unwrap()
            .map(|a| a.to_string())
            .collect()
    }

    #[test]
    fn small_traces() {
        assert_eq!(text(1, 1), ["reverse 0"]);
        assert_eq!(
            text(2, 1),
            [
                "store 0 ram",
                "advance 0 1",
                "reverse 1",
                "restore 0 ram",
                "free 0 ram",
                "reverse 0"
            ]
        );
        assert_eq!(
            text(3, 2),
            [
                "store 0 ram",
                "advance 0 1",
                "store 1 ram",
                "advance 1 2",
                "reverse 2",
                "restore 1 ram",
                "free 1 ram",
                "reverse 1",
                "restore 0 ram",
                "free 0 ram",
                "reverse 0"
            ]
        );
    }

    #[test]
    fn ten_three() {
        let s = validate(10, Capacity::ram(3), Binomial::new(10, 3).unwrap()).unwrap();
        assert_eq!(
            (s.forward, s.stores[0], s.restores[0], s.peak[0]),
            (25, 6, 9, 3)
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(Binomial::new(0, 3), Err(Error::ZeroSteps)));
        assert!(matches!(Binomial::new(3, 0), Err(Error::ZeroSnaps)));
        assert!(matches!(
            Binomial::new(u64::MAX, 1),
            Err(Error::Overflow { .. })
        ));
    }
}
