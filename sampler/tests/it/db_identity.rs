//! A run directory has one identity: a new run never adopts an earlier database's leftovers,
//! a restart refuses a database that is not the directory's, and a writer stops when its
//! database is removed or replaced (or its directory deleted).

use sampler::db::{db_path, states_dir};
use sampler::runner::{DbOptions, run_with_database};
use sampler::{Config, DbError, Error};
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = NSPLIT\nl = 2\nseed = SEED\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\n\
    save_states = true\n";

fn config(nsplit: u64, seed: u64) -> Config {
    Config::from_toml(
        &CONFIG
            .replace("NSPLIT", &nsplit.to_string())
            .replace("SEED", &seed.to_string()),
    )
    .unwrap()
}

fn run(dir: &Path, c: &Config, restart: bool) -> sampler::Result<sampler::runner::Report> {
    run_with_database(
        Some(c),
        &DbOptions::new(dir.to_path_buf(), restart),
        &|_, _| {},
    )
    .map(|(r, _)| r)
}

#[test]
fn a_new_run_refuses_a_stale_wal_left_without_its_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let wal = dir.join("run.sqlite-wal");
    let saved = tmp.path().join("saved-wal");
    // The WAL of a live writer after three iterations (what a kill leaves behind).
    run_with_database(
        Some(&config(6, 11)),
        &DbOptions::new(dir.clone(), false),
        &|done, _| {
            if done == 3 {
                std::fs::copy(&wal, &saved).unwrap();
            }
        },
    )
    .unwrap();
    std::fs::remove_file(db_path(&dir)).unwrap();
    std::fs::copy(&saved, &wal).unwrap();
    let other = config(4, 12);
    let err = run(&dir, &other, false).unwrap_err();
    let Error::Database(DbError::Leftovers { files, .. }) = &err else {
        panic!("{err}");
    };
    assert_eq!(files, &["run.sqlite-wal"]);
    assert!(err.to_string().contains("run.sqlite-wal"), "{err}");
    assert!(
        !db_path(&dir).exists(),
        "nothing created over the leftovers"
    );
    assert!(wal.exists(), "the leftover is left for the user");
    // Moved away, the directory takes the new run, which is the other config's own.
    std::fs::remove_file(&wal).unwrap();
    let fresh = tmp.path().join("fresh");
    let a = run(&dir, &other, false).unwrap();
    let b = run(&fresh, &other, false).unwrap();
    assert_eq!(a.estimate.to_bits(), b.estimate.to_bits());
    assert_eq!(a.iterations, b.iterations);
}

#[test]
fn a_restart_refuses_a_database_of_another_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run(&one, &config(3, 11), false).unwrap();
    run(&two, &config(3, 11), false).unwrap();
    std::fs::copy(db_path(&two), db_path(&one)).unwrap();
    let err = run(&one, &config(5, 11), true).unwrap_err();
    assert!(
        matches!(err, Error::Database(DbError::Foreign { .. })),
        "{err}"
    );
}

/// Run with `act` applied to the run directory after iteration 2 is committed: the run
/// stops with [`DbError::Replaced`] saying `what`.
fn interrupted(tmp: &Path, act: fn(&Path), what: &str) -> std::path::PathBuf {
    let dir = tmp.join("run");
    let d = dir.clone();
    let err = run_with_database(
        Some(&config(40, 11)),
        &DbOptions::new(dir.clone(), false),
        &move |done, _| {
            if done == 2 {
                act(&d);
            }
        },
    )
    .unwrap_err();
    match &err {
        Error::Database(DbError::Replaced { what: w, .. }) => assert_eq!(*w, what, "{err}"),
        _ => panic!("{err}"),
    }
    dir
}

#[test]
fn a_writer_stops_when_its_database_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    interrupted(
        tmp.path(),
        |d| std::fs::remove_file(db_path(d)).unwrap(),
        "removed",
    );
}

#[test]
fn a_writer_stops_when_its_database_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = interrupted(
        tmp.path(),
        |d| {
            let other = d.with_file_name("other");
            std::fs::write(&other, b"not the writer's").unwrap();
            std::fs::rename(&other, db_path(d)).unwrap();
        },
        "replaced by another file",
    );
    assert_eq!(std::fs::read(db_path(&dir)).unwrap(), b"not the writer's");
}

#[test]
fn a_writer_stops_when_its_directory_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = interrupted(
        tmp.path(),
        |d| std::fs::remove_dir_all(d).unwrap(),
        "removed with its directory",
    );
    assert!(!dir.exists(), "no directory or state files recreated");
    assert!(!states_dir(&dir).exists());
}

#[test]
fn a_restart_without_a_config_reports_the_config_as_given() {
    // Store-all keeps no spill files, yet the given checkpoint_dir and memory_budget are part
    // of the config the report echoes.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let text = CONFIG.replace("NSPLIT", "3").replace("SEED", "11").replace(
        "targetscore = 0.8\n",
        "targetscore = 0.8\npolicy = \"store_all\"\ncheckpoint_dir = \"/tmp/x\"\n",
    );
    let given = Config::from_toml(&text).unwrap();
    let (_, first) = run_with_database(
        Some(&given),
        &DbOptions::new(dir.clone(), false),
        &|_, _| {},
    )
    .unwrap();
    let (_, again) =
        run_with_database(None, &DbOptions::new(dir.clone(), true), &|_, _| {}).unwrap();
    assert_eq!(again, first);
    assert_eq!(
        again.trajectory.checkpoint_dir.as_deref(),
        Some(Path::new("/tmp/x"))
    );
    // A harmless key changed by a restart is reported as changed.
    let mut more = given.clone();
    more.tams.nsplititer = Some(5);
    run_with_database(Some(&more), &DbOptions::new(dir.clone(), true), &|_, _| {}).unwrap();
    let (_, last) = run_with_database(None, &DbOptions::new(dir, true), &|_, _| {}).unwrap();
    let mut expected = more;
    expected.database = None;
    assert_eq!(last, expected);
}
