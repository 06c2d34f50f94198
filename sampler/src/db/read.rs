//! The one reader of a run database: each table as typed rows, every checksummed row verified
//! and every value checked (no negative count, well-formed lists and blobs) before it is
//! returned. Restart ([`super::resume`]), inspection ([`super::RunReader`]: `retrace db`, the
//! plot) and Python (`retrace.db`, through the extension) all read through [`Tables`]; the
//! `states` rows are read by `state_rows::rows_of` alone.

use super::codec::{decode_lineage, decode_scores, parse_id_list};
use super::rows::{ConfigValues, IterationValues, TrajectoryValues};
use super::schema::sql_error;
use crate::trajectory::Segment;
use crate::{DbError, Error, Result, Row};
use rusqlite::Connection;
use serde::Serialize;
use std::path::Path;

/// The recorded configuration (the `config` row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigRow {
    /// The run's description as recorded (TOML: `[tams]`, `[trajectory]`, `[model]`, ...).
    pub toml: String,
    /// Model name.
    pub model: String,
    /// N.
    pub ntrajectories: u64,
    /// Level index.
    pub l: u64,
    /// Seed.
    pub seed: u64,
    /// Iteration budget (0 where the strategy has none).
    pub nsplititer: u64,
    /// Walltime in seconds, if limited.
    pub walltime: Option<f64>,
}

/// One start or restart of a run (a `sessions` row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// Row id (1 for the first session).
    pub id: u64,
    /// `new` or `restart`.
    pub kind: String,
    /// Unix time of the start.
    pub started_at: f64,
    /// Last committed iteration when it started (None: nothing committed yet).
    pub start_iteration: Option<u64>,
    /// Unix time of the stop (None: killed, crashed or still running).
    pub stopped_at: Option<f64>,
    /// Why it stopped (None: killed, crashed or still running).
    pub stop: Option<String>,
    /// Iterations at the stop (None: killed, crashed or still running).
    pub iterations: Option<u64>,
    /// Version of retrace that ran it.
    pub retrace_version: String,
    /// What the session warned about (e.g. missing state files replaced by replay).
    pub warnings: Option<String>,
}

/// A recorded config change `(key, old, new)` (a `config_changes` row).
pub type ConfigChange = (String, String, String);

/// One row of the iteration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Weight after the iteration (exact: from its recorded bits).
    pub weight: f64,
    /// Ensemble members that reached the target after it.
    pub reached: u64,
    /// The id the next child gets.
    pub next_id: u64,
    /// Trajectories killed and re-branched so far.
    pub branches: u64,
    /// Model steps so far.
    pub model_steps: u64,
    /// Replay steps so far.
    pub replay_steps: u64,
    /// States held by the store after it.
    pub held: u64,
    /// Most states held at once so far.
    pub peak_held: u64,
    /// Position (32-bit words) of the selection stream (not exported).
    #[serde(skip)]
    pub select_word_pos: u128,
    /// Unix time of the commit.
    pub committed_at: f64,
}

/// One trajectory (alive or dead).
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Scores at steps 0..=last (checked against their CRC-32 and the recorded last step).
    pub scores: Vec<f64>,
}

/// Which `trajectories` rows [`Tables::trajectories`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Select {
    /// Every trajectory ever made, by id.
    All,
    /// The current ensemble (not killed), by slot.
    Alive,
    /// The trajectory of this id.
    Id(u64),
}

/// The tables of the database file `path` through `conn` (the writer's connection for a
/// restart, a read-only one for inspection). Errors name `path` and, for a damaged row, its
/// table and row.
#[derive(Clone, Copy)]
pub(crate) struct Tables<'a> {
    conn: &'a Connection,
    path: &'a Path,
}

const TRAJECTORY_COLUMNS: &str = "id, slot, parent, branch_step, born, died, last_step, \
    max_score, reached, lineage, scores, scores_crc, checksum";

/// A count stored as an SQLite integer; negative is corrupt.
fn count(v: i64, what: &str, bad: impl Fn(String) -> Error) -> Result<u64> {
    u64::try_from(v).map_err(|_| bad(format!("negative {what}: {v}")))
}

impl<'a> Tables<'a> {
    /// The tables of the database file `path` read through `conn`.
    pub(crate) fn new(conn: &'a Connection, path: &'a Path) -> Self {
        Tables { conn, path }
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + 'a {
        sql_error(self.path)
    }

