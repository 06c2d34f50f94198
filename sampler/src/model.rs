//! The physics plug-in: a stochastic time-stepping model.

use crate::noise::{Noise, NoiseRng};
use crate::{ModelError, Result};
use serde::Serialize;

/// A stochastic model advanced one step at a time, in place.
///
/// A model needs its state and noise types, [`Model::initial_state`], [`Model::step`],
/// [`Model::score`] and [`Model::noise_dim`]; everything else has a default (a random initial
/// condition overrides [`Model::initial_state_from`]). For step `n` (time
/// `t = n * dt`) the sampler fills the noise buffer from the trajectory's stream positioned at
/// step `n` ([`Model::sample_noise`]), then calls [`Model::step`], then [`Model::score`] at time
/// `t + dt`. Buffers (state, noise) are reused: nothing needs to allocate per step.
///
/// ```
/// use sampler::{GaussianNoise, Model};
/// /// x <- x + sqrt(dt) xi
/// struct Walk;
/// impl Model for Walk {
///     type State = f64;
///     type Noise = GaussianNoise;
///     fn noise_dim(&self) -> usize { 1 }
///     fn initial_state(&self) -> f64 { 0.0 }
///     fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) { *x += dt.sqrt() * xi[0] }
///     fn score(&self, x: &f64, _t: f64) -> f64 { *x }
/// }
/// ```
///
/// Noise other than standard normals: pick another [`Noise`] type ([`crate::UniformNoise`],
/// [`crate::ExponentialNoise`], `()` for none) or implement [`Noise`] for your own buffer. Noise
/// whose distribution depends on the model's parameters overrides [`Model::noise_words`] and
/// [`Model::sample_noise`] together (they must agree: the words drawn are checked).
pub trait Model: Send + Sync {
    /// The model state (a number, an array, an `ndarray::Array`, ...).
    type State: Clone + Send + Sync;
    /// The noise buffer of one step ([`crate::GaussianNoise`] for standard normal increments).
    type Noise: Noise;

