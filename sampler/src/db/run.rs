//! Running TAMS with a run database: new runs and restarts.

use super::restart::{config_changes, resume};
use super::states::{StateJournal, template};
use super::writer::RunDb;
use crate::config::{Config, StrategyName};
use crate::models::ModelVisitor;
use crate::runner::{Report, build_report, compact_store, pool};
use crate::store::{StateBytes, TrajectoryStore};
use crate::strategy::{Progress, RunOutcome, Tams};
use crate::{Error, Model, NoiseKey, Result, StoreAll};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// States at least this large are saved when `[database] save_states` is not given: replaying
/// them is costly, while smaller states replay faster than one file write per iteration.
pub const AUTO_SAVE_STATE_BYTES: usize = 64 * 1024;

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

struct Visit<'a> {
    config: &'a Config,
    save: Option<bool>,
    db: &'a mut RunDb,
    progress: Progress<'a>,
}

impl ModelVisitor for Visit<'_> {
    type Output = Result<RunOutcome>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: StateBytes + PartialEq,
    {
        // The same store as a run without a database: compact under a budget, else store-all.
        match compact_store(self.config, model) {
            Some(store) => self.run(model, Tams::new(store)),
            None => self.run(model, Tams::new(StoreAll)),
        }
    }
}

impl Visit<'_> {
    fn run<M: Model, St: TrajectoryStore<M::State>>(
        self,
        model: &M,
        tams: Tams<St>,
    ) -> Result<RunOutcome>
    where
        M::State: StateBytes,
    {
        let mut params = self.config.params();
        let key = NoiseKey::new(self.config.tams.seed, 0);
        let rebuild = Instant::now();
        let from = resume(
            self.db,
            model,
            &tams.store,
            &params.horizon,
            key,
            params.ntrajectories,
        )?;
        // The walltime counts the rebuild too.
        params.walltime = params.walltime.map(|w| {
            w.saturating_sub(rebuild.elapsed())
                .max(Duration::from_nanos(1))
        });
        let mut journal = StateJournal {
            db: self.db,
            store: &tams.store,
            template: template(
                model,
                self.save
                    .unwrap_or_else(|| model.initial_state().byte_len() >= AUTO_SAVE_STATE_BYTES),
            ),
        };
        tams.run_journaled(model, &params, key, self.progress, &mut journal, from)
            .map(|(o, _)| o)
    }
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
    // `[database] save_states`: as given, else as recorded in `meta`, else by the state size.
    let given_save = config
        .and_then(|c| c.database.as_ref())
        .and_then(|d| d.save_states);
    let with_seed = |c: &Config| {
        let mut c = c.clone();
        if let Some(s) = opts.seed {
            c.tams.seed = s;
        }
        c.database = None;
        c
    };
    let (mut db, config) = if opts.restart {
        let (mut db, stored) = RunDb::open(&opts.dir)?;
        let given = with_seed(config.unwrap_or(&stored));
        let changes = config_changes(&opts.dir, &stored, &given)?;
        check(&given)?;
        db.start_session("restart")?;
        if !changes.is_empty() {
            db.record_changes(&given, &changes)?;
        }
        (db, given)
    } else {
        let config = with_seed(config.ok_or(Error::config(
            "config",
            "a new run database needs a configuration",
        ))?);
        check(&config)?;
        (RunDb::create(&opts.dir, &config)?, config)
    };
    check(&config)?;
    let threads = match opts.threads {
        Some(0) => return Err(Error::config("threads", "must be >= 1, got 0")),
        Some(t) => Some(t),
        None => config.runner.nworkers.map(|n| n as usize),
    };
    let save = db.save_states(given_save)?;
    let start = Instant::now();
    let outcome = pool(threads)?.install(|| {
        config.model.visit(Visit {
            config: &config,
            save,
            db: &mut db,
            progress,
        })
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let report = build_report(&config, config.tams.seed, 1, vec![outcome], seconds)?;
    Ok((report, config))
}

fn check(config: &Config) -> Result<()> {
    if config.sampler.strategy != StrategyName::Tams {
        return Err(Error::config(
            "sampler.strategy",
            "a run database records TAMS runs only",
        ));
    }
    Ok(())
}
