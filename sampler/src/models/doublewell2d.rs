//! 2D double well (pyTAMS' benchmark): `V = x^4/4 - x^2/2 + y^2`,
//! `s <- s - grad V dt + sqrt(epsilon dt) xi`, from near `a = (-1, 0)` to `b = (1, 0)`.

use crate::{GaussianNoise, Model, Result, models::check_positive};
use serde::{Deserialize, Serialize};

/// Overdamped particle in a 2D double-well potential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DoubleWell2d {
    /// Noise strength (default 0.05).
    pub epsilon: f64,
}

impl Default for DoubleWell2d {
    fn default() -> Self {
        DoubleWell2d { epsilon: 0.05 }
    }
}

impl DoubleWell2d {
    /// Starting point.
    pub const START: [f64; 2] = [-0.92, 0.0];

    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        check_positive("model.epsilon", self.epsilon)
    }
}

impl Model for DoubleWell2d {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("doublewell2d", self)
    }
    type State = [f64; 2];
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        2
    }
    fn initial_state(&self) -> [f64; 2] {
        Self::START
    }
    #[inline]
    fn step(&self, s: &mut [f64; 2], _t: f64, dt: f64, noise: &GaussianNoise) {
        let [x, y] = *s;
        let amp = (self.epsilon * dt).sqrt();
        s[0] = x - (x * x * x - x) * dt + amp * noise[0];
        s[1] = y - 2.0 * y * dt + amp * noise[1];
    }
    #[inline]
    fn score(&self, s: &[f64; 2], _t: f64) -> f64 {
        let da = (s[0] + 1.0).powi(2) + s[1] * s[1];
        let db = (s[0] - 1.0).powi(2) + s[1] * s[1];
        0.5 - 0.5 * (-8.0 * da).exp() + 0.5 * (-8.0 * db).exp()
    }
}