    fn corrupt(&self, table: &'static str, row: Row) -> impl Fn(String) -> Error + 'a {
        let path = self.path;
        move |m| DbError::corrupt_row(path, table, row.clone(), m).into()
    }

    /// A damaged value of a table that names no row kind (`sessions`).
    fn corrupt_table(&self, table: &'static str) -> impl Fn(String) -> Error + 'a {
        let path = self.path;
        move |reason| {
            DbError::Corrupt {
                path: path.to_path_buf(),
                table: Some(table),
                row: None,
                reason,
            }
            .into()
        }
    }

    /// Every `meta` row `(key, value)`, by key.
    pub(crate) fn meta(&self) -> Result<Vec<(String, String)>> {
        let err = self.err();
        self.conn
            .prepare("SELECT key, value FROM meta ORDER BY key")
            .map_err(&err)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)
    }

    /// The `config` row, checked against its checksum.
    pub(crate) fn config(&self) -> Result<ConfigRow> {
        let v = ConfigValues::read(self.conn, self.path)?;
        let bad = self.corrupt("config", Row::Config);
        Ok(ConfigRow {
            ntrajectories: count(v.ntrajectories, "ntrajectories", &bad)?,
            l: count(v.l, "l", &bad)?,
            seed: count(v.seed, "seed", &bad)?,
            nsplititer: count(v.nsplititer, "nsplititer", &bad)?,
            walltime: v.walltime,
            toml: v.toml,
            model: v.model,
        })
    }

    /// The `sessions` rows, oldest first.
    pub(crate) fn sessions(&self) -> Result<Vec<Session>> {
        let err = self.err();
        type Raw = (
            i64,
            String,
            f64,
            Option<i64>,
            Option<f64>,
            Option<String>,
            Option<i64>,
            String,
            Option<String>,
        );
        let raw = self
            .conn
            .prepare(
                "SELECT id, kind, started_at, start_iteration, stopped_at, stop, iterations, \
                 retrace_version, warnings FROM sessions ORDER BY id",
            )
            .map_err(&err)?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<Raw>>>()
            .map_err(&err)?;
        let bad = self.corrupt_table("sessions");
        let opt = |v: Option<i64>, what: &str| v.map(|x| count(x, what, &bad)).transpose();
        raw.into_iter()
            .map(
                |(id, kind, started_at, start, stopped_at, stop, its, version, warnings)| {
                    Ok(Session {
                        id: count(id, "id", &bad)?,
                        kind,
                        started_at,
                        start_iteration: opt(start, "start_iteration")?,
                        stopped_at,
                        stop,
                        iterations: opt(its, "iterations")?,
                        retrace_version: version,
                        warnings,
                    })
                },
            )
            .collect()
    }

    /// The `config_changes` rows, oldest first.
    pub(crate) fn config_changes(&self) -> Result<Vec<ConfigChange>> {
        let err = self.err();
        self.conn
            .prepare("SELECT key, old, new FROM config_changes ORDER BY id")
            .map_err(&err)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)
    }

    /// Every `iterations` row, oldest first, each checked against its checksum.
    pub(crate) fn iterations(&self) -> Result<Vec<IterationRow>> {
        self.iteration_rows("ORDER BY iteration")
    }

    /// The last `iterations` row (None: the initial ensemble is not committed).
    pub(crate) fn last_iteration(&self) -> Result<Option<IterationRow>> {
        Ok(self
            .iteration_rows("ORDER BY iteration DESC LIMIT 1")?
            .pop())
    }

