//! An independent abstract machine that executes any action sequence and checks every rule.
//!
//! Rules: `advance A B` starts at the current step and never reaches past the next step still to
//! reverse; `reverse K` needs the current state at `K` and steps `K+1..n-1` already reversed, and
//! consumes the current state; `restore`/`free` need an existing checkpoint; `store` needs the
//! current state at that step, a free slot at its level and no checkpoint of that step at any
//! level; every step is reversed exactly once, in order `n-1, ..., 0`; no checkpoint is left at
//! the end; the per-level peak never exceeds the capacity.
//!
//! Recorded steps (the mixed schedule): `record K LEVEL` needs the current state at `K`,
//! `K + 1` no later than the next step still to reverse, a free unit at `LEVEL` (a record counts
//! against the level's capacity like a checkpoint) and nothing held for `K`; it takes one forward
//! step and moves the current state to `K + 1`. `reverse K` of a recorded step needs no current
//! state, takes no forward step and releases the record's unit. A record is not a state:
//! `restore K` of one is an error; `free K LEVEL` discards it (its step must then be reversed
//! from a state).

use crate::{Action, Level};
use std::fmt;

/// Checkpoint slots available per level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Capacity {
    /// RAM slots.
    pub ram: u64,
    /// Disk slots.
    pub disk: u64,
}

impl Capacity {
    /// `ram` RAM slots, no disk.
    pub const fn ram(ram: u64) -> Self {
        Capacity { ram, disk: 0 }
    }
    /// Slots at `level`.
    pub const fn at(&self, level: Level) -> u64 {
        match level {
            Level::Ram => self.ram,
            Level::Disk => self.disk,
        }
    }
    /// Unlimited slots at both levels (to measure the peak a schedule needs).
    pub const UNLIMITED: Capacity = Capacity {
        ram: u64::MAX,
        disk: u64::MAX,
    };
}

/// What a valid schedule did. Per-level arrays are indexed by [`Level::index`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// Steps reversed (`n`).
    pub steps: u64,
    /// Actions executed.
    pub actions: u64,
    /// Total forward steps: untaped advances, records, and the taped step of each reverse of a
    /// step that was not recorded (checkpoint_schedules' count of forward steps).
    pub forward: u64,
    /// Untaped forward steps (advances only; C++ Revolve's `numforw`).
    pub advanced: u64,
    /// Reverse steps.
    pub reverse: u64,
    /// Stores per level.
    pub stores: [u64; 2],
    /// Restores per level.
    pub restores: [u64; 2],
    /// Frees per level.
    pub frees: [u64; 2],
    /// Recorded steps per level (`record` actions; each is a forward step).
    pub records: [u64; 2],
    /// Peak number of live checkpoints per level.
    pub peak: [u64; 2],
}

impl Stats {
    /// Stores at all levels.
    pub fn total_stores(&self) -> u64 {
        self.stores[0] + self.stores[1]
    }
    /// Restores at all levels.
    pub fn total_restores(&self) -> u64 {
        self.restores[0] + self.restores[1]
    }
    /// Recorded steps at all levels.
    pub fn total_records(&self) -> u64 {
        self.records[0] + self.records[1]
    }
    /// The summary line of the text format, for a schedule given `snaps` slots in all.
    ///
    /// `# steps=N snaps=S forward=F reverse=R stores=W restores=L peak_ram=P peak_disk=D`,
    /// followed by ` records=C` when the schedule recorded steps (peaks then count records too).
    pub fn summary_line(&self, snaps: u64) -> String {
        let mut line = format!(
            "# steps={} snaps={} forward={} reverse={} stores={} restores={} peak_ram={} peak_disk={}",
            self.steps,
            snaps,
            self.forward,
            self.reverse,
            self.total_stores(),
            self.total_restores(),
            self.peak[0],
            self.peak[1]
        );
        if self.total_records() > 0 {
            line.push_str(&format!(" records={}", self.total_records()));
        }
        line
    }
}

