//! Online checkpointing: the number of steps `n` is unknown until the forward sweep ends.
//!
//! [`Online`] is a pure, event-driven planner. During the forward sweep the caller asks it, once
//! per step, what to do before taking that step ([`Online::advance`]): it answers with at most
//! `free`, `store` and the one-step `advance`. When the step about to be taken is the last one,
//! the caller calls [`Online::finish`] instead, which consumes the planner and returns the
//! [`Reversal`]: the remaining actions (the first is `reverse n-1`, which takes the last step
//! taped).
//!
//! **`n` cannot be given early.** No constructor or method takes a step count: `n` exists only
//! as the number of [`Online::advance`] calls made before [`Online::finish`] (plus one), and
//! `finish` takes `self` by value, so the planner cannot be asked anything after it. This is a
//! compile-time property of the API: there is no way to write a call passing `n` to the planner.
//!
//! Placement during the forward sweep (`s` slots, the next possible end at `n = k + 2` when
//! the state is at step `k`):
//! - while a slot is free, every step is stored (optimal for `n <= s + 1`);
//! - phase targets: with `r = r(n, s)` (the phase `beta(s, r - 1) < n <= beta(s, r)`), the
//!   unique optimal placement for `n = beta(s, r)` is `p_j = sum_{i<j} beta(s - i, r - 1)`,
//!   `j < s`. A target is stored when the sweep reaches it and kept for the rest of the phase
//!   (the level structure of Wang, Moin & Iaccarino's dynamic checkpointing), so the schedule is
//!   optimal at every phase end `n = beta(s, r)`;
//! - otherwise one non-target checkpoint (never step 0) may be overwritten by the current state
//!   (the replacement move of Stumm & Walther's online algorithms): the one whose removal gives
//!   the cheapest exact reversal should the sweep end at the next step (ties: the latest), and
//!   only if that beats keeping the set at the next end (ties: the following ends, up to 4).
//!
//! This is optimal for every `n <= beta(s, 2)`, like Stumm & Walther's `Online_r2` (tested for
//! `s <= 40`), optimal at every `n = beta(s, r)`, and within 9.7% of the offline optimum over
//! `n <= 2000`, `2 <= s <= 40` (2.8% for `s >= 4`, 0.6% for `s >= 10`; mean 0.12%); see
//! `examples/online_quality.rs`.
//!
//! Reversal: with the placement fixed, the planner picks which checkpoints to keep by an exact
//! dynamic programme over segments (dropping one gives every later segment one more slot), and
//! reverses each segment with the offline-optimal binomial schedule and the slots then free.
//!
//! Convention: `s` slots count the one holding step 0; never more than `s` live checkpoints.
//!
//! ```
//! use revolve::schedule::online::Online;
//! use revolve::{Capacity, Machine};
//! let mut plan = Online::new(3).unwrap();
//! let mut m = Machine::new(10, Capacity::ram(3));
//! for _ in 0..9 {
//!     for a in plan.advance().unwrap() {
//!         m.execute(a).unwrap();
//!     }
//! }
//! for a in plan.finish() {
//!     m.execute(a).unwrap();
//! }
//! assert_eq!(m.finish().unwrap().forward, 25); // = T(10, 3), the offline optimum
//! ```

use crate::schedule::Schedule;
use crate::{Action, Capacity, Error, Level};
use std::collections::VecDeque;

const RAM: Level = Level::Ram;

/// `T(l, k)`: optimal total forward steps reversing `l >= 1` steps from a held checkpoint with
/// `k >= 1` slots (that one included). Saturates at `u128::MAX` (never reached for u64 inputs).
pub(crate) fn t_cost(l: u64, k: u64) -> u128 {
    let l128 = u128::from(l);
    if l <= 1 {
        return l128;
    }
    if k == 1 {
        return l128 * (l128 + 1) / 2;
    }
    // Fast path in u64; beta(k, r) = C(k + r, k) grows at least like r^2 / 2 for k >= 2.
    let (mut r, mut beta) = (0u64, 1u64);
    while beta < l {
        r += 1;
        match k.checked_add(r).and_then(|t| beta.checked_mul(t)) {
            Some(x) => beta = x / r,
            None => return t_cost_wide(l128, u128::from(k)),
        }
    }
    // C(k + r, k + 1) = beta(k, r) * r / (k + 1).
    let (r, beta) = (u128::from(r), u128::from(beta));
    (r + 1) * l128 - beta * r / (u128::from(k) + 1)
}

