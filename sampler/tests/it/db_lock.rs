//! One writer per run directory in every case: a second writer (restart or new run) is refused
//! while the first runs, also after `DIR/lock` was deleted (the lock is on the directory itself),
//! leaves no session row (nor does a restart refused for its config or a damaged row), and
//! the first run finishes to the uninterrupted run's report. The
//! first writer is held inside its iteration hook, so no timing is assumed.

use sampler::db::RunReader;
use sampler::runner::{DbOptions, run_with_database};
use sampler::{Config, DbError, Error};
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;

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

fn sessions(dir: &Path) -> usize {
    RunReader::open(dir)
        .unwrap()
        .summary()
        .unwrap()
        .sessions
        .len()
}

/// The error of a writer refused on `dir`, as one line.
fn refused(result: sampler::Result<(sampler::runner::Report, Config)>, dir: &Path) -> String {
    let err = result.expect_err("the second writer was let in");
    let text = err.to_string();
    assert!(
        matches!(&err, Error::Database(DbError::Locked { dir: d }) if d == dir),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    text
}

#[test]
fn a_second_writer_is_refused_even_without_the_lock_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, _) = run_with_database(
        Some(&config()),
        &DbOptions::new(tmp.path().join("whole"), false),
        &|_, _| {},
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let (first, second, new_run, during) = std::thread::scope(|s| {
        let first = s.spawn(|| {
            let held = held_tx;
            let hook = move |q: u64, _: u64| {
                if q == 2 {
                    held.send(()).unwrap();
                    let _ = go_rx.lock().unwrap().recv();
                }
            };
            run_with_database(Some(&config()), &DbOptions::new(dir.clone(), false), &hook)
        });
        // The first writer holds the run at iteration 2 (or ended early: then the channel closes).
        let held = held_rx.recv().is_ok();
        let _ = std::fs::remove_file(dir.join("lock"));
        let second = run_with_database(None, &DbOptions::new(dir.clone(), true), &|_, _| {});
        let new_run = run_with_database(
            Some(&config()),
            &DbOptions::new(dir.clone(), false),
            &|_, _| {},
        );
        let during = held.then(|| sessions(&dir));
        go_tx.send(()).unwrap();
        (first.join().unwrap(), second, new_run, during)
    });
    let want = format!(
        "run directory {} is in use by another process",
        dir.display()
    );
    assert!(refused(second, &dir).contains(&want));
    assert!(refused(new_run, &dir).contains(&want));
    assert_eq!(during, Some(1), "a refused writer left a session row");
    let (first, _) = first.unwrap();
    assert_eq!(bits(&first.runs), bits(&whole.runs));
    assert_eq!(first.iterations, whole.iterations);
    assert_eq!(sessions(&dir), 1);
}

#[test]
fn a_refused_restart_leaves_no_session_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run_with_database(
        Some(&config()),
        &DbOptions::new(dir.clone(), false),
        &|_, _| {},
    )
    .unwrap();
    let mut other = config();
    other.tams.seed = Some(12);
    let err = run_with_database(Some(&other), &DbOptions::new(dir.clone(), true), &|_, _| {})
        .unwrap_err();
    assert!(
        matches!(err, Error::Database(DbError::Incompatible { .. })),
        "{err}"
    );
    assert_eq!(sessions(&dir), 1);
    // Refused while rebuilding the ensemble (a damaged scores blob): no session row either.
    let conn = rusqlite::Connection::open(dir.join("run.sqlite")).unwrap();
    conn.execute(
        "UPDATE trajectories SET scores_crc = scores_crc + 1 \
         WHERE id = (SELECT min(id) FROM trajectories WHERE died IS NULL)",
        [],
    )
    .unwrap();
    drop(conn);
    let err = run_with_database(
        Some(&config()),
        &DbOptions::new(dir.clone(), true),
        &|_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("CRC-32"), "{err}");
    assert_eq!(sessions(&dir), 1);
}
