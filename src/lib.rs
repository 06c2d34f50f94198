//! retrace: adjoint checkpointing ([`revolve`]) and rare-event sampling ([`sampler`]) for long
//! time-stepping simulations. This package holds the `retrace` command-line tool and re-exports
//! both crates.
#![deny(missing_docs)]

pub mod burgers;
#[cfg(feature = "mpi")]
pub mod burgers_mpi;
pub mod harness;
pub mod partition;
pub mod plan_view;
pub mod run_plot;
mod svg_axes;

pub use revolve;
pub use sampler;

/// The README's Rust examples, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
