//! The SQL schema, its format version, and opening a database with the right settings.

use crate::{DbError, Error, Missing, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// Format version written to `meta.schema_version`; other versions are refused (1 had no
/// state files, 2 no checksums of iteration and config rows).
pub const SCHEMA_VERSION: u32 = 3;
/// Value of `meta.format`.
pub const FORMAT: &str = "retrace-tams-run";

/// Tables of a run database (see docs/run-database.md).
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    toml TEXT NOT NULL,
    model TEXT NOT NULL,
    ntrajectories INTEGER NOT NULL,
    l INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    nsplititer INTEGER NOT NULL,
    walltime REAL,
    checksum INTEGER NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at REAL NOT NULL,
    start_iteration INTEGER,
    stopped_at REAL,
    stop TEXT,
    iterations INTEGER,
    retrace_version TEXT NOT NULL,
    warnings TEXT
);
CREATE TABLE config_changes (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    key TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL
);
CREATE TABLE iterations (
    iteration INTEGER PRIMARY KEY,
    level REAL,
    k INTEGER NOT NULL,
    killed TEXT NOT NULL,
    parents TEXT NOT NULL,
    children TEXT NOT NULL,
    weight REAL NOT NULL,
    weight_bits INTEGER NOT NULL,
    reached INTEGER NOT NULL,
    next_id INTEGER NOT NULL,
    branches INTEGER NOT NULL,
    model_steps INTEGER NOT NULL,
    replay_steps INTEGER NOT NULL,
    held INTEGER NOT NULL,
    peak_held INTEGER NOT NULL,
    select_word_pos TEXT NOT NULL,
    committed_at REAL NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE TABLE trajectories (
    id INTEGER PRIMARY KEY,
    slot INTEGER NOT NULL,
    parent INTEGER,
    branch_step INTEGER,
    born INTEGER NOT NULL,
    died INTEGER,
    last_step INTEGER NOT NULL,
    max_score REAL NOT NULL,
    reached INTEGER NOT NULL,
    lineage BLOB NOT NULL,
    scores BLOB NOT NULL,
    scores_crc INTEGER NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE INDEX trajectories_alive ON trajectories (died, slot);
CREATE TABLE state_files (
    file TEXT PRIMARY KEY,
    iteration INTEGER NOT NULL,
    state_bytes INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    crc INTEGER NOT NULL
);
CREATE TABLE states (
    trajectory INTEGER NOT NULL,
    file TEXT NOT NULL,
    steps BLOB NOT NULL,
    offsets BLOB NOT NULL,
    PRIMARY KEY (trajectory, file)
);
CREATE INDEX states_file ON states (file);
"#;

/// The database file inside a run directory.
pub fn db_path(dir: &Path) -> std::path::PathBuf {
    dir.join("run.sqlite")
}

pub(crate) fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| {
        DbError::Sql {
            path: path.to_path_buf(),
            source,
        }
        .into()
    }
}

/// Parse a stored description.
pub(crate) fn parse_description(text: &str, path: &Path) -> Result<toml::Table> {
    text.parse::<toml::Table>().map_err(|e| {
        Error::from(DbError::corrupt(
            path,
            format!("stored config does not parse: {}", e.message()),
        ))
    })
}

fn check_exists(dir: &Path) -> Result<std::path::PathBuf> {
    let path = db_path(dir);
    if !path.is_file() {
        let what = if dir.join("run.sqlite.new").exists() {
            Missing::Unfinished
        } else {
            Missing::Database
        };
        return Err(DbError::Missing {
            dir: dir.to_path_buf(),
            what,
        }
        .into());
    }
    Ok(path)
}

/// Open the database of `dir` (must exist) for writing: its format version is checked before
/// anything is changed (a foreign database is left as it is), then WAL mode is set.
pub(crate) fn open(dir: &Path) -> Result<Connection> {
    let path = check_exists(dir)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags).map_err(sql_error(&path))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql_error(&path))?;
    check_version(&conn, &path)?;
    configure(&conn, &path)?;
    Ok(conn)
}

