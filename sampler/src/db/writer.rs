//! The exclusive writer of a run directory: lock, creation, sessions, one transaction per
//! iteration.

use super::codec::{encode_lineage, encode_scores, id_list, int, now};
use super::rows::{ConfigValues, IterationValues, TrajectoryValues};
use super::schema::{self, FORMAT, SCHEMA, SCHEMA_VERSION, db_path, sql_error};
use super::state_rows::{StateBatch, insert_batch, release, states_dir};
use crate::journal::{IterationRecord, Journal, LoopState};
use crate::outcome::RunOutcome;
use crate::trajectory::{Ensemble, Trajectory};
use crate::{ConfigError, DbError, Error, Missing, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A run directory opened for writing: holds the directory's lock until dropped.
#[derive(Debug)]
pub struct RunDb {
    pub(crate) conn: Connection,
    pub(crate) dir: PathBuf,
    /// Id of this session's `sessions` row (0 until written, see [`RunDb::start_session`]).
    session: i64,
    /// The session started and not yet written.
    opening: Option<Opening>,
    /// Every commit seen when the run was opened is durable (the opening checkpoint
    /// completed), so state files they do not name may be removed.
    pub(super) durable: bool,
    /// Warnings of this session (written into its `sessions` row).
    warnings: std::sync::Mutex<Vec<String>>,
    /// State files released by commits that may not be durable yet (`synchronous = NORMAL`:
    /// a power loss may drop the commits since the last checkpoint): removed only after a
    /// checkpoint made those commits durable (see [`RunDb::settle`]).
    pending: Vec<String>,
    /// Device and inode of `run.sqlite` as opened (see [`RunDb::check_identity`]).
    identity: (u64, u64),
    /// Ids of the initial trajectories with a row (read on first use, then kept up to date).
    initial: Option<std::collections::HashSet<u64>>,
    _lock: File,
}

/// Name of the file beside `run.sqlite` holding the run id (also in `meta.run_id`).
pub const RUN_ID_FILE: &str = "run.id";

/// Files SQLite keeps beside a database: left without their `run.sqlite`, a new database of
/// that name would adopt them.
const SIDE_FILES: [&str; 3] = ["run.sqlite-wal", "run.sqlite-shm", "run.sqlite-journal"];

/// Device and inode of the file at `path`.
fn file_identity(path: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).map_err(|source| DbError::Io {
        path: path.to_path_buf(),
        action: "read the metadata of",
        source,
    })?;
    Ok((m.dev(), m.ino()))
}

/// A fresh run id: 16 hex digits from the time, the process and the directory.
fn new_run_id(dir: &Path) -> String {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    std::time::SystemTime::now().hash(&mut h);
    std::process::id().hash(&mut h);
    dir.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Write `id` to `DIR/run.id` (synced).
fn write_run_id(dir: &Path, id: &str) -> Result<()> {
    use std::io::Write as _;
    let path = dir.join(RUN_ID_FILE);
    File::create(&path)
        .and_then(|mut f| {
            f.write_all(format!("{id}\n").as_bytes())?;
            f.sync_all()
        })
        .map_err(|source| {
            DbError::Io {
                path: path.clone(),
                action: "write the run id file",
                source,
            }
            .into()
        })
}

/// Check that `DIR/run.id`, if present, names the run `conn` records (`meta.run_id`; a
/// database without one predates run ids and is accepted).
fn check_run_id(dir: &Path, conn: &Connection) -> Result<()> {
    let path = db_path(dir);
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'run_id'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql_error(&path))?;
    let file = dir.join(RUN_ID_FILE);
    let found = match std::fs::read_to_string(&file) {
        Ok(t) => t.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(DbError::Io {
                path: file,
                action: "read the run id file",
                source,
            }
            .into());
        }
    };
    match recorded {
        Some(r) if r != found => Err(DbError::Foreign {
            dir: dir.to_path_buf(),
            recorded: r,
            found,
        }
        .into()),
        _ => Ok(()),
    }
}

/// An accepted config change `(key, old, new)`.
type Change = (String, String, String);

/// What a session of a run database is (its `sessions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionKind {
    /// The session that created the run (`new`).
    New,
    /// A session continuing a recorded run (`restart`).
    Restart,
}

impl SessionKind {
    /// The name recorded in `sessions.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::New => "new",
            SessionKind::Restart => "restart",
        }
    }
}

