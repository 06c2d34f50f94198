//! The run pipeline: the only code that runs a strategy for a whole run, for every model.
//!
//! [`Run`] is a builder in the style of argmin's `Executor`. It starts from a model and
//! - its [`RunParams`] ([`Run::new`]),
//! - a [`Config`] ([`Run::from_config`]: the one mapping of config keys to settings, used by
//!   the CLI, the MPI runner and Python), or
//! - a run directory ([`Run::from_database`]: the recorded settings, continuing that run),
//!
//! then takes options (seed, strategy, store policy with a memory budget and spill directory,
//! the run database ([`Run::database`] with a [`Database`]), threads, repeats, progress), then
//! [`Run::run`] gives the [`Report`]. The CLI builds its built-in models from a config file and
//! calls the same builder, so a user's model gets exactly what a built-in one gets.
//!
//! ```
//! use sampler::models::Brownian;
//! use sampler::{Database, Horizon, Run, RunParams, StorePolicy};
//!
//! let params = RunParams::new(50, 1, 2_000, Horizon::new(1.0, 0.01, 3.0))?;
//! let dir = tempfile::tempdir().unwrap();
//! let spill = tempfile::tempdir().unwrap();
//! let store = StorePolicy::Uniform {
//!     budget: 4096,
//!     interval: None,
//!     spill_dir: Some(spill.path().to_path_buf()),
//! };
//! let model = Brownian::default();
//! let first = Run::new(&model, params.clone())
//!     .seed(3)
//!     .store(store)
//!     .database(Database::Create(dir.path().join("run")))
//!     .threads(2)
//!     .run()?;
//! // Continue the recorded run (here: it already converged, so nothing is left to do).
//! let again = Run::from_database(&model, dir.path().join("run"))?.run()?;
//! assert_eq!(first.estimate.to_bits(), again.estimate.to_bits());
//! # Ok::<(), sampler::Error>(())
//! ```

// The worker pool is internal (`Run::threads` sets its size):
/// ```compile_fail
/// let _ = sampler::pipeline::pool(Some(2));
/// ```
/// ```compile_fail
/// let _ = sampler::runner::pool(Some(2));
/// ```
#[cfg(doctest)]
struct PoolIsPrivate;

pub(crate) mod describe;
pub(crate) mod distributed;
mod limits;
mod policy;
mod report;

pub use limits::{MemoryNeed, available_memory, check_threads, max_threads};
pub use policy::{StorePolicy, StrategyKind};
pub use report::{ErrorSource, Report};

use crate::config::{Config, OutputConfig};
use crate::db::{AUTO_SAVE_STATE_BYTES, RunDb, SessionKind, StateJournal, config_changes, resume};
use crate::noise::NoiseKey;
use crate::outcome::RunOutcome;
use crate::store::{StateBytes, StoreAll, TrajectoryStore};
use crate::strategy::{MonteCarlo, OnStall, Progress, RunParams, Strategy, Tams};
use crate::{Error, Model, Result};
use describe::Settings;
use revolve::State as _;
use revolve::storage::disk::Codec;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A rayon pool with `threads` workers (`None`: all cores).
pub(crate) fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    b.build().map_err(Error::Pool)
}

/// The run database of a [`Run`] ([`Run::database`]; TAMS only).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Database {
    /// Record the run in a new crash-safe run database in this directory (refused if it
    /// holds a run already).
    Create(PathBuf),
    /// Continue the run recorded in this directory with the run's settings (refused, naming
    /// the key, if a setting other than `nsplititer`, `walltime` or the threads differs, or
    /// the model describes itself differently).
    Continue(PathBuf),
}

impl Database {
    /// The run directory.
    pub fn dir(&self) -> &std::path::Path {
        match self {
            Database::Create(d) | Database::Continue(d) => d,
        }
    }
}