    fn iteration_rows(&self, tail: &str) -> Result<Vec<IterationRow>> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM iterations {tail}",
                IterationValues::COLUMNS
            ))
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(&err)? {
            // A value of the wrong type or encoding names its row.
            let (v, stored) =
                IterationValues::from_row(r).map_err(|e| match r.get::<_, i64>(0) {
                    Ok(q) => self.corrupt("iterations", Row::Iteration(q))(format!(
                        "unreadable value: {e}"
                    )),
                    Err(_) => err(e),
                })?;
            v.verify(stored, self.path)?;
            out.push(self.iteration_row(v)?);
        }
        Ok(out)
    }

    fn iteration_row(&self, v: IterationValues) -> Result<IterationRow> {
        let bad = self.corrupt("iterations", Row::Iteration(v.iteration));
        let list = |text: &str, what: &str| {
            parse_id_list(text).ok_or_else(|| bad(format!("malformed {what} list")))
        };
        let pos = &v.select_word_pos;
        Ok(IterationRow {
            iteration: count(v.iteration, "iteration", &bad)?,
            level: v.level,
            k: count(v.k, "k", &bad)?,
            killed: list(&v.killed, "killed")?,
            parents: list(&v.parents, "parents")?,
            children: list(&v.children, "children")?,
            weight: f64::from_bits(v.weight_bits as u64),
            reached: count(v.reached, "reached", &bad)?,
            next_id: count(v.next_id, "next_id", &bad)?,
            branches: count(v.branches, "branches", &bad)?,
            model_steps: count(v.model_steps, "model_steps", &bad)?,
            replay_steps: count(v.replay_steps, "replay_steps", &bad)?,
            held: count(v.held, "held", &bad)?,
            peak_held: count(v.peak_held, "peak_held", &bad)?,
            select_word_pos: pos
                .parse()
                .map_err(|_| bad(format!("bad select_word_pos {pos:?}")))?,
            committed_at: v.committed_at,
        })
    }

    /// The number of `trajectories` rows (every trajectory ever made).
    pub(crate) fn trajectory_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM trajectories", [], |r| r.get(0))
            .map_err(self.err())?;
        Ok(n.max(0) as u64)
    }

    /// The `trajectories` rows `which` selects, each checked against its checksum, its scores
    /// against their CRC-32 and the recorded last step.
    pub(crate) fn trajectories(&self, which: Select) -> Result<Vec<TrajectoryRow>> {
        let err = self.err();
        let tail = match which {
            Select::All => "ORDER BY id",
            Select::Alive => "WHERE died IS NULL ORDER BY slot",
            Select::Id(_) => "WHERE id = ?1",
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {TRAJECTORY_COLUMNS} FROM trajectories {tail}"
            ))
            .map_err(&err)?;
        let mut rows = match which {
            Select::Id(id) => stmt.query([i64::try_from(id).unwrap_or(-1)]),
            _ => stmt.query([]),
        }
        .map_err(&err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(&err)? {
            let id: i64 = r.get(0).map_err(&err)?;
            let bad = self.corrupt("trajectories", Row::Trajectory(id as u64));
            let get_err = |e: rusqlite::Error| bad(format!("unreadable value: {e}"));
            let lineage: Vec<u8> = r.get(9).map_err(get_err)?;
            let scores: Vec<u8> = r.get(10).map_err(get_err)?;
            let crc: i64 = r.get(11).map_err(get_err)?;
            let v = TrajectoryValues {
                id,
                slot: r.get(1).map_err(get_err)?,
                parent: r.get(2).map_err(get_err)?,
                branch_step: r.get(3).map_err(get_err)?,
                born: r.get(4).map_err(get_err)?,
                last_step: r.get(6).map_err(get_err)?,
                max_score: r.get(7).map_err(get_err)?,
                reached: r.get(8).map_err(get_err)?,
                lineage: &lineage,
            };
            v.verify(r.get(12).map_err(get_err)?, self.path)?;
            let died: Option<i64> = r.get(5).map_err(get_err)?;
            out.push(self.trajectory_row(&v, died, &scores, crc)?);
        }
        Ok(out)
    }

    /// The typed row of checksummed values `v` (`died`, the scores and their CRC-32 apart).
    fn trajectory_row(
        &self,
        v: &TrajectoryValues<'_>,
        died: Option<i64>,
        scores: &[u8],
        crc: i64,
    ) -> Result<TrajectoryRow> {
        let bad = self.corrupt("trajectories", Row::Trajectory(v.id as u64));
        let opt = |x: Option<i64>, what: &str| x.map(|x| count(x, what, &bad)).transpose();
        if i64::from(crc32fast::hash(scores)) != crc {
            return Err(bad("scores fail their CRC-32 check".into()));
        }
        let scores = decode_scores(scores)
            .ok_or_else(|| bad(format!("scores blob has {} bytes", scores.len())))?;
        let last = count(v.last_step, "last_step", &bad)?;
        if scores.len() as u64 != last.saturating_add(1) {
            return Err(bad(format!("{} scores for last step {last}", scores.len())));
        }
        Ok(TrajectoryRow {
            id: count(v.id, "id", &bad)?,
            slot: count(v.slot, "slot", &bad)?,
            parent: opt(v.parent, "parent")?,
            branch_step: opt(v.branch_step, "branch_step")?,
            born: count(v.born, "born", &bad)?,
            died: opt(died, "died")?,
            max_score: v.max_score,
            reached: v.reached,
            lineage: decode_lineage(v.lineage).ok_or_else(|| bad("malformed lineage".into()))?,
            scores,
        })
    }
}
