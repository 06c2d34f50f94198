//! Errors of the Zarr outputs (transition paths, ensemble output).

use std::path::PathBuf;

/// A Zarr output (transition paths, ensemble output) failed or was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The output path holds something already (a new output is never written over it).
    #[error("{}: exists already (choose a new path or remove it)", path.display())]
    Exists {
        /// The output path.
        path: PathBuf,
    },
    /// Reading or writing the Zarr group failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Zarr {
        /// The group (or the file in it).
        path: PathBuf,
        /// What was being done (`create the group`, `write chunk [0, 3]`, ...).
        action: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file of the group is damaged (named with the reason).
    #[error("{}: damaged: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A state's shape or element type differs from the first state's.
    #[error(
        "trajectory {trajectory}, step {step}: a state of shape {got:?} ({got_dtype}) where the \
         output holds {expected:?} ({expected_dtype})"
    )]
    Shape {
        /// Trajectory id.
        trajectory: u64,
        /// Step.
        step: u64,
        /// The output's shape.
        expected: Vec<usize>,
        /// Its element type.
        expected_dtype: &'static str,
        /// The state's shape.
        got: Vec<usize>,
        /// Its element type.
        got_dtype: &'static str,
    },
    /// A regenerated state does not score what the run database recorded (another model or
    /// build than the run's).
    #[error(
        "{}: trajectory {trajectory}, step {step}: the regenerated state scores {got}, the run \
         recorded {recorded} (model or build changed?)",
        run.display()
    )]
    Replay {
        /// The run directory.
        run: PathBuf,
        /// Trajectory id.
        trajectory: u64,
        /// Step.
        step: u64,
        /// The score of the regenerated state.
        got: f64,
        /// The recorded score.
        recorded: f64,
    },
    /// An existing ensemble output belongs to another run (a restart with other settings).
    #[error(
        "{}: written by another run: {key} is {stored} there, {given} here",
        path.display()
    )]
    OtherRun {
        /// The group.
        path: PathBuf,
        /// The differing setting.
        key: String,
        /// Its value in the group.
        stored: String,
        /// Its value in this run.
        given: String,
    },
    /// The model given is not the run's (it describes itself otherwise).
    #[error(
        "{}: not the run's model: {key} is {stored} in the run, {given} in the model given",
        run.display()
    )]
    OtherModel {
        /// The run directory.
        run: PathBuf,
        /// The differing key (`model.NAME`).
        key: String,
        /// The recorded value.
        stored: String,
        /// The given model's value.
        given: String,
    },
    /// A selection of trajectories names one the run does not have.
    #[error("{}: no trajectory {id}", run.display())]
    NoTrajectory {
        /// The run directory.
        run: PathBuf,
        /// The id asked for.
        id: u64,
    },
}

impl OutputError {
    /// A Zarr failure at `path` while doing `action`.
    pub(crate) fn zarr(
        path: &std::path::Path,
        action: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        OutputError::Zarr {
            path: path.to_path_buf(),
            action: action.into(),
            source: Box::new(source),
        }
    }
}
