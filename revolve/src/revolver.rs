//! The [`Revolver`]: drives a user's forward and reverse operators through a schedule, keeping
//! checkpoints in one [`CheckpointStore`] per level.
//!
//! Copies are avoided wherever the schedule allows. A `restore` is lazy: the checkpoint stays
//! where it is until the next action needs it. `restore K; free K` hands the checkpoint's buffer
//! over ([`CheckpointStore::take`]); `restore K; reverse K` passes the checkpoint's read-only view
//! to the reverse operator; `restore K; advance` runs the forward operator out of place from the
//! view when the operator supports it ([`ForwardOperator::out_of_place`]), else copies. A RAM
//! `store` hands the state's buffer in when the operator runs out of place (the next advance reads
//! the checkpoint's view); otherwise it copies.
//!
//! Every action is checked against the validator's rules as it runs (a broken rule is
//! [`Error::BadSchedule`]). The Revolver looks [`LOOKAHEAD`] actions ahead: after each restore
//! it tells that level's store which checkpoint comes next ([`CheckpointStore::prefetch`]).
//! `apply_forward` runs one forward step more than the schedule's advances (`n - 1 -> n`, so the
//! caller can evaluate the objective at `u_n`) and keeps `u_{n-1}` for the first reverse.
//!
//! ```
//! use revolve::{Action, Capacity, Custom, Revolver, RamStore};
//! use std::convert::Infallible;
//! // u_{k+1} = 2 u_k, J = u_n, so dJ/du_0 = 2^n.
//! let n = 3u64;
//! let plan = "store 0 ram, advance 0 2, reverse 2, restore 0 ram, advance 0 1, reverse 1, \
//!             restore 0 ram, free 0 ram, reverse 0";
//! let plan = plan.split(", ").map(|a| a.parse::<Action>().unwrap());
//! let plan = Custom::new(n, Capacity::ram(1), plan); // n steps, one RAM slot
//! let fwd = |u: &mut Vec<f64>, from: u64, to: u64| -> Result<(), Infallible> {
//!     for _ in from..to { u[0] *= 2.0; }
//!     Ok(())
//! };
//! let rev = |_u: &Vec<f64>, lam: &mut Vec<f64>, _k: u64| -> Result<(), Infallible> {
//!     lam[0] *= 2.0;
//!     Ok(())
//! };
//! let mut u = vec![1.0];
//! let mut rv = Revolver::new(plan, fwd, rev, RamStore::new(1, &u)).unwrap();
//! rv.apply_forward(&mut u).unwrap();
//! assert_eq!(u, [8.0]); // the state at step n
//! let mut lam = vec![1.0]; // dJ/du_n
//! rv.apply_reverse(&mut lam).unwrap();
//! assert_eq!(lam, [8.0]);
//! let st = rv.stats();
//! assert_eq!((st.schedule.forward, st.schedule.reverse, st.schedule.restores[0]), (6, 3, 2));
//! assert_eq!((st.forward_steps, st.handovers, st.views), (4, 1, 0));
//! ```

use crate::storage::ram::RamStore;
use crate::{
    Action, Capacity, CheckpointStore, Error, Level, Machine, NoDisk, Rule, Schedule, State, Stats,
};
use std::collections::VecDeque;

/// A user operator's error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Advances a state in place over one or more steps.
///
/// Implemented for closures `FnMut(&mut S, from, to) -> Result<(), E>`.
pub trait ForwardOperator<S: State> {
    /// The operator's error.
    type Error: Into<BoxError>;

    /// Advance `state` from step `from` to step `to > from`.
    fn advance(&mut self, state: &mut S, from: u64, to: u64) -> Result<(), Self::Error>;

    /// `true` if [`ForwardOperator::advance_from`] computes out of place without first copying
    /// `src` into `dst` (the Revolver then advances straight from a checkpoint's view).
    fn out_of_place(&self) -> bool {
        false
    }

    /// Set `dst` to the state at `to`, starting from `src` at `from`. The default copies `src`
    /// into `dst` and advances in place.
    fn advance_from(
        &mut self,
        src: &S,
        dst: &mut S,
        from: u64,
        to: u64,
    ) -> Result<(), Self::Error> {
        dst.copy_from(src);
        self.advance(dst, from, to)
    }

    /// Run the recorded step `step -> step + 1` on `state` (a `record` action of the
    /// [`Mixed`](crate::Mixed) schedule), writing into `record` (a buffer shaped like a state)
    /// what the reverse of this step needs. The Revolver keeps `record` in a checkpoint unit and
    /// later hands it to [`ReverseOperator::reverse_recorded`].
    ///
    /// The default keeps the state at `step` (what [`ReverseOperator::reverse`] reads), then
    /// advances: by a buffer swap and [`ForwardOperator::advance_from`] when the operator runs
    /// out of place, else by a copy. Override it, with [`ReverseOperator::reverse_recorded`],
    /// to keep the step's linearisation instead, so the reverse of a recorded step runs no
    /// forward step.
    fn record(&mut self, state: &mut S, record: &mut S, step: u64) -> Result<(), Self::Error> {
        if self.out_of_place() {
            std::mem::swap(state, record);
            self.advance_from(record, state, step, step + 1)
        } else {
            record.copy_from(state);
            self.advance(state, step, step + 1)
        }
    }
}

/// Reverses one step: given the forward state at step `k` (read-only), moves the adjoint from
/// step `k + 1` to step `k` in place.
///
/// Implemented for closures `FnMut(&S, &mut A, k) -> Result<(), E>`.
pub trait ReverseOperator<S, A: ?Sized> {
    /// The operator's error.
    type Error: Into<BoxError>;

    /// Reverse step `step` (`u_step -> u_{step+1}`), updating `adjoint` in place.
    fn reverse(&mut self, state: &S, adjoint: &mut A, step: u64) -> Result<(), Self::Error>;

