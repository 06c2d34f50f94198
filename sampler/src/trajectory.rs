//! Trajectories, snapshots and ensembles.

use crate::store::TrajectoryStore;

/// One point of a trajectory: time, score and (where the store holds it) the state.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot<S> {
    /// Step index (time = step * dt).
    pub step: u64,
    /// Model time.
    pub time: f64,
    /// Score at that time.
    pub score: f64,
    /// The state, if the store keeps it at this step.
    pub state: Option<S>,
}

/// The noise stream used from `start_step` on (until the next segment): trajectory `stream`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First step (the step from `start_step` to `start_step + 1`) drawn from this stream.
    pub start_step: u64,
    /// Trajectory id whose noise stream is used.
    pub stream: u64,
}

/// A trajectory: scores at every step, its noise lineage, and its states in a store record `R`.
///
/// Whether it reached the target is `max_score() >= target` (there is no `reached_target`):
///
/// ```compile_fail,E0599
/// fn reached(t: &sampler::Trajectory<()>) -> bool { t.reached_target() }
/// ```
///
/// and the branch step of a level is the first score above it (there is no `first_above`):
///
/// ```compile_fail,E0599
/// fn branch(t: &sampler::Trajectory<()>) -> Option<u64> { t.first_above(0.5) }
/// ```
///
/// ```
/// fn branch(t: &sampler::Trajectory<()>) -> Option<usize> {
///     t.scores().iter().position(|&s| s > 0.5)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Trajectory<R> {
    pub(crate) id: u64,
    pub(crate) lineage: Vec<Segment>,
    pub(crate) scores: Vec<f64>,
    pub(crate) max_score: f64,
    pub(crate) reached: bool,
    pub(crate) record: R,
}

impl<R> Trajectory<R> {
    /// Unique id (also the id of the noise stream it draws from after branching).
    pub fn id(&self) -> u64 {
        self.id
    }
    /// Scores at steps `0..=last_step`.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }
    /// Last step index.
    pub fn last_step(&self) -> u64 {
        self.scores.len() as u64 - 1
    }
    /// Maximum score along the trajectory.
    pub fn max_score(&self) -> f64 {
        self.max_score
    }
    /// The noise segments: which stream drove which steps (for replay).
    pub fn lineage(&self) -> &[Segment] {
        &self.lineage
    }
    /// The store's record of the states.
    pub fn record(&self) -> &R {
        &self.record
    }
    /// The id of the stream that drives step `step` (the step leaving `step`).
    pub fn stream_at(&self, step: u64) -> u64 {
        let i = self.lineage.partition_point(|s| s.start_step <= step);
        self.lineage[i.saturating_sub(1)].stream
    }
    /// The snapshot at `step`: time, score, and the state if `store` keeps it at exactly that step
    /// (otherwise regenerate it with [`crate::simulate::replay`] from [`TrajectoryStore::nearest`]).
    pub fn snapshot<'a, S, St>(&'a self, store: &St, dt: f64, step: u64) -> Option<Snapshot<&'a S>>
    where
        St: TrajectoryStore<S, Record = R>,
    {
        let score = *self.scores.get(usize::try_from(step).ok()?)?;
        let state = store
            .nearest(&self.record, step)
            .and_then(|(at, s)| (at == step).then_some(s));
        Some(Snapshot {
            step,
            time: step as f64 * dt,
            score,
            state,
        })
    }
}

/// The current population of trajectories.
#[derive(Debug, Clone)]
pub struct Ensemble<R> {
    /// The trajectories (always N of them).
    pub trajectories: Vec<Trajectory<R>>,
    /// Next unused trajectory id.
    pub next_id: u64,
}

impl<R> Ensemble<R> {
    /// Number of trajectories.
    pub fn len(&self) -> usize {
        self.trajectories.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.trajectories.is_empty()
    }
    /// How many reached the target.
    pub fn reached(&self) -> u64 {
        self.trajectories.iter().filter(|t| t.reached).count() as u64
    }
}