/// A session started and not yet written (see [`RunDb::start_session`]).
#[derive(Debug)]
struct Opening {
    kind: SessionKind,
    started_at: f64,
    start_iteration: Option<i64>,
    /// The new description and its accepted changes.
    changes: Option<(toml::Table, Vec<Change>)>,
    /// An explicit `save_states` to record in `meta`.
    save_states: Option<bool>,
}

/// Take the exclusive lock of the run directory `dir`: an `flock` on the directory itself,
/// which (unlike a lock file) cannot be removed or replaced while held, so a second writer is
/// refused in every case. Readers take the shared lock for an instant (see
/// `schema::writer_active`); a writer meeting one tries again a few times before refusing.
fn lock(dir: &Path) -> Result<File> {
    let file = File::open(dir).map_err(|source| DbError::Io {
        path: dir.to_path_buf(),
        action: "open the run directory to lock it",
        source,
    })?;
    for attempt in 0.. {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if attempt < LOCK_ATTEMPTS => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => break,
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(DbError::Io {
                    path: dir.to_path_buf(),
                    action: "lock the run directory",
                    source,
                }
                .into());
            }
        }
    }
    Err(DbError::Locked {
        dir: dir.to_path_buf(),
    }
    .into())
}

/// Tries of [`lock`] 10 ms apart (a reader holds the shared lock for microseconds; a writer
/// for its whole run).
const LOCK_ATTEMPTS: u32 = 50;

/// Released state files kept until a checkpoint makes their release durable: at most this
/// many (then a checkpoint), besides the checkpoint at every stop.
const PENDING_FILES: usize = 8;

/// `PRAGMA wal_checkpoint(TRUNCATE)`: all WAL frames copied into the database file and both
/// synced, the WAL emptied. `false` if a reader kept it from completing.
fn checkpoint(conn: &Connection, path: &Path) -> Result<bool> {
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(sql_error(path))?;
    Ok(busy == 0)
}

/// The run description as stored (TOML text).
fn description_toml(description: &toml::Table) -> Result<String> {
    toml::to_string(description).map_err(|e| ConfigError::Describe(e).into())
}