/// [`t_cost`] in u128 throughout (saturating), for counts past the u64 fast path.
fn t_cost_wide(l: u128, k: u128) -> u128 {
    let (mut r, mut beta) = (0u128, 1u128);
    while beta < l {
        r += 1;
        beta = beta.saturating_mul(k + r) / r;
    }
    (r + 1) * l - beta.saturating_mul(r) / (k + 1)
}

/// `beta(s, r) = C(s + r, s)`, saturating at `u64::MAX`.
fn beta_sat(s: u64, r: u64) -> u64 {
    let mut b = 1u128;
    for i in 1..=u128::from(r) {
        b = b * (u128::from(s) + i) / i;
        if b >= u128::from(u64::MAX) {
            return u64::MAX;
        }
    }
    b as u64
}

/// Ends looked at (the next one first) when deciding whether to replace a checkpoint.
const LOOKAHEAD: u64 = 4;

/// The online planner. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Online {
    snaps: u64,
    current: u64,
    /// Live checkpoints, increasing; `cps[0] == 0` once anything is stored.
    cps: Vec<u64>,
    /// Cached replacement costs (see `rebuild_cache`; reused, no allocation per step).
    a_prefix: Vec<u128>,
    b_suffix: Vec<u128>,
    /// Repetition number `r` of the current phase `beta(s, r - 1) < n <= beta(s, r)` (0: none
    /// computed yet) and its target placement (optimal for `n = beta(s, r)`), increasing.
    phase: u64,
    /// `beta(s, phase)`, saturating.
    phase_end: u64,
    targets: Vec<u64>,
    /// Whether `a_prefix`, `b_suffix` and `cache_best` match `cps` and `targets`.
    cache_valid: bool,
    cache_best: Option<(u128, usize)>,
}

/// The actions to perform before and for one forward step: at most `free`, `store`, `advance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepActions {
    actions: [Action; 3],
    len: u8,
    pos: u8,
}

impl Iterator for StepActions {
    type Item = Action;
    fn next(&mut self) -> Option<Action> {
        if self.pos < self.len {
            self.pos += 1;
            Some(self.actions[usize::from(self.pos - 1)])
        } else {
            None
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.len - self.pos);
        (left, Some(left))
    }
}

impl ExactSizeIterator for StepActions {}

impl Online {
    /// A planner with `snaps >= 1` checkpoint slots (counting the one for step 0); the current
    /// state is at step 0.
    ///
    /// ```
    /// use revolve::schedule::online::Online;
    /// assert!(Online::new(0).is_err());
    /// assert_eq!(Online::new(4).unwrap().current(), 0);
    /// ```
    pub fn new(snaps: u64) -> Result<Online, Error> {
        if snaps == 0 {
            return Err(Error::ZeroSnaps);
        }
        let cap = usize::try_from(snaps.min(4096)).unwrap_or(4096);
        Ok(Online {
            snaps,
            current: 0,
            cps: Vec::with_capacity(cap),
            a_prefix: Vec::with_capacity(cap + 1),
            b_suffix: Vec::with_capacity(cap + 1),
            phase: 0,
            phase_end: 0,
            targets: Vec::new(),
            cache_valid: false,
            cache_best: None,
        })
    }

    /// Slots given.
    pub fn snaps(&self) -> u64 {
        self.snaps
    }

    /// Step of the current state (= forward steps taken so far).
    pub fn current(&self) -> u64 {
        self.current
    }