/// The rule an action sequence broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// `steps` was 0.
    #[error("a schedule needs at least one step")]
    NoSteps,
    /// An action other than `free` came after every step was reversed.
    #[error("action after every step was reversed")]
    AfterEnd,
    /// An action needed the current state but it was consumed by a reverse.
    #[error("there is no current state (consumed by the last reverse); restore first")]
    NoCurrentState,
    /// The action names a step other than the current one.
    #[error("the current state is at step {current}, not {step}")]
    WrongStep {
        /// Step the action names.
        step: u64,
        /// Current step.
        current: u64,
    },
    /// `advance A B` with `B <= A`.
    #[error("advance must move forward (from {from} to {to})")]
    EmptyAdvance {
        /// Start.
        from: u64,
        /// End.
        to: u64,
    },
    /// An advance or restore reaches past the next step still to reverse.
    #[error("step {to} lies past {limit}, the next step still to reverse")]
    PastReversal {
        /// Step reached.
        to: u64,
        /// Next step still to reverse.
        limit: u64,
    },
    /// A reverse out of the order `n-1, ..., 0`.
    #[error("reverse {step} out of order: the next step to reverse is {expected}")]
    ReverseOrder {
        /// Step reversed.
        step: u64,
        /// Step expected.
        expected: u64,
    },
    /// A restore or free of a checkpoint that is not held.
    #[error("no {level} checkpoint of step {step}")]
    MissingCheckpoint {
        /// Step.
        step: u64,
        /// Level.
        level: Level,
    },
    /// A store or record of a step that already has a checkpoint or record (at any level).
    #[error("step {step} already has a {existing} checkpoint or record")]
    DuplicateCheckpoint {
        /// Step.
        step: u64,
        /// Level of the existing checkpoint.
        existing: Level,
    },
    /// A restore of a step whose unit holds a recorded step's adjoint data, not a state.
    #[error("step {step} at {level} holds a recorded step's adjoint data, not a state")]
    RecordNotState {
        /// Step.
        step: u64,
        /// Level of the record.
        level: Level,
    },
    /// A store at a level whose slots are all taken.
    #[error("no free {level} slot (capacity {capacity})")]
    LevelFull {
        /// Level.
        level: Level,
        /// Its capacity.
        capacity: u64,
    },
    /// The sequence ended before every step was reversed.
    #[error("the schedule ended with steps 0..={next} not reversed")]
    Unfinished {
        /// Highest step not reversed.
        next: u64,
    },
    /// The sequence ended with checkpoints still held.
    #[error("the schedule ended with {count} checkpoint(s) still held")]
    Leftover {
        /// Checkpoints left.
        count: u64,
    },
}

/// The first broken rule, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Index of the offending action (the sequence length for end-of-sequence rules).
    pub index: u64,
    /// The offending action (`None` for end-of-sequence rules).
    pub action: Option<Action>,
    /// The rule.
    pub rule: Rule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Some(a) => write!(f, "action {} (`{a}`): {}", self.index, self.rule),
            None => write!(f, "at end after {} actions: {}", self.index, self.rule),
        }
    }
}

impl std::error::Error for Violation {}

/// The abstract machine, usable step by step (for online schedules and drivers).
#[derive(Clone, Debug)]
pub struct Machine {
    steps: u64,
    capacity: Capacity,
    current: Option<u64>,
    /// Next step to reverse; `None` once all are reversed.
    next: Option<u64>,
    /// Live checkpoints and records (`true`) sorted by step (preallocated: no allocation per
    /// action once the capacity is reached). A step has at most one of either.
    held: Vec<(u64, Level, bool)>,
    live: [u64; 2],
    stats: Stats,
}

impl Machine {
    /// A machine for `steps` steps with the state at step 0 and no checkpoint.
    pub fn new(steps: u64, capacity: Capacity) -> Self {
        let mut m = Machine {
            steps,
            capacity,
            current: Some(0),
            next: None,
            held: Vec::new(),
            live: [0; 2],
            stats: Stats::default(),
        };
        m.reset(steps, capacity);
        m
    }

    /// Start over as [`Machine::new`] would, keeping the allocation of the live-checkpoint list.
    pub(crate) fn reset(&mut self, steps: u64, capacity: Capacity) {
        let room = capacity
            .ram
            .saturating_add(capacity.disk)
            .min(steps)
            .min(1 << 16) as usize;
        self.steps = steps;
        self.capacity = capacity;
        self.current = Some(0);
        self.next = steps.checked_sub(1);
        self.held.clear();
        self.held.reserve(room);
        self.live = [0; 2];
        self.stats = Stats {
            steps,
            ..Stats::default()
        };
    }

