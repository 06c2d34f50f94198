//! Reading a run database (read-only; works while a run is active and on a killed run).

use super::codec::{decode_lineage, decode_scores, uint};
use super::restart::read_iterations;
use super::rows::{ConfigValues, IterationValues, TrajectoryValues};
use super::schema::{self, db_path, sql_error};
use crate::trajectory::Segment;
use crate::{DbError, Error, Result, Row};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;

/// A read-only view of a run directory.
#[derive(Debug)]
pub struct RunReader {
    conn: Connection,
    dir: std::path::PathBuf,
    /// The private copy `conn` reads (a killed run's database and WAL), if any.
    _copy: Option<super::copies::PrivateCopy>,
}

/// One start or restart of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// `new` or `restart`.
    pub kind: String,
    /// Unix time of the start.
    pub started_at: f64,
    /// Last committed iteration when it started (None: nothing committed yet).
    pub start_iteration: Option<u64>,
    /// Why it stopped (None: killed, crashed or still running).
    pub stop: Option<String>,
    /// What the session warned about (e.g. missing state files replaced by replay).
    pub warnings: Option<String>,
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
    pub config_changes: Vec<(String, String, String)>,
    /// Whether a writer holds the run directory now.
    pub active: bool,
}

/// One row of the iteration table.
#[derive(Debug, Clone, Serialize)]
pub struct IterationRow {
    /// Iteration (0: the initial ensemble).
    pub iteration: u64,
    /// Level Z_q (None for iteration 0).
    pub level: Option<f64>,
    /// K_q.
    pub k: u64,
    /// Killed trajectory ids.
    pub killed: Vec<u64>,
    /// Parent ids of the children, in the same order.
    pub parents: Vec<u64>,
    /// Child ids.
    pub children: Vec<u64>,
    /// Weight after the iteration.
    pub weight: f64,
    /// Ensemble members that reached the target after it.
    pub reached: u64,
    /// Model steps so far.
    pub model_steps: u64,
    /// Unix time of the commit.
    pub committed_at: f64,
}

/// One trajectory (alive or dead).
#[derive(Debug, Clone, Serialize)]
pub struct TrajectoryRow {
    /// Id.
    pub id: u64,
    /// Ensemble slot.
    pub slot: u64,
    /// Parent id (None: initial ensemble).
    pub parent: Option<u64>,
    /// Step where its own noise starts (None: initial ensemble).
    pub branch_step: Option<u64>,
    /// Iteration that created it (0: initial).
    pub born: u64,
    /// Iteration that killed it (None: alive).
    pub died: Option<u64>,
    /// Maximum score.
    pub max_score: f64,
    /// Whether it reached the target.
    pub reached: bool,
    /// Noise lineage.
    #[serde(skip)]
    pub lineage: Vec<Segment>,
    /// Scores at steps 0..=last.
    pub scores: Vec<f64>,
}