    /// Steps of the live checkpoints, increasing.
    pub fn checkpoints(&self) -> &[u64] {
        &self.cps
    }

    /// The current step is not the last: returns what to do before taking it (at most a `free`
    /// and a `store` of the current step, at [`Level::Ram`]) followed by `advance k k+1`.
    ///
    /// Errors with [`Error::Overflow`] if the step count would pass `u64::MAX`.
    pub fn advance(&mut self) -> Result<StepActions, Error> {
        let k = self.current;
        let next = k.checked_add(1).ok_or(Error::Overflow {
            what: "online step count",
        })?;
        let mut out = StepActions {
            actions: [Action::Advance { from: k, to: next }; 3],
            len: 0,
            pos: 0,
        };
        let mut push = |a: Action| {
            out.actions[usize::from(out.len)] = a;
            out.len += 1;
        };
        if (self.cps.len() as u64) < self.snaps {
            self.cps.push(k);
            self.cache_valid = false;
            push(Action::Store {
                step: k,
                level: RAM,
            });
        } else if let Some(i) = self.replacement(k) {
            let old = self.cps.remove(i);
            self.cps.push(k);
            self.cache_valid = false;
            push(Action::Free {
                step: old,
                level: RAM,
            });
            push(Action::Store {
                step: k,
                level: RAM,
            });
        }
        push(Action::Advance { from: k, to: next });
        self.current = next;
        Ok(out)
    }

    /// With all slots taken and the state at `k`: the index of the checkpoint to overwrite by
    /// `k`, if overwriting one beats keeping the set should the sweep end soon.
    fn replacement(&mut self, k: u64) -> Option<usize> {
        let m = self.cps.len();
        if m < 2 {
            return None;
        }
        // The next possible end is n = k + 2; its phase fixes the targets.
        self.update_phase(k.saturating_add(2));
        if !self.cache_valid {
            self.rebuild_cache();
        }
        let s = self.snaps;
        let c = &self.cps;
        let is_target = |step: u64| self.targets.binary_search(&step).is_ok();
        // Overwriting c[i] merges segments i-1 and i; later ones move one index down and gain
        // a slot; the last of them, [c[m-1], k), is the only one that depends on k.
        let moved_last = t_cost(k - c[m - 1], s - m as u64 + 2);
        let mut best = self.cache_best.map(|(v, i)| (v + moved_last, i));
        if !is_target(c[m - 1]) {
            let merged = t_cost(k - c[m - 2], s - m as u64 + 2);
            let v = self.a_prefix[m - 2] + merged;
            // Ties go to the latest checkpoint.
            if best.is_none_or(|(b, _)| v <= b) {
                best = Some((v, m - 1));
            }
        }
        let (base, i) = best?;
        if is_target(k) {
            return Some(i);
        }
        let keep_base = self.a_prefix[m - 1];
        let tail_slots = s - m as u64 + 1;
        // Compare at the ends k + 1, k + 2, ... (state of the last step), the next one first.
        for d in 1..=LOOKAHEAD {
            let replace = base + t_cost(d, tail_slots);
            let keep = keep_base + t_cost(k + d - c[m - 1], tail_slots);
            if replace != keep {
                return (replace < keep).then_some(i);
            }
        }
        None
    }

