//! Checksummed rows: every value of an `iterations`, `config` or `trajectories` row that steers
//! a restart is covered by the row's `checksum` column (64-bit FNV-1a over a canonical
//! encoding of the row's values as stored), written at insert and verified by every read. A
//! changed byte in any covered value always changes the checksum (each FNV-1a step is a
//! bijection of the state), so a flipped bit is reported instead of steering the run.

use crate::{DbError, Error, Result, Row};
use std::path::Path;

/// 64-bit FNV-1a over typed values (each tagged, texts and blobs length-prefixed).
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new(table: &str) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325).bytes(table.as_bytes())
    }
    fn bytes(mut self, b: &[u8]) -> Fnv {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }
    fn int(self, v: i64) -> Fnv {
        self.bytes(&[1]).bytes(&v.to_le_bytes())
    }
    fn real(self, v: f64) -> Fnv {
        self.bytes(&[2]).bytes(&v.to_bits().to_le_bytes())
    }
    fn blob(self, v: &[u8]) -> Fnv {
        self.bytes(&[3])
            .bytes(&(v.len() as u64).to_le_bytes())
            .bytes(v)
    }
    fn opt_int(self, v: Option<i64>) -> Fnv {
        match v {
            Some(v) => self.int(v),
            None => self.bytes(&[0]),
        }
    }
    fn opt_real(self, v: Option<f64>) -> Fnv {
        match v {
            Some(v) => self.real(v),
            None => self.bytes(&[0]),
        }
    }
    fn finish(self) -> i64 {
        self.0 as i64
    }
}

fn mismatch(path: &Path, table: &'static str, row: Row) -> Error {
    DbError::corrupt_row(
        path,
        table,
        row,
        "checksum fails (a recorded value was changed)",
    )
    .into()
}

/// The values of an `iterations` row as stored.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct IterationValues {
    pub(super) iteration: i64,
    pub(super) level: Option<f64>,
    pub(super) k: i64,
    pub(super) killed: String,
    pub(super) parents: String,
    pub(super) children: String,
    pub(super) weight: f64,
    pub(super) weight_bits: i64,
    pub(super) reached: i64,
    pub(super) next_id: i64,
    pub(super) branches: i64,
    pub(super) model_steps: i64,
    pub(super) replay_steps: i64,
    pub(super) held: i64,
    pub(super) peak_held: i64,
    pub(super) select_word_pos: String,
    pub(super) committed_at: f64,
}

impl IterationValues {
    /// The columns [`IterationValues::from_row`] reads, `checksum` last.
    pub(super) const COLUMNS: &'static str = "iteration, level, k, killed, parents, children, weight, \
        weight_bits, reached, next_id, branches, model_steps, replay_steps, held, peak_held, \
        select_word_pos, committed_at, checksum";

    /// The row (selected with [`IterationValues::COLUMNS`]) and its stored checksum.
    pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(IterationValues, i64)> {
        Ok((
            IterationValues {
                iteration: r.get(0)?,
                level: r.get(1)?,
                k: r.get(2)?,
                killed: r.get(3)?,
                parents: r.get(4)?,
                children: r.get(5)?,
                weight: r.get(6)?,
                weight_bits: r.get(7)?,
                reached: r.get(8)?,
                next_id: r.get(9)?,
                branches: r.get(10)?,
                model_steps: r.get(11)?,
                replay_steps: r.get(12)?,
                held: r.get(13)?,
                peak_held: r.get(14)?,
                select_word_pos: r.get(15)?,
                committed_at: r.get(16)?,
            },
            r.get(17)?,
        ))
    }

    /// Checksum of every value.
    pub(super) fn checksum(&self) -> i64 {
        Fnv::new("iterations")
            .int(self.iteration)
            .opt_real(self.level)
            .int(self.k)
            .blob(self.killed.as_bytes())
            .blob(self.parents.as_bytes())
            .blob(self.children.as_bytes())
            .real(self.weight)
            .int(self.weight_bits)
            .int(self.reached)
            .int(self.next_id)
            .int(self.branches)
            .int(self.model_steps)
            .int(self.replay_steps)
            .int(self.held)
            .int(self.peak_held)
            .blob(self.select_word_pos.as_bytes())
            .real(self.committed_at)
            .finish()
    }

    /// Check `stored` against the values (error naming the database file and the row).
    pub(super) fn verify(&self, stored: i64, path: &Path) -> Result<()> {
        if self.checksum() != stored {
            return Err(mismatch(path, "iterations", Row::Iteration(self.iteration)));
        }
        Ok(())
    }
}

