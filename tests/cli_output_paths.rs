//! No command writes into a run directory it does not own: every output path (`--json`, `--csv`,
//! `--svg`) is resolved (symbolic links, `..`) and refused, before any work, when it is inside a
//! run directory, is the `--db` directory, or is another output of the same command; its name
//! and directory are checked before the run, so results are never lost after the work is done.
#![cfg(unix)]

mod common;
use common::{assert_usage_error, ok, retrace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CONFIG: &str = "[tams]\nntrajectories = 10\nnsplititer = 5\nseed = 5\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.5\n[model]\nname = \"brownian\"\n";

/// Every file under `dir` and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                m.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    m
}

/// A finished run in `tmp/run` (with a saved state file) and its config file.
fn a_run(tmp: &Path) -> (PathBuf, String) {
    let cfg = tmp.join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let dir = tmp.join("run");
    let c = cfg.to_str().unwrap().to_owned();
    ok(&["tams", "--config", &c, "--db", dir.to_str().unwrap()]);
    std::fs::create_dir_all(dir.join("states")).unwrap();
    std::fs::write(dir.join("states").join("it0.bin"), b"state").unwrap();
    (dir, c)
}

fn refused(args: &[&str], want: &str) {
    let o = retrace(args);
    assert_usage_error(&o, &format!("{args:?}"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(want), "{args:?}: {err} lacks {want:?}");
}

#[test]
fn outputs_inside_a_run_directory_are_refused_and_the_run_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, cfg) = a_run(tmp.path());
    let d = dir.to_str().unwrap();
    let before = snapshot(&dir);
    let inside = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (db_file, state, wal, new_file) = (
        inside("run.sqlite"),
        inside("states/it0.bin"),
        inside("run.sqlite-wal"),
        inside("new.json"),
    );
    // Through `..` and through a symbolic link to the run directory.
    let dotdot = dir.join("states").join("..").join("run.sqlite");
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let via_link = link.join("run.sqlite");
    let plan = ["plan", "--steps", "10", "--state-bytes", "8", "--ram", "80"];
    let cases: Vec<Vec<&str>> = vec![
        vec!["db", "plot", d, "--svg", &db_file],
        vec!["db", "plot", d, "--svg", &state],
        vec!["db", "export", d, "--csv", &wal],
        vec!["db", "export", d, "--json", dotdot.to_str().unwrap()],
        vec!["db", "export", d, "--json", via_link.to_str().unwrap()],
        vec!["tams", "--restart", d, "--json", &db_file],
        vec!["tams", "--config", &cfg, "--json", &new_file],
        [&plan[..], &["--svg", &new_file]].concat(),
    ];
    for args in &cases {
        refused(args, "is inside run directory");
    }
    assert_eq!(snapshot(&dir), before, "the run directory changed");
}

#[test]
fn an_output_equal_to_the_db_directory_or_another_output_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let c = cfg.to_str().unwrap();
    let x = tmp.path().join("x");
    let xs = x.to_str().unwrap();
    refused(
        &["tams", "--config", c, "--db", xs, "--json", xs],
        "inside the run directory",
    );
    assert!(!x.exists(), "no run was started");
    let (dir, _) = a_run(tmp.path());
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let same = tmp.path().join("sub").join("..").join("out");
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    for json in [o, same.to_str().unwrap()] {
        refused(
            &[
                "db",
                "export",
                dir.to_str().unwrap(),
                "--csv",
                o,
                "--json",
                json,
            ],
            "it is also the output of --csv",
        );
    }
    assert!(!out.exists());
}

#[test]
fn a_name_too_long_or_a_kernel_file_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let c = cfg.to_str().unwrap();
    let long = tmp.path().join("j".repeat(256));
    refused(
        &["tams", "--config", c, "--json", long.to_str().unwrap()],
        "name too long",
    );
    refused(
        &["tams", "--config", c, "--json", "/proc/self/status"],
        "/proc/self/status: cannot write: /proc/",
    );
    let missing = tmp.path().join("no").join("such").join("r.json");
    refused(
        &["tams", "--config", c, "--json", missing.to_str().unwrap()],
        "does not exist",
    );
    // Nothing was created by the checks.
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn db_on_a_file_or_an_unwritable_place_is_a_usage_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let c = cfg.to_str().unwrap();
    let file = tmp.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let f = file.to_str().unwrap();
    refused(
        &["tams", "--config", c, "--db", f],
        &format!("--db {f}: not a directory"),
    );
    refused(
        &["tams", "--config", c, "--db", "/proc/self/retrace-run"],
        "--db /proc/self/retrace-run: cannot create files in /proc/self",
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}