/// A read-only connection to the database of `dir` (must exist), format version checked, and
/// the private copy it reads if any (keep it as long as the connection). Nothing in `dir` is
/// created, written or deleted unless a writer is active:
/// - no writer, WAL absent or empty (a finished or stopped run): the file is opened
///   `immutable`, SQLite creates no `-wal`/`-shm` file;
/// - no writer, WAL not empty (a killed run): the database and its WAL are copied (under the
///   directory's shared lock, so no writer starts meanwhile) into a private temporary
///   directory and read there, so SQLite neither rebuilds `-shm` nor checkpoints or deletes
///   the WAL in `dir`;
/// - a writer active: read through its WAL and shared-memory index (SQLite records its read
///   marks in the writer's `-shm`; the database and the WAL are never written).
///
/// Errors name `dir`'s database file, also when reading a copy.
pub(crate) fn open_read(dir: &Path) -> Result<(Connection, Option<super::copies::PrivateCopy>)> {
    let path = check_exists(dir)?;
    super::copies::remove_stale_private_copies(&std::env::temp_dir());
    let ro = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let wal = path.with_extension("sqlite-wal");
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| -> Error {
            DbError::Io {
                path: p,
                action,
                source,
            }
            .into()
        }
    };
    let guard = std::fs::File::open(dir).map_err(io("open the run directory", dir))?;
    let (conn, copy) = match guard.try_lock_shared() {
        Err(_) => (Connection::open_with_flags(&path, ro), None),
        Ok(()) if std::fs::metadata(&wal).map_or(true, |m| m.len() == 0) => {
            let _ = guard.unlock();
            let uri = file_uri(&path, "immutable=1");
            (
                Connection::open_with_flags(uri, ro | OpenFlags::SQLITE_OPEN_URI),
                None,
            )
        }
        Ok(()) => {
            let tmp = super::copies::PrivateCopy::create()
                .map_err(io("create a temporary directory to read", dir))?;
            let copy = tmp.path().join("run.sqlite");
            std::fs::copy(&path, &copy).map_err(io("copy the database to read it", &path))?;
            std::fs::copy(&wal, tmp.path().join("run.sqlite-wal"))
                .map_err(io("copy the WAL to read it", &wal))?;
            let _ = guard.unlock();
            (Connection::open_with_flags(&copy, ro), Some(tmp))
        }
    };
    let conn = conn.map_err(sql_error(&path))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql_error(&path))?;
    check_version(&conn, &path)?;
    Ok((conn, copy))
}

/// Whether a writer holds the lock of the run directory `dir` (an `flock` on the directory).
pub(crate) fn writer_active(dir: &Path) -> bool {
    let Ok(f) = std::fs::File::open(dir) else {
        return false;
    };
    match f.try_lock_shared() {
        Ok(()) => {
            let _ = f.unlock();
            false
        }
        Err(_) => true,
    }
}

/// `file:` URI of `path` with the query `query` (path bytes outside `[A-Za-z0-9/._~-]`
/// percent-encoded).
fn file_uri(path: &Path, query: &str) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for &b in abs.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/._~-".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(query);
    uri
}

/// WAL journal, commits durable against process crashes.
pub(crate) fn configure(conn: &Connection, path: &Path) -> Result<()> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(sql_error(path))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::Wal {
            path: path.to_path_buf(),
            mode,
        }
        .into());
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL;")
        .map_err(sql_error(path))
}

fn check_version(conn: &Connection, path: &Path) -> Result<()> {
    let err = sql_error(path);
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(&err)?
        > 0;
    let get = |key: &str| -> Result<Option<String>> {
        if !has_meta {
            return Ok(None);
        }
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(&err)
    };
    if get("format")?.as_deref() != Some(FORMAT) {
        return Err(DbError::NotARun {
            path: path.to_path_buf(),
            expected: FORMAT,
        }
        .into());
    }
    let found = get("schema_version")?.unwrap_or_else(|| "(none)".into());
    if found != SCHEMA_VERSION.to_string() {
        return Err(DbError::Format {
            path: path.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}
