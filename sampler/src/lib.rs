//! Rare-event sampling: Trajectory-Adaptive Multilevel Splitting (TAMS) and plain Monte Carlo.
//!
//! - [`Model`]: the physics plug-in (in-place step, score, noise, initial state, end condition).
//! - [`NoiseKey`] / [`NoiseRng`]: counter-based noise streams keyed by (seed, trajectory id, step):
//!   bit-identical results for any thread count, any step's noise regenerated on demand.
//! - [`store`]: where trajectory states live ([`StoreAll`], [`InitialOnly`] + replay).
//! - [`strategy`]: [`Tams`] and [`MonteCarlo`] behind [`Strategy`].
//! - [`Config`] (TOML) and [`runner`] (thread pool, repeats, summary).
#![deny(missing_docs)]

pub mod config;
mod error;
pub mod model;
pub mod models;
pub mod noise;
pub mod runner;
pub mod simulate;
pub mod store;
pub mod strategy;
pub mod trajectory;

pub use config::Config;
pub use error::{Error, Result};
pub use model::Model;
pub use noise::{NoiseKey, NoiseRng, normal_words};
pub use simulate::Horizon;
pub use store::{InitialOnly, StoreAll, TrajectoryStore};
pub use strategy::{MonteCarlo, RunOutcome, RunParams, StopReason, Strategy, Tams};
pub use trajectory::{Ensemble, Segment, Snapshot, Trajectory};
