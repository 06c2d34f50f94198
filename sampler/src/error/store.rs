//! Errors of the trajectory stores.

use std::path::PathBuf;

/// A trajectory store error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot provide a state needed for branching.
    #[error("the trajectory store holds no state at or before step {step}")]
    MissingState {
        /// The requested step.
        step: u64,
    },
    /// A replay was given no noise lineage for the steps it must regenerate.
    #[error("cannot replay step {step}: the noise lineage is empty")]
    EmptyLineage {
        /// The first step to replay.
        step: u64,
    },
    /// A checkpoint file could not be written, read or verified.
    #[error("checkpoint file {}: {source}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: revolve::Error,
    },
    /// A checkpoint file holds another step than the one it was written for.
    #[error("corrupt checkpoint file {}: holds step {found}, expected {expected}", path.display())]
    WrongStep {
        /// The file.
        path: PathBuf,
        /// Step in the file.
        found: u64,
        /// Step expected.
        expected: u64,
    },
    /// A spill directory could not be created.
    #[error("cannot create spill directory {}: {source}", path.display())]
    SpillDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The checkpoint planner refused (a schedule too small for the trajectory).
    #[error("checkpoint placement: {0}")]
    Planner(#[source] revolve::Error),
    /// An error met earlier by a call that could not report it (shared by the record).
    #[error(transparent)]
    Earlier(std::sync::Arc<crate::Error>),
    /// A state does not have the byte length of the model's states.
    #[error("trajectory {trajectory}: cannot persist the state of step {step}")]
    Persist {
        /// Trajectory id.
        trajectory: u64,
        /// Step.
        step: u64,
    },
}
