//! Running a configuration file's run: builds the built-in model it names and hands it to the
//! same [`Run`] builder a user's model goes through (a thin layer for the CLI).

use crate::config::Config;
use crate::models::ModelVisitor;
use crate::pipeline::{Database, Run};
use crate::store::StateBytes;
use crate::strategy::Progress;
use crate::{Model, Result};
use std::path::PathBuf;

pub use crate::pipeline::{ErrorSource, Report};
#[cfg(feature = "mpi")]
pub use mpi_config::run_config as run_config_mpi;

#[cfg(feature = "mpi")]
mod mpi_config;

/// Options of [`run_config`] that override or complement the file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replace `tams.seed`.
    pub seed: Option<u64>,
    /// Independent repeats (default 1).
    pub repeats: Option<u64>,
    /// Replace `runner.nworkers`.
    pub threads: Option<usize>,
}

/// How to run with a database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// The run directory.
    pub dir: PathBuf,
    /// Continue the run in `dir` (otherwise create a new one there).
    pub restart: bool,
    /// Replace `tams.seed` (a restart refuses a different seed).
    pub seed: Option<u64>,
    /// Replace `runner.nworkers`.
    pub threads: Option<usize>,
}

impl DbOptions {
    /// Options for `dir` (new run, or `restart`), no seed or thread override.
    pub fn new(dir: PathBuf, restart: bool) -> Self {
        DbOptions {
            dir,
            restart,
            seed: None,
            threads: None,
        }
    }
}

/// The run a config asks for, with the database `db` (`(dir, restart)`) if any.
struct Visit<'a> {
    config: &'a Config,
    repeats: u64,
    threads: Option<usize>,
    db: Option<(&'a std::path::Path, bool)>,
    progress: Progress<'a>,
}

impl ModelVisitor for Visit<'_> {
    type Output = Result<Report>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: StateBytes + PartialEq + crate::ArrayState,
    {
        configured(
            model,
            self.config,
            self.repeats,
            self.threads,
            self.db,
            self.progress,
        )?
        .run()
    }
}

/// The [`Run`] of `model` that config `c` asks for ([`Run::from_config`]) with `threads`
/// replacing `runner.nworkers`, `repeats`, `progress`, and the database `db` (`(dir, restart)`)
/// replacing `[database]` (`None`: no database, whatever `[database]` says); a new database
/// records `c` as given (less `[database]`).
pub(crate) fn configured<'a, M: Model>(
    model: &'a M,
    c: &Config,
    repeats: u64,
    threads: Option<usize>,
    db: Option<(&std::path::Path, bool)>,
    progress: Progress<'a>,
) -> Result<Run<'a, M>>
where
    M::State: StateBytes + PartialEq + crate::ArrayState,
{
    let mut given = c.clone();
    if db.is_none() {
        given.database = None;
    }
    let mut run = Run::from_config(model, &given)?
        .repeats(repeats)
        .on_progress(progress);
    if let Some(t) = threads {
        run = run.threads(t);
    }
    #[cfg(feature = "zarr")]
    if c.output.is_some() {
        run = run.output(c.output.clone());
    }
    if let Some((dir, restart)) = db {
        run = run.database(if restart {
            Database::Continue(dir.to_path_buf())
        } else {
            Database::Create(dir.to_path_buf())
        });
    }
    given.database = None;
    if let Ok(text) = toml::to_string(&given) {
        run = run.given_config(text);
    }
    Ok(run)
}

/// Run a validated configuration: `repeats` independent runs on a pool of
/// `threads` / `runner.nworkers` workers.
pub fn run_config(config: &Config, opts: &RunOptions, progress: Progress<'_>) -> Result<Report> {
    let mut config = config.clone();
    if let Some(seed) = opts.seed {
        config.tams.seed = Some(seed);
    }
    config.model.visit(Visit {
        config: &config,
        repeats: opts.repeats.unwrap_or(1),
        threads: opts.threads,
        db: None,
        progress,
    })
}

/// Run TAMS recording every iteration in the run directory `opts.dir`, or continue the run there
/// (`opts.restart`; `config` may then be `None` to reuse the recorded one). Returns the report
/// (bit-identical to an uninterrupted run with the same seed, except `seconds`) and the
/// effective config.
pub fn run_with_database(
    config: Option<&Config>,
    opts: &DbOptions,
    progress: Progress<'_>,
) -> Result<(Report, Config)> {
    let mut config = match config {
        Some(c) => c.clone(),
        None if opts.restart => recorded_config(&opts.dir)?,
        None => {
            return Err(crate::Error::config(
                "config",
                "a new run database needs a configuration",
            ));
        }
    };
    if let Some(seed) = opts.seed {
        config.tams.seed = Some(seed);
    }
    let report = config.model.visit(Visit {
        config: &config,
        repeats: 1,
        threads: opts.threads,
        db: Some((&opts.dir, opts.restart)),
        progress,
    })?;
    config.database = None;
    Ok((report, config))
}

/// The configuration a run directory recorded (its model must be a built-in one): the one
/// given when the run was created, if recorded, with the seed and the keys a restart may
/// change (`nsplititer`, `walltime`, `nworkers`, `on_stall`) as last recorded, else the one
/// its description gives; `init_ensemble_only` is off (a restart without a configuration
/// goes on splitting).
pub fn recorded_config(dir: &std::path::Path) -> Result<Config> {
    let reader = crate::db::RunReader::open(dir)?;
    let description = reader.description()?;
    let text = toml::to_string(&description).map_err(crate::ConfigError::Describe)?;
    let mut recorded = Config::from_toml(&text)?;
    let Some(mut given) = reader
        .meta("config")?
        .and_then(|t| Config::from_toml(&t).ok())
    else {
        recorded.tams.init_ensemble_only = false;
        return Ok(recorded);
    };
    given.tams.nsplititer = recorded.tams.nsplititer;
    given.tams.walltime = recorded.tams.walltime;
    given.runner.nworkers = recorded.runner.nworkers;
    given.tams.seed = recorded.tams.seed;
    given.tams.on_stall = recorded.tams.on_stall;
    // A restart without a configuration goes on splitting.
    given.tams.init_ensemble_only = false;
    Ok(given)
}

/// The configuration of the built-in demo: TAMS on the 2D double well (N = 50, T = 10, dt = 0.01).
///
/// Not public (the demo is [`demo_doublewell2d`]):
/// ```compile_fail
/// let _ = sampler::runner::DEMO_CONFIG;
/// ```
pub(crate) const DEMO_CONFIG: &str = r#"
[tams]
ntrajectories = 50
nsplititer = 2000
l = 1
[trajectory]
end_time = 10.0
step_size = 0.01
targetscore = 0.95
[sampler]
strategy = "tams"
[model]
name = "doublewell2d"
epsilon = 0.05
"#;

/// A short TAMS run on the 2D double well (for `retrace demo`).
pub fn demo_doublewell2d(seed: u64, threads: Option<usize>) -> Result<Report> {
    let config = Config::from_toml(DEMO_CONFIG)?;
    let opts = RunOptions {
        seed: Some(seed),
        repeats: Some(1),
        threads,
    };
    run_config(&config, &opts, &|_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_runs_and_converges() {
        let r = demo_doublewell2d(3, Some(2)).unwrap();
        assert_eq!(r.details[0].stop, crate::StopReason::Converged);
        assert!(r.estimate > 0.0 && r.estimate < 1e-2, "{}", r.estimate);
        assert!(r.model_steps > 10_000);
    }
}