    /// Counts so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Step of the current state, `None` if consumed.
    pub fn current(&self) -> Option<u64> {
        self.current
    }

    /// The live checkpoint of `step`: `Ok(index)` into `held`, or `Err(insertion index)`.
    /// Schedules mostly touch the newest checkpoints, so the last few are looked at first.
    #[inline]
    fn find(&self, step: u64) -> Result<usize, usize> {
        let h = &self.held;
        let len = h.len();
        let mut i = len;
        while i > 0 && len - i < 4 {
            let s = h[i - 1].0;
            if s == step {
                return Ok(i - 1);
            }
            if s < step {
                return Err(i);
            }
            i -= 1;
        }
        h[..i].binary_search_by_key(&step, |&(s, _, _)| s)
    }

    /// The level holding the record of `step`, if `step` was recorded and not yet reversed.
    pub fn record_of(&self, step: u64) -> Option<Level> {
        match self.find(step) {
            Ok(i) if self.held[i].2 => Some(self.held[i].1),
            _ => None,
        }
    }

    /// Hold `(step, level, record)` in a free unit of `level`.
    #[inline]
    fn hold(&mut self, step: u64, level: Level, record: bool) -> Result<(), Rule> {
        // Stores are mostly of steps past every live checkpoint: append.
        let slot = match self.held.last() {
            Some(&(top, _, _)) if top >= step => match self.find(step) {
                Ok(i) => {
                    return Err(Rule::DuplicateCheckpoint {
                        step,
                        existing: self.held[i].1,
                    });
                }
                Err(slot) => slot,
            },
            _ => self.held.len(),
        };
        let i = level.index();
        let capacity = self.capacity.at(level);
        if self.live[i] >= capacity {
            return Err(Rule::LevelFull { level, capacity });
        }
        self.held.insert(slot, (step, level, record));
        self.live[i] += 1;
        self.stats.peak[i] = self.stats.peak[i].max(self.live[i]);
        Ok(())
    }

    /// Execute one action.
    #[inline]
    pub fn execute(&mut self, action: Action) -> Result<(), Rule> {
        let next = match self.next {
            Some(k) => k,
            None => return self.after_end(action),
        };
        match action {
            Action::Advance { from, to } => {
                if self.current != Some(from) {
                    return Err(self.not_at(from));
                }
                if to <= from {
                    return Err(Rule::EmptyAdvance { from, to });
                }
                if to > next {
                    return Err(Rule::PastReversal { to, limit: next });
                }
                self.current = Some(to);
                self.stats.advanced += to - from;
                self.stats.forward += to - from;
            }
            Action::Store { step, level } => {
                if self.current != Some(step) {
                    return Err(self.not_at(step));
                }
                self.hold(step, level, false)?;
                self.stats.stores[level.index()] += 1;
            }
            Action::Record { step, level } => {
                if self.current != Some(step) {
                    return Err(self.not_at(step));
                }
                if step >= next {
                    return Err(Rule::PastReversal {
                        to: step.saturating_add(1),
                        limit: next,
                    });
                }
                self.hold(step, level, true)?;
                self.current = Some(step + 1);
                self.stats.records[level.index()] += 1;
                self.stats.forward += 1;
            }
            Action::Restore { step, level } => {
                match self.find(step) {
                    Ok(i) if self.held[i].1 == level && self.held[i].2 => {
                        return Err(Rule::RecordNotState { step, level });
                    }
                    Ok(i) if self.held[i].1 == level => {}
                    _ => return Err(Rule::MissingCheckpoint { step, level }),
                }
                if step > next {
                    return Err(Rule::PastReversal {
                        to: step,
                        limit: next,
                    });
                }
                self.current = Some(step);
                self.stats.restores[level.index()] += 1;
            }
            Action::Free { step, level } => self.free(step, level)?,
            Action::Reverse { step } => {
                if step != next {
                    return Err(Rule::ReverseOrder {
                        step,
                        expected: next,
                    });
                }
                match self.find(step) {
                    Ok(i) if self.held[i].2 => {
                        // A recorded step: its data replaces the state and the forward step.
                        let (_, level, _) = self.held.remove(i);
                        self.live[level.index()] -= 1;
                    }
                    _ => {
                        if self.current != Some(step) {
                            return Err(self.not_at(step));
                        }
                        self.stats.forward += 1;
                    }
                }
                self.current = None;
                self.next = step.checked_sub(1);
                self.stats.reverse += 1;
            }
        }
        self.stats.actions += 1;
        Ok(())
    }

