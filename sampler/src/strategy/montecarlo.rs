//! Plain Monte Carlo: N independent trajectories, the brute-force baseline.

use super::{Progress, RunOutcome, RunParams, StopReason, Strategy, montecarlo_std_error};
use crate::parallel::collect_ordered;
use crate::simulate::run_plain;
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
        let n = params.ntrajectories;
        let h = &params.horizon;
        let init = model.initial_state();
        let (mut reached, mut steps) = (0u64, 0u64);
        let mut lo = 0;
        while lo < n {
            let hi = (lo + CHUNK).min(n);
            let chunk = collect_ordered((lo..hi).into_par_iter().map_init(
                || (init.clone(), model.noise_buffer()),
                |(state, noise), id| {
                    state.clone_from(&init);
                    run_plain(model, h, key, id, state, noise)
                },
            ))?;
            for (hit, s) in chunk {
                reached += u64::from(hit);
                steps += s;
            }
            lo = hi;
            progress(lo, n);
        }
        let estimate = reached as f64 / n as f64;
        Ok(RunOutcome {
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
        })
    }
}
