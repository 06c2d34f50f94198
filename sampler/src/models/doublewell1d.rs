//! 1D double well: `x <- x + (x - x^3) dt + sqrt(2 epsilon dt) xi`, score `1 - |x - 1| / 2`.

use crate::{GaussianNoise, Model, Result, models::check_finite, models::check_positive};
use serde::{Deserialize, Serialize};

/// Overdamped particle in the potential `x^4/4 - x^2/2`, from the left well to the right one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DoubleWell1d {
    /// Noise strength (default 0.025).
    pub epsilon: f64,
    /// Initial position (default -1).
    pub x0: f64,
}

impl Default for DoubleWell1d {
    fn default() -> Self {
        DoubleWell1d {
            epsilon: 0.025,
            x0: -1.0,
        }
    }
}

impl DoubleWell1d {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        check_positive("model.epsilon", self.epsilon)?;
        check_finite("model.x0", self.x0)
    }
}

impl Model for DoubleWell1d {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("doublewell1d", self)
    }
    type State = f64;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> f64 {
        self.x0
    }
    #[inline]
    fn step(&self, x: &mut f64, _t: f64, dt: f64, noise: &GaussianNoise) {
        let v = *x;
        *x = v + (v - v * v * v) * dt + (2.0 * self.epsilon * dt).sqrt() * noise[0];
    }
    #[inline]
    fn score(&self, x: &f64, _t: f64) -> f64 {
        1.0 - (x - 1.0).abs() / 2.0
    }
}