impl RunDb {
    /// Create a new run in `dir` (created if missing) described by `description` (the run's
    /// settings as TOML tables: `[tams]`, `[trajectory]`, `[sampler]`, `[model]`, ...); refuses
    /// a directory that already holds a run.
    pub fn create(dir: &Path, description: &toml::Table) -> Result<RunDb> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            action: "create the run directory",
            source,
        })?;
        let lock = lock(dir)?;
        let path = db_path(dir);
        if path.exists() {
            return Err(DbError::Exists {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        let leftovers: Vec<String> = SIDE_FILES
            .iter()
            .filter(|f| std::fs::symlink_metadata(dir.join(f)).is_ok())
            .map(|f| f.to_string())
            .collect();
        if !leftovers.is_empty() {
            return Err(DbError::Leftovers {
                dir: dir.to_path_buf(),
                files: leftovers,
            }
            .into());
        }
        let run_id = new_run_id(dir);
        // Built under a temporary name and renamed: run.sqlite exists only when complete.
        let tmp = dir.join("run.sqlite.new");
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(dir.join(format!("run.sqlite.new{suffix}")));
        }
        {
            let mut conn = Connection::open(&tmp).map_err(sql_error(&tmp))?;
            schema::configure(&conn, &tmp)?;
            let tx = conn.transaction().map_err(sql_error(&tmp))?;
            tx.execute_batch(SCHEMA).map_err(sql_error(&tmp))?;
            let meta = [
                ("format", FORMAT.to_string()),
                ("schema_version", SCHEMA_VERSION.to_string()),
                (
                    "created_by",
                    format!("retrace {}", env!("CARGO_PKG_VERSION")),
                ),
                ("created_at", now().to_string()),
                ("run_id", run_id.clone()),
            ];
            for (k, v) in meta {
                tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", (k, v))
                    .map_err(sql_error(&tmp))?;
            }
            write_config(&tx, description, &tmp)?;
            tx.commit().map_err(sql_error(&tmp))?;
            conn.close().map_err(|(_, e)| sql_error(&tmp)(e))?;
        }
        write_run_id(dir, &run_id)?;
        std::fs::rename(&tmp, &path).map_err(|source| DbError::Io {
            path: tmp.clone(),
            action: "rename the new database",
            source,
        })?;
        let conn = schema::open(dir)?;
        let identity = file_identity(&path)?;
        let mut db = RunDb {
            conn,
            dir: dir.to_path_buf(),
            session: 0,
            opening: None,
            durable: true,
            warnings: Default::default(),
            pending: Vec::new(),
            initial: None,
            identity,
            _lock: lock,
        };
        db.start_session(SessionKind::New)?;
        Ok(db)
    }

    /// Open the run in `dir` for continuing it; returns it with the description it was run
    /// with. Call [`RunDb::start_session`] before writing.
    pub fn open(dir: &Path) -> Result<(RunDb, toml::Table)> {
        if !dir.is_dir() {
            return Err(DbError::Missing {
                dir: dir.to_path_buf(),
                what: Missing::Directory,
            }
            .into());
        }
        let lock = lock(dir)?;
        let conn = schema::open(dir)?;
        let path = db_path(dir);
        let identity = file_identity(&path)?;
        check_run_id(dir, &conn)?;
        // Make what the last writer committed durable before anything is derived from it (the
        // restart removes state files no committed row names, only if this succeeded).
        let durable = checkpoint(&conn, &path)?;
        let config = schema::parse_description(&ConfigValues::read(&conn, &path)?.toml, &path)?;
        let db = RunDb {
            conn,
            dir: dir.to_path_buf(),
            session: 0,
            opening: None,
            durable,
            warnings: Default::default(),
            pending: Vec::new(),
            initial: None,
            identity,
            _lock: lock,
        };
        Ok((db, config))
    }

    /// Whether this session saves states: `given` (then recorded in `meta.save_states` with
    /// the session), or what `meta.save_states` says (`None`: neither, decide by the state
    /// size).
    pub(crate) fn save_states(&mut self, given: Option<bool>) -> Result<Option<bool>> {
        let path = self.path();
        match given {
            Some(save) => {
                match &mut self.opening {
                    Some(o) => o.save_states = Some(save),
                    None => {
                        let tx = self.conn.transaction().map_err(sql_error(&path))?;
                        write_save_states(&tx, save, &path)?;
                        tx.commit().map_err(sql_error(&path))?;
                    }
                }
                Ok(Some(save))
            }
            None => {
                let v: Option<String> = self
                    .conn
                    .query_row(
                        "SELECT value FROM meta WHERE key = 'save_states'",
                        [],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql_error(&path))?;
                Ok(match v.as_deref() {
                    Some("false") => Some(false),
                    Some("true") => Some(true),
                    _ => None,
                })
            }
        }
    }

    fn path(&self) -> PathBuf {
        db_path(&self.dir)
    }

    /// Start a session of `kind`. Its `sessions` row (with the changes of
    /// [`RunDb::record_changes`] and the choice of `save_states`) is written with the session's
    /// first commit, so a session refused before it (damaged rows, a failed rebuild) leaves
    /// nothing behind.
    pub fn start_session(&mut self, kind: SessionKind) -> Result<()> {
        let path = self.path();
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(iteration) FROM iterations", [], |r| r.get(0))
            .map_err(sql_error(&path))?;
        self.opening = Some(Opening {
            kind,
            started_at: now(),
            start_iteration: last,
            changes: None,
            save_states: None,
        });
        Ok(())
    }

    /// Record accepted changes `(key, old, new)` and store `config` as the current description
    /// (written with the session's row, see [`RunDb::start_session`]).
    pub fn record_changes(
        &mut self,
        config: &toml::Table,
        changes: &[(String, String, String)],
    ) -> Result<()> {
        if let Some(o) = &mut self.opening {
            o.changes = Some((config.clone(), changes.to_vec()));
            return Ok(());
        }
        let path = self.path();
        let tx = self.conn.transaction().map_err(sql_error(&path))?;
        write_changes(&tx, self.session, config, changes, &path)?;
        tx.commit().map_err(sql_error(&path))
    }

    /// Write the row of the session started by [`RunDb::start_session`] (once).
    fn write_session(&mut self) -> Result<()> {
        let Some(o) = self.opening.take() else {
            return Ok(());
        };
        let path = self.path();
        let warnings = self
            .warnings
            .lock()
            .map(|w| w.join("; "))
            .unwrap_or_default();
        let tx = self.conn.transaction().map_err(sql_error(&path))?;
        tx.execute(
            "INSERT INTO sessions (kind, started_at, start_iteration, retrace_version, warnings) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                o.kind.as_str(),
                o.started_at,
                o.start_iteration,
                env!("CARGO_PKG_VERSION"),
                (!warnings.is_empty()).then_some(warnings),
            ],
        )
        .map_err(sql_error(&path))?;
        let session = tx.last_insert_rowid();
        if let Some((config, changes)) = &o.changes {
            write_changes(&tx, session, config, changes, &path)?;
        }
        if let Some(save) = o.save_states {
            write_save_states(&tx, save, &path)?;
        }
        tx.commit().map_err(sql_error(&path))?;
        self.session = session;
        Ok(())
    }

    /// Store `value` as `meta.key`.
    pub(crate) fn record_meta(&mut self, key: &str, value: &str) -> Result<()> {
        let path = self.path();
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map_err(sql_error(&path))?;
        Ok(())
    }

    /// Record a warning of this session (in its `sessions` row with its first commit, and in
    /// [`RunDb::warnings`] for the run's report; nothing is printed).
    pub(super) fn warn(&self, warning: String) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(warning);
        }
    }

    /// The warnings of this session so far, oldest first.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Check that `run.sqlite` is still the file this writer opened (same device and inode)
    /// and its directory still exists; else [`DbError::Replaced`] (the run stops).
    pub(crate) fn check_identity(&self) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let path = self.path();
        let what = match std::fs::metadata(&path) {
            Ok(m) if (m.dev(), m.ino()) == self.identity => return Ok(()),
            Ok(_) => "replaced by another file",
            Err(_) if !self.dir.is_dir() => "removed with its directory",
            Err(_) => "removed",
        };
        Err(DbError::Replaced { path, what }.into())
    }

    fn begin(&mut self) -> Result<Transaction<'_>> {
        self.check_identity()?;
        let path = self.path();
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error(&path))
    }
}

