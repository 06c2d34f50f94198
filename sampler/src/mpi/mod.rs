//! Distributed TAMS and Monte Carlo over MPI ranks (feature `mpi`; entry point
//! [`crate::Run::run_mpi`]).
//!
//! Rank 0 runs the ordinary TAMS loop (levels, selection stream, weights, run database,
//! progress, report); its ensemble holds, for trajectories computed elsewhere, only which
//! rank holds their states and how many. Every rank, rank 0 included, computes trajectories on
//! its own rayon pool and keeps their states in its own store; only the main thread calls MPI.
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
//! Faults: rank 0 waits for answers with immediate probes against an `MPI_Wtime` deadline
//! ([`crate::Run::rank_timeout`]); a rank that does not answer in time makes
//! [`crate::Run::run_mpi`] return [`crate::Error::RankTimeout`]
//! (`rank R did not answer within S s while computing iteration I (K branch tasks)`), and the
//! caller ends the job (`MPI_Abort`; the library never does, see [`crate::Error::ends_job`]).
//! A rank that dies ends the job through the launcher. Every iteration committed
//! to the run database before that stays, and a restart (on any number of ranks) continues
//! bit-identically: rank 0 reads the run, deals the alive trajectories out in slot blocks, and
//! each rank rebuilds its share by replay.

pub(crate) mod coordinator;
pub(crate) mod link;
pub(crate) mod messages;
pub(crate) mod moves;
mod setup;
pub(crate) mod worker;

pub use link::Traffic;
pub use setup::{InitError, abort_on_panic, initialize};
