//! Read-only commands (`db show`, `db export`, `db plot`) leave the run directory exactly as
//! they found it (same files, same bytes): on a killed run whose last commits are only in the
//! WAL (no `-shm`), on a damaged WAL, and on a finished run. `tams --restart` on a directory
//! that holds no run (empty, other files, a foreign SQLite file named `run.sqlite`) fails and
//! leaves nothing behind either.

use crate::common::retrace;
use sampler::Config;
use sampler::runner::{DbOptions, run_with_database};
use std::collections::BTreeMap;
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = 500\nl = 2\nseed = 11\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\n\
    save_states = true\n";

/// Every file under `dir` (relative path -> bytes; directories with an empty value).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, at: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(at).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn names(t: &BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    t.keys().collect()
}

/// A killed run: the directory as a SIGKILL after iteration 3 leaves it (database, WAL with
/// the last commits, state files; the `-shm` of the dead writer is not kept).
fn killed(to: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let hook = |q: u64, _: u64| {
        if q == 3 {
            std::fs::create_dir_all(to.join("states")).unwrap();
            for f in ["run.sqlite", "run.sqlite-wal"] {
                std::fs::copy(dir.join(f), to.join(f)).unwrap();
            }
            for e in std::fs::read_dir(dir.join("states")).unwrap().flatten() {
                std::fs::copy(e.path(), to.join("states").join(e.file_name())).unwrap();
            }
        }
    };
    let config = Config::from_toml(CONFIG).unwrap();
    run_with_database(Some(&config), &DbOptions::new(dir.clone(), false), &hook).unwrap();
    let wal = std::fs::metadata(to.join("run.sqlite-wal")).unwrap().len();
    assert!(wal > 0, "the killed run's last commits are in its WAL");
}

/// Run every read-only command on `dir` (outputs outside it); `ok`: they must succeed.
/// The directory must be unchanged.
fn read_only_commands(dir: &Path, out: &Path, ok: bool) {
    let before = tree(dir);
    let d = dir.to_str().unwrap();
    let json = out.join("x.json");
    let csv = out.join("x.csv");
    let svg = out.join("x.svg");
    let commands: [Vec<&str>; 5] = [
        vec!["db", "show", d],
        vec!["db", "export", d, "--json", json.to_str().unwrap()],
        vec!["db", "export", d, "--csv", csv.to_str().unwrap()],
        vec!["db", "export", d, "--csv", "-", "--table", "iterations"],
        vec!["db", "plot", d, "--svg", svg.to_str().unwrap()],
    ];
    for args in &commands {
        let o = retrace(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if ok {
            assert!(o.status.success(), "{args:?}: {err}");
        }
        let after = tree(dir);
        assert_eq!(
            names(&after),
            names(&before),
            "{args:?} changed the listing"
        );
        assert!(after == before, "{args:?} changed a file's bytes");
    }
}

#[test]
fn read_only_commands_leave_a_killed_run_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("killed");
    killed(&dir);
    read_only_commands(&dir, tmp.path(), true);
    // What they read is the run up to iteration 3 (the commits in the WAL included).
    let o = retrace(&[
        "db",
        "export",
        dir.to_str().unwrap(),
        "--csv",
        "-",
        "--table",
        "iterations",
    ]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1 + 4);

    // A damaged WAL: a flipped byte in its last frame, then a torn one.
    let wal = dir.join("run.sqlite-wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    let last = bytes.len() - 100;
    bytes[last] ^= 0x40;
    std::fs::write(&wal, &bytes).unwrap();
    read_only_commands(&dir, tmp.path(), false);
    bytes.truncate(bytes.len() - 1000);
    std::fs::write(&wal, &bytes).unwrap();
    read_only_commands(&dir, tmp.path(), false);

    // Finished: the restart completes the run, then the commands read the settled run.
    let o = retrace(&["tams", "--restart", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    read_only_commands(&dir, tmp.path(), true);
}

#[test]
fn a_restart_of_a_directory_without_a_run_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("run.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let cfg = cfg.to_str().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let notes = tmp.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("notes.txt"), "mine\n").unwrap();
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    {
        let c = rusqlite::Connection::open(foreign.join("run.sqlite")).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    for dir in [&empty, &notes, &foreign] {
        let before = tree(dir);
        let d = dir.to_str().unwrap();
        for args in [
            vec!["tams", "--restart", d],
            vec!["tams", "--restart", d, "--config", cfg],
        ] {
            let o = retrace(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success(), "{args:?}");
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
            let after = tree(dir);
            assert_eq!(names(&after), names(&before), "{args:?}: {err}");
            assert!(after == before, "{args:?} changed a file's bytes");
        }
    }
}
