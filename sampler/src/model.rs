//! The physics plug-in: a stochastic time-stepping model.

use crate::noise::NoiseRng;
use serde::Serialize;

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

    /// Bytes of one state, if known without building one (`None`, the default: a run builds
    /// the initial state to measure it). A model with large states overrides it, so a run that
    /// cannot fit in memory is refused before the first state is allocated.
    fn state_bytes_hint(&self) -> Option<u64> {
        None
    }

    /// What the model is: its name and parameters. A run database records it, and a restart
    /// with a model whose description differs (another name, a changed parameter) is refused,
    /// naming the key (`model.NAME`) and both values. The default is the type name without
    /// parameters: override it (e.g. with [`ModelInfo::of`]) so that changed parameters are
    /// caught.
    fn describe(&self) -> ModelInfo {
        ModelInfo::named(std::any::type_name::<Self>())
    }
}

/// A model's identity: `name` plus parameters (the `[model]` table of a recorded run).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The model's name (`model.name`).
    pub name: String,
    /// Its parameters (`model.KEY = value`); must not contain `name`.
    pub params: toml::Table,
}

impl ModelInfo {
    /// A model without parameters.
    pub fn named(name: impl Into<String>) -> Self {
        ModelInfo {
            name: name.into(),
            params: toml::Table::new(),
        }
    }

    /// `name` with the parameters of `params` (any serde struct whose fields serialize to TOML
    /// values; a field that cannot, or a value that is not a table, is recorded under its
    /// debug text as `params`).
    pub fn of<P: Serialize + ?Sized>(name: impl Into<String>, params: &P) -> Self {
        let params = match toml::Table::try_from(params) {
            Ok(t) => t,
            Err(e) => {
                let mut t = toml::Table::new();
                t.insert("params".into(), toml::Value::String(e.to_string()));
                t
            }
        };
        ModelInfo {
            name: name.into(),
            params,
        }
    }

    /// The `[model]` table: `name` first, then the parameters.
    pub fn to_table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("name".into(), toml::Value::String(self.name.clone()));
        for (k, v) in &self.params {
            if k != "name" {
                t.insert(k.clone(), v.clone());
            }
        }
        t
    }
}
