//! Messages of the run database: a damaged row is named by a typed error (table and row), and
//! long id lists in warnings are summarised.

use sampler::db::{RunReader, states_dir};
use sampler::runner::{DbOptions, run_with_database};
use sampler::{Config, DbError, Error, Row};
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = NTRAJ\nnsplititer = NSPLIT\nl = 2\nseed = 11\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\n\
    save_states = true\n";

fn run(dir: &Path, n: u64, nsplit: u64, restart: bool) -> sampler::Result<()> {
    let text = CONFIG
        .replace("NTRAJ", &n.to_string())
        .replace("NSPLIT", &nsplit.to_string());
    let c = Config::from_toml(&text).unwrap();
    run_with_database(
        Some(&c),
        &DbOptions::new(dir.to_path_buf(), restart),
        &|_, _| {},
    )
    .map(|_| ())
}

#[test]
fn a_damaged_row_is_named_by_table_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run(&dir, 20, 4, false).unwrap();
    let conn = rusqlite::Connection::open(dir.join("run.sqlite")).unwrap();
    conn.execute(
        "UPDATE iterations SET weight = weight * 2 WHERE iteration = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let err = run(&dir, 20, 6, true).unwrap_err();
    match &err {
        Error::Database(DbError::Corrupt {
            path, table, row, ..
        }) => {
            assert_eq!(path, &dir.join("run.sqlite"));
            assert_eq!(*table, Some("iterations"));
            assert_eq!(row, &Some(Row::Iteration(2)));
        }
        _ => panic!("{err}"),
    }
    let text = err.to_string();
    assert!(text.contains("table iterations, iteration 2: "), "{text}");
}

#[test]
fn missing_state_warnings_summarise_long_id_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run(&dir, 300, 3, false).unwrap();
    // Every initial trajectory's states (committed in batches as they finished).
    for e in std::fs::read_dir(states_dir(&dir)).unwrap() {
        let path = e.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("init")
        {
            std::fs::remove_file(path).unwrap();
        }
    }
    run(&dir, 300, 5, true).unwrap();
    let summary = RunReader::open(&dir).unwrap().summary().unwrap();
    let warning = summary.sessions.last().unwrap().warnings.clone().unwrap();
    assert!(warning.contains("replayed from step 0"), "{warning}");
    assert!(warning.contains(", ..., "), "{warning}");
    assert!(warning.len() < 400, "{} bytes: {warning}", warning.len());
}
