//! A crash-safe run database for TAMS: one directory holding an SQLite database (WAL mode)
//! with the config, one row per iteration and one per trajectory (scores and noise lineage as
//! exact little-endian BLOBs). Every iteration commits in one transaction, so after a crash at
//! any instant the database holds the run up to some iteration, complete. States are not
//! stored: with counter-based noise a trajectory is determined by its lineage, so a restart
//! rebuilds them by replay and checks every replayed score bit for bit.
//!
//! - [`RunDb`]: the exclusive writer (lock file `DIR/lock`); implements [`crate::Journal`].
//! - [`run_with_database`]: run or continue a config (bit-identical to an uninterrupted run).
//! - [`RunReader`]: read-only inspection (summary, iteration table, trajectories).
//!
//! The schema is documented in `docs/run-database.md`.

mod codec;
mod config;
mod read;
mod restart;
mod run;
mod schema;
mod states;
mod writer;

pub use codec::{decode_lineage, decode_scores, encode_lineage, encode_scores};
pub use read::{IterationRow, RunReader, RunSummary, Session, TrajectoryRow};
pub use restart::{HARMLESS_KEYS, config_changes, resume};
pub use run::{DbOptions, run_with_database};
pub use schema::{FORMAT, SCHEMA_VERSION, db_path};
pub use states::states_dir;
pub use writer::RunDb;
