//! A crash-safe run database for TAMS: one directory holding an SQLite database (WAL mode)
//! with the config, one row per iteration and one per trajectory (scores and noise lineage as
//! exact little-endian BLOBs). Every iteration commits in one transaction, so after a crash at
//! any instant the database holds the run up to some iteration, complete; the trajectories of
//! the initial ensemble commit as they finish, so a crash during it loses only those in
//! flight ([`resume`] gives back the others). With
//! `[database] save_states = true` (the default) the states the trajectories' store holds are
//! saved as checkpoint files in `DIR/states/` (referenced from the `states` table, written
//! before the transaction that names them) and a restart rebuilds the ensemble from them
//! without replay; otherwise (with counter-based noise a trajectory is determined by its
//! lineage) it replays every trajectory from step 0. Either way every score is checked bit for
//! bit against the recorded one.
//!
//! - [`RunDb`]: the exclusive writer (an `flock` on `DIR` itself); implements [`crate::Journal`]
//!   (used directly it saves no states; the journal of [`crate::Run`] does).
//! - [`resume`]: rebuild the ensemble of a recorded run to continue it.
//! - [`RunReader`]: read-only inspection (summary, iteration table, trajectories).
//!
//! Every table is read by one reader (`read.rs`: typed rows, checksums verified), used by
//! [`resume`], by [`RunReader`] (the CLI's `db` commands, the plot) and by Python.
//!
//! The schema is documented in `docs/run-database.md`.
//!
//! The BLOB encodings and the list of keys a restart may change are internal:
//! ```compile_fail
//! let _ = sampler::db::encode_scores(&[1.0]);
//! ```
//! ```compile_fail
//! let _ = sampler::db::decode_lineage(&[]);
//! ```
//! ```compile_fail
//! let _ = sampler::db::HARMLESS_KEYS;
//! ```

mod codec;
mod copies;
mod read;
mod reader;
mod restart;
mod rows;
mod schema;
mod state_rows;
mod states;
mod writer;

pub use copies::{remove_private_copies, remove_stale_private_copies};
pub use read::{ConfigChange, ConfigRow, IterationRow, Session, TrajectoryRow};
pub use reader::{RunReader, RunSummary, recorded_description};
pub use restart::{config_changes, resume};
pub use schema::{FORMAT, SCHEMA_VERSION, db_path};
pub use state_rows::states_dir;
pub use states::{AUTO_SAVE_STATE_BYTES, StateJournal};
pub use writer::{RUN_ID_FILE, RunDb, SessionKind};