    /// Recomputes the parts of the replacement costs that do not depend on the current step:
    /// `a_prefix[i]` = sum of the kept segments before `i` (`i < m`), and the best overwrite
    /// among `1 <= i <= m - 2` without the moved last segment.
    fn rebuild_cache(&mut self) {
        let s = self.snaps;
        let c = &self.cps;
        let m = c.len();
        self.a_prefix.clear();
        self.a_prefix.push(0);
        for j in 0..m - 1 {
            let last = self.a_prefix[j];
            self.a_prefix
                .push(last + t_cost(c[j + 1] - c[j], s - j as u64));
        }
        // b_suffix[j] = sum over j..=m-2 of segment j moved one index down.
        self.b_suffix.clear();
        self.b_suffix.resize(m, 0);
        for j in (1..m - 1).rev() {
            self.b_suffix[j] = self.b_suffix[j + 1] + t_cost(c[j + 1] - c[j], s - j as u64 + 1);
        }
        let mut best: Option<(u128, usize)> = None;
        for i in 1..m - 1 {
            if self.targets.binary_search(&c[i]).is_ok() {
                continue;
            }
            let v = self.a_prefix[i - 1]
                + t_cost(c[i + 1] - c[i - 1], s - i as u64 + 1)
                + self.b_suffix[i + 1];
            if best.is_none_or(|(b, _)| v <= b) {
                best = Some((v, i));
            }
        }
        self.cache_best = best;
        self.cache_valid = true;
    }

    /// Makes `phase`/`targets` those of an end at `n`: `r = r(n, s)` and the placement
    /// `p_j = sum_{i<j} beta(s - i, r - 1)`, `j < s`, the unique optimal one for `n = beta(s, r)`.
    fn update_phase(&mut self, n: u64) {
        let s = self.snaps;
        if self.phase != 0 && self.phase_end >= n {
            return;
        }
        let mut r = self.phase.max(1);
        while beta_sat(s, r) < n {
            r += 1;
        }
        self.phase = r;
        self.phase_end = beta_sat(s, r);
        self.cache_valid = false;
        self.targets.clear();
        let mut p = 0u64;
        for i in 0..s {
            self.targets.push(p);
            p = p.saturating_add(beta_sat(s - i, r - 1));
            if p == u64::MAX {
                break;
            }
        }
    }

    /// The current step is the last one: `n = current + 1` steps in all. Returns the reversal,
    /// whose first action is `reverse n-1` (the last step, taken taped).
    pub fn finish(self) -> Reversal {
        Reversal::new(self.snaps, self.current, self.cps)
    }
}

/// Largest checkpoint count for which [`Online::finish`] searches which checkpoints to drop
/// (cubic); above it every checkpoint is kept.
const DROP_SEARCH_MAX: usize = 128;

/// Which of `cps` to keep for the cheapest reversal; `last` = `n - 1`. Keeping checkpoints
/// `q_0 < q_1 < ...` costs `sum_j T(q_{j+1} - q_j, s - j)` (with `q_m = n - 1`) besides the
/// forward sweep and the final `reverse n-1`.
fn best_kept(cps: &[u64], last: u64, snaps: u64) -> Vec<bool> {
    let m = cps.len();
    let mut keep = vec![true; m];
    if !(2..=DROP_SEARCH_MAX).contains(&m) || (m as u64) < snaps {
        return keep;
    }
    // f[i * m + j]: cost from cps[i] on, cps[i] being the j-th kept (slots s - j); nxt: next kept.
    let mut f = vec![u128::MAX; m * m];
    let mut nxt = vec![m; m * m];
    for i in (0..m).rev() {
        for j in 0..=i {
            let slots = snaps - j as u64;
            let mut best = t_cost(last - cps[i], slots);
            let mut arg = m;
            for i2 in i + 1..m {
                let v = t_cost(cps[i2] - cps[i], slots).saturating_add(f[i2 * m + j + 1]);
                if v < best {
                    best = v;
                    arg = i2;
                }
            }
            f[i * m + j] = best;
            nxt[i * m + j] = arg;
        }
    }
    keep.iter_mut().for_each(|k| *k = false);
    let (mut i, mut j) = (0, 0);
    while i < m {
        keep[i] = true;
        let n2 = nxt[i * m + j];
        i = n2;
        j += 1;
    }
    keep
}

