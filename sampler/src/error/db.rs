//! Errors of the run database.

use std::path::PathBuf;

/// A run database error; every variant names the directory or file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// An SQLite operation failed.
    #[error("run database {}: {source}", path.display())]
    Sql {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("run database {}: cannot {action}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was attempted (`create`, `rename`, `lock`, ...).
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A state file could not be written or read.
    #[error("run database state file {}: {source}", path.display())]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: revolve::Error,
    },
    /// There is no run database where one was expected.
    #[error("run database {}: {what}", dir.display())]
    Missing {
        /// The run directory.
        dir: PathBuf,
        /// What is missing.
        what: Missing,
    },
    /// A new run was asked for in a directory that holds one.
    #[error(
        "run database {}: already holds a run database; continue it with --restart (or [database] restart = true)",
        dir.display()
    )]
    Exists {
        /// The run directory.
        dir: PathBuf,
    },
    /// A new run was asked for in a directory holding leftovers of an earlier run's database
    /// (a `-wal` or `-shm` without `run.sqlite`): SQLite would replay them into the new run.
    #[error(
        "run directory {} holds {} of an earlier run's database but no run.sqlite; a new run would adopt them: move them away (or delete them) or use a new directory",
        dir.display(),
        files.join(", ")
    )]
    Leftovers {
        /// The run directory.
        dir: PathBuf,
        /// The leftover file names.
        files: Vec<String>,
    },
    /// The run directory's `run.id` names another run than its database records.
    #[error(
        "run directory {}: run.id says run {found} but run.sqlite records run {recorded}; the database was replaced or the directory mixes two runs: refusing to continue it",
        dir.display()
    )]
    Foreign {
        /// The run directory.
        dir: PathBuf,
        /// Run id in `run.sqlite`.
        recorded: String,
        /// Run id in `run.id`.
        found: String,
    },
    /// The database file a writer opened was removed or replaced (or its directory removed)
    /// while the run was going on; the run stops (what it committed stays in what it opened).
    #[error(
        "run database {} was {what} while this run was writing it; stopping (nothing more is written)",
        path.display()
    )]
    Replaced {
        /// The database file.
        path: PathBuf,
        /// `removed`, `replaced by another file`, `removed with its directory`.
        what: &'static str,
    },
    /// Another process holds the run directory for writing.
    #[error(
        "run directory {dir} is in use by another process (a writer holds its lock); refusing to write to it",
        dir = dir.display()
    )]
    Locked {
        /// The run directory.
        dir: PathBuf,
    },
    /// The file is not a retrace run database.
    #[error("run database {}: not a retrace run database (meta.format is not {expected:?})", path.display())]
    NotARun {
        /// The database file.
        path: PathBuf,
        /// The format name expected.
        expected: &'static str,
    },
    /// SQLite could not switch the database to WAL mode.
    #[error("run database {}: cannot switch to WAL mode (got {mode})", path.display())]
    Wal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// The run database was written by an incompatible format version.
    #[error(
        "run database {} has format version {found}; this retrace reads version {expected} only",
        path.display()
    )]
    Format {
        /// The database file.
        path: PathBuf,
        /// Version found in the file.
        found: String,
        /// Version this build reads.
        expected: u32,
    },
    /// A restart with settings or a model that would invalidate the run.
    #[error(
        "cannot restart {}: {key} changed from {stored} to {given}, which would invalidate the run (start a new run directory instead)",
        dir.display()
    )]
    Incompatible {
        /// The run directory.
        dir: PathBuf,
        /// Dotted key (`tams.seed`, `model.sigma`, ...).
        key: String,
        /// Value recorded in the run.
        stored: String,
        /// Value given now.
        given: String,
    },
    /// A trajectory's saved states do not rebuild its record.
    #[error(
        "run database {} is damaged: trajectory {trajectory}: saved states do not rebuild its record: {source}",
        path.display()
    )]
    Rebuild {
        /// The database file.
        path: PathBuf,
        /// The trajectory.
        trajectory: u64,
        /// Why the store refused them.
        #[source]
        source: Box<crate::Error>,
    },
    /// Recorded data fails a check (checksum, length, replay).
    #[error(
        "run database {} is damaged: {}{reason}",
        path.display(),
        Location(*table, row.as_ref())
    )]
    Corrupt {
        /// The database or state file.
        path: PathBuf,
        /// The table of the damaged row (`None`: not one row, e.g. a state file's contents).
        table: Option<&'static str>,
        /// The damaged row.
        row: Option<Row>,
        /// What check failed.
        reason: String,
    },
}

/// A row of a run database named by [`DbError::Corrupt`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Row {
    /// The `iterations` row of this iteration.
    Iteration(i64),
    /// The row of this trajectory (in `trajectories`, or its rows in `states`).
    Trajectory(u64),
    /// The recorded configuration (the one `config` row).
    Config,
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Row::Iteration(q) => write!(f, "iteration {q}"),
            Row::Trajectory(id) => write!(f, "trajectory {id}"),
            Row::Config => f.write_str("the recorded configuration"),
        }
    }
}

/// `table T, ROW: ` (the parts known) before a [`DbError::Corrupt`] reason.
struct Location<'a>(Option<&'static str>, Option<&'a Row>);

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0, self.1) {
            (Some(t), Some(r)) => write!(f, "table {t}, {r}: "),
            (Some(t), None) => write!(f, "table {t}: "),
            (None, Some(r)) => write!(f, "{r}: "),
            (None, None) => Ok(()),
        }
    }
}

/// What [`DbError::Missing`] found missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Missing {
    /// The run directory does not exist.
    #[error("no such run directory")]
    Directory,
    /// The directory holds no `run.sqlite`.
    #[error("no run database here (run.sqlite missing)")]
    Database,
    /// The run was stopped while its database was being created.
    #[error(
        "no run database here: the run was stopped while its database was being created; start it again with --db"
    )]
    Unfinished,
}

impl DbError {
    /// A [`DbError::Corrupt`] for `path`, naming no row.
    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DbError::Corrupt {
            path: path.into(),
            table: None,
            row: None,
            reason: reason.into(),
        }
    }

    /// A [`DbError::Corrupt`] for row `row` of table `table` of `path`.
    pub(crate) fn corrupt_row(
        path: impl Into<PathBuf>,
        table: &'static str,
        row: Row,
        reason: impl Into<String>,
    ) -> Self {
        DbError::Corrupt {
            path: path.into(),
            table: Some(table),
            row: Some(row),
            reason: reason.into(),
        }
    }
}
