//! `db show`, `db export` and `db plot` agree on exit codes (no run here: 2; damaged or
//! unreadable: 1), and a damaged row is named by its table and row.

mod common;
use common::retrace;
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = 6\nl = 1\nseed = 3\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 1.5\n[model]\nname = \"brownian\"\n";

/// A finished run in `tmp/run`.
fn finished(tmp: &Path) -> String {
    let cfg = tmp.join("run.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let dir = tmp.join("run").to_str().unwrap().to_owned();
    let o = retrace(&["tams", "--config", cfg.to_str().unwrap(), "--db", &dir]);
    assert!(o.status.success(), "{o:?}");
    dir
}

/// `db show`, `db export` and `db plot` of `dir` (outputs in `tmp`).
fn readers(tmp: &Path, dir: &str) -> Vec<Vec<String>> {
    let out = |n: &str| tmp.join(n).to_str().unwrap().to_owned();
    vec![
        vec!["db".into(), "show".into(), dir.into()],
        vec![
            "db".into(),
            "export".into(),
            dir.into(),
            "--csv".into(),
            out("t.csv"),
        ],
        vec![
            "db".into(),
            "export".into(),
            dir.into(),
            "--json".into(),
            out("t.json"),
        ],
        vec![
            "db".into(),
            "plot".into(),
            dir.into(),
            "--svg".into(),
            out("t.svg"),
        ],
    ]
}

fn all_fail_with(tmp: &Path, dir: &str, code: i32, want: &str) {
    for args in readers(tmp, dir) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = retrace(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn show_export_and_plot_agree_on_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = finished(tmp.path());
    let db = Path::new(&dir).join("run.sqlite");
    std::fs::write(
        &db,
        b"this is not a database, just text......................",
    )
    .unwrap();
    all_fail_with(tmp.path(), &dir, 1, &db.display().to_string());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    all_fail_with(
        tmp.path(),
        empty.to_str().unwrap(),
        2,
        "no run database here",
    );
}

#[test]
fn an_unreadable_value_names_its_table_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = finished(tmp.path());
    let conn = rusqlite::Connection::open(Path::new(&dir).join("run.sqlite")).unwrap();
    // Invalid UTF-8 in a TEXT column (a flipped bit).
    conn.execute(
        "UPDATE iterations SET children = CAST(X'5BFF5D' AS TEXT) WHERE iteration = 1",
        [],
    )
    .unwrap();
    drop(conn);
    all_fail_with(tmp.path(), &dir, 1, "table iterations, iteration 1: ");
}
