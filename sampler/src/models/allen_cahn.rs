//! Stochastic Allen-Cahn equation on `[0, length]` with no-flux ends, a large-state model:
//! `du = (epsilon^2 u_xx + u - u^3 + tilt) dt + sigma dW` (space-time white noise), from the
//! phase `u = -1` towards `u = +1`; score `(mean(u) + 1) / 2`.
//!
//! Semi-implicit Euler on `n` grid points (`dx = length / n`): the Laplacian is implicit (a
//! tridiagonal solve, stable for any `dt`), the reaction explicit, the noise of point `i`
//! `sigma sqrt(dt / dx) xi_i`. With `epsilon` large enough that only the uniform mode is unstable
//! (`epsilon pi / length > 1`) the transition passes the uniform saddle `u = 0`: a double well
//! with barrier `length / 4` driven by noise of strength `sigma / sqrt(length)`, whatever `n`.

use crate::{Error, Model, Noise, NoiseRng, Result, models::check_finite, models::check_positive};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// The distribution of the per-point noise `xi_i`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointNoise {
    /// Standard normal (Box-Muller, 2 words per sample).
    #[default]
    Gaussian,
    /// Uniform on `[-sqrt 3, sqrt 3]` (unit variance, 1 word per sample): a weak-order-1
    /// noise, several times cheaper for very large grids.
    Uniform,
}

/// Stochastic Allen-Cahn equation (see the [module documentation](self)). Make one from
/// [`AllenCahn::default`] and set the parameters (its solver cache is private):
///
/// ```
/// use sampler::models::AllenCahn;
/// let mut m = AllenCahn::default();
/// (m.n, m.sigma) = (64, 0.5);
/// assert!(m.validate().is_ok());
/// ```
///
/// ```compile_fail,E0616
/// let m = sampler::models::AllenCahn::default();
/// let _ = &m.cache;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllenCahn {
    /// Grid points (default 1024).
    pub n: u64,
    /// Domain length (default 1).
    pub length: f64,
    /// Interface width (default 0.4).
    pub epsilon: f64,
    /// Noise amplitude (default 0.3).
    pub sigma: f64,
    /// Constant force favouring `+1` when positive (default 0).
    pub tilt: f64,
    /// Initial value everywhere (default -1).
    pub u0: f64,
    /// Per-point noise distribution (default gaussian).
    pub noise: PointNoise,
    /// Cache of the implicit solver's factorisation (filled on first use).
    #[serde(skip)]
    cache: PivotCache,
}

impl Default for AllenCahn {
    fn default() -> Self {
        AllenCahn {
            n: 1024,
            length: 1.0,
            epsilon: 0.4,
            sigma: 0.3,
            tilt: 0.0,
            u0: -1.0,
            noise: PointNoise::Gaussian,
            cache: PivotCache::default(),
        }
    }
}

/// The factorisation of the implicit operator for the last `dt` used (shared by all workers;
/// not part of the parameters: clones start empty and all caches compare equal).
#[derive(Debug, Default)]
struct PivotCache(RwLock<Option<(u64, Arc<Vec<f64>>)>>);

impl Clone for PivotCache {
    fn clone(&self) -> Self {
        PivotCache::default()
    }
}
impl PartialEq for PivotCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The per-point noise of one step (standard normal or uniform, as [`AllenCahn::noise`] says;
/// [`Noise::new`] alone gives the Gaussian one). Indexes like a slice.
#[derive(Debug, Clone, PartialEq)]
pub struct AllenCahnNoise(Vec<f64>);

impl std::ops::Deref for AllenCahnNoise {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.0
    }
}

impl Noise for AllenCahnNoise {
    fn new(dim: usize) -> Self {
        AllenCahnNoise(vec![0.0; dim])
    }
    fn words(dim: usize) -> u64 {
        crate::normal_words(dim)
    }
    fn sample(&mut self, rng: &mut NoiseRng) {
        rng.fill_standard_normal(&mut self.0)
    }
}

impl AllenCahn {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n < 3 || self.n > 1 << 31 {
            return Err(Error::config(
                "model.n",
                format!("must be >= 3 and <= 2^31, got {}", self.n),
            ));
        }
        check_positive("model.length", self.length)?;
        check_positive("model.epsilon", self.epsilon)?;
        check_finite("model.sigma", self.sigma)?;
        if self.sigma < 0.0 {
            return Err(Error::config(
                "model.sigma",
                format!("must be >= 0, got {}", self.sigma),
            ));
        }
        check_finite("model.tilt", self.tilt)?;
        check_finite("model.u0", self.u0)
    }

    /// Bytes of one state.
    pub fn state_bytes(&self) -> u64 {
        self.n * 8
    }

    fn dx(&self) -> f64 {
        self.length / self.n as f64
    }

    /// `1 / pivot` of the Thomas elimination of `(1 + 2r) u_i - r u_{i-1} - r u_{i+1}` (no-flux
    /// ends: `1 + r` on the first and last rows), `r = dt epsilon^2 / dx^2`.
    fn pivots(&self, dt: f64) -> Arc<Vec<f64>> {
        let key = dt.to_bits();
        if let Some((k, p)) = self
            .cache
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && *k == key
        {
            return p.clone();
        }
        let n = self.n as usize;
        let r = dt * self.epsilon * self.epsilon / (self.dx() * self.dx());
        let mut inv = vec![0.0; n];
        let mut cprev = 0.0;
        for (i, m) in inv.iter_mut().enumerate() {
            let b = if i == 0 || i == n - 1 {
                1.0 + r
            } else {
                1.0 + 2.0 * r
            };
            let denom = b - r * cprev; // b - a c'_{i-1} with a = -r, c' = -r / denom
            *m = 1.0 / denom;
            cprev = r * *m;
        }
        let p = Arc::new(inv);
        *self.cache.0.write().unwrap_or_else(|e| e.into_inner()) = Some((key, p.clone()));
        p
    }
}

