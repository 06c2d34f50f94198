//! Distributed TAMS and Monte Carlo over MPI ranks (feature `mpi`; entry point
//! [`crate::Run::run_mpi`]).
//!
//! Rank 0 runs the ordinary TAMS loop (levels, selection stream, weights, run database,
//! progress, report); its ensemble holds, for trajectories computed elsewhere, only which
//! rank holds their states and how many. Every rank, rank 0 included, computes trajectories on
//! its own rayon pool and keeps their states in its own store; only the main thread calls MPI.
//!
//! Placement: "states stay where they were computed". The initial ensemble's ids are dealt in
//! contiguous blocks (rank r gets `r N / P .. (r + 1) N / P`); a branch task goes to the rank
//! holding its parent, which replays from its own nearest checkpoint exactly as a single
//! process would. No state bytes travel and no step is replayed beyond the single-process run
//! (so `replay_steps` and `peak_states_held` are the same), at the cost of balance: children
//! land where their parents live, so ranks whose trajectories keep being killed run out of
//! work. Messages are small (postcard): a task is two ids, a result the child's scores after
//! the branch step and its counters; noise never travels (the counter-based streams
//! regenerate it anywhere). Results are applied in task order, never arrival order, and the
//! error reported is the first failing task's, as in a single process.
//!
//! Faults: rank 0 waits for answers with immediate probes against an `MPI_Wtime` deadline
//! ([`crate::Run::rank_timeout`]); a rank that does not answer in time ends the job with one
//! line (`rank R did not answer within S s while computing iteration I (K branch tasks)`) and
//! `MPI_Abort`. A rank that dies ends the job through the launcher. Every iteration committed
//! to the run database before that stays, and a restart (on any number of ranks) continues
//! bit-identically: rank 0 reads the run, deals the alive trajectories out in slot blocks, and
//! each rank rebuilds its share by replay.

mod config_run;
pub(crate) mod coordinator;
pub(crate) mod link;
pub(crate) mod messages;
pub(crate) mod worker;

pub use config_run::run_config;
pub use link::Traffic;
