//! State files: the states trajectories hold, persisted in `DIR/states/` (revolve checkpoint
//! format: header + CRC-32, exact little-endian bytes) and referenced from the `states` table,
//! so a restart rebuilds trajectories without replaying them.
//!
//! One file per committed iteration (`it{q}.bin`, q = 0 for the initial ensemble; the initial
//! trajectories committed as they finish get one file per batch, `init{id}.bin` after the
//! batch's first id) holds the
//! states the iteration's new trajectories hold that no parent row already references (a
//! child refers to its parent's rows for the shared prefix). Files are written and fsync'ed
//! before the transaction that references them commits; a file that no live trajectory
//! refers to is removed once the iteration that killed its last user is durable (after a WAL
//! checkpoint, see `RunDb::settle`), and files no committed row names (written before a crash)
//! are removed when the run is opened again.

use super::schema::sql_error;
use super::state_rows::{StateBatch, StateRef, rows_of, states_dir};
use super::writer::RunDb;
use crate::journal::{IterationRecord, Journal, LoopState};
use crate::outcome::RunOutcome;
use crate::store::{StateBytes, TrajectoryStore};
use crate::trajectory::{Ensemble, Trajectory};
use crate::{DbError, Error, Result, StoreError};
use revolve::storage::disk::checkpoint_file::{read_checkpoint, write_checkpoint_with};
use std::collections::HashMap;
use std::path::Path;

fn io_err(path: &Path, action: &'static str, source: std::io::Error) -> Error {
    DbError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
    .into()
}

fn fsync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, "sync the directory", e))
}

/// Write the state file `name` of iteration `q` for `items` (a trajectory and, for a child,
/// its parent's id and branch step) and return the rows to insert.
fn write_batch<'t, S, St, I>(
    db: &RunDb,
    store: &St,
    template: &S,
    (q, name): (u64, String),
    items: I,
) -> Result<StateBatch>
where
    S: StateBytes,
    St: TrajectoryStore<S>,
    I: Iterator<Item = (&'t Trajectory<St::Record>, Option<(u64, u64)>)>,
    St::Record: 't,
{
    // A directory removed or a database replaced gets no state files (nor a new `states/`).
    db.check_identity()?;
    let dbpath = super::schema::db_path(&db.dir);
    let width = template.byte_len() as u64;
    let mut payload: Vec<u8> = Vec::new();
    let mut batch = StateBatch::default();
    let mut tmp = template.clone();
    for (t, parent) in items {
        let Some(steps) = store.held_steps(&t.record) else {
            continue;
        };
        let inherited: HashMap<u64, StateRef> = match parent {
            Some((pid, _)) => rows_of(&db.conn, pid, &dbpath)?.into_iter().collect(),
            None => HashMap::new(),
        };
        for s in steps.into_iter().filter(|&s| s > 0) {
            if let Some((_, j)) = parent
                && s <= j
                && let Some(r) = inherited.get(&s)
            {
                batch.rows.push((t.id, s, r.clone()));
                continue;
            }
            let kept = store.restore(&t.record, s, &mut tmp)?;
            if kept != s || tmp.byte_len() as u64 != width {
                return Err(StoreError::Persist {
                    trajectory: t.id,
                    step: s,
                }
                .into());
            }
            let offset = payload.len() as u64;
            payload.resize(payload.len() + width as usize, 0);
            tmp.write_bytes(&mut payload[offset as usize..]);
            batch.rows.push((
                t.id,
                s,
                StateRef {
                    file: name.clone(),
                    offset,
                },
            ));
        }
    }
    if !payload.is_empty() {
        let dir = states_dir(&db.dir);
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir)
                .map_err(|e| io_err(&dir, "create the state directory", e))?;
            fsync_dir(&db.dir)?;
        }
        let path = dir.join(&name);
        let crc = crc32fast::hash(&payload);
        write_checkpoint_with(&path, q, &payload, &mut Vec::new()).map_err(|source| {
            DbError::StateFile {
                path: path.clone(),
                source,
            }
        })?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_err(&path, "sync the state file", e))?;
        batch.file = Some((name, q, width, payload.len() as u64, crc));
    }
    Ok(batch)
}

/// Whether `name` is one the writer gives files in `states/`: `it{q}.bin`, or
/// `it{q}.bin.partial` while it is written.
fn is_state_file_name(name: &str) -> bool {
    let stem = name.strip_suffix(".partial").unwrap_or(name);
    let number = |prefix: &str| {
        stem.strip_prefix(prefix)
            .and_then(|s| s.strip_suffix(".bin"))
            .and_then(|q| q.parse::<u64>().ok().map(|n| n.to_string() == q))
            .unwrap_or(false)
    };
    number("it") || number("init")
}

/// The state file of a batch of initial trajectories whose first id is `id`.
fn initial_file(id: u64) -> (u64, String) {
    (0, format!("init{id}.bin"))
}