/// The values of the `config` row as stored.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ConfigValues {
    pub(super) toml: String,
    pub(super) model: String,
    pub(super) ntrajectories: i64,
    pub(super) l: i64,
    pub(super) seed: i64,
    pub(super) nsplititer: i64,
    pub(super) walltime: Option<f64>,
}

impl ConfigValues {
    /// The columns [`ConfigValues::from_row`] reads, `checksum` last.
    pub(super) const COLUMNS: &'static str =
        "toml, model, ntrajectories, l, seed, nsplititer, walltime, checksum";

    /// The row (selected with [`ConfigValues::COLUMNS`]) and its stored checksum.
    pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ConfigValues, i64)> {
        Ok((
            ConfigValues {
                toml: r.get(0)?,
                model: r.get(1)?,
                ntrajectories: r.get(2)?,
                l: r.get(3)?,
                seed: r.get(4)?,
                nsplititer: r.get(5)?,
                walltime: r.get(6)?,
            },
            r.get(7)?,
        ))
    }

    /// Checksum of every value.
    pub(super) fn checksum(&self) -> i64 {
        Fnv::new("config")
            .blob(self.toml.as_bytes())
            .blob(self.model.as_bytes())
            .int(self.ntrajectories)
            .int(self.l)
            .int(self.seed)
            .int(self.nsplititer)
            .opt_real(self.walltime)
            .finish()
    }

    /// Check `stored` against the values (error naming the database file and the row).
    pub(super) fn verify(&self, stored: i64, path: &Path) -> Result<()> {
        if self.checksum() != stored {
            return Err(mismatch(path, "config", Row::Config));
        }
        Ok(())
    }

    /// Read and verify the config row of `conn`.
    pub(super) fn read(conn: &rusqlite::Connection, path: &Path) -> Result<ConfigValues> {
        let (values, stored) = conn
            .query_row(
                &format!("SELECT {} FROM config WHERE id = 1", Self::COLUMNS),
                [],
                Self::from_row,
            )
            .map_err(super::schema::sql_error(path))?;
        values.verify(stored, path)?;
        Ok(values)
    }
}

/// The values of a `trajectories` row fixed at its insert (all but `died`, which the
/// `killed` lists of the checksummed iteration rows determine, and `scores`, covered by
/// `scores_crc` and re-scored by every rebuild).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TrajectoryValues<'a> {
    pub(super) id: i64,
    pub(super) slot: i64,
    pub(super) parent: Option<i64>,
    pub(super) branch_step: Option<i64>,
    pub(super) born: i64,
    pub(super) last_step: i64,
    pub(super) max_score: f64,
    pub(super) reached: bool,
    pub(super) lineage: &'a [u8],
}

impl TrajectoryValues<'_> {
    /// Checksum of every value.
    pub(super) fn checksum(&self) -> i64 {
        Fnv::new("trajectories")
            .int(self.id)
            .int(self.slot)
            .opt_int(self.parent)
            .opt_int(self.branch_step)
            .int(self.born)
            .int(self.last_step)
            .real(self.max_score)
            .int(i64::from(self.reached))
            .blob(self.lineage)
            .finish()
    }

    /// Check `stored` against the values (error naming the database file and the row).
    pub(super) fn verify(&self, stored: i64, path: &Path) -> Result<()> {
        if self.checksum() != stored {
            return Err(mismatch(
                path,
                "trajectories",
                Row::Trajectory(self.id as u64),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bit_of_a_value_changes_the_checksum() {
        let base = ConfigValues {
            toml: "[tams]\nseed = 3\n".into(),
            model: "m".into(),
            ntrajectories: 50,
            l: 1,
            seed: 3,
            nsplititer: 100,
            walltime: None,
        };
        let c = base.checksum();
        for bit in 0..64 {
            let mut v = base.clone();
            v.seed ^= 1 << bit;
            assert_ne!(v.checksum(), c, "seed bit {bit}");
        }
        let mut v = base.clone();
        v.toml = v.toml.replace('3', "7");
        assert_ne!(v.checksum(), c);
        let mut v = base.clone();
        v.walltime = Some(0.0);
        assert_ne!(v.checksum(), c);
        // Moving bytes from one text to the next is a change too (length prefixes).
        let mut v = base;
        v.toml.push('m');
        v.model.clear();
        assert_ne!(v.checksum(), c);
    }
}
