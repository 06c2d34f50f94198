//! Saved states (`DIR/states/`): written for every new trajectory, referenced from the
//! `states` table, reference-counted by file, cleaned after a crash, verified on restart, and
//! a restart from them gives the uninterrupted run bit for bit.

use sampler::Config;
use sampler::db::states_dir;
use sampler::runner::{DbOptions, run_with_database};
use std::path::Path;

const BASE: &str = "[tams]\nntrajectories = 20\nnsplititer = NSPLIT\nl = 2\nseed = 11\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\nPOLICY\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\nSAVE";

fn config(nsplit: u64, policy: &str, save: bool) -> Config {
    let text = BASE
        .replace("NSPLIT", &nsplit.to_string())
        .replace("POLICY", policy)
        .replace("SAVE", &format!("save_states = {save}\n"));
    Config::from_toml(&text).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(states_dir(dir))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn query(dir: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("run.sqlite")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap()
}

/// Files on disk are exactly those `state_files` names, only live trajectories have states
/// rows, and with a store-all store (`all`) every live one has.
fn consistent(dir: &Path, all: bool) {
    let mut known = query(dir, "SELECT file FROM state_files");
    known.sort();
    assert_eq!(files(dir), known);
    let dead = query(
        dir,
        "SELECT CAST(count(*) AS TEXT) FROM states s JOIN trajectories t ON t.id = s.trajectory \
         WHERE t.died IS NOT NULL",
    );
    assert_eq!(dead, ["0"]);
    let bare = query(
        dir,
        "SELECT CAST(count(*) AS TEXT) FROM trajectories t WHERE t.died IS NULL AND NOT EXISTS \
         (SELECT 1 FROM states s WHERE s.trajectory = t.id)",
    );
    if all {
        assert_eq!(bare, ["0"]);
    }
}

fn restart_is_bit_identical(policy: &str) {
    let runs = tempfile::tempdir().unwrap();
    let whole = DbOptions::new(runs.path().join("whole"), false);
    let (plain, _) =
        run_with_database(Some(&config(500, policy, true)), &whole, &|_, _| {}).unwrap();
    assert!(plain.iterations > 4, "the run must split a few times");
    consistent(&whole.dir, policy.is_empty());

    let dir = runs.path().join("split");
    let first = DbOptions::new(dir.clone(), false);
    run_with_database(Some(&config(2, policy, true)), &first, &|_, _| {}).unwrap();
    consistent(&dir, policy.is_empty());
    assert!(!files(&dir).is_empty());
    // A file written before a crash (no committed row names it) goes at the restart.
    std::fs::write(states_dir(&dir).join("it999.bin"), b"partial").unwrap();
    std::fs::write(states_dir(&dir).join("it3.bin.partial"), b"x").unwrap();
    let mut n = 2;
    let r = loop {
        n += 3;
        let again = DbOptions::new(dir.clone(), true);
        let (r, _) = run_with_database(Some(&config(n, policy, true)), &again, &|_, _| {}).unwrap();
        consistent(&dir, policy.is_empty());
        if r.iterations < n {
            break r;
        }
    };
    assert_eq!(bits(&r.runs), bits(&plain.runs));
    assert_eq!(
        (r.iterations, r.model_steps, r.replay_steps),
        (plain.iterations, plain.model_steps, plain.replay_steps)
    );
}

#[test]
fn restarts_from_saved_states_are_bit_identical_store_all() {
    restart_is_bit_identical("");
}

#[test]
fn restarts_from_saved_states_are_bit_identical_compact() {
    let spill = tempfile::tempdir().unwrap();
    for placement in ["uniform", "schedule"] {
        restart_is_bit_identical(&format!(
            "policy = \"{placement}\"\nmemory_budget = 400\ncheckpoint_dir = \"{}\"\n",
            spill.path().display()
        ));
    }
}

/// (A missing state file is replaced by replay with a warning: see `db_power_loss`.)
#[test]
fn damaged_state_file_is_named() {
    let runs = tempfile::tempdir().unwrap();
    let dir = runs.path().join("run");
    let opts = DbOptions::new(dir.clone(), false);
    run_with_database(Some(&config(2, "", true)), &opts, &|_, _| {}).unwrap();
    let again = DbOptions::new(dir.clone(), true);
    for damage in ["truncate", "flip"] {
        let copy = runs.path().join(damage);
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(states_dir(&copy)).unwrap();
        for f in ["run.sqlite", "run.sqlite-wal"] {
            if dir.join(f).exists() {
                std::fs::copy(dir.join(f), copy.join(f)).unwrap();
            }
        }
        for f in files(&dir) {
            std::fs::copy(states_dir(&dir).join(&f), states_dir(&copy).join(&f)).unwrap();
        }
        let target = states_dir(&copy).join("init0.bin");
        let mut bytes = std::fs::read(&target).unwrap();
        if damage == "truncate" {
            bytes.truncate(bytes.len() - 5);
        } else {
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
        }
        std::fs::write(&target, bytes).unwrap();
        let opts = DbOptions {
            dir: copy.clone(),
            ..again.clone()
        };
        let err = run_with_database(Some(&config(5, "", true)), &opts, &|_, _| {})
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&target.display().to_string()),
            "{damage}: {err}"
        );
    }
}

#[test]
fn save_states_false_writes_none_and_replays() {
    let runs = tempfile::tempdir().unwrap();
    let dir = runs.path().join("run");
    let opts = DbOptions::new(dir.clone(), false);
    let (whole, _) = run_with_database(
        Some(&config(500, "", true)),
        &DbOptions::new(runs.path().join("whole"), false),
        &|_, _| {},
    )
    .unwrap();
    run_with_database(Some(&config(2, "", false)), &opts, &|_, _| {}).unwrap();
    assert!(files(&dir).is_empty());
    // The recorded choice holds for a restart without `[database]` (the stored config).
    let again = DbOptions::new(dir.clone(), true);
    let mut c = config(500, "", false);
    c.database = None;
    let (r, _) = run_with_database(Some(&c), &again, &|_, _| {}).unwrap();
    assert!(files(&dir).is_empty());
    assert_eq!(bits(&r.runs), bits(&whole.runs));
    assert!(
        Config::from_toml(
            &BASE
                .replace("SAVE", "save_states = 3\n")
                .replace("NSPLIT", "5")
                .replace("POLICY", "")
        )
        .unwrap_err()
        .to_string()
        .contains("save_states")
    );
}
