//! Continuing a run: config compatibility and rebuilding the ensemble by exact replay.

use super::read::{IterationRow, Select, Tables, TrajectoryRow};
use super::schema::{db_path, sql_error};
use super::state_rows::{StateRef, rows_of, states_dir};
use super::states::{read_file, remove_unreferenced};
use super::writer::RunDb;
use crate::journal::{LoopState, Resume};
use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, initial_of, replay_with, root_of};
use crate::store::{StateBytes, TrajectoryStore};
use crate::trajectory::{Ensemble, Trajectory};
use crate::{DbError, Error, Model, NoiseKey, Result, Row};
use rayon::prelude::*;
use revolve::State as _;
use std::collections::HashMap;
use std::path::Path;

/// Keys whose change keeps a run valid (recorded, then accepted).
pub(crate) const HARMLESS_KEYS: &[&str] = &[
    "tams.walltime",
    "tams.nsplititer",
    "runner.nworkers",
    "tams.on_stall",
    "tams.init_ensemble_only",
];

fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        v => out.push((prefix.to_owned(), v.to_string())),
    }
}

fn keys(description: &toml::Table) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten("", &toml::Value::Table(description.clone()), &mut out);
    out
}

/// Compare the description a run was made with to the one given for its restart (both as
/// recorded: `[tams]`, `[trajectory]`, `[model]`, ...): the harmless changes `(key, old, new)`,
/// or [`DbError::Incompatible`] naming the first key that would invalidate the run (for
/// instance `model.NAME` of a changed model parameter).
pub fn config_changes(
    dir: &Path,
    stored: &toml::Table,
    given: &toml::Table,
) -> Result<Vec<(String, String, String)>> {
    let (a, b) = (keys(stored), keys(given));
    let absent = "(absent)".to_string();
    let mut all: Vec<&String> = a.iter().chain(&b).map(|(k, _)| k).collect();
    // A different model is named as such before any of its parameters.
    all.sort_by_key(|k| (k.as_str() != "model.name", k.as_str()));
    all.dedup();
    let mut changes = Vec::new();
    for key in all {
        let old = a.iter().find(|(k, _)| k == key).map_or(&absent, |x| &x.1);
        let new = b.iter().find(|(k, _)| k == key).map_or(&absent, |x| &x.1);
        if old == new {
            continue;
        }
        if !HARMLESS_KEYS.contains(&key.as_str()) {
            return Err(DbError::Incompatible {
                dir: dir.to_path_buf(),
                key: key.clone(),
                stored: old.clone(),
                given: new.clone(),
            }
            .into());
        }
        changes.push((key.clone(), old.clone(), new.clone()));
    }
    Ok(changes)
}

/// Loop state, next id, K_q per iteration, alive trajectories by slot, whether they are a
/// partial initial ensemble.
type Loaded = (LoopState, u64, Vec<u64>, Vec<TrajectoryRow>, bool);

/// The initial trajectories committed before iteration 0 (as they finished), or `None` if there
/// are none; each checked to be an initial one (no parent, born at 0, slot = id < `n`).
fn load_partial(tables: &Tables<'_>, n: u64, path: &Path) -> Result<Option<Loaded>> {
    let rows = tables.trajectories(Select::Alive)?;
    if rows.is_empty() {
        return Ok(None);
    }
    for t in &rows {
        if t.parent.is_some() || t.born != 0 || t.slot != t.id || t.id >= n {
            return Err(Error::from(DbError::corrupt_row(
                path,
                "trajectories",
                Row::Trajectory(t.id),
                format!(
                    "no iteration is recorded, so it must be an initial trajectory \
                     (no parent, born 0, slot = id < {n})"
                ),
            )));
        }
    }
    let state = LoopState {
        iterations: 0,
        weight: 1.0,
        branches: 0,
        model_steps: 0,
        replay_steps: 0,
        held: 0,
        peak_held: 0,
        select_word_pos: 0,
    };
    Ok(Some((state, n, Vec::new(), rows, true)))
}