    /// An action once every step is reversed (or with no step at all): only `free`.
    #[cold]
    fn after_end(&mut self, action: Action) -> Result<(), Rule> {
        if self.steps == 0 {
            return Err(Rule::NoSteps);
        }
        match action {
            Action::Free { step, level } => {
                self.free(step, level)?;
                self.stats.actions += 1;
                Ok(())
            }
            _ => Err(Rule::AfterEnd),
        }
    }

    #[inline]
    fn free(&mut self, step: u64, level: Level) -> Result<(), Rule> {
        let i = match self.find(step) {
            Ok(i) if self.held[i].1 == level => i,
            _ => return Err(Rule::MissingCheckpoint { step, level }),
        };
        self.held.remove(i);
        self.live[level.index()] -= 1;
        self.stats.frees[level.index()] += 1;
        Ok(())
    }

    /// The rule broken by an action that needs the current state at `step`.
    #[cold]
    fn not_at(&self, step: u64) -> Rule {
        match self.current {
            None => Rule::NoCurrentState,
            Some(current) => Rule::WrongStep { step, current },
        }
    }

    /// Check the end-of-sequence rules and return the counts.
    pub fn finish(self) -> Result<Stats, Rule> {
        self.check_end()?;
        Ok(self.stats)
    }

    /// The end-of-sequence rules (every step reversed, no checkpoint left), without consuming
    /// the machine.
    pub fn check_end(&self) -> Result<(), Rule> {
        if self.steps == 0 {
            return Err(Rule::NoSteps);
        }
        if let Some(next) = self.next {
            return Err(Rule::Unfinished { next });
        }
        if !self.held.is_empty() {
            return Err(Rule::Leftover {
                count: self.held.len() as u64,
            });
        }
        Ok(())
    }
}

/// Execute `actions` for a reversal of `steps` steps with `capacity` slots per level; return the
/// counts or the first broken rule.
///
/// ```
/// use revolve::{validate, Action, Capacity, Level};
/// let plan = ["store 0 ram", "advance 0 1", "reverse 1", "restore 0 ram", "free 0 ram", "reverse 0"];
/// let actions = plan.iter().map(|l| l.parse::<Action>().unwrap());
/// let stats = validate(2, Capacity::ram(1), actions).unwrap();
/// assert_eq!((stats.forward, stats.reverse, stats.peak[0]), (3, 2, 1));
/// ```
pub fn validate<I>(steps: u64, capacity: Capacity, actions: I) -> Result<Stats, Violation>
where
    I: IntoIterator<Item = Action>,
{
    let mut m = Machine::new(steps, capacity);
    for action in actions {
        if let Err(rule) = m.execute(action) {
            // Actions executed so far = the index of this one.
            return Err(Violation {
                index: m.stats.actions,
                action: Some(action),
                rule,
            });
        }
    }
    let index = m.stats.actions;
    m.finish().map_err(|rule| Violation {
        index,
        action: None,
        rule,
    })
}