/// One run of a strategy on a model: builder, then [`Run::run`] (see the [module
/// documentation](self)).
pub struct Run<'a, M> {
    model: &'a M,
    settings: Settings,
    repeats: u64,
    database: Option<Database>,
    save_states: Option<bool>,
    /// How spill files are written (not part of the recorded description: results do not
    /// depend on it).
    spill_codec: Codec,
    /// The configuration as given (TOML), recorded in a new database's `meta.config`.
    given_config: Option<String>,
    progress: Option<Box<dyn Fn(u64, u64) + Sync + 'a>>,
    /// How long rank 0 waits for another rank's answer (distributed runs).
    rank_timeout: Duration,
    /// Called on rank 0 with the coordination counters at the end of a distributed run.
    on_traffic: Option<distributed::OnTraffic<'a>>,
    /// The ensemble output (Monte Carlo), from [`Run::output`] or the config's `[output]`.
    output: Option<OutputConfig>,
    /// The run with output of this model ([`Run::output`]: its state is an array).
    #[cfg(feature = "zarr")]
    output_fn: Option<OutputFn<M>>,
    /// The same over the ranks of a distributed run (rank 0's side).
    #[cfg(feature = "zarr")]
    ranks_output_fn: Option<RanksOutputFn<M>>,
}

/// A Monte Carlo run that writes its ensemble (`crate::output`).
#[cfg(feature = "zarr")]
type OutputFn<M> =
    for<'p> fn(&M, &RunParams, NoiseKey, &OutputConfig, Progress<'p>) -> Result<RunOutcome>;

/// Rank 0 of a distributed Monte Carlo run that writes its ensemble (`crate::output`).
#[cfg(feature = "zarr")]
type RanksOutputFn<M> = for<'p, 'l> fn(
    &M,
    &RunParams,
    NoiseKey,
    &OutputConfig,
    &mut crate::distributed::link::Link<'l, dyn crate::distributed::Transport + 'l>,
    &rayon::ThreadPool,
    Progress<'p>,
) -> Result<RunOutcome>;

impl<M> std::fmt::Debug for Run<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("settings", &self.settings)
            .field("repeats", &self.repeats)
            .field("database", &self.database)
            .field("save_states", &self.save_states)
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

