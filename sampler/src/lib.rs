//! Rare-event sampling: Trajectory-Adaptive Multilevel Splitting (TAMS) and plain Monte Carlo.
//!
//! - [`Model`]: the physics plug-in (in-place step, score, noise, initial state, end condition).
//! - [`NoiseKey`] / [`NoiseRng`]: counter-based noise streams keyed by (seed, trajectory id, step):
//!   bit-identical results for any thread count, any step's noise regenerated on demand.
//! - [`store`]: where trajectory states live ([`StoreAll`], [`InitialOnly`] + replay, and the
//!   memory-bounded [`CompactStore`]: checkpoints placed by a [`Placement`], shared between
//!   parents and children, in RAM up to a budget and in checksummed spill files beyond).
//! - [`strategy`]: [`Tams`] and [`MonteCarlo`] behind [`Strategy`].
//! - [`Run`] ([`pipeline`]): the one run pipeline for every model, built-in or the user's: store
//!   policy with a memory budget and spill, run database ([`db`]) and restart, walltime, progress,
//!   repeats, the JSON [`Report`]. [`Model::describe`] identifies the model in a database.
//! - [`Config`] (TOML): [`Run::from_config`] maps it to a run of any model; [`runner`] builds
//!   the built-in model a config names and hands it to the same [`Run`].
//! - [`distributed`]: the same runs over ranks of a [`distributed::Transport`], bit-identical to
//!   one process: MPI ranks (feature `mpi`: `Run::run_mpi`, after `sampler::mpi::initialize()`)
//!   or worker processes over Unix sockets ([`Run::run_distributed`]).
//! - [`ArrayState`]: a state as an n-d numeric array; `output` (feature `zarr`, default): the
//!   transition paths of a run database and Monte Carlo ensembles as Zarr v3 groups.
//!
//! The library prints nothing and never ends the process: warnings come back in
//! [`Report::warnings`], failures as [`Error`].
//!
//! Layers, each using only those listed before it: noise, model, trajectory store, strategy
//! (calling a [`Journal`]), database (implementing the journal), pipeline (running a strategy
//! with or without a database), then config and runner.
//!
//! ```
//! use sampler::models::Brownian;
//! use sampler::{Horizon, NoiseKey, RunParams, StopReason, Strategy, Tams};
//!
//! // P(max of a 100-step Brownian path on [0, 1] >= 3) = 2.256626e-3.
//! let params = RunParams::new(100, 1, 10_000, Horizon::new(1.0, 0.01, 3.0))?;
//! let run = Tams::default().run(&Brownian::default(), &params, NoiseKey::new(1, 0), &|_, _| {})?;
//! assert_eq!(run.stop, StopReason::Converged);
//! assert!(run.estimate > 5e-4 && run.estimate < 1e-2);
//! # Ok::<(), sampler::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod array_state;
pub mod config;
pub mod db;
pub mod distributed;
mod error;
pub mod journal;
mod lockstep;
pub mod model;
pub mod models;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod noise;
mod outcome;
#[cfg(feature = "zarr")]
pub mod output;
mod parallel;
pub mod pipeline;
pub mod runner;
pub mod simulate;
pub mod store;
pub mod strategy;
pub mod trajectory;

pub use array_state::{ArrayState, DType, Element};
pub use config::{Config, OutputConfig};
pub use error::{
    ConfigError, DbError, Error, Missing, ModelError, OutputError, Result, Row, StoreError,
};
pub use journal::{IterationRecord, Journal, LoopState, NoJournal, Resume};
pub use model::{Model, ModelInfo};
pub use noise::{
    ExponentialNoise, GaussianNoise, Noise, NoiseKey, NoiseRng, UniformNoise, normal_words,
    seed_from_os,
};
pub use pipeline::{Database, Report, Run, StorePolicy, StrategyKind};
pub use simulate::Horizon;
pub use store::{CompactStore, InitialOnly, Placement, StoreAll, TrajectoryStore};
pub use strategy::{MonteCarlo, OnStall, RunOutcome, RunParams, StopReason, Strategy, Tams};
pub use trajectory::{Ensemble, Segment, Snapshot, Trajectory};
