//! The parameters of one run, checked once where they are made.

use crate::simulate::Horizon;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a TAMS run does when it stalls: no trajectory is above the level (every one's maximum
/// is at or below it), so splitting cannot go on (`tams.on_stall`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnStall {
    /// Fail with [`crate::Error::Stalled`] naming the iteration, the level and how many
    /// trajectories share it (the default, as pyTAMS).
    #[default]
    Error,
    /// Report the extinction as a result: the estimate is 0, stop reason `extinction`.
    Zero,
}

impl OnStall {
    /// The config value (`error`, `zero`).
    pub fn as_str(self) -> &'static str {
        match self {
            OnStall::Error => "error",
            OnStall::Zero => "zero",
        }
    }
}

/// Parameters of one run (the `[tams]` and `[trajectory]` tables), made by [`RunParams::new`]
/// (or [`crate::Config::params`]); the fields are named as the config keys.
///
/// ```
/// use sampler::{Horizon, RunParams};
/// let mut p = RunParams::new(100, 1, 2_000, Horizon::new(1.0, 0.01, 3.0))?;
/// p.walltime = Some(std::time::Duration::from_secs(60));
/// assert!(RunParams::new(100, 100, 2_000, Horizon::new(1.0, 0.01, 3.0)).is_err()); // l >= N
/// # Ok::<(), sampler::Error>(())
/// ```
///
/// It cannot be written as a literal outside the crate:
///
/// ```compile_fail
/// use sampler::{Horizon, RunParams};
/// let p = RunParams {
///     ntrajectories: 0,
///     nsplititer: 10,
///     l: 0,
///     walltime: None,
///     horizon: Horizon::new(1.0, 0.01, 3.0),
/// };
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunParams {
    /// Number of trajectories N (`tams.ntrajectories`, >= 2).
    pub ntrajectories: u64,
    /// Maximum number of splitting iterations (`tams.nsplititer`).
    pub nsplititer: u64,
    /// The level of an iteration is the `l`-th smallest maximum score (`tams.l`, 1 <= l < N).
    pub l: u64,
    /// Stop splitting after this much wall time (`tams.walltime`; makes results
    /// timing-dependent).
    pub walltime: Option<Duration>,
    /// Horizon and target (`[trajectory]`).
    pub horizon: Horizon,
    /// What a stalled run does (`tams.on_stall`; default an error).
    pub on_stall: OnStall,
    /// Stop after the initial ensemble (`tams.init_ensemble_only`; with a run database, a
    /// restart without it goes on splitting).
    pub init_ensemble_only: bool,
}

impl RunParams {
    /// Parameters of `ntrajectories` trajectories, level rank `l` and at most `nsplititer`
    /// iterations over `horizon`, without a walltime; a [`crate::ConfigError::Invalid`]
    /// naming the config key of the first bad value (see [`RunParams::check`]).
    pub fn new(ntrajectories: u64, l: u64, nsplititer: u64, horizon: Horizon) -> Result<Self> {
        let p = RunParams {
            ntrajectories,
            nsplititer,
            l,
            walltime: None,
            horizon,
            on_stall: OnStall::Error,
            init_ensemble_only: false,
        };
        p.check()?;
        Ok(p)
    }

    /// The checks every strategy relies on (the fields are public, so each run repeats them):
    /// `ntrajectories >= 2`, `1 <= l < ntrajectories`, a finite positive step size, a finite
    /// non-negative end time with the step count [`Horizon::new`] gives, a finite target.
    ///
    /// ```
    /// use sampler::{Horizon, RunParams};
    /// let mut p = RunParams::new(10, 1, 5, Horizon::new(1.0, 0.1, 1.0))?;
    /// p.horizon.nsteps = 3; // no longer 1.0 / 0.1
    /// assert!(p.check().is_err());
    /// # Ok::<(), sampler::Error>(())
    /// ```
    pub fn check(&self) -> Result<()> {
        if self.ntrajectories < 2 {
            return Err(Error::config(
                "tams.ntrajectories",
                format!("must be >= 2, got {}", self.ntrajectories),
            ));
        }
        if self.l < 1 || self.l >= self.ntrajectories {
            return Err(Error::config(
                "tams.l",
                format!(
                    "must be >= 1 and < tams.ntrajectories ({}), got {}",
                    self.ntrajectories, self.l
                ),
            ));
        }
        let h = &self.horizon;
        if !(h.dt.is_finite() && h.dt > 0.0) {
            return Err(Error::config(
                "trajectory.step_size",
                format!("must be > 0, got {}", h.dt),
            ));
        }
        if !(h.end_time.is_finite() && h.end_time >= 0.0) {
            return Err(Error::config(
                "trajectory.end_time",
                format!("must be finite and >= 0, got {}", h.end_time),
            ));
        }
        let nsteps = Horizon::new(h.end_time, h.dt, h.target).nsteps;
        if h.nsteps != nsteps {
            return Err(Error::config(
                "trajectory.end_time",
                format!(
                    "{} steps of {} do not reach {} ({nsteps} do)",
                    h.nsteps, h.dt, h.end_time
                ),
            ));
        }
        if !h.target.is_finite() {
            return Err(Error::config(
                "trajectory.targetscore",
                format!("must be finite, got {}", h.target),
            ));
        }
        Ok(())
    }
}