impl<'a, M: Model> Run<'a, M>
where
    M::State: StateBytes + PartialEq,
{
    /// A TAMS run of `model` with `params`: no seed (the run draws a fresh one from the OS,
    /// reported in [`Report::seed`]; continuing a run database takes the recorded one), every
    /// state kept, no database, one repeat, all cores.
    pub fn new(model: &'a M, params: RunParams) -> Self {
        Run {
            model,
            settings: Settings {
                params,
                seed: None,
                strategy: StrategyKind::Tams,
                store: StorePolicy::StoreAll,
                threads: None,
            },
            repeats: 1,
            database: None,
            save_states: None,
            spill_codec: Codec::None,
            given_config: None,
            progress: None,
            rank_timeout: distributed::DEFAULT_RANK_TIMEOUT,
            on_traffic: None,
            output: None,
            #[cfg(feature = "zarr")]
            output_fn: None,
            #[cfg(feature = "zarr")]
            ranks_output_fn: None,
        }
    }

    /// The run `config` asks for on `model`: its parameters, seed, strategy, store policy,
    /// `runner.nworkers` threads, and `[database]` (path, restart, save_states). The config's
    /// `[model]` is not read: `model` is the model (for the built-in one the config names, see
    /// [`crate::runner`], which also records the config as given with [`Run::given_config`]).
    /// Options set afterwards replace the config's.
    ///
    /// ```
    /// use sampler::models::Brownian;
    /// use sampler::{Config, Run};
    /// let config = Config::from_toml(
    ///     "[tams]\nntrajectories = 20\nnsplititer = 100\nl = 1\nseed = 7\n\
    ///      [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 2.0\n\
    ///      [model]\nname = \"brownian\"\n",
    /// )?;
    /// let report = Run::from_config(&Brownian::default(), &config)?.run()?;
    /// assert_eq!(report.seed, 7);
    /// # Ok::<(), sampler::Error>(())
    /// ```
    pub fn from_config(model: &'a M, config: &Config) -> Result<Self> {
        let mut run = Run::new(model, config.params()?)
            .strategy(config.strategy())
            .store(config.store_policy())
            .spill_compression(config.spill_codec()?);
        run.settings.seed = config.tams.seed;
        if let Some(n) = config.runner.nworkers {
            run.settings.threads = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
        run.output = config.output.clone();
        if let Some(d) = &config.database {
            run = run.database(if d.restart {
                Database::Continue(d.path.clone())
            } else {
                Database::Create(d.path.clone())
            });
            run.save_states = d.save_states;
        }
        Ok(run)
    }

    /// Continue the run recorded in the run directory `dir` with its recorded settings
    /// (parameters, seed, strategy, store policy, threads): a [`Run`] with those settings and
    /// [`Database::Continue`]`(dir)`. `model` must describe itself ([`Model::describe`]) as the
    /// recorded model, or [`Run::run`] refuses it naming the differing `model.*` key. Settings
    /// may still be changed before running; only `nsplititer`, `walltime` and the thread count
    /// may differ from the recorded ones.
    pub fn from_database(model: &'a M, dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let recorded = crate::db::recorded_description(&dir)?;
        let settings = describe::settings(&recorded, &crate::db::db_path(&dir))?;
        let mut run = Run::new(model, settings.params.clone()).database(Database::Continue(dir));
        run.settings = settings;
        // Continuing goes on splitting (set it again to stop after the ensemble).
        run.settings.params.init_ensemble_only = false;
        Ok(run)
    }

    /// Replace the run parameters.
    pub fn params(mut self, params: RunParams) -> Self {
        self.settings.params = params;
        self
    }

    /// The seed (repeat `r` uses the noise streams keyed by `(seed, r)`): the same seed gives
    /// the same bits. Without it a run draws a fresh seed from the OS ([`crate::seed_from_os`])
    /// and reports it in [`Report::seed`] (a run database records it, so a restart continues
    /// with it).
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.seed = Some(seed);
        self
    }

    /// The seed set, if any (`None`: [`Run::run`] draws one, or takes a recorded run's).
    pub fn seed_given(&self) -> Option<u64> {
        self.settings.seed
    }

    /// The seed of this run: the one set, else the recorded one of the run database
    /// continued, else a fresh one from the OS.
    fn resolved_seed(&self) -> Result<u64> {
        if let Some(s) = self.settings.seed {
            return Ok(s);
        }
        if let Some(Database::Continue(dir)) = &self.database {
            let recorded = crate::db::recorded_description(dir)?;
            let settings = describe::settings(&recorded, &crate::db::db_path(dir))?;
            return Ok(settings.seed.unwrap_or(0));
        }
        crate::seed_from_os()
    }

    /// The strategy (default TAMS).
    pub fn strategy(mut self, strategy: StrategyKind) -> Self {
        self.settings.strategy = strategy;
        self
    }

    /// Where states are kept (default: all of them).
    pub fn store(mut self, store: StorePolicy) -> Self {
        self.settings.store = store;
        self
    }

    /// Write spill files (checkpoints beyond the memory budget) through `codec` (default
    /// [`Codec::None`](revolve::storage::disk::Codec::None)); `Codec::zstd()` compresses them
    /// losslessly, so results stay bit-identical. A lossy codec (zfp) is refused (the run
    /// fails at its first spill). Config key `trajectory.spill_compression`.
    pub fn spill_compression(mut self, codec: revolve::storage::disk::Codec) -> Self {
        self.spill_codec = codec;
        self
    }

    /// Stop splitting after `walltime` (results then depend on timing; a restart continues).
    pub fn walltime(mut self, walltime: Option<Duration>) -> Self {
        self.settings.params.walltime = walltime;
        self
    }

    /// The iteration budget `nsplititer`.
    pub fn iterations(mut self, nsplititer: u64) -> Self {
        self.settings.params.nsplititer = nsplititer;
        self
    }

    /// What a stalled run does (default [`OnStall::Error`]: [`Error::Stalled`]; with
    /// [`OnStall::Zero`] the estimate is 0, stop reason `extinction`).
    pub fn on_stall(mut self, on_stall: OnStall) -> Self {
        self.settings.params.on_stall = on_stall;
        self
    }

    /// Stop after the initial ensemble (stop reason `init_ensemble_only`); with a run
    /// database, continuing it ([`Run::from_database`], which does not keep this setting)
    /// goes on splitting, bit for bit as a run never stopped.
    pub fn init_ensemble_only(mut self) -> Self {
        self.settings.params.init_ensemble_only = true;
        self
    }

    /// Worker threads (default: all cores; the result does not depend on it).
    pub fn threads(mut self, threads: usize) -> Self {
        self.settings.threads = Some(threads);
        self
    }

    /// Independent repeats (default 1; a run with a database has one).
    pub fn repeats(mut self, repeats: u64) -> Self {
        self.repeats = repeats;
        self
    }

    /// Record the run in a run database, new ([`Database::Create`]) or continued
    /// ([`Database::Continue`]); TAMS only, one repeat.
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Record `text` (the configuration as given, TOML) in a new run database's
    /// `meta.config`, so that a restart without a configuration reports it as given (its
    /// harmless keys as last changed). Ignored on a restart or without a database.
    pub fn given_config(mut self, text: String) -> Self {
        self.given_config = Some(text);
        self
    }

    /// Whether the database saves the states trajectories hold, so a restart needs no replay
    /// (default: as recorded, else for states of at least [`AUTO_SAVE_STATE_BYTES`] bytes).
    /// Ignored without a database.
    pub fn save_states(mut self, save: bool) -> Self {
        self.save_states = Some(save);
        self
    }

    /// Call `progress(done, total)` after every iteration (TAMS: committed to the database
    /// first, if any) or chunk of trajectories (Monte Carlo), over all repeats.
    pub fn on_progress(mut self, progress: impl Fn(u64, u64) + Sync + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// What a run database records for this run: its settings and [`Model::describe`] as TOML
    /// tables (`[tams]`, `[trajectory]`, `[runner]`, `[sampler]`, `[model]`).
    pub fn description(&self) -> Result<toml::Table> {
        describe::describe(&self.settings, &self.model.describe()?)
    }

    /// Run: the report of all repeats (bit-identical for the same settings and seed, whatever
    /// the thread count and however often the run was stopped and restarted, except
    /// `seconds`).
    pub fn run(mut self) -> Result<Report> {
        self.validate()?;
        self.settings.seed = Some(self.resolved_seed()?);
        let s = &self.settings;
        let mut db = self.open_database()?;
        let noop = |_: u64, _: u64| {};
        let progress: Progress<'_> = match &self.progress {
            Some(p) => p.as_ref(),
            None => &noop,
        };
        let start = Instant::now();
        let details = pool(s.threads)?.install(|| match &mut db {
            Some((db, save)) => self.journaled(db, *save, progress).map(|o| vec![o]),
            None => self.repeated(progress),
        })?;
        let seconds = start.elapsed().as_secs_f64();
        let model = self.model.describe()?.name;
        let mut report = Report::new(s.strategy, model, s.seed(), details, seconds)?;
        if let Some((db, _)) = &db {
            report.warnings = db.warnings();
        }
        Ok(report)
    }

    /// The checks every rank of a run makes the same way.
    fn validate(&self) -> Result<()> {
        let s = &self.settings;
        if self.repeats == 0 {
            return Err(Error::config("repeats", "must be >= 1, got 0"));
        }
        if s.threads == Some(0) {
            return Err(Error::config("threads", "must be >= 1, got 0"));
        }
        s.params.check()?;
        self.check_output()?;
        let state_bytes = match self.model.state_bytes_hint() {
            Some(b) => b,
            None => self.model.initial_state().byte_len() as u64,
        };
        limits::check_fits(
            &s.params,
            state_bytes,
            s.threads,
            s.strategy == StrategyKind::Tams,
            &s.store,
        )
    }

    /// The ensemble output's conditions: Monte Carlo, one repeat, a model whose state is an
    /// array ([`Run::output`]).
    fn check_output(&self) -> Result<()> {
        let Some(out) = &self.output else {
            return Ok(());
        };
        out.check()?;
        if self.settings.strategy != StrategyKind::MonteCarlo {
            return Err(Error::config(
                "output",
                "ensemble output is written by Monte Carlo runs (strategy \"montecarlo\")",
            ));
        }
        if self.repeats != 1 {
            return Err(Error::config(
                "output",
                format!(
                    "ensemble output records one run (got {} repeats)",
                    self.repeats
                ),
            ));
        }
        #[cfg(feature = "zarr")]
        let ready = self.output_fn.is_some();
        #[cfg(not(feature = "zarr"))]
        let ready = false;
        if !ready {
            return Err(Error::config(
                "output",
                if cfg!(feature = "zarr") {
                    "give it with Run::output, for a model whose state implements \
                     sampler::ArrayState"
                } else {
                    "this build has no Zarr output (feature `zarr` of the sampler)"
                },
            ));
        }
        Ok(())
    }

    /// The run database (created, or opened to continue) and whether it saves states.
    fn open_database(&self) -> Result<Option<(RunDb, Option<bool>)>> {
        let s = &self.settings;
        Ok(match &self.database {
            None => None,
            Some(d) => {
                if s.strategy != StrategyKind::Tams {
                    return Err(Error::config(
                        "sampler.strategy",
                        "a run database records TAMS runs only",
                    ));
                }
                if self.repeats != 1 {
                    return Err(Error::config(
                        "repeats",
                        format!(
                            "a run database records one run (got {} repeats)",
                            self.repeats
                        ),
                    ));
                }
                let description = self.description()?;
                let mut db = match d {
                    Database::Continue(dir) => {
                        let (mut db, stored) = RunDb::open(dir)?;
                        let changes = config_changes(dir, &stored, &description)?;
                        db.start_session(SessionKind::Restart)?;
                        if !changes.is_empty() {
                            db.record_changes(&description, &changes)?;
                        }
                        db
                    }
                    Database::Create(dir) => {
                        let mut db = RunDb::create(dir, &description)?;
                        if let Some(text) = &self.given_config {
                            db.record_meta("config", text)?;
                        }
                        db
                    }
                };
                let save = db.save_states(self.save_states)?;
                Some((db, save))
            }
        })
    }

    /// `repeats` independent runs, repeat `r` keyed by `(seed, r)`.
    fn repeated(&self, progress: Progress<'_>) -> Result<Vec<RunOutcome>> {
        let s = &self.settings;
        let bytes = self.model.initial_state().byte_len() as u64;
        match s.strategy {
            StrategyKind::MonteCarlo => {
                #[cfg(feature = "zarr")]
                if let (Some(out), Some(f)) = (&self.output, self.output_fn) {
                    let key = NoiseKey::new(s.seed(), 0);
                    return Ok(vec![f(self.model, &s.params, key, out, progress)?]);
                }
                self.repeat(&MonteCarlo, progress)
            }
            StrategyKind::Tams => match s.store.compact(bytes, &s.params, self.spill_codec) {
                Some(store) => self.repeat(&Tams::new(store), progress),
                None => self.repeat(&Tams::new(StoreAll), progress),
            },
        }
    }

    fn repeat<S: Strategy<M>>(
        &self,
        strategy: &S,
        progress: Progress<'_>,
    ) -> Result<Vec<RunOutcome>> {
        let (repeats, s) = (self.repeats, &self.settings);
        (0..repeats)
            .map(|r| {
                let each = |done: u64, total: u64| {
                    progress(
                        r.saturating_mul(total).saturating_add(done),
                        repeats.saturating_mul(total),
                    )
                };
                strategy.run(self.model, &s.params, NoiseKey::new(s.seed(), r), &each)
            })
            .collect()
    }

    /// The TAMS run recorded in `db` (continued from its last committed iteration).
    fn journaled(
        &self,
        db: &mut RunDb,
        save: Option<bool>,
        progress: Progress<'_>,
    ) -> Result<RunOutcome> {
        let s = &self.settings;
        let initial = self.model.initial_state();
        let bytes = initial.byte_len();
        let template = save
            .unwrap_or(bytes >= AUTO_SAVE_STATE_BYTES)
            .then_some(initial);
        match s.store.compact(bytes as u64, &s.params, self.spill_codec) {
            Some(store) => self.journaled_with(db, Tams::new(store), template, progress),
            None => self.journaled_with(db, Tams::new(StoreAll), template, progress),
        }
    }

    fn journaled_with<St: TrajectoryStore<M::State>>(
        &self,
        db: &mut RunDb,
        tams: Tams<St>,
        template: Option<M::State>,
        progress: Progress<'_>,
    ) -> Result<RunOutcome> {
        let s = &self.settings;
        let mut params = s.params.clone();
        let key = NoiseKey::new(s.seed(), 0);
        let rebuild = Instant::now();
        let from = resume(
            db,
            self.model,
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
        let mut journal = StateJournal::new(db, &tams.store, template);
        tams.run_journaled(self.model, &params, key, progress, &mut journal, from)
            .map(|(o, _)| o)
    }
}

#[cfg(feature = "zarr")]
impl<'a, M: Model> Run<'a, M>
where
    M::State: StateBytes + PartialEq + crate::ArrayState,
{
    /// Write the ensemble of this Monte Carlo run to a Zarr v3 group: every `stride` steps the
    /// members' states go into `data (d_X, N, M)` with `time (M,)` (PySDE's layout), flushed
    /// every `chunk` snapshots so memory holds one chunk. The members are advanced in lockstep;
    /// the estimate is bit-identical to the run without output, and the group the same for any
    /// thread count, and byte for byte the same over ranks ([`Run::run_distributed`],
    /// [`Run::run_mpi`]: rank 0 alone writes it, the other ranks send it their members'
    /// snapshots a chunk at a time; see `docs/data.md`). A group holding this run's output already (a killed run) is continued from
    /// its last complete chunk; one holding another run's is refused, naming the setting.
    /// Replaces the config's `[output]`; `None`: no output.
    ///
    /// ```
    /// use sampler::models::Brownian;
    /// use sampler::{Horizon, OutputConfig, Run, RunParams, StrategyKind};
    /// let dir = tempfile::tempdir().unwrap();
    /// let params = RunParams::new(8, 1, 0, Horizon::new(1.0, 0.1, 3.0))?;
    /// let mut out = OutputConfig::new(dir.path().join("ensemble.zarr"));
    /// out.stride = 2;
    /// let report = Run::new(&Brownian::default(), params)
    ///     .strategy(StrategyKind::MonteCarlo)
    ///     .output(Some(out))
    ///     .run()?;
    /// assert!(dir.path().join("ensemble.zarr/data/zarr.json").is_file());
    /// # let _ = report;
    /// # Ok::<(), sampler::Error>(())
    /// ```
    pub fn output(mut self, output: Option<OutputConfig>) -> Self {
        self.output = output;
        self.output_fn = Some(crate::output::run_with_output::<M>);
        self.ranks_output_fn = Some(crate::output::run_over_ranks::<M>);
        self
    }
}
