//! The physics plug-in: a stochastic time-stepping model.

use crate::noise::NoiseRng;

/// A stochastic model advanced one step at a time, in place.
///
/// The sampler calls, for step `n` (time `t = n * dt`): [`Model::sample_noise`] with the
/// trajectory's stream positioned at step `n`, then [`Model::step`], then [`Model::score`] at time
/// `t + dt`. Buffers (state, noise) are reused: nothing needs to allocate per step.
///
/// ```
/// use sampler::{Model, NoiseRng, normal_words};
/// /// x <- x + sqrt(dt) xi
/// struct Walk;
/// impl Model for Walk {
///     type State = f64;
///     type Noise = [f64; 1];
///     fn initial_state(&self) -> f64 { 0.0 }
///     fn noise_buffer(&self) -> [f64; 1] { [0.0] }
///     fn noise_words(&self) -> u64 { normal_words(1) }
///     fn sample_noise(&self, rng: &mut NoiseRng, noise: &mut [f64; 1]) {
///         rng.fill_standard_normal(noise)
///     }
///     fn step(&self, x: &mut f64, _t: f64, dt: f64, noise: &[f64; 1]) { *x += dt.sqrt() * noise[0] }
///     fn score(&self, x: &f64, _t: f64) -> f64 { *x }
/// }
/// ```
pub trait Model: Send + Sync {
    /// The model state (a number, an array, an `ndarray::Array`, ...).
    type State: Clone + Send + Sync;
    /// The noise buffer of one step.
    type Noise: Send;

    /// The initial condition (step 0, time 0).
    fn initial_state(&self) -> Self::State;

    /// A fresh noise buffer (allocated once per worker, reused for every step).
    fn noise_buffer(&self) -> Self::Noise;

    /// The number of 32-bit words [`Model::sample_noise`] draws per step, at most. Step `n` uses the
    /// words `[n * w, (n + 1) * w)` of its stream, so any step's noise can be regenerated; drawing
    /// more is reported as [`crate::Error::NoiseOverdraw`]. See [`crate::normal_words`].
    fn noise_words(&self) -> u64;

    /// Fill `noise` with the noise of one step from `rng`.
    fn sample_noise(&self, rng: &mut NoiseRng, noise: &mut Self::Noise);

    /// Advance `state` from time `time` to `time + dt` in place.
    fn step(&self, state: &mut Self::State, time: f64, dt: f64, noise: &Self::Noise);

    /// The score (reaction coordinate) of a state; the target is reached when it is `>= targetscore`.
    fn score(&self, state: &Self::State, time: f64) -> f64;

    /// A custom end condition checked after every step (besides the horizon and the target).
    fn is_done(&self, _state: &Self::State, _time: f64, _score: f64) -> bool {
        false
    }
}
