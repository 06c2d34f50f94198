//! Schedules: pure planners that emit [`Action`]s and do no I/O.
//!
//! Every schedule implements [`Schedule`]: an iterator of actions that also says how many steps
//! it reverses and how many checkpoint slots it may use per level, so a
//! [`Revolver`](crate::Revolver) or the [`validate()`](crate::validate()) machine needs nothing
//! else. [`Custom`] gives a hand-written action sequence the same shape.

use crate::{Action, Capacity};

pub mod binomial;
pub mod cost_aware;
pub mod mixed;
pub mod multistage;
pub mod online;
pub mod periodic;
mod split_run;
pub mod two_level;

/// A checkpointing schedule: the actions of one reversal of [`Schedule::steps`] steps, never
/// holding more than [`Schedule::capacity`] checkpoints per level.
///
/// ```
/// use revolve::{Binomial, Schedule, validate};
/// let s = Binomial::new(10, 3).unwrap();
/// let (steps, capacity) = (Schedule::steps(&s), s.capacity());
/// assert_eq!(validate(steps, capacity, s).unwrap().forward, 25);
/// ```
pub trait Schedule: Iterator<Item = Action> {
    /// Steps reversed (`n >= 1` for every schedule a constructor accepts).
    fn steps(&self) -> u64;

    /// Most checkpoints the schedule holds at once, per level (the slot of step 0 counts).
    fn capacity(&self) -> Capacity;
}

/// A hand-written (or recorded) action sequence with the step count and slots it is meant for.
///
/// ```
/// use revolve::schedule::Custom;
/// use revolve::{Action, Capacity, Schedule};
/// let text = ["store 0 ram", "advance 0 1", "reverse 1", "restore 0 ram", "free 0 ram", "reverse 0"];
/// let plan = Custom::new(2, Capacity::ram(1), text.map(|a| a.parse::<Action>().unwrap()));
/// assert_eq!((plan.steps(), plan.count()), (2, 6));
/// ```
#[derive(Clone, Debug)]
pub struct Custom<I> {
    steps: u64,
    capacity: Capacity,
    actions: I,
}

impl<I: Iterator<Item = Action>> Custom<I> {
    /// `actions`, a reversal of `steps` steps within `capacity` (checked when run, not here).
    pub fn new(steps: u64, capacity: Capacity, actions: impl IntoIterator<IntoIter = I>) -> Self {
        Custom {
            steps,
            capacity,
            actions: actions.into_iter(),
        }
    }
}

impl<I: Iterator<Item = Action>> Iterator for Custom<I> {
    type Item = Action;

    #[inline]
    fn next(&mut self) -> Option<Action> {
        self.actions.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.actions.size_hint()
    }
}

impl<T: Schedule + ?Sized> Schedule for Box<T> {
    fn steps(&self) -> u64 {
        (**self).steps()
    }

    fn capacity(&self) -> Capacity {
        (**self).capacity()
    }
}

impl<I: Iterator<Item = Action>> Schedule for Custom<I> {
    fn steps(&self) -> u64 {
        self.steps
    }

    fn capacity(&self) -> Capacity {
        self.capacity
    }
}