    /// The initial condition (step 0, time 0).
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model};
    /// # struct Walk { x0: f64 }
    /// # impl Model for Walk {
    /// #     type State = f64;
    /// #     type Noise = GaussianNoise;
    /// #     fn noise_dim(&self) -> usize { 1 }
    /// fn initial_state(&self) -> f64 { self.x0 }
    /// #     fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) { *x += dt.sqrt() * xi[0] }
    /// #     fn score(&self, x: &f64, _t: f64) -> f64 { *x }
    /// # }
    /// assert_eq!(Walk { x0: 2.0 }.initial_state(), 2.0);
    /// ```
    fn initial_state(&self) -> Self::State;

    /// The initial condition of one trajectory, drawn from `rng` (a random initial condition,
    /// e.g. the stationary distribution); the default ignores `rng` and returns
    /// [`Model::initial_state`].
    ///
    /// `rng` is the trajectory's own initial-state stream ([`crate::NoiseKey::initial_stream`],
    /// positioned at its start, independent of the step noise): replay, restarts, MPI ranks
    /// and memory budgets draw the same state again. A branched trajectory keeps its root
    /// ancestor's initial state. [`Model::initial_state`] still gives a state of the model's
    /// shape (used as a template, and for the memory estimate).
    ///
    /// ```
    /// use sampler::{GaussianNoise, Model, NoiseKey};
    /// /// Ornstein-Uhlenbeck started from its stationary law N(0, 1/2).
    /// struct Ou;
    /// impl Model for Ou {
    ///     type State = f64;
    ///     type Noise = GaussianNoise;
    ///     fn noise_dim(&self) -> usize { 1 }
    ///     fn initial_state(&self) -> f64 { 0.0 }
    ///     fn initial_state_from(&self, rng: &mut sampler::NoiseRng) -> f64 {
    ///         rng.normal_pair().0 * 0.5f64.sqrt()
    ///     }
    ///     fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) {
    ///         *x += -*x * dt + dt.sqrt() * xi[0];
    ///     }
    ///     fn score(&self, x: &f64, _t: f64) -> f64 { *x }
    /// }
    /// let key = NoiseKey::new(1, 0);
    /// let a = Ou.initial_state_from(&mut key.initial_stream(0));
    /// assert_eq!(a, Ou.initial_state_from(&mut key.initial_stream(0)));
    /// assert_ne!(a, Ou.initial_state_from(&mut key.initial_stream(1)));
    /// ```
    fn initial_state_from(&self, rng: &mut NoiseRng) -> Self::State {
        let _ = rng;
        self.initial_state()
    }

    /// The number of noise values per step (the buffer's length).
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model};
    /// /// Two independent Brownian coordinates.
    /// struct Plane;
    /// impl Model for Plane {
    ///     type State = [f64; 2];
    ///     type Noise = GaussianNoise;
    ///     fn noise_dim(&self) -> usize { 2 }
    /// #   fn initial_state(&self) -> [f64; 2] { [0.0; 2] }
    /// #   fn step(&self, x: &mut [f64; 2], _t: f64, dt: f64, xi: &GaussianNoise) {
    /// #       x[0] += dt.sqrt() * xi[0]; x[1] += dt.sqrt() * xi[1];
    /// #   }
    /// #   fn score(&self, x: &[f64; 2], _t: f64) -> f64 { x[0] }
    /// }
    /// assert_eq!(Plane.noise_buffer().len(), 2);
    /// ```
    fn noise_dim(&self) -> usize;

    /// A fresh noise buffer (made once per worker, reused for every step); the default is
    /// [`Noise::new`]`(self.noise_dim())`.
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model};
    /// # struct Walk;
    /// # impl Model for Walk {
    /// #     type State = f64;
    /// #     type Noise = GaussianNoise;
    /// #     fn noise_dim(&self) -> usize { 3 }
    /// #     fn initial_state(&self) -> f64 { 0.0 }
    /// #     fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) { *x += dt.sqrt() * xi[0] }
    /// #     fn score(&self, x: &f64, _t: f64) -> f64 { *x }
    /// # }
    /// assert_eq!(&Walk.noise_buffer()[..], &[0.0; 3]);
    /// ```
    fn noise_buffer(&self) -> Self::Noise {
        Self::Noise::new(self.noise_dim())
    }

    /// The number of 32-bit words [`Model::sample_noise`] draws per step, at most; the default
    /// is [`Noise::words`]`(self.noise_dim())`. Override it only together with
    /// [`Model::sample_noise`].
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model, normal_words};
    /// # struct Walk;
    /// # impl Model for Walk {
    /// #     type State = f64;
    /// #     type Noise = GaussianNoise;
    /// #     fn noise_dim(&self) -> usize { 3 }
    /// #     fn initial_state(&self) -> f64 { 0.0 }
    /// #     fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) { *x += dt.sqrt() * xi[0] }
    /// #     fn score(&self, x: &f64, _t: f64) -> f64 { *x }
    /// # }
    /// assert_eq!(Walk.noise_words(), normal_words(3));
    /// ```
    fn noise_words(&self) -> u64 {
        Self::Noise::words(self.noise_dim())
    }

    /// Fill `noise` with the noise of one step from `rng`; the default is [`Noise::sample`].
    /// A model whose noise depends on its parameters overrides it (and [`Model::noise_words`]):
    ///
    /// ```
    /// use sampler::{Model, NoiseKey, NoiseRng, UniformNoise};
    /// /// Jumps up by 1 with probability `up`, else down by 1.
    /// struct Walk { up: f64 }
    /// impl Model for Walk {
    ///     type State = i64;
    ///     type Noise = UniformNoise;
    ///     fn noise_dim(&self) -> usize { 1 }
    ///     fn noise_words(&self) -> u64 { 2 }
    ///     fn sample_noise(&self, rng: &mut NoiseRng, u: &mut UniformNoise) {
    ///         // a certain step draws nothing from the stream
    ///         u[0] = if self.up >= 1.0 { 0.0 } else { rng.uniform() };
    ///     }
    ///     fn initial_state(&self) -> i64 { 0 }
    ///     fn step(&self, x: &mut i64, _t: f64, _dt: f64, u: &UniformNoise) {
    ///         *x += if u[0] < self.up { 1 } else { -1 };
    ///     }
    ///     fn score(&self, x: &i64, _t: f64) -> f64 { *x as f64 }
    /// }
    /// let m = Walk { up: 1.0 };
    /// let mut u = m.noise_buffer();
    /// m.sample_noise(&mut NoiseKey::new(1, 0).stream(0, m.noise_words()), &mut u);
    /// assert_eq!(u[0], 0.0);
    /// ```
    fn sample_noise(&self, rng: &mut NoiseRng, noise: &mut Self::Noise) {
        noise.sample(rng)
    }

    /// Advance `state` from time `time` to `time + dt` in place, driven by `noise`.
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model, Noise};
    /// /// Ornstein-Uhlenbeck: x <- x - theta x dt + sqrt(dt) xi
    /// struct Ou { theta: f64 }
    /// impl Model for Ou {
    /// #   type State = f64;
    /// #   type Noise = GaussianNoise;
    /// #   fn noise_dim(&self) -> usize { 1 }
    /// #   fn initial_state(&self) -> f64 { 1.0 }
    ///     fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) {
    ///         *x += -self.theta * *x * dt + dt.sqrt() * xi[0];
    ///     }
    /// #   fn score(&self, x: &f64, _t: f64) -> f64 { *x }
    /// }
    /// let (m, mut x) = (Ou { theta: 1.0 }, 1.0);
    /// m.step(&mut x, 0.0, 0.5, &m.noise_buffer()); // zero noise
    /// assert_eq!(x, 0.5);
    /// ```
    fn step(&self, state: &mut Self::State, time: f64, dt: f64, noise: &Self::Noise);

    /// The score (reaction coordinate) of a state; the target is reached when it is `>=` the
    /// target score.
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model};
    /// /// The distance from the origin.
    /// struct Plane;
    /// impl Model for Plane {
    /// #   type State = [f64; 2];
    /// #   type Noise = GaussianNoise;
    /// #   fn noise_dim(&self) -> usize { 2 }
    /// #   fn initial_state(&self) -> [f64; 2] { [0.0; 2] }
    /// #   fn step(&self, x: &mut [f64; 2], _t: f64, dt: f64, xi: &GaussianNoise) {
    /// #       x[0] += dt.sqrt() * xi[0]; x[1] += dt.sqrt() * xi[1];
    /// #   }
    ///     fn score(&self, x: &[f64; 2], _t: f64) -> f64 { x[0].hypot(x[1]) }
    /// }
    /// assert_eq!(Plane.score(&[3.0, 4.0], 0.0), 5.0);
    /// ```
    fn score(&self, state: &Self::State, time: f64) -> f64;

    /// A custom end condition checked after every step (besides the horizon and the target);
    /// the default never ends a trajectory early.
    ///
    /// ```
    /// # use sampler::{Model, UniformNoise};
    /// /// A walk absorbed at 0.
    /// struct Walk;
    /// impl Model for Walk {
    /// #   type State = i64;
    /// #   type Noise = UniformNoise;
    /// #   fn noise_dim(&self) -> usize { 1 }
    /// #   fn initial_state(&self) -> i64 { 1 }
    /// #   fn step(&self, x: &mut i64, _t: f64, _dt: f64, u: &UniformNoise) {
    /// #       *x += if u[0] < 0.5 { 1 } else { -1 };
    /// #   }
    /// #   fn score(&self, x: &i64, _t: f64) -> f64 { *x as f64 }
    ///     fn is_done(&self, x: &i64, _t: f64, _score: f64) -> bool { *x <= 0 }
    /// }
    /// assert!(Walk.is_done(&0, 1.0, 0.0));
    /// ```
    fn is_done(&self, _state: &Self::State, _time: f64, _score: f64) -> bool {
        false
    }

    /// Bytes of one state, if known without building one (`None`, the default: a run builds
    /// the initial state to measure it). A model with large states overrides it, so a run that
    /// cannot fit in memory is refused before the first state is allocated.
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model};
    /// /// A field of `n` values, each driven by its own noise.
    /// struct Field { n: usize }
    /// impl Model for Field {
    /// #   type State = Vec<f64>;
    /// #   type Noise = GaussianNoise;
    /// #   fn noise_dim(&self) -> usize { self.n }
    /// #   fn initial_state(&self) -> Vec<f64> { vec![0.0; self.n] }
    /// #   fn step(&self, u: &mut Vec<f64>, _t: f64, dt: f64, xi: &GaussianNoise) {
    /// #       u.iter_mut().zip(xi.iter()).for_each(|(u, xi)| *u += dt.sqrt() * xi);
    /// #   }
    /// #   fn score(&self, u: &Vec<f64>, _t: f64) -> f64 { u.iter().sum() }
    ///     fn state_bytes_hint(&self) -> Option<u64> { Some(8 * self.n as u64) }
    /// }
    /// assert_eq!(Field { n: 1 << 30 }.state_bytes_hint(), Some(8 << 30));
    /// ```
    fn state_bytes_hint(&self) -> Option<u64> {
        None
    }

    /// What the model is: its name and parameters. A run database records it, and a restart
    /// with a model whose description differs (another name, a changed parameter) is refused,
    /// naming the key (`model.NAME`) and both values. The default is the type name without
    /// parameters: override it (e.g. with [`ModelInfo::of`]) so that changed parameters are
    /// caught. An error (parameters that cannot be written as TOML) fails the run.
    ///
    /// ```
    /// # use sampler::{GaussianNoise, Model, ModelInfo};
    /// #[derive(serde::Serialize)]
    /// struct Walk { drift: f64 }
    /// impl Model for Walk {
    /// #   type State = f64;
    /// #   type Noise = GaussianNoise;
    /// #   fn noise_dim(&self) -> usize { 1 }
    /// #   fn initial_state(&self) -> f64 { 0.0 }
    /// #   fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) {
    /// #       *x += self.drift * dt + dt.sqrt() * xi[0];
    /// #   }
    /// #   fn score(&self, x: &f64, _t: f64) -> f64 { *x }
    ///     fn describe(&self) -> sampler::Result<ModelInfo> { ModelInfo::of("walk", self) }
    /// }
    /// let info = Walk { drift: 0.5 }.describe()?;
    /// assert_eq!(info.params["drift"].as_float(), Some(0.5));
    /// # Ok::<(), sampler::Error>(())
    /// ```
    fn describe(&self) -> Result<ModelInfo> {
        Ok(ModelInfo::named(std::any::type_name::<Self>()))
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
    /// values); [`ModelError::Describe`] if they do not (e.g. a map with non-string keys, or
    /// not a struct).
    ///
    /// ```
    /// use sampler::ModelInfo;
    /// #[derive(serde::Serialize)]
    /// struct P { theta: f64 }
    /// assert_eq!(ModelInfo::of("ou", &P { theta: 2.0 })?.params["theta"].as_float(), Some(2.0));
    /// assert!(ModelInfo::of("bad", &1.0).is_err()); // not a table
    /// # Ok::<(), sampler::Error>(())
    /// ```
    pub fn of<P: Serialize + ?Sized>(name: impl Into<String>, params: &P) -> Result<Self> {
        let name = name.into();
        match toml::Table::try_from(params) {
            Ok(params) => Ok(ModelInfo { name, params }),
            Err(source) => Err(ModelError::Describe { name, source }.into()),
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