/// Record accepted `changes` of `session` and store `config` as the current description.
fn write_changes(
    tx: &Transaction<'_>,
    session: i64,
    config: &toml::Table,
    changes: &[(String, String, String)],
    path: &Path,
) -> Result<()> {
    for (k, old, new) in changes {
        tx.execute(
            "INSERT INTO config_changes (session, key, old, new) VALUES (?1, ?2, ?3, ?4)",
            params![session, k, old, new],
        )
        .map_err(sql_error(path))?;
    }
    tx.execute("DELETE FROM config", [])
        .map_err(sql_error(path))?;
    write_config(tx, config, path)
}

fn write_save_states(tx: &Transaction<'_>, save: bool, path: &Path) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('save_states', ?1)",
        [save.to_string()],
    )
    .map_err(sql_error(path))?;
    Ok(())
}

fn write_config(tx: &Transaction<'_>, config: &toml::Table, path: &Path) -> Result<()> {
    let get = |table: &str, key: &str| config.get(table).and_then(|t| t.get(key));
    let int_of = |table: &str, key: &str| get(table, key).and_then(toml::Value::as_integer);
    let v = ConfigValues {
        toml: description_toml(config)?,
        model: get("model", "name")
            .and_then(toml::Value::as_str)
            .unwrap_or("")
            .to_owned(),
        ntrajectories: int_of("tams", "ntrajectories").unwrap_or(0),
        l: int_of("tams", "l").unwrap_or(1),
        seed: int_of("tams", "seed").unwrap_or(0),
        nsplititer: int_of("tams", "nsplititer").unwrap_or(0),
        walltime: get("tams", "walltime").and_then(toml::Value::as_float),
    };
    tx.execute(
        &format!(
            "INSERT INTO config (id, {}) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            ConfigValues::COLUMNS
        ),
        params![
            v.toml,
            v.model,
            v.ntrajectories,
            v.l,
            v.seed,
            v.nsplititer,
            v.walltime,
            v.checksum(),
        ],
    )
    .map_err(sql_error(path))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_trajectory<R>(
    tx: &Transaction<'_>,
    t: &Trajectory<R>,
    slot: usize,
    parent: Option<u64>,
    born: u64,
    path: &Path,
) -> Result<()> {
    let scores = encode_scores(&t.scores);
    let lineage = encode_lineage(&t.lineage);
    let branch_step = parent.and_then(|_| t.lineage.last().map(|s| s.start_step));
    let v = TrajectoryValues {
        id: int(t.id)?,
        slot: int(slot as u64)?,
        parent: parent.map(int).transpose()?,
        branch_step: branch_step.map(int).transpose()?,
        born: int(born)?,
        last_step: int(t.last_step())?,
        max_score: t.max_score,
        reached: t.reached,
        lineage: &lineage,
    };
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO trajectories (id, slot, parent, branch_step, born, died, last_step, \
             max_score, reached, lineage, scores, scores_crc, checksum) \
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(sql_error(path))?;
    stmt.execute(params![
        v.id,
        v.slot,
        v.parent,
        v.branch_step,
        v.born,
        v.last_step,
        v.max_score,
        v.reached,
        v.lineage,
        scores,
        i64::from(crc32fast::hash(&scores)),
        v.checksum(),
    ])
    .map_err(sql_error(path))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_iteration(
    tx: &Transaction<'_>,
    st: &LoopState,
    level: Option<f64>,
    killed: &str,
    parents: &str,
    children: &str,
    k: u64,
    reached: u64,
    next_id: u64,
    path: &Path,
) -> Result<()> {
    let v = IterationValues {
        iteration: int(st.iterations)?,
        level,
        k: int(k)?,
        killed: killed.to_owned(),
        parents: parents.to_owned(),
        children: children.to_owned(),
        weight: st.weight,
        weight_bits: st.weight.to_bits() as i64,
        reached: int(reached)?,
        next_id: int(next_id)?,
        branches: int(st.branches)?,
        model_steps: int(st.model_steps)?,
        replay_steps: int(st.replay_steps)?,
        held: int(st.held)?,
        peak_held: int(st.peak_held)?,
        select_word_pos: st.select_word_pos.to_string(),
        committed_at: now(),
    };
    let mut stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO iterations ({}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            IterationValues::COLUMNS
        ))
        .map_err(sql_error(path))?;
    stmt.execute(params![
        v.iteration,
        v.level,
        v.k,
        v.killed,
        v.parents,
        v.children,
        v.weight,
        v.weight_bits,
        v.reached,
        v.next_id,
        v.branches,
        v.model_steps,
        v.replay_steps,
        v.held,
        v.peak_held,
        v.select_word_pos,
        v.committed_at,
        v.checksum(),
    ])
    .map_err(sql_error(path))?;
    Ok(())
}

impl<R> Journal<R> for RunDb {
    fn on_fresh(&mut self, trajectories: &[&Trajectory<R>]) -> Result<()> {
        self.commit_fresh(trajectories, &StateBatch::default())
    }

    fn on_initial(&mut self, ens: &Ensemble<R>, st: &LoopState) -> Result<()> {
        self.commit_initial(ens, st, &StateBatch::default())
    }

    fn on_iteration(&mut self, rec: &IterationRecord<'_, R>) -> Result<()> {
        self.commit_iteration(rec, &StateBatch::default())
    }

    fn on_stop(&mut self, outcome: &RunOutcome) -> Result<()> {
        self.record_stop(outcome)
    }
}

impl RunDb {
    /// Whether initial trajectory `id` has its row already (committed by
    /// [`RunDb::commit_fresh`], in this session or before a crash).
    pub(crate) fn has_initial(&mut self, id: u64) -> Result<bool> {
        if self.initial.is_none() {
            let path = self.path();
            let ids: std::collections::HashSet<u64> = self
                .conn
                .prepare("SELECT id FROM trajectories WHERE born = 0")
                .map_err(sql_error(&path))?
                .query_map([], |r| r.get::<_, i64>(0))
                .map_err(sql_error(&path))?
                .map(|r| r.map(|i| i as u64))
                .collect::<rusqlite::Result<_>>()
                .map_err(sql_error(&path))?;
            self.initial = Some(ids);
        }
        Ok(self.initial.as_ref().is_some_and(|s| s.contains(&id)))
    }

    /// Commit finished initial trajectories (slot = id) with the state rows of `batch` (its
    /// file already durable); those with a row already are skipped.
    pub(crate) fn commit_fresh<R>(
        &mut self,
        trajectories: &[&Trajectory<R>],
        batch: &StateBatch,
    ) -> Result<()> {
        let mut new = Vec::with_capacity(trajectories.len());
        for t in trajectories {
            if !self.has_initial(t.id)? {
                new.push(*t);
            }
        }
        if new.is_empty() && batch.rows.is_empty() {
            return Ok(());
        }
        self.write_session()?;
        let path = self.path();
        let tx = self.begin()?;
        insert_batch(&tx, batch, &path)?;
        for t in &new {
            insert_trajectory(&tx, t, t.id as usize, None, 0, &path)?;
        }
        tx.commit().map_err(sql_error(&path))?;
        if let Some(ids) = &mut self.initial {
            ids.extend(new.iter().map(|t| t.id));
        }
        Ok(())
    }

    /// Commit the initial ensemble (the rows [`RunDb::commit_fresh`] did not commit) with the
    /// state rows of `batch` (its file already durable), and iteration 0.
    pub(crate) fn commit_initial<R>(
        &mut self,
        ens: &Ensemble<R>,
        st: &LoopState,
        batch: &StateBatch,
    ) -> Result<()> {
        let mut new = Vec::new();
        for (slot, t) in ens.trajectories.iter().enumerate() {
            if !self.has_initial(t.id)? {
                new.push((slot, t));
            }
        }
        self.write_session()?;
        let path = self.path();
        let tx = self.begin()?;
        insert_batch(&tx, batch, &path)?;
        for &(slot, t) in &new {
            insert_trajectory(&tx, t, slot, None, 0, &path)?;
        }
        let none = "[]";
        insert_iteration(
            &tx,
            st,
            None,
            none,
            none,
            none,
            0,
            ens.reached(),
            ens.next_id,
            &path,
        )?;
        tx.commit().map_err(sql_error(&path))
    }

    /// Commit an iteration with the state rows of `batch` (its file already durable); state
    /// files no live trajectory refers to any more are removed after the commit.
    pub(crate) fn commit_iteration<R>(
        &mut self,
        rec: &IterationRecord<'_, R>,
        batch: &StateBatch,
    ) -> Result<()> {
        self.write_session()?;
        let path = self.path();
        let ens = rec.ensemble;
        let q = rec.state.iterations;
        let parents: Vec<u64> = rec
            .tasks
            .iter()
            .map(|&(_, p, _)| ens.trajectories[p].id)
            .collect();
        let tx = self.begin()?;
        for (&(slot, _, _), &parent) in rec.tasks.iter().zip(&parents) {
            insert_trajectory(&tx, &ens.trajectories[slot], slot, Some(parent), q, &path)?;
        }
        {
            let mut kill = tx
                .prepare_cached("UPDATE trajectories SET died = ?1 WHERE id = ?2 AND died IS NULL")
                .map_err(sql_error(&path))?;
            for &id in rec.killed_ids {
                if kill
                    .execute(params![int(q)?, int(id)?])
                    .map_err(sql_error(&path))?
                    != 1
                {
                    return Err(Error::from(DbError::corrupt(
                        path,
                        format!("killed trajectory {id} is not alive in the database"),
                    )));
                }
            }
        }
        insert_iteration(
            &tx,
            &rec.state,
            Some(rec.level),
            &id_list(rec.killed_ids.iter().copied()),
            &id_list(parents.iter().copied()),
            &id_list(rec.tasks.iter().map(|t| t.2)),
            rec.tasks.len() as u64,
            ens.reached(),
            ens.next_id,
            &path,
        )?;
        insert_batch(&tx, batch, &path)?;
        let unused = release(&tx, rec.killed_ids, &path)?;
        tx.commit().map_err(sql_error(&path))?;
        self.pending.extend(unused);
        if self.pending.len() >= PENDING_FILES {
            self.settle()?;
        }
        Ok(())
    }

    /// Make every commit so far durable (a full WAL checkpoint, which syncs the WAL and the
    /// database file) and then remove the state files those commits released. A checkpoint
    /// that a reader keeps from completing removes nothing (tried again later; files left
    /// behind are removed when the run is reopened).
    pub(crate) fn settle(&mut self) -> Result<()> {
        if !checkpoint(&self.conn, &self.path())? {
            return Ok(());
        }
        let dir = states_dir(&self.dir);
        for f in std::mem::take(&mut self.pending) {
            let _ = std::fs::remove_file(dir.join(f));
        }
        Ok(())
    }

    fn record_stop(&mut self, outcome: &RunOutcome) -> Result<()> {
        self.write_session()?;
        let path = self.path();
        let stop = serde_json::to_value(outcome.stop)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.conn
            .execute(
                "UPDATE sessions SET stopped_at = ?1, stop = ?2, iterations = ?3 WHERE id = ?4",
                params![now(), stop, int(outcome.iterations)?, self.session],
            )
            .map_err(sql_error(&path))?;
        // Durable now: the released files can go.
        self.settle()
    }
}