/// Store every step, then reverse with `restore K; free K; reverse K` (a plan for tests).
#[cfg(test)]
pub(crate) fn store_all_plan(n: u64) -> Vec<Action> {
    let mut plan = Vec::new();
    for k in 0..n {
        plan.push(Action::Store {
            step: k,
            level: Level::Ram,
        });
        if k + 1 < n {
            plan.push(Action::Advance { from: k, to: k + 1 });
        }
    }
    for k in (0..n).rev() {
        if k + 1 < n {
            plan.push(Action::Restore {
                step: k,
                level: Level::Ram,
            });
        }
        plan.push(Action::Free {
            step: k,
            level: Level::Ram,
        });
        plan.push(Action::Reverse { step: k });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(steps: u64, cap: Capacity, text: &str) -> Result<Stats, Violation> {
        validate(
            steps,
            cap,
            text.split(',').map(|l| l.trim().parse::<Action>().unwrap()),
        )
    }

    const CPP_10_3: &str = "store 0 ram, advance 0 4, store 4 ram, advance 4 7, store 7 ram, advance 7 9, \
        reverse 9, restore 7 ram, advance 7 8, reverse 8, restore 7 ram, reverse 7, free 7 ram, \
        restore 4 ram, advance 4 5, store 5 ram, advance 5 6, reverse 6, restore 5 ram, reverse 5, \
        free 5 ram, restore 4 ram, reverse 4, free 4 ram, restore 0 ram, advance 0 1, store 1 ram, \
        advance 1 2, store 2 ram, advance 2 3, reverse 3, restore 2 ram, reverse 2, free 2 ram, \
        restore 1 ram, reverse 1, free 1 ram, restore 0 ram, reverse 0, free 0 ram";

    #[test]
    fn cpp_reference_trace_is_valid_and_optimal() {
        let s = run(10, Capacity::ram(3), CPP_10_3).unwrap();
        assert_eq!(s.forward, 25);
        assert_eq!(s.reverse, 10);
        assert_eq!(s.stores[0], 6);
        assert_eq!(s.restores[0], 9);
        assert_eq!(s.peak, [3, 0]);
        // Two slots are not enough for it.
        let v = run(10, Capacity::ram(2), CPP_10_3).unwrap_err();
        assert_eq!(v.index, 4);
        assert!(matches!(v.rule, Rule::LevelFull { .. }));
    }

    #[test]
    fn each_rule_is_enforced() {
        let c = Capacity::ram(2);
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, u64, fn(&Rule) -> bool)] = &[
            ("advance 1 2", 0, |r| matches!(r, Rule::WrongStep { .. })),
            ("advance 0 0", 0, |r| matches!(r, Rule::EmptyAdvance { .. })),
            ("advance 0 4", 0, |r| matches!(r, Rule::PastReversal { .. })),
            ("reverse 1", 0, |r| matches!(r, Rule::ReverseOrder { .. })),
            ("reverse 2", 0, |r| matches!(r, Rule::WrongStep { .. })),
            ("advance 0 2, reverse 2, advance 2 3", 2, |r| {
                matches!(r, Rule::NoCurrentState)
            }),
            ("restore 0 ram", 0, |r| {
                matches!(r, Rule::MissingCheckpoint { .. })
            }),
            ("store 0 ram, free 0 disk", 1, |r| {
                matches!(r, Rule::MissingCheckpoint { .. })
            }),
            ("store 0 ram, store 0 disk", 1, |r| {
                matches!(r, Rule::DuplicateCheckpoint { .. })
            }),
            ("store 1 ram", 0, |r| matches!(r, Rule::WrongStep { .. })),
            ("store 0 disk", 0, |r| matches!(r, Rule::LevelFull { .. })),
            (
                "store 0 ram, advance 0 1, store 1 ram, advance 1 2, store 2 ram",
                4,
                |r| matches!(r, Rule::LevelFull { .. }),
            ),
            (
                "advance 0 2, store 2 ram, reverse 2, restore 2 ram",
                3,
                |r| matches!(r, Rule::PastReversal { .. }),
            ),
            ("store 0 ram, advance 0 2", 2, |r| {
                matches!(r, Rule::Unfinished { next: 2 })
            }),
            (
                "store 0 ram, advance 0 2, reverse 2, restore 0 ram, advance 0 1, reverse 1, restore 0 ram, reverse 0",
                8,
                |r| matches!(r, Rule::Leftover { count: 1 }),
            ),
            (
                "store 0 ram, advance 0 2, reverse 2, restore 0 ram, advance 0 1, reverse 1, restore 0 ram, reverse 0, free 0 ram, reverse 0",
                9,
                |r| matches!(r, Rule::AfterEnd),
            ),
        ];
        for (text, index, pred) in cases {
            let v = run(3, c, text).unwrap_err();
            assert!(pred(&v.rule), "{text}: got {v}");
            assert_eq!(v.index, *index, "{text}: got {v}");
        }
        assert!(matches!(
            run(0, c, "reverse 0").unwrap_err().rule,
            Rule::NoSteps
        ));
    }

    #[test]
    fn store_all_is_valid() {
        let n = 50u64;
        let plan = store_all_plan(n);
        // The free before a reverse leaves the current state intact.
        let s = validate(n, Capacity::ram(n), plan).unwrap();
        assert_eq!(s.forward, 2 * n - 1);
        assert_eq!(s.peak[0], n);
        assert!(
            s.summary_line(n)
                .starts_with("# steps=50 snaps=50 forward=99 reverse=50")
        );
    }
}
