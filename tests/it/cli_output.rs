//! Output files of the CLI: checked before the work starts (usage error, exit 2), written
//! atomically after the summary is printed; `-` is stdout; a write that fails after a run still
//! leaves the printed summary, and never a truncated file or a temporary one.

use crate::common::{assert_usage_error, ok, retrace};
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = 1000\nseed = 3\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 2.5\n[model]\nname = \"brownian\"\n";

/// A config file in `dir`.
fn config(dir: &Path) -> String {
    let path = dir.join("run.toml");
    std::fs::write(&path, CONFIG).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn tams_json_path_is_checked_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let missing = tmp.path().join("no-such-dir").join("r.json");
    for (path, why) in [
        (missing.to_str().unwrap(), "does not exist"),
        (tmp.path().to_str().unwrap(), "is a directory"),
    ] {
        let o = retrace(&["tams", "--config", &cfg, "--json", path]);
        assert_usage_error(&o, path);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--json") && err.contains(why), "{err}");
    }
    assert_eq!(names(tmp.path()), ["run.toml"]);
}

#[cfg(target_os = "linux")]
#[test]
fn tams_summary_is_printed_when_the_json_write_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    // /dev/full accepts the open and fails every write (ENOSPC): after the run.
    let o = retrace(&["tams", "--config", &cfg, "--json", "/dev/full"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        out.contains("estimate") && out.contains("iterations"),
        "{out}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write /dev/full"), "{err}");
}

#[test]
fn tams_json_dash_is_stdout_and_files_are_replaced_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let o = retrace(&["tams", "--config", &cfg, "--json", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_stdout: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let summary = String::from_utf8_lossy(&o.stderr);
    assert!(summary.contains("estimate"), "summary on stderr: {summary}");
    // A file: an old, longer content is replaced whole; no temporary file is left.
    let file = tmp.path().join("r.json");
    std::fs::write(&file, "x".repeat(1 << 20)).unwrap();
    let out = ok(&["tams", "--config", &cfg, "--json", file.to_str().unwrap()]);
    assert!(out.contains("estimate"), "{out}");
    let from_file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(from_file["estimate"], from_stdout["estimate"]);
    assert_eq!(names(tmp.path()), ["r.json", "run.toml"]);
}

#[test]
fn db_export_and_plot_paths_are_checked_and_written_atomically() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let run = tmp.path().join("run");
    let d = run.to_str().unwrap();
    ok(&["tams", "--config", &cfg, "--db", d]);
    let bad = tmp.path().join("no-such-dir").join("x");
    let bad = bad.to_str().unwrap();
    let here = tmp.path().to_str().unwrap();
    for args in [
        vec!["db", "export", d, "--json", bad],
        vec!["db", "export", d, "--csv", bad],
        vec!["db", "export", d, "--csv", "-", "--json", bad],
        vec!["db", "export", d, "--json", here],
        vec!["db", "plot", d, "--svg", bad],
    ] {
        let o = retrace(&args);
        assert_usage_error(&o, &format!("{args:?}"));
    }
    let csv = tmp.path().join("t.csv");
    std::fs::write(&csv, "old content that is longer than nothing").unwrap();
    ok(&["db", "export", d, "--csv", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("id,slot,parent"), "{text}");
    assert_eq!(text, ok(&["db", "export", d, "--csv", "-"]));
    let svg = ok(&["db", "plot", d, "--svg", "-"]);
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert_eq!(names(tmp.path()), ["run", "run.toml", "t.csv"]);
}

#[cfg(target_os = "linux")]
#[test]
fn failed_writes_after_the_work_leave_the_printed_result() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = [
        "plan",
        "--steps",
        "100",
        "--state-bytes",
        "8MiB",
        "--ram",
        "80MiB",
        "--svg",
        "/dev/full",
    ];
    let o = retrace(&plan);
    assert_eq!(o.status.code(), Some(1));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("steps=100"), "the table is printed: {table}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write /dev/full"));
    let cfg = config(tmp.path());
    let run = tmp.path().join("run");
    let d = run.to_str().unwrap();
    ok(&["tams", "--config", &cfg, "--db", d]);
    let o = retrace(&["db", "export", d, "--json", "/dev/full"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write /dev/full"));
}
