//! retrace-demo: the physics behind retrace's demo, examples, tests and benchmarks; not
//! published, not part of the checkpointing or sampling API.
//!
//! - [`burgers`]: the 1D viscous Burgers model and its discrete adjoint (`retrace demo`).
//! - [`partition`]: contiguous blocks of a periodic grid, one per MPI rank.
//! - `burgers_mpi` (feature `mpi`): the Burgers adjoint split over MPI ranks.
//! - [`harness`]: measurement helpers shared by the benches, examples and tests.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod burgers;
#[cfg(feature = "mpi")]
pub mod burgers_mpi;
pub mod harness;
pub mod partition;
