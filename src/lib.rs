//! retrace: adjoint checkpointing ([`revolve`]) and rare-event sampling ([`sampler`]) for long
//! time-stepping simulations. This package holds the `retrace` command-line tool; its library
//! only re-exports both crates (the README's examples use them through it).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use revolve;
pub use sampler;

/// The README's Rust examples, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