/// Remove state files of `dir` that no committed `state_files` row names (written before a
/// crash, or left when removing them after their last user died was interrupted). Only names
/// the writer gives its files are touched; anything else in `states/` is left alone.
pub(crate) fn remove_unreferenced(db: &RunDb) -> Result<u64> {
    let dir = states_dir(&db.dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    if !db.durable {
        // A reader kept the opening checkpoint from completing: what the rows say may not be
        // durable yet, so the files stay (removed by a later restart).
        return Ok(0);
    }
    let path = super::schema::db_path(&db.dir);
    let known: std::collections::HashSet<String> = db
        .conn
        .prepare("SELECT file FROM state_files")
        .map_err(sql_error(&path))?
        .query_map([], |r| r.get(0))
        .map_err(sql_error(&path))?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql_error(&path))?;
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // Only plain files of the writer's exact names (a directory or a link is not ours).
        let plain = e.file_type().is_ok_and(|t| t.is_file());
        if plain && is_state_file_name(&name) && !known.contains(&name) {
            std::fs::remove_file(e.path())
                .map_err(|err| io_err(&e.path(), "remove the state file", err))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Read state file `file` of `dir` (checked against its header CRC and the recorded length and
/// CRC); an error names the file.
pub(crate) fn read_file(db: &RunDb, file: &str) -> Result<Vec<u8>> {
    let dbpath = super::schema::db_path(&db.dir);
    let path = states_dir(&db.dir).join(file);
    let corrupt = |m: String| Error::from(DbError::corrupt(&path, m));
    let (bytes, crc): (i64, i64) = db
        .conn
        .query_row(
            "SELECT bytes, crc FROM state_files WHERE file = ?1",
            [file],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql_error(&dbpath))?;
    let len = u64::try_from(bytes).map_err(|_| corrupt(format!("bad length {bytes}")))?;
    let mut payload = vec![0u8; len as usize];
    read_checkpoint(&path, &mut payload).map_err(|source| DbError::StateFile {
        path: path.clone(),
        source,
    })?;
    if i64::from(crc32fast::hash(&payload)) != crc {
        return Err(corrupt("state file fails its recorded CRC-32".into()));
    }
    Ok(payload)
}

/// States at least this large are saved when `save_states` is not given: replaying them is
/// costly, while smaller states replay faster than one file write per iteration.
pub const AUTO_SAVE_STATE_BYTES: usize = 64 * 1024;

/// A [`Journal`] that persists the new trajectories' states (when given a template), then
/// records the iteration in the run database.
pub struct StateJournal<'a, S, St> {
    db: &'a mut RunDb,
    store: &'a St,
    /// A state of the model's shape (its byte length is every state's).
    template: Option<S>,
}

impl<'a, S, St> StateJournal<'a, S, St> {
    /// Record into `db` the run of a strategy using `store`, saving the states it holds if
    /// `template` (a state of the model's shape) is given.
    pub fn new(db: &'a mut RunDb, store: &'a St, template: Option<S>) -> Self {
        StateJournal {
            db,
            store,
            template,
        }
    }
}

impl<S, St> Journal<St::Record> for StateJournal<'_, S, St>
where
    S: StateBytes,
    St: TrajectoryStore<S>,
{
    fn on_fresh(&mut self, trajectories: &[&Trajectory<St::Record>]) -> Result<()> {
        let mut new = Vec::with_capacity(trajectories.len());
        for t in trajectories {
            if !self.db.has_initial(t.id)? {
                new.push(*t);
            }
        }
        let batch = match (&self.template, new.iter().map(|t| t.id).min()) {
            (Some(t), Some(first)) => write_batch(
                self.db,
                self.store,
                t,
                initial_file(first),
                new.iter().map(|&t| (t, None)),
            )?,
            _ => StateBatch::default(),
        };
        self.db.commit_fresh(&new, &batch)
    }

    fn on_initial(&mut self, ens: &Ensemble<St::Record>, st: &LoopState) -> Result<()> {
        let mut new = Vec::new();
        for t in &ens.trajectories {
            if !self.db.has_initial(t.id)? {
                new.push(t);
            }
        }
        let batch = match &self.template {
            Some(t) if !new.is_empty() => write_batch(
                self.db,
                self.store,
                t,
                (0, "it0.bin".into()),
                new.into_iter().map(|t| (t, None)),
            )?,
            _ => StateBatch::default(),
        };
        self.db.commit_initial(ens, st, &batch)
    }

    fn on_iteration(&mut self, rec: &IterationRecord<'_, St::Record>) -> Result<()> {
        let ens = rec.ensemble;
        let batch = match &self.template {
            Some(t) => write_batch(
                self.db,
                self.store,
                t,
                (rec.state.iterations, format!("it{}.bin", rec.state.iterations)),
                rec.tasks.iter().map(|&(slot, p, _)| {
                    let child = &ens.trajectories[slot];
                    let j = child.lineage.last().map_or(0, |s| s.start_step);
                    (child, Some((ens.trajectories[p].id, j)))
                }),
            )?,
            None => StateBatch::default(),
        };
        self.db.commit_iteration(rec, &batch)
    }

    fn on_stop(&mut self, outcome: &RunOutcome) -> Result<()> {
        Journal::<St::Record>::on_stop(self.db, outcome)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_writers_names_are_state_files() {
        for ours in ["it0.bin", "it17.bin", "it3.bin.partial", "init0.bin", "init12.bin"] {
            assert!(super::is_state_file_name(ours), "{ours}");
        }
        for theirs in [
            "notes.txt",
            "it.bin",
            "itx.bin",
            "it3.bin.bak",
            "run.sqlite",
            "it-1.bin",
            "it007.bin",
            "it00.bin",
            "it+7.bin",
            "it99999999999999999999.bin",
            "init.bin",
            "init01.bin",
        ] {
            assert!(!super::is_state_file_name(theirs), "{theirs}");
        }
    }
}