/// The loop state and alive trajectories after the last committed iteration, the initial
/// trajectories committed so far if no iteration was, or `None` if none was (the run starts
/// afresh). Read through the one reader ([`Tables`]), then cross-checked: the iteration rows
/// against each other, the alive rows against the ids they leave alive.
fn load(db: &RunDb, n: u64) -> Result<Option<Loaded>> {
    let path = db_path(&db.dir);
    let tables = Tables::new(&db.conn, &path);
    let rows = tables.iterations()?;
    let Some(last) = rows.last() else {
        return load_partial(&tables, n, &path);
    };
    let (kills, expected_alive) = replay_ids(&rows, n, &path)?;
    let state = LoopState {
        iterations: last.iteration,
        weight: last.weight,
        branches: last.branches,
        model_steps: last.model_steps,
        replay_steps: last.replay_steps,
        held: last.held,
        peak_held: last.peak_held,
        select_word_pos: last.select_word_pos,
    };
    let next_id = last.next_id;
    let alive = tables.trajectories(Select::Alive)?;
    let mut ids: Vec<u64> = alive.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    if let Some(id) = first_difference(&ids, &expected_alive) {
        let (is, said) = if ids.binary_search(&id).is_ok() {
            ("is", "killed or never created")
        } else {
            ("is not", "alive")
        };
        return Err(Error::from(DbError::corrupt_row(
            &path,
            "trajectories",
            Row::Trajectory(id),
            format!("{is} alive, the iteration rows say {said}"),
        )));
    }
    let slots_ok =
        alive.len() as u64 == n && alive.iter().enumerate().all(|(i, t)| t.slot == i as u64);
    if !slots_ok {
        return Err(Error::from(DbError::corrupt(
            &path,
            format!(
                "{} alive trajectories in slots that are not 0..{n}",
                alive.len()
            ),
        )));
    }
    Ok(Some((state, next_id, kills, alive, false)))
}

/// Cross-check the iteration rows `rows` of a run of `n` trajectories: iterations 0, 1, ...
/// in order, `k` equal to the lengths of the killed/parents/children lists, children numbered
/// from `next_id` on, `next_id` equal to `n` plus the children created, every killed
/// trajectory alive. Returns K_q per iteration q >= 1 and the ids alive after the last row,
/// sorted.
fn replay_ids(rows: &[IterationRow], n: u64, path: &Path) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut alive: std::collections::BTreeSet<u64> = (0..n).collect();
    let mut next = n;
    let mut kills = Vec::with_capacity(rows.len());
    for (q, r) in rows.iter().enumerate() {
        let bad = |m: String| {
            Error::from(DbError::corrupt_row(
                path,
                "iterations",
                Row::Iteration(r.iteration as i64),
                m,
            ))
        };
        if r.iteration != q as u64 {
            return Err(bad(format!("expected iteration {q} here")));
        }
        let k = r.k;
        if [r.killed.len(), r.parents.len(), r.children.len()] != [k as usize; 3] {
            return Err(bad(format!("k = {k} does not match its id lists")));
        }
        for &id in &r.killed {
            if !alive.remove(&id) {
                return Err(bad(format!("killed trajectory {id} was not alive")));
            }
        }
        for &id in &r.children {
            if id != next {
                return Err(bad(format!("child {id} where id {next} was next")));
            }
            alive.insert(id);
            next += 1;
        }
        if r.next_id != next {
            return Err(bad(format!(
                "next_id {} differs from {next} (N plus the children created so far)",
                r.next_id
            )));
        }
        if q > 0 {
            kills.push(k);
        }
    }
    Ok((kills, alive.into_iter().collect()))
}

/// The smallest id in one of the sorted lists `a`, `b` but not the other.
fn first_difference(a: &[u64], b: &[u64]) -> Option<u64> {
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => (i, j) = (i + 1, j + 1),
            (Some(x), Some(y)) => return Some(*x.min(y)),
            (Some(x), None) | (None, Some(x)) => return Some(*x),
            (None, None) => return None,
        }
    }
}

/// Rebuild one trajectory's states by replaying its lineage from the initial state, checking
/// every score against the recorded one bit for bit.
fn rebuild<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    t: TrajectoryRow,
    path: &Path,
) -> Result<Trajectory<St::Record>> {
    let mismatch = |step: u64, got: f64| {
        Error::from(DbError::corrupt_row(
            path,
            "trajectories",
            Row::Trajectory(t.id),
            format!(
                "replayed score {got} at step {step} differs from the recorded {} \
             (model or build changed?)",
                t.scores[step as usize]
            ),
        ))
    };
    let mut state = initial_of(model, key, root_of(&t.lineage)?);
    let mut noise = model.noise_buffer();
    let s0 = model.score(&state, 0.0);
    if s0.to_bits() != t.scores[0].to_bits() {
        return Err(mismatch(0, s0));
    }
    let mut record = store.begin(&state);
    let last = t.scores.len() as u64 - 1;
    replay_with(
        model,
        h,
        key,
        &t.lineage,
        &mut state,
        &mut noise,
        0,
        last,
        |step, state| {
            let s = model.score(state, h.time(step));
            if s.to_bits() != t.scores[step as usize].to_bits() {
                return Err(mismatch(step, s));
            }
            store.record(&mut record, step, state);
            Ok(())
        },
    )?;
    let max = t.scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max.to_bits() != t.max_score.to_bits() || t.reached != (max >= h.target) {
        return Err(Error::from(DbError::corrupt_row(
            path,
            "trajectories",
            Row::Trajectory(t.id),
            "max score or reached flag inconsistent",
        )));
    }
    Ok(Trajectory {
        id: t.id,
        lineage: t.lineage,
        scores: t.scores,
        max_score: t.max_score,
        reached: t.reached,
        record,
    })
}

