//! Optimal adjoint checkpointing.
//!
//! A reverse (adjoint) sweep over `n` time steps needs the forward states in reverse order; this
//! crate plans which states to keep ([`schedule`]), checks any plan with an independent abstract
//! machine ([`validate()`]), stores checkpoints in RAM or on disk ([`storage`]), and drives
//! user operators through a plan with the [`Revolver`](revolver).
#![deny(missing_docs)]

pub mod action;
mod api_notes;
pub mod cost;
pub mod error;
pub mod planner;
pub mod pricing;
pub mod revolver;
pub mod schedule;
pub mod storage;
pub mod units;
pub mod validate;

pub use action::{Action, Level, ParseActionError};
pub use error::Error;
pub use pricing::Costs;
pub use revolver::{ForwardOperator, ReverseOperator, Revolver, RevolverStats};
pub use schedule::binomial::Binomial;
pub use schedule::cost_aware::CostAware;
pub use schedule::mixed::{Mixed, MixedTable};
pub use schedule::multistage::Multistage;
pub use schedule::online::Online;
pub use schedule::periodic::Periodic;
pub use schedule::{Custom, Schedule};
pub use storage::disk::{DiskStats, DiskStore, DiskStoreBuilder};
pub use storage::{CheckpointStore, NoDisk, State, ram::RamStore};
pub use validate::{Capacity, Machine, Rule, Stats, Violation, validate};