    /// Reverse the recorded step `step` from the data [`ForwardOperator::record`] kept. The
    /// default calls [`ReverseOperator::reverse`] with it, which is right for the default
    /// `record` (it keeps the state at `step`).
    ///
    /// ```
    /// use revolve::{ForwardOperator, Mixed, ReverseOperator, Revolver};
    /// use std::convert::Infallible;
    /// // u_{k+1} = u_k^2: a recorded step keeps its derivative 2 u_k, so its reverse needs no
    /// // forward step; the others get u_k and differentiate it themselves.
    /// struct Square;
    /// impl ForwardOperator<[f64; 1]> for Square {
    ///     type Error = Infallible;
    ///     fn advance(&mut self, u: &mut [f64; 1], from: u64, to: u64) -> Result<(), Infallible> {
    ///         for _ in from..to { u[0] *= u[0]; }
    ///         Ok(())
    ///     }
    ///     fn record(&mut self, u: &mut [f64; 1], rec: &mut [f64; 1], _k: u64) -> Result<(), Infallible> {
    ///         rec[0] = 2.0 * u[0];
    ///         u[0] *= u[0];
    ///         Ok(())
    ///     }
    /// }
    /// struct Adjoint;
    /// impl ReverseOperator<[f64; 1], f64> for Adjoint {
    ///     type Error = Infallible;
    ///     fn reverse(&mut self, u: &[f64; 1], lam: &mut f64, _k: u64) -> Result<(), Infallible> {
    ///         *lam *= 2.0 * u[0];
    ///         Ok(())
    ///     }
    ///     fn reverse_recorded(&mut self, rec: &[f64; 1], lam: &mut f64, _k: u64) -> Result<(), Infallible> {
    ///         *lam *= rec[0];
    ///         Ok(())
    ///     }
    /// }
    /// let mut rv = Revolver::for_schedule(Mixed::new(6, 2)?, Square, Adjoint, &[0.0])?;
    /// let (mut u, mut lam) = ([1.1], 1.0);
    /// rv.apply_forward(&mut u)?;
    /// rv.apply_reverse(&mut lam)?;
    /// // u_6 = u_0^64, d u_6 / d u_0 = 64 u_0^63.
    /// assert!((u[0] - 1.1f64.powi(64)).abs() < 1e-9 * u[0]);
    /// assert!((lam - 64.0 * 1.1f64.powi(63)).abs() < 1e-9 * lam);
    /// assert_eq!(rv.stats().schedule.forward, Mixed::optimal_forward(6, 2)?);
    /// # Ok::<(), revolve::Error>(())
    /// ```
    fn reverse_recorded(
        &mut self,
        record: &S,
        adjoint: &mut A,
        step: u64,
    ) -> Result<(), Self::Error> {
        self.reverse(record, adjoint, step)
    }
}

impl<S, F, E> ForwardOperator<S> for F
where
    S: State,
    F: FnMut(&mut S, u64, u64) -> Result<(), E>,
    E: Into<BoxError>,
{
    type Error = E;
    fn advance(&mut self, state: &mut S, from: u64, to: u64) -> Result<(), E> {
        self(state, from, to)
    }
}

impl<S, A, F, E> ReverseOperator<S, A> for F
where
    A: ?Sized,
    F: FnMut(&S, &mut A, u64) -> Result<(), E>,
    E: Into<BoxError>,
{
    type Error = E;
    fn reverse(&mut self, state: &S, adjoint: &mut A, step: u64) -> Result<(), E> {
        self(state, adjoint, step)
    }
}

/// Counts of a run. `schedule` holds the same counts as [`crate::validate()`] gives for the
/// schedule; the rest says what the Revolver did to execute it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevolverStats {
    /// The schedule's counts (forward counts the `n` taped steps of the reverses, as `validate`).
    pub schedule: Stats,
    /// Steps run by the forward operator: the schedule's advances and records plus one, the
    /// step `n - 1 -> n` that gives the caller the final state (the schedule stops at `n - 1`).
    pub forward_steps: u64,
    /// Calls of the reverse operator (`n`; recorded steps call
    /// [`ReverseOperator::reverse_recorded`]).
    pub reverse_steps: u64,
    /// Full state copies: stores and restores that had to copy, and the copy of `u_{n-1}` kept
    /// at the end of the forward sweep (no copy there with an out-of-place forward operator).
    pub copies: u64,
    /// Restores done by buffer hand-over (`restore K; free K`).
    pub handovers: u64,
    /// RAM stores done by buffer hand-over (with an out-of-place forward operator).
    pub handover_stores: u64,
    /// Reverses run straight from a checkpoint's read-only view (`restore K; reverse K`).
    pub views: u64,
    /// Advances run out of place from a checkpoint's view (after a restore or a hand-over store).
    pub out_of_place: u64,
    /// Prefetch hints given to stores.
    pub prefetches: u64,
}

/// How many actions the Revolver looks ahead (to find the next restore of a level).
pub const LOOKAHEAD: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Fresh,
    Forwarded,
    Done,
    Failed,
}

/// Where the current state lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cur {
    /// In the working buffer.
    Buffer,
    /// Still in the checkpoint of `step` at `level` (a lazy restore).
    Checkpoint(Level, u64),
    /// Consumed by a reverse.
    Consumed,
}

/// The two levels: a RAM store and a disk store ([`NoDisk`] when there is none).
struct Stores<S: State, D> {
    ram: RamStore<S>,
    disk: D,
}

impl<S: State, D: CheckpointStore<S>> Stores<S, D> {
    fn get(&mut self, level: Level) -> &mut dyn CheckpointStore<S> {
        match level {
            Level::Ram => &mut self.ram,
            Level::Disk => &mut self.disk,
        }
    }

    fn get_ref(&self, level: Level) -> &dyn CheckpointStore<S> {
        match level {
            Level::Ram => &self.ram,
            Level::Disk => &self.disk,
        }
    }
}

