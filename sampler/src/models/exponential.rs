//! Idealised model for estimator tests: the maximum score of a trajectory is exactly Exp(1).
//!
//! The score climbs by `increment` per step; each step it may die first: an Exp(1) draw `e` below
//! `increment` ends the trajectory at `x + e`. By memorylessness the final (maximal) score is
//! exactly Exp(1), so `P(max >= a) = e^-a`. The state is `[x, dead]` (`dead` is 0 or 1).

use crate::{ExponentialNoise, Model, Result, models::check_positive};
use serde::{Deserialize, Serialize};

/// Trajectories whose maximum score is Exp(1)-distributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exponential {
    /// Score increase per surviving step (default 0.1); needs `end_time / step_size` steps of
    /// `increment` to go beyond the target.
    pub increment: f64,
}

impl Default for Exponential {
    fn default() -> Self {
        Exponential { increment: 0.1 }
    }
}

impl Exponential {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        check_positive("model.increment", self.increment)
    }
}

impl Model for Exponential {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("exponential", self)
    }
    type State = [f64; 2];
    type Noise = ExponentialNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> [f64; 2] {
        [0.0, 0.0]
    }
    #[inline]
    fn step(&self, s: &mut [f64; 2], _t: f64, _dt: f64, e: &ExponentialNoise) {
        let e = e[0];
        if s[1] != 0.0 {
            return;
        }
        if e < self.increment {
            s[0] += e;
            s[1] = 1.0;
        } else {
            s[0] += self.increment;
        }
    }
    #[inline]
    fn score(&self, s: &[f64; 2], _t: f64) -> f64 {
        s[0]
    }
    fn is_done(&self, s: &[f64; 2], _t: f64, _score: f64) -> bool {
        s[1] != 0.0
    }
}
