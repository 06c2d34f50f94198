//! Sampling strategies behind one trait: [`Tams`] and [`MonteCarlo`].

pub(crate) mod compute;
mod estimate;
pub(crate) mod montecarlo;
mod params;
pub(crate) mod tams;

pub use crate::outcome::{RunOutcome, StopReason};
pub use estimate::{Summary, ideal_std_error, montecarlo_std_error};
pub use montecarlo::MonteCarlo;
pub use params::{OnStall, RunParams};
pub use tams::Tams;

use crate::{Model, NoiseKey, Result};

/// Progress callback: `(done, total)` units of work (iterations or trajectories).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// A sampling strategy for model `M`.
pub trait Strategy<M: Model> {
    /// Name used in configs (`[sampler] strategy`).
    fn name(&self) -> &'static str;
    /// Perform one independent run keyed by `key`, on the current rayon pool; bad `params`
    /// are an error ([`RunParams::check`]).
    fn run(
        &self,
        model: &M,
        params: &RunParams,
        key: NoiseKey,
        progress: Progress<'_>,
    ) -> Result<RunOutcome>;
}