/// Drives a forward and a reverse operator through a checkpointing schedule.
///
/// The simplest start is [`Revolver::for_schedule`] (or [`Revolver::for_schedule_with_disk`]):
/// it sizes the RAM store from the schedule's [`Schedule::capacity`], so slots are stated once,
/// and a disk store too small for the schedule is [`Error::StoreTooSmall`] there, not mid-run.
/// After a full [`Revolver::apply_reverse`], [`Revolver::restart`] takes the next schedule of
/// the same type (the next gradient of an optimisation loop) and reuses every buffer.
///
/// ```
/// use revolve::{Binomial, Revolver};
/// use std::convert::Infallible;
/// let fwd = |u: &mut f64, from: u64, to: u64| -> Result<(), Infallible> {
///     for _ in from..to { *u *= 2.0; }
///     Ok(())
/// };
/// let rev = |_u: &f64, lam: &mut f64, _k: u64| -> Result<(), Infallible> {
///     *lam *= 2.0;
///     Ok(())
/// };
/// let mut rv = Revolver::for_schedule(Binomial::new(10, 3)?, fwd, rev, &1.0)?;
/// for u0 in [1.0, 3.0] {
///     let (mut u, mut lam) = (u0, 1.0);
///     rv.apply_forward(&mut u)?;
///     rv.apply_reverse(&mut lam)?;
///     assert_eq!((u, lam), (u0 * 1024.0, 1024.0));
///     rv.restart(Binomial::new(10, 3)?)?; // same slots: no new buffer
/// }
/// # Ok::<(), revolve::Error>(())
/// ```
///
/// Or build it from a [`Schedule`] (which knows its number of steps `n` and its slots), the two
/// operators and a RAM store ([`crate::storage::ram::RamStore`]); add a disk store (any
/// [`CheckpointStore`], kept with its type: [`Revolver::disk`], [`Revolver::into_stores`]) with
/// [`Revolver::with_disk`]. Then [`Revolver::apply_forward`] leaves the caller's state at step
/// `n` (to evaluate the objective and seed the adjoint) and [`Revolver::apply_reverse`] takes the
/// adjoint from step `n` back to step 0. The schedule is checked as it runs: a broken rule is
/// [`Error::BadSchedule`] (or [`Error::ScheduleEnded`] at its end), never a panic.
///
/// No action allocates. The buffer that keeps `u_{n-1}` is allocated at construction (a clone of
/// a RAM slot's buffer; at the end of the forward sweep if there is no RAM slot).
pub struct Revolver<S: State, F, R, P, D = NoDisk> {
    steps: u64,
    capacity: Capacity,
    actions: P,
    window: VecDeque<Action>,
    index: u64,
    forward: F,
    reverse: R,
    stores: Stores<S, D>,
    checker: Machine,
    cur: Cur,
    work: Option<S>,
    /// The buffer a recorded step is written into (allocated at the first `record`).
    spare: Option<S>,
    phase: Phase,
    stats: RevolverStats,
}

fn bad(index: u64, action: Action, rule: Rule) -> Error {
    Error::BadSchedule {
        index,
        action,
        rule,
    }
}

/// [`Error::StoreTooSmall`] unless stores of `ram` and `disk` slots hold what a schedule of
/// `steps` steps declares (at most one checkpoint per step).
fn check_fits(steps: u64, need: Capacity, ram: u64, disk: u64) -> Result<(), Error> {
    for (level, needed, available) in [
        (Level::Ram, need.ram.min(steps), ram),
        (Level::Disk, need.disk.min(steps), disk),
    ] {
        if needed > available {
            return Err(Error::StoreTooSmall {
                level,
                needed,
                available,
            });
        }
    }
    Ok(())
}

fn op_err(operator: &'static str, step: u64) -> impl FnOnce(BoxError) -> Error {
    move |source| Error::Operator {
        operator,
        step,
        source,
    }
}

impl<S, F, R, P> Revolver<S, F, R, P, NoDisk>
where
    S: State,
    F: ForwardOperator<S>,
    P: Schedule,
{
    /// A Revolver following `schedule` (its [`Schedule::steps`] steps), with `ram` as the RAM
    /// level and no disk level.
    ///
    /// Errors: [`Error::ZeroSteps`] for a schedule of no step.
    pub fn new(schedule: P, forward: F, reverse: R, ram: RamStore<S>) -> Result<Self, Error> {
        let steps = schedule.steps();
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        let capacity = schedule.capacity();
        let mut rv = Revolver {
            steps,
            capacity,
            actions: schedule,
            window: VecDeque::with_capacity(LOOKAHEAD),
            index: 0,
            forward,
            reverse,
            // The buffer for u_{n-1}, allocated now rather than during the run.
            work: ram.spare_buffer(),
            stores: Stores { ram, disk: NoDisk },
            checker: Machine::new(steps, Capacity::default()),
            cur: Cur::Buffer,
            spare: None,
            phase: Phase::Fresh,
            stats: RevolverStats::default(),
        };
        rv.reset_checker();
        Ok(rv)
    }
}

impl<S, F, R, P> Revolver<S, F, R, P, NoDisk>
where
    S: State,
    F: ForwardOperator<S>,
    P: Schedule,
{
    /// A Revolver following `schedule` with a RAM store sized from the schedule's
    /// [`Capacity::ram`] (at most one slot per step), each slot shaped like `state`; no disk.
    ///
    /// Errors: [`Error::ZeroSteps`]; [`Error::StoreTooSmall`] if the schedule declares disk
    /// slots (use [`Revolver::for_schedule_with_disk`]); [`Error::Overflow`] if the RAM slots
    /// do not fit in memory addresses.
    pub fn for_schedule(schedule: P, forward: F, reverse: R, state: &S) -> Result<Self, Error> {
        Self::for_schedule_with_disk(schedule, forward, reverse, state, NoDisk)
    }
}