/// Rebuild one trajectory's record from its persisted states (`rows`: step -> file, offset;
/// `files`: payloads), checking the score of every loaded state bit for bit. `None` if the
/// store cannot rebuild records that way (the caller replays).
#[allow(clippy::too_many_arguments)]
fn from_states<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    t: &TrajectoryRow,
    rows: &[(u64, StateRef)],
    files: &HashMap<String, Vec<u8>>,
    path: &Path,
) -> Option<Result<St::Record>>
where
    M::State: StateBytes,
{
    let root = match root_of(&t.lineage) {
        Ok(r) => r,
        Err(e) => return Some(Err(e)),
    };
    let initial = initial_of(model, key, root);
    let width = initial.byte_len();
    let corrupt = |m: String| {
        Error::from(DbError::corrupt_row(
            path,
            "states",
            Row::Trajectory(t.id),
            m,
        ))
    };
    let mut states = Vec::with_capacity(rows.len());
    for (step, r) in rows {
        let at = r.offset as usize;
        let Some(bytes) = files.get(&r.file).and_then(|p| p.get(at..at + width)) else {
            return Some(Err(corrupt(format!(
                "state of step {step} lies outside state file {}",
                r.file
            ))));
        };
        let Some(&recorded) = t.scores.get(*step as usize) else {
            return Some(Err(corrupt(format!(
                "state of step {step} after its last step"
            ))));
        };
        let mut s = initial.clone();
        s.read_bytes(bytes);
        let got = model.score(&s, h.time(*step));
        if got.to_bits() != recorded.to_bits() {
            return Some(Err(corrupt(format!(
                "saved state of step {step} (file {}) scores {got}, not the recorded {recorded}",
                r.file
            ))));
        }
        states.push((*step, s));
    }
    let max = t.scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max.to_bits() != t.max_score.to_bits() || t.reached != (max >= h.target) {
        return Some(Err(corrupt(
            "max score or reached flag inconsistent".into(),
        )));
    }
    let s0 = model.score(&initial, 0.0);
    if s0.to_bits() != t.scores[0].to_bits() {
        return Some(Err(corrupt(format!(
            "initial score {s0} differs from the recorded {}",
            t.scores[0]
        ))));
    }
    store
        .record_from_held(&initial, states, t.scores.len() as u64 - 1)
        .map(|r| {
            r.map_err(|e| {
                DbError::Rebuild {
                    path: path.to_path_buf(),
                    trajectory: t.id,
                    source: Box::new(e),
                }
                .into()
            })
        })
}

/// The [`Resume`] of the run in `db`: after its last committed iteration, or a partial initial
/// ensemble (the trajectories committed as they finished, [`Resume::partial`]), or `None` if
/// nothing was committed.
/// Trajectories with saved states (`DIR/states/`) are rebuilt from them without model steps
/// (every loaded state's score checked bit for bit); the others by replay from step 0, in
/// parallel. State files no committed row names are removed first.
pub fn resume<M: Model, St: TrajectoryStore<M::State>>(
    db: &RunDb,
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    n: u64,
) -> Result<Option<Resume<St::Record>>>
where
    M::State: StateBytes,
{
    remove_unreferenced(db)?;
    let Some((state, next_id, kills, alive, partial)) = load(db, n)? else {
        return Ok(None);
    };
    let dbpath = db_path(&db.dir);
    let path = dbpath.as_path();
    let mut rows = Vec::with_capacity(alive.len());
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut missing: Vec<String> = Vec::new();
    for t in &alive {
        let r = rows_of(&db.conn, t.id, &dbpath)?;
        for (_, x) in &r {
            if files.contains_key(&x.file) || missing.contains(&x.file) {
                continue;
            }
            if states_dir(&db.dir).join(&x.file).exists() {
                files.insert(x.file.clone(), read_file(db, &x.file)?);
            } else {
                missing.push(x.file.clone());
            }
        }
        rows.push(r);
    }
    // A state file gone (its removal outlived the commits that released it, e.g. a power
    // loss dropped them): its trajectories are replayed from step 0 instead.
    let mut replayed = Vec::new();
    for (t, r) in alive.iter().zip(rows.iter_mut()) {
        if r.iter().any(|(_, x)| missing.contains(&x.file)) {
            r.clear();
            replayed.push(t.id);
        }
    }
    if !replayed.is_empty() {
        forget_states(db, &replayed, &missing)?;
    }
    let trajectories = collect_ordered(alive.into_par_iter().zip(rows).map(|(t, r)| {
        let saved = if r.is_empty() {
            None
        } else {
            from_states(model, store, h, key, &t, &r, &files, path)
        };
        match saved {
            Some(record) => Ok(Trajectory {
                id: t.id,
                lineage: t.lineage,
                scores: t.scores,
                max_score: t.max_score,
                reached: t.reached,
                record: record?,
            }),
            None => rebuild(model, store, h, key, t, path),
        }
    }))?;
    drop(files);
    // States held by the rebuilt records (equal to the recorded count for `StoreAll`; a
    // compact store may place a rebuilt trajectory's checkpoints differently from one built
    // from its parent's prefix, so the accounting continues from what is held now).
    let held: u64 = trajectories.iter().map(|t| store.held(&t.record)).sum();
    Ok(Some(Resume {
        ensemble: Ensemble {
            trajectories,
            next_id,
        },
        state: LoopState { held, ..state },
        kills,
        partial,
    }))
}