fn ids(text: &str) -> Vec<u64> {
    text.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
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
            _copy: copy,
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        let p = db_path(&self.dir);
        move |e| sql_error(&p)(e)
    }

    /// Run `f` on one snapshot of the database: every read inside it (summary, iterations,
    /// trajectories) sees the same committed iterations, also while a writer commits more.
    pub fn snapshot<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        let err = self.err();
        self.conn.execute_batch("BEGIN DEFERRED").map_err(&err)?;
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
            .map_err(self.err())
    }

    /// The run's description as recorded (`[tams]`, `[trajectory]`, `[sampler]`, `[model]`, ...).
    pub fn description(&self) -> Result<toml::Table> {
        let path = db_path(&self.dir);
        schema::parse_description(&ConfigValues::read(&self.conn, &path)?.toml, &path)
    }

    /// Whether a writer holds the lock of the run directory.
    pub fn active(&self) -> bool {
        schema::writer_active(&self.dir)
    }

    /// Overview of the run.
    pub fn summary(&self) -> Result<RunSummary> {
        let err = self.err();
        let path = db_path(&self.dir);
        let c = ConfigValues::read(&self.conn, &path)?;
        let (config, model, n, l, seed, nsplititer) =
            (c.toml, c.model, c.ntrajectories, c.l, c.seed, c.nsplititer);
        let last = self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM iterations ORDER BY iteration DESC LIMIT 1",
                    IterationValues::COLUMNS
                ),
                [],
                IterationValues::from_row,
            )
            .optional()
            .map_err(&err)?;
        let last = match last {
            Some((v, stored)) => {
                v.verify(stored, &path)?;
                Some((v.iteration, v.weight_bits, v.reached, v.model_steps))
            }
            None => None,
        };
        let trajectories: i64 = self
            .conn
            .query_row("SELECT count(*) FROM trajectories", [], |r| r.get(0))
            .map_err(&err)?;
        let sessions = self
            .conn
            .prepare("SELECT kind, started_at, start_iteration, stop, warnings FROM sessions ORDER BY id")
            .map_err(&err)?
            .query_map([], |r| {
                Ok(Session {
                    kind: r.get(0)?,
                    started_at: r.get(1)?,
                    start_iteration: r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
                    stop: r.get(3)?,
                    warnings: r.get(4)?,
                })
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)?;
        let config_changes = self
            .conn
            .prepare("SELECT key, old, new FROM config_changes ORDER BY id")
            .map_err(&err)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)?;
        let n = uint(n, "ntrajectories", &path)?;
        let (iterations, weight, reached, model_steps) = match last {
            Some((q, w, r, s)) => (
                Some(uint(q, "iteration", &path)?),
                f64::from_bits(w as u64),
                uint(r, "reached", &path)?,
                uint(s, "model_steps", &path)?,
            ),
            None => (None, 1.0, 0, 0),
        };
        Ok(RunSummary {
            schema_version: schema::SCHEMA_VERSION,
            config,
            model,
            ntrajectories: n,
            l: uint(l, "l", &path)?,
            seed: seed as u64,
            nsplititer: uint(nsplititer, "nsplititer", &path)?,
            iterations,
            weight,
            reached,
            estimate: weight * (reached as f64 / n as f64),
            trajectories: uint(trajectories, "count", &path)?,
            model_steps,
            sessions,
            config_changes,
            active: self.active(),
        })
    }

    /// The iteration table, oldest first (every row checked against its checksum).
    pub fn iterations(&self) -> Result<Vec<IterationRow>> {
        let path = db_path(&self.dir);
        let u = |v: i64, what: &str| uint(v, what, &path);
        read_iterations(&self.conn, &path)?
            .into_iter()
            .map(|r| {
                Ok(IterationRow {
                    iteration: u(r.iteration, "iteration")?,
                    level: r.level,
                    k: u(r.k, "k")?,
                    killed: ids(&r.killed),
                    parents: ids(&r.parents),
                    children: ids(&r.children),
                    weight: f64::from_bits(r.weight_bits as u64),
                    reached: u(r.reached, "reached")?,
                    model_steps: u(r.model_steps, "model_steps")?,
                    committed_at: r.committed_at,
                })
            })
            .collect()
    }

    /// Every trajectory with its scores (checked against their CRC-32), by id.
    pub fn trajectories(&self) -> Result<Vec<TrajectoryRow>> {
        self.select_trajectories("")
    }

    /// The current ensemble (the trajectories alive after the last committed iteration) with
    /// their scores (checked against their CRC-32), by id. Reads only those rows.
    pub fn ensemble(&self) -> Result<Vec<TrajectoryRow>> {
        self.select_trajectories("WHERE died IS NULL")
    }

    fn select_trajectories(&self, filter: &str) -> Result<Vec<TrajectoryRow>> {
        let err = self.err();
        let path = db_path(&self.dir);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, slot, parent, branch_step, born, died, max_score, reached, lineage, \
                 scores, scores_crc, last_step, checksum FROM trajectories {filter} ORDER BY id"
            ))
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut out = Vec::new();
        let opt = |v: Option<i64>| v.map(|x| x as u64);
        while let Some(r) = rows.next().map_err(&err)? {
            let id = r.get::<_, i64>(0).map_err(&err)? as u64;
            let corrupt = |m: &str| {
                Error::from(DbError::corrupt_row(
                    &path,
                    "trajectories",
                    Row::Trajectory(id),
                    m,
                ))
            };
            let bytes: Vec<u8> = r.get(9).map_err(&err)?;
            let crc: i64 = r.get(10).map_err(&err)?;
            if i64::from(crc32fast::hash(&bytes)) != crc {
                return Err(corrupt("scores fail their CRC-32 check"));
            }
            let lineage: Vec<u8> = r.get(8).map_err(&err)?;
            TrajectoryValues {
                id: id as i64,
                slot: r.get(1).map_err(&err)?,
                parent: r.get(2).map_err(&err)?,
                branch_step: r.get(3).map_err(&err)?,
                born: r.get(4).map_err(&err)?,
                last_step: r.get(11).map_err(&err)?,
                max_score: r.get(6).map_err(&err)?,
                reached: r.get(7).map_err(&err)?,
                lineage: &lineage,
            }
            .verify(r.get(12).map_err(&err)?, &path)?;
            out.push(TrajectoryRow {
                id,
                slot: r.get::<_, i64>(1).map_err(&err)? as u64,
                parent: opt(r.get(2).map_err(&err)?),
                branch_step: opt(r.get(3).map_err(&err)?),
                born: r.get::<_, i64>(4).map_err(&err)? as u64,
                died: opt(r.get(5).map_err(&err)?),
                max_score: r.get(6).map_err(&err)?,
                reached: r.get(7).map_err(&err)?,
                lineage: decode_lineage(&lineage).ok_or_else(|| corrupt("malformed lineage"))?,
                scores: decode_scores(&bytes).ok_or_else(|| corrupt("malformed scores"))?,
            });
        }
        Ok(out)
    }
}