impl<S, F, R, P, D> Revolver<S, F, R, P, D>
where
    S: State,
    F: ForwardOperator<S>,
    P: Schedule,
    D: CheckpointStore<S>,
{
    /// As [`Revolver::for_schedule`], with `disk` as the disk level; `disk` must hold the
    /// schedule's [`Capacity::disk`] slots (at most one per step), else
    /// [`Error::StoreTooSmall`].
    pub fn for_schedule_with_disk(
        schedule: P,
        forward: F,
        reverse: R,
        state: &S,
        disk: D,
    ) -> Result<Self, Error> {
        let steps = schedule.steps();
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        check_fits(steps, schedule.capacity(), u64::MAX, disk.capacity())?;
        let slots =
            usize::try_from(schedule.capacity().ram.min(steps)).map_err(|_| Error::Overflow {
                what: "RAM slots of the schedule",
            })?;
        let ram = RamStore::new(slots, state);
        Ok(Revolver::new(schedule, forward, reverse, ram)?.with_disk(disk))
    }

    /// Start over with `schedule` (the next gradient: a new initial state goes to the next
    /// [`Revolver::apply_forward`]), keeping the stores, their buffers and the spare buffer, and
    /// clearing the [`stats`](Revolver::stats). Allowed before the first
    /// `apply_forward` and after a successful [`Revolver::apply_reverse`] (the stores are then
    /// empty).
    ///
    /// Errors: [`Error::Usage`] in the middle of a reversal or after a failure (the stores may
    /// hold checkpoints: build a new Revolver); [`Error::ZeroSteps`]; [`Error::StoreTooSmall`]
    /// if a store has fewer slots than `schedule` declares (at most one per step counts). On
    /// error the Revolver is unchanged.
    pub fn restart(&mut self, schedule: P) -> Result<(), Error> {
        match self.phase {
            Phase::Fresh | Phase::Done => {}
            Phase::Forwarded => {
                return Err(Error::Usage(
                    "restart in the middle of a reversal (after apply_forward)",
                ));
            }
            Phase::Failed => return Err(Error::Usage("restart after a failed call")),
        }
        let steps = schedule.steps();
        if steps == 0 {
            return Err(Error::ZeroSteps);
        }
        let capacity = schedule.capacity();
        check_fits(
            steps,
            capacity,
            self.stores.ram.capacity(),
            self.stores.disk.capacity(),
        )?;
        self.steps = steps;
        self.capacity = capacity;
        self.actions = schedule;
        self.window.clear();
        self.index = 0;
        self.cur = Cur::Buffer;
        self.phase = Phase::Fresh;
        self.stats = RevolverStats::default();
        self.reset_checker();
        Ok(())
    }

    /// Use `disk` (any [`CheckpointStore`], a `Box<dyn CheckpointStore<S>>` too) as the disk
    /// level, replacing the one there was. Call before [`Revolver::apply_forward`].
    pub fn with_disk<D2: CheckpointStore<S>>(self, disk: D2) -> Revolver<S, F, R, P, D2> {
        let mut rv = Revolver {
            steps: self.steps,
            capacity: self.capacity,
            actions: self.actions,
            window: self.window,
            index: self.index,
            forward: self.forward,
            reverse: self.reverse,
            stores: Stores {
                ram: self.stores.ram,
                disk,
            },
            checker: self.checker,
            cur: self.cur,
            work: self.work,
            spare: self.spare,
            phase: self.phase,
            stats: self.stats,
        };
        rv.reset_checker();
        rv
    }

    /// The checker's slots: what the schedule declares, within what the stores hold.
    fn reset_checker(&mut self) {
        let capacity = Capacity {
            ram: self.capacity.ram.min(self.stores.ram.capacity()),
            disk: self.capacity.disk.min(self.stores.disk.capacity()),
        };
        self.checker.reset(self.steps, capacity);
    }

    /// Number of steps `n`.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Counts so far.
    pub fn stats(&self) -> RevolverStats {
        RevolverStats {
            schedule: *self.checker.stats(),
            ..self.stats
        }
    }

    /// The store of `level` ([`NoDisk`] at the disk level when there is no disk store).
    pub fn store(&self, level: Level) -> &dyn CheckpointStore<S> {
        self.stores.get_ref(level)
    }

    /// The RAM store.
    pub fn ram(&self) -> &RamStore<S> {
        &self.stores.ram
    }

    /// The disk store, with its type (e.g. a [`DiskStore`](crate::DiskStore) and its
    /// [`stats`](crate::DiskStore::stats)).
    pub fn disk(&self) -> &D {
        &self.stores.disk
    }

    /// The RAM and disk stores, back from the Revolver (e.g. to [`close`](crate::DiskStore::close)
    /// a disk store and see its errors).
    pub fn into_stores(self) -> (RamStore<S>, D) {
        (self.stores.ram, self.stores.disk)
    }

    /// The forward operator.
    pub fn forward_operator(&mut self) -> &mut F {
        &mut self.forward
    }

    /// The reverse operator.
    pub fn reverse_operator(&mut self) -> &mut R {
        &mut self.reverse
    }

    fn fill(&mut self) {
        while self.window.len() < LOOKAHEAD {
            match self.actions.next() {
                Some(a) => self.window.push_back(a),
                None => break,
            }
        }
    }

    fn peek(&mut self) -> Option<Action> {
        self.fill();
        self.window.front().copied()
    }

    fn pop(&mut self) -> Option<(u64, Action)> {
        self.fill();
        let a = self.window.pop_front()?;
        let i = self.index;
        self.index += 1;
        Some((i, a))
    }

    /// Tell `level`'s store which checkpoint comes next, if the window shows one.
    fn prefetch_next(&mut self, level: Level) -> Result<(), Error> {
        self.fill();
        let next = self.window.iter().find_map(|a| match *a {
            Action::Restore { step, level: l } if l == level => Some(step),
            _ => None,
        });
        if let Some(step) = next {
            self.stores.get(level).prefetch(step)?;
            self.stats.prefetches += 1;
        }
        Ok(())
    }

    /// Bring a lazily restored checkpoint into `buf`.
    fn materialize(&mut self, buf: &mut S) -> Result<(), Error> {
        if let Cur::Checkpoint(level, step) = self.cur {
            self.stores.get(level).restore(step, buf)?;
            self.stats.copies += 1;
            self.cur = Cur::Buffer;
        }
        Ok(())
    }

    /// Execute one action other than a reverse, with `buf` as the working buffer.
    fn exec(&mut self, index: u64, action: Action, buf: &mut S) -> Result<(), Error> {
        self.checker
            .execute(action)
            .map_err(|rule| bad(index, action, rule))?;
        match action {
            Action::Advance { from, to } => {
                match self.cur {
                    Cur::Checkpoint(level, step) => {
                        let store = self.stores.get(level);
                        let view = if self.forward.out_of_place() {
                            store.view(step)?
                        } else {
                            None
                        };
                        match view {
                            Some(src) => {
                                self.forward
                                    .advance_from(src, buf, from, to)
                                    .map_err(|e| op_err("forward", from)(e.into()))?;
                                self.stats.out_of_place += 1;
                            }
                            None => {
                                store.restore(step, buf)?;
                                self.stats.copies += 1;
                                self.forward
                                    .advance(buf, from, to)
                                    .map_err(|e| op_err("forward", from)(e.into()))?;
                            }
                        }
                    }
                    _ => self
                        .forward
                        .advance(buf, from, to)
                        .map_err(|e| op_err("forward", from)(e.into()))?,
                }
                self.cur = Cur::Buffer;
                self.stats.forward_steps += to - from;
            }
            Action::Store { step, level } => {
                self.materialize(buf)?;
                if level == Level::Ram && self.forward.out_of_place() {
                    // Hand the buffer in; the state now lives in the checkpoint, and the next
                    // advance runs out of place from its view.
                    self.stores.ram.store_swap(step, buf)?;
                    self.cur = Cur::Checkpoint(level, step);
                    self.stats.handover_stores += 1;
                } else {
                    self.stores.get(level).store(step, buf)?;
                    self.stats.copies += 1;
                }
            }
            Action::Restore { step, level } => {
                self.cur = Cur::Checkpoint(level, step);
                self.prefetch_next(level)?;
            }
            Action::Record { step, level } => {
                self.materialize(buf)?;
                // The one allocation of a mixed schedule's run, kept for the next gradients.
                let mut rec = self.spare.take().unwrap_or_else(|| buf.clone());
                let r = self
                    .forward
                    .record(buf, &mut rec, step)
                    .map_err(|e| op_err("forward", step)(e.into()));
                let r = r.and_then(|()| match level {
                    Level::Ram => self.stores.ram.store_swap(step, &mut rec),
                    Level::Disk => {
                        self.stats.copies += 1;
                        self.stores.disk.store(step, &rec)
                    }
                });
                self.spare = Some(rec);
                r?;
                self.cur = Cur::Buffer;
                self.stats.forward_steps += 1;
            }
            Action::Free { step, level } => {
                let store = self.stores.get(level);
                if self.cur == Cur::Checkpoint(level, step) {
                    store.take(step, buf)?;
                    self.stats.handovers += 1;
                    self.cur = Cur::Buffer;
                } else {
                    store.free(step)?;
                }
            }
            Action::Reverse { .. } => {
                return Err(Error::Usage(
                    "internal: reverse executed without an adjoint",
                ));
            }
        }
        Ok(())
    }

    fn failed<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if r.is_err() {
            self.phase = Phase::Failed;
        }
        r
    }

    /// Run the schedule up to its first reverse, then advance `state` one more step: on return
    /// `state` holds the state at step `n`. `u_{n-1}` is kept for the first reverse (by a buffer
    /// swap with an out-of-place forward operator, else by a copy). That last step is one
    /// forward step more than the schedule's advances: the schedule stops at `n - 1`.
    pub fn apply_forward(&mut self, state: &mut S) -> Result<(), Error> {
        match self.phase {
            Phase::Fresh => {}
            Phase::Failed => return Err(Error::Usage("a previous call of this Revolver failed")),
            _ => return Err(Error::Usage("apply_forward was already called")),
        }
        let r = self.forward_sweep(state);
        self.failed(r)
    }

    fn forward_sweep(&mut self, state: &mut S) -> Result<(), Error> {
        let (expected, found) = (self.stores.ram.state_bytes(), state.byte_len());
        if expected != found {
            return Err(Error::StateSize {
                expected: expected as u64,
                found: found as u64,
            });
        }
        loop {
            match self.peek() {
                None => {
                    let rule = self.checker.check_end().err().unwrap_or(Rule::NoSteps);
                    return Err(Error::ScheduleEnded {
                        index: self.index,
                        rule,
                    });
                }
                Some(Action::Reverse { .. }) => break,
                Some(_) => {
                    if let Some((i, a)) = self.pop() {
                        self.exec(i, a, state)?;
                    }
                }
            }
        }
        // The first reverse (of step n - 1): check it now, run it in `apply_reverse`.
        if let Some((i, a)) = self.pop() {
            self.checker.execute(a).map_err(|rule| bad(i, a, rule))?;
        }
        self.materialize(state)?;
        let last = self.steps - 1;
        match self.work.as_mut() {
            Some(work) if self.forward.out_of_place() => {
                // u_n into the spare buffer, then swap: the caller gets u_n, we keep u_{n-1}.
                self.forward
                    .advance_from(state, work, last, self.steps)
                    .map_err(|e| op_err("forward", last)(e.into()))?;
                std::mem::swap(state, work);
            }
            work => {
                match work {
                    Some(w) => w.copy_from(state),
                    None => self.work = Some(state.clone()),
                }
                self.stats.copies += 1;
                self.forward
                    .advance(state, last, self.steps)
                    .map_err(|e| op_err("forward", last)(e.into()))?;
            }
        }
        self.stats.forward_steps += 1;
        self.cur = Cur::Consumed;
        for level in Level::ALL {
            self.prefetch_next(level)?;
        }
        self.phase = Phase::Forwarded;
        Ok(())
    }

    /// Run the rest of the schedule, moving `adjoint` from step `n` (seeded by the caller) to
    /// step 0. Call after [`Revolver::apply_forward`].
    pub fn apply_reverse<A: ?Sized>(&mut self, adjoint: &mut A) -> Result<(), Error>
    where
        R: ReverseOperator<S, A>,
    {
        match self.phase {
            Phase::Forwarded => {}
            Phase::Fresh => return Err(Error::Usage("apply_reverse needs apply_forward first")),
            Phase::Done => return Err(Error::Usage("apply_reverse was already called")),
            Phase::Failed => return Err(Error::Usage("a previous call of this Revolver failed")),
        }
        let Some(mut work) = self.work.take() else {
            return Err(Error::Usage("internal: no buffer for u_{n-1}"));
        };
        let r = self.reverse_sweep(&mut work, adjoint);
        self.work = Some(work);
        let r = self.failed(r);
        if r.is_ok() {
            self.phase = Phase::Done;
        }
        r
    }

    fn reverse_sweep<A: ?Sized>(&mut self, work: &mut S, adjoint: &mut A) -> Result<(), Error>
    where
        R: ReverseOperator<S, A>,
    {
        let last = self.steps - 1;
        self.reverse
            .reverse(work, adjoint, last)
            .map_err(|e| op_err("reverse", last)(e.into()))?;
        self.stats.reverse_steps += 1;
        while let Some((i, a)) = self.pop() {
            let Action::Reverse { step } = a else {
                self.exec(i, a, work)?;
                continue;
            };
            let recorded = self.checker.record_of(step);
            self.checker.execute(a).map_err(|rule| bad(i, a, rule))?;
            if let Some(level) = recorded {
                self.reverse_recorded(level, step, work, adjoint)?;
                continue;
            }
            let view = match self.cur {
                Cur::Checkpoint(level, k) => self.stores.get(level).view(k)?,
                _ => None,
            };
            let res = match view {
                Some(v) => {
                    self.stats.views += 1;
                    self.reverse.reverse(v, adjoint, step)
                }
                None => {
                    if let Cur::Checkpoint(level, k) = self.cur {
                        self.stores.get(level).restore(k, work)?;
                        self.stats.copies += 1;
                    }
                    self.reverse.reverse(work, adjoint, step)
                }
            };
            res.map_err(|e| op_err("reverse", step)(e.into()))?;
            self.cur = Cur::Consumed;
            self.stats.reverse_steps += 1;
        }
        self.checker
            .check_end()
            .map_err(|rule| Error::ScheduleEnded {
                index: self.index,
                rule,
            })?;
        self.stores.ram.sync()?;
        self.stores.disk.sync()?;
        Ok(())
    }

    /// Reverse the recorded step `step` from its unit at `level`, then release the unit.
    fn reverse_recorded<A: ?Sized>(
        &mut self,
        level: Level,
        step: u64,
        work: &mut S,
        adjoint: &mut A,
    ) -> Result<(), Error>
    where
        R: ReverseOperator<S, A>,
    {
        let store = self.stores.get(level);
        let res = match store.view(step)? {
            Some(v) => {
                self.stats.views += 1;
                self.reverse.reverse_recorded(v, adjoint, step)
            }
            None => {
                store.restore(step, work)?;
                self.stats.copies += 1;
                self.reverse.reverse_recorded(work, adjoint, step)
            }
        };
        res.map_err(|e| op_err("reverse", step)(e.into()))?;
        self.stores.get(level).free(step)?;
        self.cur = Cur::Consumed;
        self.stats.reverse_steps += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ram::RamStore;
    use crate::{Custom, validate};
    use std::convert::Infallible;

    fn parse(text: &str) -> Vec<Action> {
        text.split(',').map(|l| l.trim().parse().unwrap()).collect()
    }

    /// Store every step, reverse with `restore K; free K; reverse K`.
    fn store_all(n: u64) -> Vec<Action> {
        crate::validate::store_all_plan(n)
    }

    /// One slot: recompute every step from step 0.
    fn one_slot(n: u64) -> Vec<Action> {
        let mut p = vec![Action::Store {
            step: 0,
            level: Level::Ram,
        }];
        for k in (0..n).rev() {
            if k + 1 < n {
                p.push(Action::Restore {
                    step: 0,
                    level: Level::Ram,
                });
            }
            if k == 0 {
                p.push(Action::Free {
                    step: 0,
                    level: Level::Ram,
                });
            } else {
                p.push(Action::Advance { from: 0, to: k });
            }
            p.push(Action::Reverse { step: k });
        }
        p
    }

    const CPP_10_3: &str = "store 0 ram, advance 0 4, store 4 ram, advance 4 7, store 7 ram, advance 7 9, \
        reverse 9, restore 7 ram, advance 7 8, reverse 8, restore 7 ram, reverse 7, free 7 ram, \
        restore 4 ram, advance 4 5, store 5 ram, advance 5 6, reverse 6, restore 5 ram, reverse 5, \
        free 5 ram, restore 4 ram, reverse 4, free 4 ram, restore 0 ram, advance 0 1, store 1 ram, \
        advance 1 2, store 2 ram, advance 2 3, reverse 3, restore 2 ram, reverse 2, free 2 ram, \
        restore 1 ram, reverse 1, free 1 ram, restore 0 ram, reverse 0, free 0 ram";

    /// A toy whose state records its step: u = [k, k^2 mod 7]; reverse checks it saw u_k and
    /// pushes k into the adjoint log.
    #[allow(clippy::ptr_arg)] // the signature of a closure over Vec<f64> states
    fn fwd(u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
        assert_eq!(u[0], from as f64);
        for _ in from..to {
            u[0] += 1.0;
            u[1] = (u[0] * u[0]) % 7.0;
        }
        Ok(())
    }

    #[allow(clippy::ptr_arg)]
    fn rev(u: &Vec<f64>, log: &mut Vec<u64>, k: u64) -> Result<(), String> {
        if u[0] != k as f64 || u[1] != ((k * k) % 7) as f64 {
            return Err(format!("reverse {k} got state {u:?}"));
        }
        log.push(k);
        Ok(())
    }

    type Fwd = fn(&mut Vec<f64>, u64, u64) -> Result<(), Infallible>;
    type Rev = fn(&Vec<f64>, &mut Vec<u64>, u64) -> Result<(), String>;

    fn run(n: u64, slots: usize, plan: Vec<Action>) -> Result<(RevolverStats, Vec<u64>), Error> {
        let mut u = vec![0.0, 0.0];
        let mut rv = Revolver::new(
            Custom::new(n, Capacity::UNLIMITED, plan),
            fwd as Fwd,
            rev as Rev,
            RamStore::new(slots, &u),
        )?;
        rv.apply_forward(&mut u)?;
        assert_eq!(u[0], n as f64);
        let mut log = Vec::new();
        rv.apply_reverse(&mut log)?;
        Ok((rv.stats(), log))
    }

    fn check(n: u64, slots: usize, plan: Vec<Action>) -> RevolverStats {
        let expect = validate(n, Capacity::ram(slots as u64), plan.iter().copied()).unwrap();
        let (st, log) = run(n, slots, plan).unwrap();
        assert_eq!(log, (0..n).rev().collect::<Vec<_>>());
        assert_eq!(st.schedule, expect);
        assert_eq!(st.forward_steps, expect.advanced + 1);
        assert_eq!(st.reverse_steps, n);
        st
    }

    #[test]
    fn store_all_hands_every_checkpoint_over() {
        let st = check(20, 20, store_all(20));
        // Step n - 1 is freed without a restore: the other 19 are handed over.
        assert_eq!(st.handovers, 19);
        assert_eq!(st.views, 0);
        // 20 stores and the copy of u_{n-1}; no restore copies.
        assert_eq!(st.copies, 21);
    }

    #[test]
    fn cpp_trace_uses_views_and_copies_only_to_advance() {
        let st = check(10, 3, parse(CPP_10_3));
        // Restores followed by a reverse read the view; the three followed by an advance copy
        // (the toy's forward operator works in place only).
        assert_eq!(st.views, 6);
        assert_eq!(st.handovers, 0);
        assert_eq!(st.copies, 6 + 3 + 1);
        assert_eq!(st.schedule.forward, 25);
    }

    #[test]
    fn one_slot_schedule() {
        for n in [1u64, 2, 7] {
            let st = check(n, 1, one_slot(n));
            assert_eq!(st.schedule.forward, n * (n + 1) / 2);
        }
    }

    #[test]
    fn out_of_place_forward_avoids_restore_copies() {
        struct Oop(u64);
        impl ForwardOperator<Vec<f64>> for Oop {
            type Error = Infallible;
            fn advance(&mut self, u: &mut Vec<f64>, a: u64, b: u64) -> Result<(), Infallible> {
                fwd(u, a, b)
            }
            fn out_of_place(&self) -> bool {
                true
            }
            fn advance_from(
                &mut self,
                src: &Vec<f64>,
                dst: &mut Vec<f64>,
                a: u64,
                b: u64,
            ) -> Result<(), Infallible> {
                self.0 += 1;
                dst[0] = src[0];
                dst[1] = src[1];
                fwd(dst, a, b)
            }
        }
        let mut u = vec![0.0, 0.0];
        let mut rv = Revolver::new(
            Custom::new(10, Capacity::UNLIMITED, parse(CPP_10_3)),
            Oop(0),
            rev as Rev,
            RamStore::new(3, &u),
        )
        .unwrap();
        rv.apply_forward(&mut u).unwrap();
        let mut log = Vec::new();
        rv.apply_reverse(&mut log).unwrap();
        assert_eq!(log, (0..10).rev().collect::<Vec<_>>());
        let st = rv.stats();
        // Every store hands the buffer in and is followed by an out-of-place advance (6), as are
        // the three restores followed by an advance; u_{n-1} is kept by a swap: no copy at all.
        assert_eq!((st.out_of_place, st.copies, st.views), (6 + 3, 0, 6));
        assert_eq!((st.handover_stores, st.handovers), (6, 0));
        // Plus the step n - 1 -> n into the spare buffer.
        assert_eq!(rv.forward_operator().0, 10);
    }

    #[test]
    fn bad_schedules_are_errors_at_the_validators_index() {
        let good = parse(CPP_10_3);
        // Every single-action deletion and every adjacent swap: the Revolver fails exactly when
        // the validator does, at the same action.
        let mut variants = Vec::new();
        for i in 0..good.len() {
            let mut v = good.clone();
            v.remove(i);
            variants.push(v);
            if i + 1 < good.len() {
                let mut v = good.clone();
                v.swap(i, i + 1);
                variants.push(v);
            }
        }
        let mut failures = 0;
        for plan in variants {
            let want = validate(10, Capacity::ram(3), plan.iter().copied());
            let got = run(10, 3, plan.clone());
            match (want, got) {
                (Ok(_), Ok(_)) => {}
                (Err(v), Err(Error::BadSchedule { index, rule, .. })) if v.action.is_some() => {
                    assert_eq!((index, &rule), (v.index, &v.rule), "{plan:?}");
                    failures += 1;
                }
                (Err(v), Err(Error::ScheduleEnded { index, rule })) if v.action.is_none() => {
                    assert_eq!((index, &rule), (v.index, &v.rule));
                    failures += 1;
                }
                (w, g) => panic!("validator {w:?} but revolver {g:?} for {plan:?}"),
            }
        }
        assert!(failures > 40);
    }

    #[test]
    fn too_few_slots_and_missing_disk_are_bad_schedules() {
        let e = run(10, 2, parse(CPP_10_3)).unwrap_err();
        assert!(matches!(e, Error::BadSchedule { index: 4, .. }), "{e}");
        let plan =
            parse("store 0 disk, advance 0 1, reverse 1, restore 0 disk, free 0 disk, reverse 0");
        let e = run(2, 1, plan).unwrap_err();
        assert!(
            matches!(
                e,
                Error::BadSchedule {
                    index: 0,
                    rule: Rule::LevelFull {
                        level: Level::Disk,
                        capacity: 0
                    },
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("no free disk slot"));
        // A schedule made for another number of steps.
        for n in [8, 12] {
            let e = run(n, 3, parse(CPP_10_3)).unwrap_err();
            assert!(matches!(e, Error::BadSchedule { .. }), "n={n}: {e}");
        }
        let e = run(3, 1, vec![]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ScheduleEnded {
                    index: 0,
                    rule: Rule::Unfinished { next: 2 }
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn usage_errors() {
        let mut u = vec![0.0, 0.0];
        let mut rv = Revolver::new(
            Custom::new(3, Capacity::UNLIMITED, store_all(3)),
            fwd as Fwd,
            rev as Rev,
            RamStore::new(3, &u),
        )
        .unwrap();
        let mut log = Vec::new();
        assert!(matches!(rv.apply_reverse(&mut log), Err(Error::Usage(_))));
        rv.apply_forward(&mut u).unwrap();
        assert!(matches!(rv.apply_forward(&mut u), Err(Error::Usage(_))));
        rv.apply_reverse(&mut log).unwrap();
        assert!(matches!(rv.apply_reverse(&mut log), Err(Error::Usage(_))));
        let e = Revolver::new(
            Custom::new(0, Capacity::UNLIMITED, store_all(1)),
            fwd as Fwd,
            rev as Rev,
            RamStore::new(1, &u),
        );
        assert!(matches!(e, Err(Error::ZeroSteps)));
    }

    #[test]
    fn operator_errors_propagate() {
        let mut u = vec![0.0, 0.0];
        let fwd_fail = |u: &mut Vec<f64>, a: u64, b: u64| -> Result<(), String> {
            if b > 6 {
                return Err(format!("blew up going {a}->{b}"));
            }
            fwd(u, a, b).map_err(|e| match e {})
        };
        let mut rv = Revolver::new(
            Custom::new(10, Capacity::UNLIMITED, parse(CPP_10_3)),
            fwd_fail,
            rev as Rev,
            RamStore::new(3, &u),
        )
        .unwrap();
        let e = rv.apply_forward(&mut u).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Operator {
                    operator: "forward",
                    step: 4,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            std::error::Error::source(&e)
                .unwrap()
                .to_string()
                .contains("4->7")
        );
        assert!(matches!(rv.apply_forward(&mut u), Err(Error::Usage(_))));

        let mut u = vec![0.0, 0.0];
        let rev_fail = |_: &Vec<f64>, _: &mut Vec<u64>, k: u64| -> Result<(), std::io::Error> {
            if k == 4 {
                Err(std::io::Error::other("nan in adjoint"))
            } else {
                Ok(())
            }
        };
        let mut rv = Revolver::new(
            Custom::new(10, Capacity::UNLIMITED, parse(CPP_10_3)),
            fwd as Fwd,
            rev_fail,
            RamStore::new(3, &u),
        )
        .unwrap();
        rv.apply_forward(&mut u).unwrap();
        let e = rv.apply_reverse(&mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Operator {
                    operator: "reverse",
                    step: 4,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn state_size_mismatch_is_an_error() {
        let mut u = vec![0.0, 0.0, 0.0];
        let mut rv = Revolver::new(
            Custom::new(3, Capacity::UNLIMITED, store_all(3)),
            fwd as Fwd,
            rev as Rev,
            RamStore::new(3, &vec![0.0; 2]),
        )
        .unwrap();
        assert!(matches!(
            rv.apply_forward(&mut u),
            Err(Error::StateSize { .. })
        ));
    }

    #[test]
    fn mixed_ram_and_disk_levels() {
        // The (10, 3) trace with step 0 (held throughout) on disk and the rest in two RAM slots.
        let plan = parse(&CPP_10_3.replace("0 ram", "0 disk"));
        let cap = Capacity { ram: 2, disk: 1 };
        let want = validate(10, cap, plan.iter().copied()).unwrap();
        assert_eq!(want.peak, [2, 1]);
        let mut u = vec![0.0, 0.0];
        let disk = RamStore::new(1, &u);
        let mut rv = Revolver::new(
            Custom::new(10, Capacity::UNLIMITED, plan),
            fwd as Fwd,
            rev as Rev,
            RamStore::new(2, &u),
        )
        .unwrap()
        .with_disk(disk);
        rv.apply_forward(&mut u).unwrap();
        let mut log = Vec::new();
        rv.apply_reverse(&mut log).unwrap();
        assert_eq!(log, (0..10).rev().collect::<Vec<_>>());
        assert_eq!(rv.stats().schedule, want);
        assert_eq!(rv.store(Level::Disk).len(), 0);
        assert_eq!(rv.store(Level::Ram).len(), 0);
    }

    #[test]
    fn prefetch_hints_name_the_next_restore() {
        struct Spy(
            RamStore<Vec<f64>>,
            std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
        );
        impl CheckpointStore<Vec<f64>> for Spy {
            fn capacity(&self) -> u64 {
                self.0.capacity()
            }
            fn len(&self) -> u64 {
                self.0.len()
            }
            fn store(&mut self, k: u64, s: &Vec<f64>) -> Result<(), Error> {
                self.0.store(k, s)
            }
            fn restore(&mut self, k: u64, s: &mut Vec<f64>) -> Result<(), Error> {
                self.0.restore(k, s)
            }
            fn free(&mut self, k: u64) -> Result<(), Error> {
                self.0.free(k)
            }
            fn prefetch(&mut self, k: u64) -> Result<(), Error> {
                self.1.lock().unwrap().push(k);
                Ok(())
            }
        }
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut u = vec![0.0, 0.0];
        let disk = Spy(RamStore::new(3, &u), seen.clone());
        // The same trace at the disk level, with no RAM slot.
        let plan = parse(&CPP_10_3.replace("ram", "disk"));
        let mut rv = Revolver::new(
            Custom::new(10, Capacity::UNLIMITED, plan),
            fwd as Fwd,
            rev as Rev,
            RamStore::new(0, &u),
        )
        .unwrap()
        .with_disk(disk);
        rv.apply_forward(&mut u).unwrap();
        rv.apply_reverse(&mut Vec::new()).unwrap();
        // Restores in order: 7 7 4 5 4 0 2 1 0; a hint for the first after the forward sweep and
        // after each restore but the last. No view: every reverse of a restore copies.
        assert_eq!(*seen.lock().unwrap(), [7, 7, 4, 5, 4, 0, 2, 1, 0]);
        assert_eq!(rv.stats().prefetches, 9);
        assert_eq!(rv.stats().views, 0);
        assert_eq!(rv.stats().schedule.restores, [0, 9]);
        assert_eq!(rv.store(Level::Disk).len(), 0);
    }
}
