//! Inspecting a run directory (read-only; works while a run is active and on a killed run): the
//! view `retrace db`, the plot and Python's `retrace.db` read a run through.

use super::read::{ConfigChange, ConfigRow, IterationRow, Select, Session, Tables, TrajectoryRow};
use super::schema::{self, db_path, sql_error};
use crate::Result;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A read-only view of a run directory.
#[derive(Debug)]
pub struct RunReader {
    conn: Connection,
    dir: PathBuf,
    path: PathBuf,
    /// The private copy `conn` reads (a killed run's database and WAL), if any.
    _copy: Option<super::copies::PrivateCopy>,
}

/// Overview of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Schema version of the file.
    pub schema_version: u32,
    /// The effective configuration (TOML).
    pub config: String,
    /// Model name.
    pub model: String,
    /// N.
    pub ntrajectories: u64,
    /// Level index.
    pub l: u64,
    /// Seed.
    pub seed: u64,
    /// Iteration budget.
    pub nsplititer: u64,
    /// Last committed iteration (None: the initial ensemble is not committed).
    pub iterations: Option<u64>,
    /// Weight after the last committed iteration.
    pub weight: f64,
    /// Trajectories of the current ensemble that reached the target.
    pub reached: u64,
    /// `weight * reached / N` (the estimate if the run stopped here).
    pub estimate: f64,
    /// Trajectories ever created.
    pub trajectories: u64,
    /// Model steps so far.
    pub model_steps: u64,
    /// Starts and restarts, oldest first.
    pub sessions: Vec<Session>,
    /// Accepted config changes `(key, old, new)`.
    pub config_changes: Vec<ConfigChange>,
    /// Whether a writer holds the run directory now.
    pub active: bool,
}

/// The description recorded by the run in `dir` (read-only; see [`RunReader::description`]).
pub fn recorded_description(dir: &Path) -> Result<toml::Table> {
    RunReader::open(dir)?.description()
}

impl RunReader {
    /// Open `dir` read-only (checks the format version); nothing in `dir` is created, written
    /// or deleted (see docs/run-database.md#inspection).
    pub fn open(dir: &Path) -> Result<RunReader> {
        let (conn, copy) = schema::open_read(dir)?;
        Ok(RunReader {
            conn,
            dir: dir.to_path_buf(),
            path: db_path(dir),
            _copy: copy,
        })
    }

    /// The database file of the run directory (what errors name, also when a private copy is
    /// read).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn tables(&self) -> Tables<'_> {
        Tables::new(&self.conn, &self.path)
    }

    /// Run `f` on one snapshot of the database: every read inside it (summary, iterations,
    /// trajectories) sees the same committed iterations, also while a writer commits more.
    pub fn snapshot<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(sql_error(&self.path))?;
        let out = f(self);
        // Only reads happened: ending the transaction cannot lose anything.
        let _ = self.conn.execute_batch("COMMIT");
        out
    }

    /// The value of `meta.key`, if recorded (`config`: the configuration as given, TOML).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(sql_error(&self.path))
    }

    /// Every `meta` entry `(key, value)`, by key.
    pub fn meta_entries(&self) -> Result<Vec<(String, String)>> {
        self.tables().meta()
    }

    /// The recorded configuration row (checked against its checksum).
    pub fn config(&self) -> Result<ConfigRow> {
        self.tables().config()
    }

    /// The run's description as recorded (`[tams]`, `[trajectory]`, `[sampler]`, `[model]`, ...).
    pub fn description(&self) -> Result<toml::Table> {
        schema::parse_description(&self.config()?.toml, &self.path)
    }

    /// Whether a writer holds the lock of the run directory.
    pub fn active(&self) -> bool {
        schema::writer_active(&self.dir)
    }

    /// Overview of the run.
    pub fn summary(&self) -> Result<RunSummary> {
        let t = self.tables();
        let c = t.config()?;
        let last = t.last_iteration()?;
        let (weight, reached, model_steps) = last
            .as_ref()
            .map_or((1.0, 0, 0), |r| (r.weight, r.reached, r.model_steps));
        Ok(RunSummary {
            schema_version: schema::SCHEMA_VERSION,
            iterations: last.map(|r| r.iteration),
            weight,
            reached,
            estimate: weight * (reached as f64 / c.ntrajectories as f64),
            trajectories: t.trajectory_count()?,
            model_steps,
            sessions: t.sessions()?,
            config_changes: t.config_changes()?,
            active: self.active(),
            config: c.toml,
            model: c.model,
            ntrajectories: c.ntrajectories,
            l: c.l,
            seed: c.seed,
            nsplititer: c.nsplititer,
        })
    }

    /// The iteration table, oldest first (every row checked against its checksum).
    pub fn iterations(&self) -> Result<Vec<IterationRow>> {
        self.tables().iterations()
    }

    /// Every trajectory with its scores (checked against their CRC-32), by id.
    pub fn trajectories(&self) -> Result<Vec<TrajectoryRow>> {
        self.tables().trajectories(Select::All)
    }

    /// The current ensemble (the trajectories alive after the last committed iteration) with
    /// their scores (checked against their CRC-32), by slot. Reads only those rows.
    pub fn ensemble(&self) -> Result<Vec<TrajectoryRow>> {
        self.tables().trajectories(Select::Alive)
    }

    /// The saved states of trajectory `id` (`DIR/states/`), by step: `(step, file, offset of
    /// the state in the file's payload)`.
    pub(crate) fn saved_states(&self, id: u64) -> Result<Vec<(u64, String, u64)>> {
        let rows = super::state_rows::rows_of(&self.conn, id, &self.path)?;
        Ok(rows
            .into_iter()
            .map(|(s, r)| (s, r.file, r.offset))
            .collect())
    }

    /// Trajectory `id` with its scores (checked), if there is one.
    pub fn trajectory(&self, id: u64) -> Result<Option<TrajectoryRow>> {
        Ok(self.tables().trajectories(Select::Id(id))?.pop())
    }
}
