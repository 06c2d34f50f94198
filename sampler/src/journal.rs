//! Observing a TAMS run iteration by iteration (for a run database) and resuming one.
//!
//! [`crate::Tams::run_journaled`] calls a [`Journal`] as initial trajectories finish, after the
//! initial ensemble, after every completed iteration (children in place, before the next level
//! is computed) and at the stop.
//! A [`Resume`] built from what a journal recorded after iteration q continues the run exactly as
//! if it had never stopped: same selection-stream position, ids, weight bits and counters.

use crate::Result;
use crate::outcome::RunOutcome;
use crate::trajectory::{Ensemble, Trajectory};

/// The loop's bookkeeping after the initial ensemble or after an iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopState {
    /// Iterations performed.
    pub iterations: u64,
    /// Product of the `(N - K_q) / N` factors so far.
    pub weight: f64,
    /// Trajectories killed and re-branched so far.
    pub branches: u64,
    /// Model steps so far (replays excluded).
    pub model_steps: u64,
    /// Replay steps so far.
    pub replay_steps: u64,
    /// States held by the store now.
    pub held: u64,
    /// Most states held at once so far.
    pub peak_held: u64,
    /// Position (32-bit words) of the selection stream.
    pub select_word_pos: u128,
}

/// One completed iteration, as seen by a [`Journal`].
#[derive(Debug)]
pub struct IterationRecord<'a, R> {
    /// The ensemble after the iteration (children in the killed slots).
    pub ensemble: &'a Ensemble<R>,
    /// The level Z_q.
    pub level: f64,
    /// `(slot, parent slot, child id)` per killed trajectory, in selection order.
    pub tasks: &'a [(usize, usize, u64)],
    /// Ids of the killed trajectories, in the order of `tasks`.
    pub killed_ids: &'a [u64],
    /// Bookkeeping after the iteration.
    pub state: LoopState,
}

/// Receives a TAMS run's progress; an error stops the run and is returned by it.
pub trait Journal<R> {
    /// Initial trajectories finished (each exactly once, in batches of any order, before
    /// [`Journal::on_initial`]; not those a [`Resume`] of a partial ensemble brought back).
    /// The default records nothing.
    fn on_fresh(&mut self, trajectories: &[&Trajectory<R>]) -> Result<()> {
        let _ = trajectories;
        Ok(())
    }
    /// The initial ensemble exists (not called when resuming).
    fn on_initial(&mut self, ensemble: &Ensemble<R>, state: &LoopState) -> Result<()>;
    /// An iteration completed.
    fn on_iteration(&mut self, record: &IterationRecord<'_, R>) -> Result<()>;
    /// The run stopped with `outcome`.
    fn on_stop(&mut self, outcome: &RunOutcome) -> Result<()>;
}

/// The journal that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJournal;

impl<R> Journal<R> for NoJournal {
    #[inline]
    fn on_initial(&mut self, _: &Ensemble<R>, _: &LoopState) -> Result<()> {
        Ok(())
    }
    #[inline]
    fn on_iteration(&mut self, _: &IterationRecord<'_, R>) -> Result<()> {
        Ok(())
    }
    #[inline]
    fn on_stop(&mut self, _: &RunOutcome) -> Result<()> {
        Ok(())
    }
}

/// Where to continue a run: the ensemble and bookkeeping after some iteration, or a partial
/// initial ensemble.
#[derive(Debug, Clone)]
pub struct Resume<R> {
    /// The ensemble (slot order matters: it is the order the loop scans); with `partial`, the
    /// initial trajectories a journal recorded before a crash (any ids below N).
    pub ensemble: Ensemble<R>,
    /// Bookkeeping after that iteration.
    pub state: LoopState,
    /// K_q of every iteration performed so far.
    pub kills: Vec<u64>,
    /// The ensemble is a partial initial ensemble (no iteration recorded yet; `state` and
    /// `kills` unused): the loop computes the missing ids, then goes on as a fresh run.
    pub partial: bool,
}
