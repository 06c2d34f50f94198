//! Distributed TAMS and Monte Carlo over MPI ranks (feature `mpi`; entry point
//! [`crate::Run::run_mpi`]): the protocol of [`crate::distributed`] over MPI point-to-point
//! messages ([`MpiTransport`]), and setting up a process as a rank ([`initialize`],
//! [`abort_on_panic`]).

mod setup;
mod transport;

pub use crate::distributed::Traffic;
pub use setup::{InitError, abort_on_panic, initialize};
pub use transport::MpiTransport;
