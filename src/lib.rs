//! retrace: adjoint checkpointing ([`revolve`]) and rare-event sampling ([`sampler`]) for long
//! time-stepping simulations. This package holds the `retrace` command-line tool; its library
//! only re-exports both crates (the examples of README.md and docs/ use them through it).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use revolve;
pub use sampler;

/// The Rust examples of the README and of each page of `docs/`, compiled and run as doctests
/// so the documentation stays true (one struct per file).
#[cfg(doctest)]
mod doc_examples {
    #[doc = include_str!("../README.md")]
    struct Readme;
    #[doc = include_str!("../docs/schedules.md")]
    struct Schedules;
    #[doc = include_str!("../docs/revolver.md")]
    struct Revolver;
    #[doc = include_str!("../docs/planning.md")]
    struct Planning;
    #[doc = include_str!("../docs/tams.md")]
    struct Tams;
    #[doc = include_str!("../docs/run-database.md")]
    struct RunDatabase;
    #[doc = include_str!("../docs/python.md")]
    struct Python;
    #[doc = include_str!("../docs/cluster.md")]
    struct Cluster;
    #[doc = include_str!("../docs/guarantees.md")]
    struct Guarantees;
    #[doc = include_str!("../docs/benchmarks.md")]
    struct Benchmarks;
    #[doc = include_str!("../docs/layout.md")]
    struct Layout;
}