/// Drop the saved-state rows of the trajectories `ids` (replayed because state files
/// `missing` are gone) and of the missing files, and record a warning (stderr and the
/// session's `warnings`), so that later restarts and children do not refer to them.
fn forget_states(db: &RunDb, ids: &[u64], missing: &[String]) -> Result<()> {
    let path = db_path(&db.dir);
    let err = sql_error(&path);
    let files: Vec<String> = missing.iter().map(|f| format!("states/{f}")).collect();
    let warning = format!(
        "run database {}: state file(s) {} missing (removed before a power loss?); \
         trajectories {} are replayed from step 0",
        path.display(),
        super::codec::summarise(&files),
        super::codec::summarise(ids),
    );
    let tx = db.conn.unchecked_transaction().map_err(&err)?;
    for &id in ids {
        tx.execute("DELETE FROM states WHERE trajectory = ?1", [id as i64])
            .map_err(&err)?;
    }
    for f in missing {
        tx.execute("DELETE FROM states WHERE file = ?1", [f])
            .map_err(&err)?;
    }
    tx.execute(
        "DELETE FROM state_files WHERE file NOT IN (SELECT file FROM states)",
        [],
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)?;
    db.warn(warning);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row with `parents` empty (set it to match `children`).
    fn row(q: u64, killed: &[u64], children: &[u64], next_id: u64) -> IterationRow {
        IterationRow {
            iteration: q,
            level: None,
            k: killed.len() as u64,
            killed: killed.to_vec(),
            parents: Vec::new(),
            children: children.to_vec(),
            weight: 1.0,
            reached: 0,
            next_id,
            branches: 0,
            model_steps: 0,
            replay_steps: 0,
            held: 0,
            peak_held: 0,
            select_word_pos: 0,
            committed_at: 0.0,
        }
    }

    fn err(rows: &[IterationRow]) -> String {
        replay_ids(rows, 3, Path::new("r.sqlite"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn long_lists_are_summarised() {
        use super::super::codec::summarise;
        assert_eq!(summarise(&[1, 2, 3]), "1, 2, 3");
        let long: Vec<u64> = (0..1000).collect();
        assert_eq!(summarise(&long), "1000 (0, 1, 2, 3, 4, ..., 997, 998, 999)");
    }

    #[test]
    fn iteration_rows_are_cross_checked() {
        let mut rows = vec![row(0, &[], &[], 3), row(1, &[1], &[3], 4)];
        rows[1].parents = vec![0];
        let (kills, alive) = replay_ids(&rows, 3, Path::new("r.sqlite")).unwrap();
        assert_eq!((kills, alive), (vec![1], vec![0, 2, 3]));
        let mut bad = rows.clone();
        bad[1].next_id = 3;
        assert!(err(&bad).contains("iteration 1: next_id 3 differs from 4"));
        let mut bad = rows.clone();
        bad[1].killed = vec![7];
        assert!(err(&bad).contains("killed trajectory 7 was not alive"));
        let mut bad = rows.clone();
        bad[1].k = 2;
        assert!(err(&bad).contains("k = 2 does not match"));
        let mut bad = rows.clone();
        bad[1].children = vec![5];
        assert!(err(&bad).contains("child 5 where id 3 was next"));
        let mut bad = rows;
        bad[1].iteration = 2;
        assert!(err(&bad).contains("expected iteration 1"));
        assert_eq!(first_difference(&[1, 2, 4], &[1, 2, 3]), Some(3));
        assert_eq!(first_difference(&[1, 2], &[1, 2]), None);
        assert_eq!(first_difference(&[1, 2], &[1]), Some(2));
    }
}
