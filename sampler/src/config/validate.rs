//! Checking every value of a configuration, naming the first offending key.

use super::schema::{Config, PolicyName, StrategyName};
use crate::{Error, Result};

impl Config {
    /// Check every value, naming the first offending key.
    pub fn validate(&self) -> Result<()> {
        if let Some(db) = &self.database {
            if db.path.as_os_str().is_empty() {
                return Err(Error::config("database.path", "must not be empty"));
            }
            if self.sampler.strategy != StrategyName::Tams {
                return Err(Error::config(
                    "database.path",
                    "a run database needs strategy \"tams\"",
                ));
            }
        }
        if let Some(out) = &self.output {
            out.check()?;
            if self.sampler.strategy != StrategyName::Montecarlo {
                return Err(Error::config(
                    "output.path",
                    "ensemble output needs strategy \"montecarlo\"",
                ));
            }
        }
        let t = &self.tams;
        if t.ntrajectories < 2 {
            return Err(Error::config(
                "tams.ntrajectories",
                format!("must be >= 2, got {}", t.ntrajectories),
            ));
        }
        if self.sampler.strategy == StrategyName::Tams && t.nsplititer.is_none() {
            return Err(Error::config(
                "tams.nsplititer",
                "missing (required for strategy \"tams\")",
            ));
        }
        if t.l < 1 || t.l >= t.ntrajectories {
            return Err(Error::config(
                "tams.l",
                format!(
                    "must be >= 1 and < tams.ntrajectories ({}), got {}",
                    t.ntrajectories, t.l
                ),
            ));
        }
        if let Some(w) = t.walltime
            && !(w.is_finite() && w > 0.0)
        {
            return Err(Error::config(
                "tams.walltime",
                format!("must be > 0, got {w}"),
            ));
        }
        let tr = &self.trajectory;
        if !(tr.step_size.is_finite() && tr.step_size > 0.0) {
            return Err(Error::config(
                "trajectory.step_size",
                format!("must be > 0, got {}", tr.step_size),
            ));
        }
        if !(tr.end_time.is_finite() && tr.end_time > 0.0) {
            return Err(Error::config(
                "trajectory.end_time",
                format!("must be > 0, got {}", tr.end_time),
            ));
        }
        if tr.end_time / tr.step_size > 1e15 {
            return Err(Error::config(
                "trajectory.end_time",
                format!(
                    "{} / step_size {} is more than 1e15 steps",
                    tr.end_time, tr.step_size
                ),
            ));
        }
        // One step past a shorter horizon (beyond the rounding noise of the division). With
        // step_size <= end_time the step count is >= 1; its overflow is the 1e15 check above.
        if tr.step_size > tr.end_time * (1.0 + 1e-9) {
            return Err(Error::config(
                "trajectory.step_size",
                format!(
                    "{:?} is larger than trajectory.end_time {:?}: no step fits in the horizon",
                    tr.step_size, tr.end_time
                ),
            ));
        }
        if !tr.targetscore.is_finite() {
            return Err(Error::config(
                "trajectory.targetscore",
                format!("must be finite, got {}", tr.targetscore),
            ));
        }
        if tr.policy != PolicyName::StoreAll && tr.memory_budget.is_none() {
            return Err(Error::config(
                "trajectory.memory_budget",
                format!("missing (required for policy \"{}\")", tr.policy.as_str()),
            ));
        }
        if let Some(dir) = &tr.checkpoint_dir {
            check_checkpoint_dir(dir)?;
        }
        self.spill_codec()?;
        if tr.checkpoint_interval == Some(0) {
            return Err(Error::config(
                "trajectory.checkpoint_interval",
                "must be >= 1, got 0",
            ));
        }
        if tr.checkpoint_slots == Some(0) {
            return Err(Error::config(
                "trajectory.checkpoint_slots",
                "must be >= 1, got 0",
            ));
        }
        if self.runner.nworkers == Some(0) {
            return Err(Error::config("runner.nworkers", "must be >= 1, got 0"));
        }
        if let Some(n) = self.runner.nworkers {
            crate::pipeline::check_threads("runner.nworkers", n)?;
        }
        self.model.validate()
    }
}

/// `trajectory.checkpoint_dir` must be an existing, writable directory: only the run's own spill
/// directory is created inside it (never missing parents), so a bad place is found now, not at
/// the first spill.
fn check_checkpoint_dir(dir: &std::path::Path) -> Result<()> {
    const KEY: &str = "trajectory.checkpoint_dir";
    if dir.as_os_str().is_empty() {
        return Err(Error::config(KEY, "must not be empty"));
    }
    let bad = |why: String| Error::config(KEY, format!("{}: {why}", dir.display()));
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(bad("not a directory".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(
                "no such directory (it is not created; create it first)".into(),
            ));
        }
        Err(e) => return Err(bad(e.to_string())),
    }
    // The only reliable test of "may create files here" (permissions, read-only mounts, /proc):
    // create a temporary file there; it is removed when dropped.
    tempfile::Builder::new()
        .prefix(".retrace-check-")
        .tempfile_in(dir)
        .map_err(|e| bad(format!("cannot create files in it: {e}")))?;
    Ok(())
}
