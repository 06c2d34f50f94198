//! Every recorded value that steers a restart is checked: one changed value in an `iterations`
//! row (selection-stream position, counters, next id, weight, kills), in the `config` row (the
//! recorded TOML: target, seed) or in a trajectory's lineage makes `tams --restart` and
//! `db show` / `db export` fail with exit 1 and one line naming the database file and the row,
//! instead of continuing (exit 0) to a different answer.

use crate::common::retrace;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

const CONFIG: &str = "[tams]\nntrajectories = 50\nnsplititer = NSPLIT\nl = 1\nseed = 3\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

fn write_config(tmp: &Path, name: &str, nsplit: u64) -> String {
    let path = tmp.join(name);
    std::fs::write(&path, CONFIG.replace("NSPLIT", &nsplit.to_string())).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A copy of the run directory `from` (database and WAL) at `to`.
fn copy_run(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["run.sqlite", "run.sqlite-wal"] {
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
}

/// Flip the lowest bit of integer column `col` of `table` in the row `key_col = key`.
fn flip_int(conn: &Connection, table: &str, col: &str, key_col: &str, key: i64) {
    let n = conn
        .execute(
            &format!("UPDATE {table} SET {col} = {col} + 1 - 2 * ({col} % 2) WHERE {key_col} = ?1"),
            [key],
        )
        .unwrap();
    assert_eq!(n, 1, "{table}.{col}");
}

/// `cmd` fails with exit 1 and one stderr line containing every string of `want`.
fn fails(cmd: &[&str], want: &[&str]) {
    let o = retrace(cmd);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{cmd:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{cmd:?}: {err}");
    for w in want {
        assert!(err.contains(w), "{cmd:?}: got {err:?}, want {w:?}");
    }
}

#[test]
fn a_changed_steering_value_is_named_by_file_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let first = write_config(tmp.path(), "first.toml", 6);
    let more = write_config(tmp.path(), "more.toml", 100_000);
    let run: PathBuf = tmp.path().join("run");
    let o = retrace(&["tams", "--config", &first, "--db", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let conn = Connection::open(run.join("run.sqlite")).unwrap();
    let last: i64 = conn
        .query_row("SELECT max(iteration) FROM iterations", [], |r| r.get(0))
        .unwrap();
    let alive: i64 = conn
        .query_row(
            "SELECT min(id) FROM trajectories WHERE died IS NULL AND parent IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    assert!(last >= 3, "the run must split a few times");
    let it_last = format!("table iterations, iteration {last}: checksum fails");
    let it_2 = "table iterations, iteration 2: checksum fails".to_string();
    let config = "table config, the recorded configuration: checksum fails".to_string();
    let traj = format!("table trajectories, trajectory {alive}: checksum fails");
    type Damage = Box<dyn Fn(&Connection)>;
    let cases: Vec<(&str, Damage, &String, bool)> = vec![
        (
            "select_word_pos",
            Box::new(move |c| {
                let pos: String = c
                    .query_row(
                        "SELECT select_word_pos FROM iterations WHERE iteration = ?1",
                        [last],
                        |r| r.get(0),
                    )
                    .unwrap();
                let flipped = (pos.parse::<u128>().unwrap() ^ 1).to_string();
                c.execute(
                    "UPDATE iterations SET select_word_pos = ?1 WHERE iteration = ?2",
                    rusqlite::params![flipped, last],
                )
                .unwrap();
            }),
            &it_last,
            true,
        ),
        (
            "model_steps",
            Box::new(move |c| flip_int(c, "iterations", "model_steps", "iteration", last)),
            &it_last,
            true,
        ),
        (
            "branches",
            Box::new(move |c| flip_int(c, "iterations", "branches", "iteration", last)),
            &it_last,
            true,
        ),
        (
            "next_id",
            Box::new(move |c| flip_int(c, "iterations", "next_id", "iteration", last)),
            &it_last,
            true,
        ),
        (
            "weight_bits",
            Box::new(move |c| flip_int(c, "iterations", "weight_bits", "iteration", last)),
            &it_last,
            true,
        ),
        (
            "k of an earlier iteration",
            Box::new(|c| flip_int(c, "iterations", "k", "iteration", 2)),
            &it_2,
            true,
        ),
        (
            "targetscore in the config TOML",
            Box::new(|c| {
                let n = c
                    .execute(
                        "UPDATE config SET toml = replace(toml, 'targetscore = 3.0', \
                         'targetscore = 3.5')",
                        [],
                    )
                    .unwrap();
                assert_eq!(n, 1);
            }),
            &config,
            true,
        ),
        (
            "seed in the config TOML",
            Box::new(|c| {
                c.execute(
                    "UPDATE config SET toml = replace(toml, 'seed = 3', 'seed = 2')",
                    [],
                )
                .unwrap();
            }),
            &config,
            true,
        ),
        (
            "a lineage",
            Box::new(move |c| {
                let mut blob: Vec<u8> = c
                    .query_row(
                        "SELECT lineage FROM trajectories WHERE id = ?1",
                        [alive],
                        |r| r.get(0),
                    )
                    .unwrap();
                blob[0] ^= 1;
                c.execute(
                    "UPDATE trajectories SET lineage = ?1 WHERE id = ?2",
                    rusqlite::params![blob, alive],
                )
                .unwrap();
            }),
            &traj,
            false,
        ),
    ];
    // Undamaged, the same restart continues (exit 0).
    let copy = tmp.path().join("intact");
    copy_run(&run, &copy);
    let o = retrace(&[
        "tams",
        "--restart",
        copy.to_str().unwrap(),
        "--config",
        &more,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (i, (name, damage, want, shown)) in cases.iter().enumerate() {
        let copy = tmp.path().join(format!("case{i}"));
        copy_run(&run, &copy);
        let conn = Connection::open(copy.join("run.sqlite")).unwrap();
        damage(&conn);
        drop(conn);
        let d = copy.to_str().unwrap();
        let file = copy.join("run.sqlite").display().to_string();
        let want = [file.as_str(), want.as_str()];
        eprintln!("case {name}");
        fails(&["tams", "--restart", d, "--config", &more], &want);
        fails(&["tams", "--restart", d], &want);
        if *shown {
            fails(&["db", "show", d], &want);
        } else {
            fails(&["db", "export", d, "--json", "-"], &want);
        }
    }
}
