//! A power loss with `synchronous = NORMAL` may drop the commits since the last checkpoint. The
//! run keeps every state file such a commit released until a checkpoint made the release
//! durable, so the directory as left by a power loss (database and WAL as at an earlier commit
//! after the last checkpoint, state files as at the loss) restarts from saved states to the
//! uninterrupted run's report. A state file that is gone anyway is replaced by replay, with a
//! warning recorded in the session.
//!
//! The power loss is simulated from the iteration hook: after every commit the database, its
//! WAL and the state files are copied; the commits a power loss may drop are those after the
//! last one in the database file alone (the last checkpoint).

use sampler::Config;
use sampler::db::states_dir;
use sampler::runner::{DbOptions, run_with_database};
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = 500\nl = 2\nseed = 11\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\n\
    save_states = true\n";

fn config() -> Config {
    Config::from_toml(CONFIG).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Copy of the run directory `dir` (database, WAL, state files) into `to`.
fn snapshot(dir: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["run.sqlite", "run.sqlite-wal"] {
        if dir.join(f).exists() {
            std::fs::copy(dir.join(f), to.join(f)).unwrap();
        }
    }
    if states_dir(dir).is_dir() {
        copy_files(&states_dir(dir), &states_dir(to));
    }
}

/// The last iteration in the database file alone (what a checkpoint made durable).
fn checkpointed(snap: &Path, scratch: &Path) -> Option<u64> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    std::fs::copy(snap.join("run.sqlite"), scratch.join("run.sqlite")).unwrap();
    let conn = rusqlite::Connection::open(scratch.join("run.sqlite")).unwrap();
    conn.query_row("SELECT max(iteration) FROM iterations", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .unwrap()
    .map(|q| q as u64)
}

/// A directory with the database and WAL of snapshot `db` and the state files of `states`.
fn power_loss(db: &Path, states: &Path, to: &Path) {
    std::fs::create_dir_all(states_dir(to)).unwrap();
    for f in ["run.sqlite", "run.sqlite-wal"] {
        if db.join(f).exists() {
            std::fs::copy(db.join(f), to.join(f)).unwrap();
        }
    }
    copy_files(&states_dir(states), &states_dir(to));
}

fn last_warning(dir: &Path) -> Option<String> {
    let conn = rusqlite::Connection::open(dir.join("run.sqlite")).unwrap();
    conn.query_row(
        "SELECT warnings FROM sessions ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

struct Recorded {
    tmp: tempfile::TempDir,
    /// Report bits of the uninterrupted run.
    runs: Vec<u64>,
    iterations: u64,
}

/// The run, with a snapshot `snaps/{q}` after every iteration q.
fn recorded() -> Recorded {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let snaps = tmp.path().join("snaps");
    let hook = |q: u64, _: u64| snapshot(&dir, &snaps.join(q.to_string()));
    let (r, _) =
        run_with_database(Some(&config()), &DbOptions::new(dir.clone(), false), &hook).unwrap();
    assert!(r.iterations > 6, "the run must split a few times");
    Recorded {
        runs: bits(&r.runs),
        iterations: r.iterations,
        tmp,
    }
}

fn restart(dir: &Path) -> (Vec<u64>, u64) {
    let (r, _) = run_with_database(
        Some(&config()),
        &DbOptions::new(dir.into(), true),
        &|_, _| {},
    )
    .unwrap();
    (bits(&r.runs), r.iterations)
}

#[test]
fn released_state_files_outlive_commits_a_power_loss_may_drop() {
    let rec = recorded();
    let snaps = rec.tmp.path().join("snaps");
    let scratch = rec.tmp.path().join("scratch");
    // The longest stretch of commits a power loss may drop: at the time of snapshot `r`, any
    // commit q after the last checkpoint may be the last that survives.
    let mut best: Option<(u64, u64)> = None;
    for r in 1..rec.iterations {
        let q = checkpointed(&snaps.join(r.to_string()), &scratch).map_or(1, |d| d.max(1));
        if q < r && best.is_none_or(|(a, b)| r - q > b - a) {
            best = Some((q, r));
        }
    }
    let (q, r) = best.expect("a commit after a checkpoint");
    assert!(
        r - q >= 3,
        "only {q}..{r}: the test needs 3 droppable commits"
    );
    let dir = rec.tmp.path().join("lost");
    power_loss(&snaps.join(q.to_string()), &snaps.join(r.to_string()), &dir);
    let (runs, iterations) = restart(&dir);
    assert_eq!(
        last_warning(&dir),
        None,
        "lost {q}..{r}: a state file was gone"
    );
    assert_eq!((&runs, iterations), (&rec.runs, rec.iterations));
}

#[test]
fn missing_state_files_are_replaced_by_replay_with_a_warning() {
    let rec = recorded();
    let snaps = rec.tmp.path().join("snaps");
    // The database as after iteration 2, the state files as at the end (every file released
    // since then removed).
    let dir = rec.tmp.path().join("gone");
    power_loss(&snaps.join("2"), &rec.tmp.path().join("run"), &dir);
    let (runs, iterations) = restart(&dir);
    let warning = last_warning(&dir).expect("a warning");
    assert!(
        warning.contains("missing") && warning.contains("replayed from step 0"),
        "{warning}"
    );
    assert!(warning.contains(&dir.join("run.sqlite").display().to_string()));
    assert_eq!((&runs, iterations), (&rec.runs, rec.iterations));
    // The replayed trajectories' saved-state rows are gone: a second restart warns no more.
    let (again, _) = restart(&dir);
    assert_eq!(again, rec.runs);
    assert_eq!(last_warning(&dir), None);
}
