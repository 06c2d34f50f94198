//! Distributed TAMS and Monte Carlo: rank 0 coordinates, worker ranks compute, over any
//! [`Transport`]: MPI ranks (feature `mpi`, [`crate::Run::run_mpi`]) or the processes of one
//! machine over Unix sockets ([`LocalTransport`], [`crate::Run::run_distributed`] and
//! [`serve`]; what the Python package's worker processes use).
//!
//! Rank 0 runs the ordinary TAMS loop (levels, selection stream, weights, run database,
//! progress, report); its ensemble holds, for trajectories computed elsewhere, only which
//! rank holds their states and how many. Every rank, rank 0 included, computes trajectories on
//! its own rayon pool and keeps their states in its own store; only the main thread talks to
//! the transport. Rank 0's first message to each worker rank is its settings, so a worker
//! needs only the model.
//!
//! Placement: "states stay where they were computed", balanced per iteration. The initial
//! ensemble's ids are dealt in contiguous blocks (rank r gets `r N / P .. (r + 1) N / P`); a
//! branch task goes to the rank holding its parent while that rank has fewer than
//! `ceil(tasks / P)` of the iteration's tasks, otherwise to the least-loaded rank (lowest on
//! ties). A task computed away from its parent's rank gets the parent's held states (its
//! checkpoints: every state for store-all), through rank 0, and rebuilds the owner's record
//! from them exactly, so it replays from the same nearest checkpoint as a single process would:
//! `replay_steps` and `peak_states_held` stay the single-process ones, the cost is those bytes.
//! The child then lives on the rank that computed it. Other messages are small (postcard): a
//! task is two ids, a result the child's scores after the branch step and its counters; noise
//! never travels (the counter-based streams regenerate it anywhere). Results are applied in
//! task order, never arrival order, and the error reported is the first failing task's, as in
//! a single process.
//!
//! Faults: rank 0 waits for answers against a deadline ([`crate::Run::rank_timeout`]); a rank
//! that does not answer in time gives [`crate::Error::RankTimeout`]
//! (`rank R did not answer within S s while computing iteration I (K branch tasks)`), and the
//! caller ends the job (`MPI_Abort`; the library never does, see [`crate::Error::ends_job`]).
//! Over MPI a rank that dies ends the job through the launcher; over [`LocalTransport`] its
//! closed socket gives [`crate::Error::Rank`] at once. Every iteration committed to the run
//! database before that stays, and a restart (on any number of ranks) continues
//! bit-identically: rank 0 reads the run, deals the alive trajectories out in slot blocks, and
//! each rank rebuilds its share by replay.

pub(crate) mod coordinator;
mod ensemble;
pub(crate) mod link;
#[cfg(unix)]
mod local;
pub(crate) mod messages;
pub(crate) mod moves;
mod transport;
pub(crate) mod worker;

pub use crate::pipeline::distributed::serve;
pub use link::Traffic;
#[cfg(unix)]
pub use local::LocalTransport;
pub use transport::Transport;

/// An explanation a worker rank sends instead of an error's own message (for example the
/// traceback of the Python exception behind a [`crate::ModelError::NanScore`]); `None` keeps
/// the error as it is. Rank 0 reports an explained error as [`crate::Error::Rank`] with that
/// text.
pub type Explain<'a> = dyn Fn(&crate::Error) -> Option<String> + Sync + 'a;