impl Model for AllenCahn {
    fn describe(&self) -> Result<crate::model::ModelInfo> {
        crate::model::ModelInfo::of("allen_cahn", self)
    }
    fn state_bytes_hint(&self) -> Option<u64> {
        Some(self.state_bytes())
    }
    type State = Vec<f64>;
    type Noise = AllenCahnNoise;
    fn initial_state(&self) -> Vec<f64> {
        vec![self.u0; self.n as usize]
    }
    fn noise_dim(&self) -> usize {
        self.n as usize
    }
    // The distribution is a parameter: words and sampling follow `self.noise`.
    fn noise_words(&self) -> u64 {
        match self.noise {
            PointNoise::Gaussian => crate::normal_words(self.n as usize),
            PointNoise::Uniform => self.n,
        }
    }
    fn sample_noise(&self, rng: &mut NoiseRng, noise: &mut AllenCahnNoise) {
        match self.noise {
            PointNoise::Gaussian => rng.fill_standard_normal(&mut noise.0),
            PointNoise::Uniform => {
                const SCALE: f64 = 2.0 * 1.732_050_807_568_877_2 / 4_294_967_296.0;
                for x in noise.0.iter_mut() {
                    *x = (f64::from(rng.next_u32()) + 0.5) * SCALE - 1.732_050_807_568_877_2;
                }
            }
        }
    }
    fn step(&self, u: &mut Vec<f64>, _t: f64, dt: f64, noise: &AllenCahnNoise) {
        let inv = self.pivots(dt);
        let amp = self.sigma * (dt / self.dx()).sqrt();
        let r = dt * self.epsilon * self.epsilon / (self.dx() * self.dx());
        for (x, xi) in u.iter_mut().zip(noise.iter()) {
            let v = *x;
            *x = v + dt * (v - v * v * v + self.tilt) + amp * xi;
        }
        // Thomas algorithm in place: forward elimination, then back substitution.
        let mut prev = 0.0;
        for (x, m) in u.iter_mut().zip(inv.iter()) {
            prev = (*x + r * prev) * m;
            *x = prev;
        }
        let mut next = 0.0;
        for (x, m) in u.iter_mut().zip(inv.iter()).rev() {
            next = *x + r * m * next;
            *x = next;
        }
    }
    fn score(&self, u: &Vec<f64>, _t: f64) -> f64 {
        let mean = u.iter().sum::<f64>() / u.len() as f64;
        0.5 * (mean + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_solve_inverts_the_operator() {
        let m = AllenCahn {
            n: 7,
            sigma: 0.0,
            ..AllenCahn::default()
        };
        let dt = 0.01;
        let r = dt * m.epsilon * m.epsilon / (m.dx() * m.dx());
        let u0: Vec<f64> = (0..7).map(|i| (i as f64 * 0.7).sin()).collect();
        let mut u = u0.clone();
        m.step(&mut u, 0.0, dt, &m.noise_buffer());
        // (I - r D2) u_new = u0 + dt f(u0), D2 with no-flux ends.
        for i in 0..7 {
            let l = if i == 0 { u[0] } else { u[i - 1] };
            let rr = if i == 6 { u[6] } else { u[i + 1] };
            let lhs = u[i] - r * (l - 2.0 * u[i] + rr);
            let v = u0[i];
            let rhs = v + dt * (v - v * v * v);
            assert!((lhs - rhs).abs() < 1e-12, "{i}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn phases_are_stable_without_noise() {
        let m = AllenCahn {
            n: 64,
            sigma: 0.0,
            ..AllenCahn::default()
        };
        let mut u = m.initial_state();
        for _ in 0..100 {
            m.step(&mut u, 0.0, 0.01, &m.noise_buffer());
        }
        assert!(u.iter().all(|&x| (x + 1.0).abs() < 1e-12));
        assert!(m.score(&u, 0.0).abs() < 1e-12);
    }

    #[test]
    fn uniform_noise_has_unit_variance() {
        let m = AllenCahn {
            n: 100_000,
            noise: PointNoise::Uniform,
            ..AllenCahn::default()
        };
        let mut rng = crate::NoiseKey::new(1, 0).stream(0, m.noise_words());
        let mut xi = m.noise_buffer();
        m.sample_noise(&mut rng, &mut xi);
        let mean = xi.iter().sum::<f64>() / xi.len() as f64;
        let var = xi.iter().map(|x| x * x).sum::<f64>() / xi.len() as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        assert_eq!(rng.word_pos(), u128::from(m.noise_words()));
    }
}
