//! The `states` and `state_files` rows: where the persisted states of trajectories lie (SQL
//! only; the files themselves are written and read by `states`).

use super::schema::sql_error;
use crate::{DbError, Error, Result};
use rusqlite::{Transaction, params};
use std::path::{Path, PathBuf};

/// The state-file directory of a run directory.
pub fn states_dir(dir: &Path) -> PathBuf {
    dir.join("states")
}

/// Where a persisted state lies: `file` (under `states/`) at byte `offset` of its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateRef {
    pub file: String,
    pub offset: u64,
}

/// A state file written for one transaction and the `states` rows it brings.
#[derive(Debug, Default)]
pub(crate) struct StateBatch {
    /// `(file, iteration, state bytes, payload bytes, payload CRC-32)` if a file was written.
    pub file: Option<(String, u64, u64, u64, u32)>,
    /// `(trajectory, step, where)`.
    pub rows: Vec<(u64, u64, StateRef)>,
}

fn encode_u64s(xs: &[u64]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode_u64s(b: &[u8]) -> Option<Vec<u64>> {
    b.len().is_multiple_of(8).then(|| {
        b.chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    })
}

/// The saved states of trajectory `id`, by increasing step: step -> where.
pub(crate) fn rows_of(
    conn: &rusqlite::Connection,
    id: u64,
    path: &Path,
) -> Result<Vec<(u64, StateRef)>> {
    let err = sql_error(path);
    let corrupt = |m: String| {
        Error::from(DbError::corrupt_row(
            path,
            "states",
            crate::Row::Trajectory(id),
            m,
        ))
    };
    let mut stmt = conn
        .prepare_cached("SELECT file, steps, offsets FROM states WHERE trajectory = ?1")
        .map_err(&err)?;
    let groups = stmt
        .query_map([id as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .map_err(&err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&err)?;
    let mut out = Vec::new();
    for (file, steps, offsets) in groups {
        let (Some(steps), Some(offsets)) = (decode_u64s(&steps), decode_u64s(&offsets)) else {
            return Err(corrupt(format!("malformed states row for {file}")));
        };
        if steps.len() != offsets.len() {
            return Err(corrupt(format!("states row for {file}: lengths differ")));
        }
        for (s, o) in steps.into_iter().zip(offsets) {
            out.push((
                s,
                StateRef {
                    file: file.clone(),
                    offset: o,
                },
            ));
        }
    }
    out.sort_by_key(|x| x.0);
    Ok(out)
}

/// Insert `batch` in `tx`.
pub(crate) fn insert_batch(tx: &Transaction<'_>, batch: &StateBatch, path: &Path) -> Result<()> {
    let err = sql_error(path);
    if let Some((file, q, width, bytes, crc)) = &batch.file {
        tx.execute(
            "INSERT INTO state_files (file, iteration, state_bytes, bytes, crc) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                file,
                *q as i64,
                *width as i64,
                *bytes as i64,
                i64::from(*crc)
            ],
        )
        .map_err(&err)?;
    }
    // One row per (trajectory, file): its steps and their offsets in that file.
    type Steps = (Vec<u64>, Vec<u64>);
    let mut groups: std::collections::BTreeMap<(u64, &str), Steps> =
        std::collections::BTreeMap::new();
    for (id, step, r) in &batch.rows {
        let g = groups.entry((*id, r.file.as_str())).or_default();
        g.0.push(*step);
        g.1.push(r.offset);
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO states (trajectory, file, steps, offsets) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(&err)?;
    for ((id, file), (steps, offsets)) in groups {
        stmt.execute(params![
            id as i64,
            file,
            encode_u64s(&steps),
            encode_u64s(&offsets)
        ])
        .map_err(&err)?;
    }
    Ok(())
}

/// Drop the rows of the killed trajectories `ids` in `tx`; returns the files no row refers to
/// any more (their `state_files` rows deleted too): remove them once `tx` committed.
pub(crate) fn release(tx: &Transaction<'_>, ids: &[u64], path: &Path) -> Result<Vec<String>> {
    let err = sql_error(path);
    let mut files: Vec<String> = Vec::new();
    {
        let mut of = tx
            .prepare_cached("SELECT DISTINCT file FROM states WHERE trajectory = ?1")
            .map_err(&err)?;
        let mut del = tx
            .prepare_cached("DELETE FROM states WHERE trajectory = ?1")
            .map_err(&err)?;
        for &id in ids {
            let fs = of
                .query_map([id as i64], |r| r.get::<_, String>(0))
                .map_err(&err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(&err)?;
            files.extend(fs);
            del.execute([id as i64]).map_err(&err)?;
        }
    }
    files.sort();
    files.dedup();
    let mut unused = Vec::new();
    for f in files {
        let used: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM states WHERE file = ?1)",
                [&f],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if !used {
            tx.execute("DELETE FROM state_files WHERE file = ?1", [&f])
                .map_err(&err)?;
            unused.push(f);
        }
    }
    Ok(unused)
}
