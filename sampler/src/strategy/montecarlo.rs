//! Plain Monte Carlo: N independent trajectories, the brute-force baseline.

use super::{Progress, RunOutcome, RunParams, StopReason, Strategy, montecarlo_std_error};
use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, initial_of, run_plain};
use crate::{Model, NoiseKey, Result};
use rayon::prelude::*;

/// Plain Monte Carlo with the same model, noise streams and output as [`super::Tams`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MonteCarlo;

/// Trajectories per progress report.
const CHUNK: u64 = 4096;

impl<M: Model> Strategy<M> for MonteCarlo {
    fn name(&self) -> &'static str {
        "montecarlo"
    }
    fn run(
        &self,
        model: &M,
        params: &RunParams,
        key: NoiseKey,
        progress: Progress<'_>,
    ) -> Result<RunOutcome> {
        params.check()?;
        let n = params.ntrajectories;
        let (reached, steps) = block(model, &params.horizon, key, 0..n, &|done| progress(done, n))?;
        Ok(outcome(n, reached, steps))
    }
}

/// The outcome of `n` trajectories of which `reached` hit the target in `steps` steps.
pub(crate) fn outcome(n: u64, reached: u64, steps: u64) -> RunOutcome {
    let estimate = reached as f64 / n as f64;
    RunOutcome {
        estimate,
        std_error: montecarlo_std_error(estimate, n),
        weight: 1.0,
        reached,
        ntrajectories: n,
        iterations: 0,
        branches: 0,
        model_steps: steps,
        replay_steps: 0,
        peak_states_held: 0,
        stop: StopReason::Complete,
        kills: Vec::new(),
    }
}

/// Trajectories `ids` (their hits and steps), calling `progress(done)` after every chunk with
/// the end of the chunk; the error of the lowest failing id.
pub(crate) fn block<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    ids: std::ops::Range<u64>,
    progress: &dyn Fn(u64),
) -> Result<(u64, u64)> {
    let (mut reached, mut steps) = (0u64, 0u64);
    let mut lo = ids.start;
    while lo < ids.end {
        let hi = lo.saturating_add(CHUNK).min(ids.end);
        let chunk = collect_ordered((lo..hi).into_par_iter().map_init(
            || model.noise_buffer(),
            |noise, id| {
                let mut state = initial_of(model, key, id);
                run_plain(model, h, key, id, &mut state, noise)
            },
        ))?;
        for (hit, s) in chunk {
            reached += u64::from(hit);
            steps += s;
        }
        lo = hi;
        progress(lo);
    }
    Ok((reached, steps))
}
