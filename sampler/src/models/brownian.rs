//! Brownian motion with drift: `x <- x + drift dt + sqrt(dt) xi`, score `x`.

use crate::{GaussianNoise, Model, Result, models::check_finite};
use serde::{Deserialize, Serialize};

/// Brownian motion with constant drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Brownian {
    /// Drift (default 0).
    pub drift: f64,
    /// Initial position (default 0).
    pub x0: f64,
}

impl Default for Brownian {
    fn default() -> Self {
        Brownian {
            drift: 0.0,
            x0: 0.0,
        }
    }
}

impl Brownian {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        check_finite("model.drift", self.drift)?;
        check_finite("model.x0", self.x0)
    }
}

impl Model for Brownian {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("brownian", self)
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
        *x += self.drift * dt + dt.sqrt() * noise[0];
    }
    #[inline]
    fn score(&self, x: &f64, _t: f64) -> f64 {
        *x
    }
}
