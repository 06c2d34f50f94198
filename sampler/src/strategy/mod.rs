//! Sampling strategies behind one trait: [`Tams`] and [`MonteCarlo`].

pub(crate) mod compute;
mod estimate;
pub(crate) mod montecarlo;
pub(crate) mod tams;

pub use crate::outcome::{RunOutcome, StopReason};
pub use estimate::{Summary, ideal_std_error, montecarlo_std_error};
pub use montecarlo::MonteCarlo;
pub use tams::Tams;

use crate::simulate::Horizon;
use crate::{Model, NoiseKey, Result};
use std::time::Duration;

/// Parameters of one run (from the `[tams]` and `[trajectory]` tables).
#[derive(Debug, Clone, PartialEq)]
pub struct RunParams {
    /// Number of trajectories N.
    pub ntrajectories: u64,
    /// Maximum number of splitting iterations.
    pub nsplititer: u64,
    /// k: the level is the k-th smallest maximum (`l` in configs).
    pub k: u64,
    /// Stop splitting after this much wall time (makes results timing-dependent).
    pub walltime: Option<Duration>,
    /// Horizon and target.
    pub horizon: Horizon,
}

/// Progress callback: `(done, total)` units of work (iterations or trajectories).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// A sampling strategy for model `M`.
pub trait Strategy<M: Model> {
    /// Name used in configs (`[sampler] strategy`).
    fn name(&self) -> &'static str;
    /// Perform one independent run keyed by `key`, on the current rayon pool.
    fn run(
        &self,
        model: &M,
        params: &RunParams,
        key: NoiseKey,
        progress: Progress<'_>,
    ) -> Result<RunOutcome>;
}