/// Optimal first advance `i` for reversing `l >= 2` steps from a held checkpoint with
/// `k >= 2` slots: minimises `i + T(i, k) + T(l - i, k - 1)` (convex in `i`).
fn split(l: u64, k: u64) -> u64 {
    let f = |i: u64| u128::from(i) + t_cost(i, k) + t_cost(l - i, k - 1);
    let (mut lo, mut hi) = (1, l - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if f(mid + 1) >= f(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[derive(Clone, Copy, Debug)]
enum Frame {
    /// Reverse steps `start..end` from the held checkpoint at `start` with `slots` slots (that
    /// one included); `at`: the current state is already at `start`.
    Segment {
        start: u64,
        end: u64,
        slots: u64,
        at: bool,
    },
    /// One slot: reverse `start..=next` by recomputation from `start`.
    Recompute { start: u64, next: u64 },
}

/// The actions of the reversal, after [`Online::finish`]: an iterator of [`Action`]s
/// (restores, advances, stores, reverses, frees), produced lazily.
#[derive(Clone, Debug)]
pub struct Reversal {
    steps: u64,
    snaps: u64,
    pending: VecDeque<Action>,
    stack: Vec<Frame>,
}

impl Reversal {
    fn new(snaps: u64, last: u64, cps: Vec<u64>) -> Reversal {
        let mut pending = VecDeque::with_capacity(8);
        pending.push_back(Action::Reverse { step: last });
        let keep = best_kept(&cps, last, snaps);
        let mut kept = Vec::with_capacity(cps.len());
        for (&c, &k) in cps.iter().zip(&keep) {
            if k {
                kept.push(c);
            } else {
                pending.push_back(Action::Free {
                    step: c,
                    level: RAM,
                });
            }
        }
        let mut stack = Vec::with_capacity(kept.len() + 64);
        for (j, &start) in kept.iter().enumerate() {
            let end = kept.get(j + 1).copied().unwrap_or(last);
            stack.push(Frame::Segment {
                start,
                end,
                slots: snaps - j as u64,
                at: false,
            });
        }
        Reversal {
            steps: last + 1,
            snaps,
            pending,
            stack,
        }
    }

    fn expand(&mut self, frame: Frame) {
        let p = &mut self.pending;
        match frame {
            Frame::Segment {
                start,
                end,
                slots,
                at,
            } => {
                if !at {
                    p.push_back(Action::Restore {
                        step: start,
                        level: RAM,
                    });
                }
                let len = end - start;
                if len == 1 {
                    p.push_back(Action::Free {
                        step: start,
                        level: RAM,
                    });
                    p.push_back(Action::Reverse { step: start });
                } else if slots == 1 {
                    p.push_back(Action::Advance {
                        from: start,
                        to: end - 1,
                    });
                    p.push_back(Action::Reverse { step: end - 1 });
                    self.stack.push(Frame::Recompute {
                        start,
                        next: end - 2,
                    });
                } else {
                    let mid = start + split(len, slots);
                    p.push_back(Action::Advance {
                        from: start,
                        to: mid,
                    });
                    self.stack.push(Frame::Segment {
                        start,
                        end: mid,
                        slots,
                        at: false,
                    });
                    if end - mid == 1 {
                        p.push_back(Action::Reverse { step: mid });
                    } else {
                        p.push_back(Action::Store {
                            step: mid,
                            level: RAM,
                        });
                        self.stack.push(Frame::Segment {
                            start: mid,
                            end,
                            slots: slots - 1,
                            at: true,
                        });
                    }
                }
            }
            Frame::Recompute { start, next } => {
                p.push_back(Action::Restore {
                    step: start,
                    level: RAM,
                });
                if next == start {
                    p.push_back(Action::Free {
                        step: start,
                        level: RAM,
                    });
                } else {
                    p.push_back(Action::Advance {
                        from: start,
                        to: next,
                    });
                    self.stack.push(Frame::Recompute {
                        start,
                        next: next - 1,
                    });
                }
                p.push_back(Action::Reverse { step: next });
            }
        }
    }
}

impl Iterator for Reversal {
    type Item = Action;
    fn next(&mut self) -> Option<Action> {
        loop {
            if let Some(a) = self.pending.pop_front() {
                return Some(a);
            }
            let frame = self.stack.pop()?;
            self.expand(frame);
        }
    }
}

/// Test/CLI helper: the full action stream of an online run of `steps` steps with `snaps` slots,
/// produced by feeding the planner one event at a time (`steps - 1` calls of
/// [`Online::advance`], then [`Online::finish`]); consecutive one-step advances are merged.
///
/// ```
/// use revolve::{schedule::online, validate, Capacity};
/// let s = validate(101, Capacity::ram(5), online::simulate(101, 5).unwrap()).unwrap();
/// assert!(s.forward <= 431); // C++ Revolve's online mode needs 431
/// ```
pub fn simulate(steps: u64, snaps: u64) -> Result<Simulation, Error> {
    if steps == 0 {
        return Err(Error::ZeroSteps);
    }
    // The limit of the offline schedule: the optimal forward count T(n, s) fits in 64 bits
    // (the online one takes at least as many steps, so a longer run would never end).
    crate::cost::optimal_forward(steps, snaps.clamp(1, steps))?;
    Ok(Simulation {
        planner: Some(Online::new(snaps)?),
        steps,
        snaps,
        buffer: VecDeque::with_capacity(4),
        reversal: None,
    })
}

/// Iterator returned by [`simulate`].
#[derive(Clone, Debug)]
pub struct Simulation {
    planner: Option<Online>,
    steps: u64,
    snaps: u64,
    buffer: VecDeque<Action>,
    reversal: Option<Reversal>,
}

impl Iterator for Simulation {
    type Item = Action;
    fn next(&mut self) -> Option<Action> {
        loop {
            if let Some(r) = self.reversal.as_mut() {
                if let Some(a) = self.buffer.pop_front() {
                    return Some(a);
                }
                return r.next();
            }
            let planner = self.planner.as_mut()?;
            if planner.current() + 1 < self.steps {
                // `current + 1 < steps <= u64::MAX`, so advance cannot overflow.
                let acts = planner.advance().ok()?;
                for a in acts {
                    match (self.buffer.back_mut(), a) {
                        (Some(Action::Advance { to, .. }), Action::Advance { from, to: t2 })
                            if *to == from =>
                        {
                            *to = t2
                        }
                        _ => self.buffer.push_back(a),
                    }
                }
                // Everything but a trailing advance (which may still grow) can go out.
                if self.buffer.len() > 1 {
                    return self.buffer.pop_front();
                }
            } else {
                let p = self.planner.take()?;
                self.reversal = Some(p.finish());
            }
        }
    }
}

impl Schedule for Reversal {
    /// `n`: the reversal starts with `reverse n-1`.
    fn steps(&self) -> u64 {
        self.steps
    }

    fn capacity(&self) -> Capacity {
        Capacity::ram(self.snaps)
    }
}

impl Schedule for Simulation {
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
    use crate::cost::optimal_forward;

    #[test]
    fn t_cost_is_the_closed_form() {
        for k in 1..=12u64 {
            for l in 1..=600u64 {
                let t = u128::from(optimal_forward(l, k).unwrap());
                assert_eq!(t_cost(l, k), t, "l={l} k={k}");
                assert_eq!(t_cost_wide(u128::from(l), u128::from(k)), t, "l={l} k={k}");
            }
        }
        assert_eq!(
            t_cost(u64::MAX, 1),
            u128::from(u64::MAX) * (u128::from(u64::MAX) + 1) / 2
        );
        assert!(t_cost(u64::MAX, u64::MAX) >= u128::from(u64::MAX));
    }

    #[test]
    fn split_is_optimal() {
        for k in 2..=10u64 {
            for l in 2..=400u64 {
                let i = split(l, k);
                assert!((1..l).contains(&i));
                assert_eq!(
                    u128::from(i) + t_cost(i, k) + t_cost(l - i, k - 1),
                    t_cost(l, k)
                );
            }
        }
    }
}
