//! Biased +-1 random walk (integer scores, heavy ties): up with probability `up`, absorbed at 0.
//!
//! Started at `x0 = 1` with `up = 1/3`, `P(hit M before 0) = 1 / (2^M - 1)`.

use crate::{Model, Result, UniformNoise, models::check_finite};
use serde::{Deserialize, Serialize};

/// Random walk on the integers, absorbed at `floor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomWalk {
    /// Probability of a step up (default 1/3).
    pub up: f64,
    /// Initial position (default 1).
    pub x0: i64,
    /// Absorbing floor (default 0): the trajectory ends there.
    pub floor: i64,
}

impl Default for RandomWalk {
    fn default() -> Self {
        RandomWalk {
            up: 1.0 / 3.0,
            x0: 1,
            floor: 0,
        }
    }
}

impl RandomWalk {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        check_finite("model.up", self.up)?;
        if !(0.0..=1.0).contains(&self.up) {
            return Err(crate::Error::config(
                "model.up",
                format!("must be in [0, 1], got {}", self.up),
            ));
        }
        Ok(())
    }
}

impl Model for RandomWalk {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("randomwalk", self)
    }
    type State = i64;
    type Noise = UniformNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> i64 {
        self.x0
    }
    #[inline]
    fn step(&self, x: &mut i64, _t: f64, _dt: f64, u: &UniformNoise) {
        if u[0] < self.up {
            *x += 1;
        } else {
            *x -= 1;
        }
    }
    #[inline]
    fn score(&self, x: &i64, _t: f64) -> f64 {
        *x as f64
    }
    fn is_done(&self, x: &i64, _t: f64, _score: f64) -> bool {
        *x <= self.floor
    }
}
