//! The lazy driver shared by schedules made of nested splits with a level per checkpoint
//! ([`Multistage`](super::multistage::Multistage), [`CostAware`](super::cost_aware::CostAware)):
//! a stack of live checkpoints, free slots per level, the next step to reverse and at most two
//! queued actions. A [`SplitPolicy`] makes the decisions; the driver emits the actions.

use crate::{Action, Level};

/// The checkpoint on top of the stack when a policy is asked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Top {
    /// Its step.
    pub step: u64,
    /// Its level.
    pub level: Level,
    /// Free slots per level.
    pub free: [u64; 2],
    /// Live checkpoints, this one included.
    pub held: u64,
}

/// The decisions of a split schedule.
pub(crate) trait SplitPolicy {
    /// The step `m`, `top.step < m < b`, to advance to before reversing `[top.step, b)`.
    fn split(&self, top: Top, b: u64) -> u64;
    /// Level of the checkpoint stored at `m` (asked only when `b - m > 1`).
    fn level(&self, top: Top, b: u64, m: u64) -> Level;
    /// Whether the checkpoint `top` just restored, with `len` steps above it still to reverse,
    /// moves to the other level (`free K L; store K other`).
    fn moves(&self, top: Top, len: u64) -> bool;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Start,
    Descend,
    Ascend,
    Done,
}

/// The lazy state of a split schedule.
#[derive(Clone, Debug)]
pub(crate) struct SplitRun {
    phase: Phase,
    steps: u64,
    level0: Level,
    stack: Vec<(u64, Level)>,
    free: [u64; 2],
    /// Next step to reverse (valid while `phase != Done`).
    next: u64,
    queue: [Option<Action>; 2],
}

const fn other(level: Level) -> Level {
    match level {
        Level::Ram => Level::Disk,
        Level::Disk => Level::Ram,
    }
}

impl SplitRun {
    /// A run over `steps >= 1` steps with `free` slots per level, step 0 stored at `level0`.
    pub(crate) fn new(steps: u64, free: [u64; 2], level0: Level, stack_capacity: u64) -> Self {
        SplitRun {
            phase: Phase::Start,
            steps,
            level0,
            stack: Vec::with_capacity(usize::try_from(stack_capacity).unwrap_or(0)),
            free,
            next: steps - 1,
            queue: [None, None],
        }
    }

    /// Level of the checkpoint of step 0.
    pub(crate) fn level0(&self) -> Level {
        self.level0
    }

    fn push(&mut self, step: u64, level: Level) {
        self.stack.push((step, level));
        self.free[level.index()] -= 1;
    }

    fn pop(&mut self, level: Level) {
        self.stack.pop();
        self.free[level.index()] += 1;
    }

    fn top(&self, step: u64, level: Level) -> Top {
        Top {
            step,
            level,
            free: self.free,
            held: self.stack.len() as u64,
        }
    }

    /// The next action under `policy`.
    pub(crate) fn next_action(&mut self, policy: &impl SplitPolicy) -> Option<Action> {
        if let Some(a) = self.queue[0].take() {
            self.queue[0] = self.queue[1].take();
            return Some(a);
        }
        match self.phase {
            Phase::Done => None,
            Phase::Start => {
                if self.steps == 1 {
                    self.phase = Phase::Done;
                    return Some(Action::Reverse { step: 0 });
                }
                self.push(0, self.level0);
                self.phase = Phase::Descend;
                Some(Action::Store {
                    step: 0,
                    level: self.level0,
                })
            }
            Phase::Descend => {
                let (a, la) = *self.stack.last()?;
                let b = self.next + 1;
                let top = self.top(a, la);
                let m = policy.split(top, b);
                if b - m > 1 {
                    let level = policy.level(top, b, m);
                    self.push(m, level);
                    self.queue[0] = Some(Action::Store { step: m, level });
                } else {
                    self.queue[0] = Some(Action::Reverse { step: m });
                    self.next = m - 1;
                    self.phase = Phase::Ascend;
                }
                Some(Action::Advance { from: a, to: m })
            }
            Phase::Ascend => {
                let Some(&(a, level)) = self.stack.last() else {
                    self.phase = Phase::Done;
                    return None;
                };
                if self.next == a {
                    // Last restore of `a`: free right after it, then reverse.
                    self.pop(level);
                    self.queue = [
                        Some(Action::Free { step: a, level }),
                        Some(Action::Reverse { step: a }),
                    ];
                    match a.checked_sub(1) {
                        Some(k) => self.next = k,
                        None => self.phase = Phase::Done,
                    }
                } else {
                    let len = self.next + 1 - a;
                    if policy.moves(self.top(a, level), len) {
                        let to = other(level);
                        self.pop(level);
                        self.push(a, to);
                        self.queue = [
                            Some(Action::Free { step: a, level }),
                            Some(Action::Store { step: a, level: to }),
                        ];
                    }
                    self.phase = Phase::Descend;
                }
                Some(Action::Restore { step: a, level })
            }
        }
    }
}
