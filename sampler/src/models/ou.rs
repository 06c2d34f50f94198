//! Ornstein-Uhlenbeck: `x <- (1 - theta dt) x + sqrt(2 epsilon dt) xi`, score `x`.

use crate::{GaussianNoise, Model, Result, models::check_finite, models::check_positive};
use serde::{Deserialize, Serialize};

/// Ornstein-Uhlenbeck process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ou {
    /// Relaxation rate (default 1).
    pub theta: f64,
    /// Noise strength (default 0.5).
    pub epsilon: f64,
    /// Initial position (default 0).
    pub x0: f64,
}

impl Default for Ou {
    fn default() -> Self {
        Ou {
            theta: 1.0,
            epsilon: 0.5,
            x0: 0.0,
        }
    }
}

impl Ou {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        check_finite("model.theta", self.theta)?;
        check_positive("model.epsilon", self.epsilon)?;
        check_finite("model.x0", self.x0)
    }
}

impl Model for Ou {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("ou", self)
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
        *x = (1.0 - self.theta * dt) * *x + (2.0 * self.epsilon * dt).sqrt() * noise[0];
    }
    #[inline]
    fn score(&self, x: &f64, _t: f64) -> f64 {
        *x
    }
}
