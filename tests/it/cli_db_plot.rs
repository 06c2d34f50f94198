//! `retrace db plot`: the SVG figure of a finished, a budget-stopped, a running and a killed run
//! (well-formed, the expected series, the run directory untouched), and its usage errors.

use crate::common::xml::well_formed;
use crate::common::{assert_usage_error, field, ok, retrace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CONFIG: &str = "[tams]\nntrajectories = 40\nnsplititer = 100000\nl = 1\nseed = 5\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.5\n[model]\nname = \"brownian\"\n";

/// The files whose bytes differ between two snapshots (or exist in one only).
fn changed(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Every file of a directory with its bytes, except the bytes of SQLite's shared-memory index
/// `run.sqlite-shm` (only its presence): reading a killed run through its WAL may rebuild that
/// index. Finished and stopped runs have none and must not get one.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else if p.extension().is_some_and(|x| x == "sqlite-shm") {
            out.insert(p.clone(), Vec::new());
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

/// The text of the group `<g id="ID" ...> ... </g>` (groups are not nested in the figure).
fn panel<'a>(svg: &'a str, id: &str) -> &'a str {
    let start = svg
        .find(&format!(r#"<g id="{id}""#))
        .unwrap_or_else(|| panic!("no {id}"));
    let end = start + svg[start..].find("</g>").unwrap();
    &svg[start..end]
}

/// Points of the first element with `id="ID"`'s path `d`.
fn path_points(panel: &str, id: &str) -> usize {
    let at = panel
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no {id}"));
    let d = &panel[at..];
    let d = &d[d.find(" d=\"").unwrap() + 4..];
    let d = &d[..d.find('"').unwrap()];
    d.matches(['M', 'L']).count()
}

/// Plot `dir` into `out`, check the figure against `db show`, and that `dir` is unchanged.
/// Returns the SVG text.
fn plot_and_check(dir: &Path, out: &Path, status: &str) -> String {
    let d = dir.to_str().unwrap();
    let before = snapshot(dir);
    ok(&["db", "plot", d, "--svg", out.to_str().unwrap()]);
    let diff = changed(&before, &snapshot(dir));
    assert!(diff.is_empty(), "plotting changed {diff:?}");
    // Nothing but the figure next to it (no temporary file left).
    let siblings: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("retrace-plot"))
        .collect();
    assert!(siblings.is_empty(), "{siblings:?}");
    let svg = std::fs::read_to_string(out).unwrap();
    well_formed(&svg);
    let show = ok(&["db", "show", d]);
    assert!(svg.contains(status), "status {status} not in the title");
    let q: usize = field(&show, "iterations")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let reached: usize = field(&show, "reached")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // (a) one level point per iteration after the initial one (no thinning at this size), and
    // the target line.
    let levels = panel(&svg, "level-panel");
    assert!(levels.contains(r#"id="target-level""#));
    let level_points = path_points(levels, "levels");
    assert!(
        level_points <= q && level_points >= q.min(2),
        "{level_points} vs {q}"
    );
    // (b) the estimate, its band and the weight.
    let est = panel(&svg, "estimate-panel");
    for id in ["estimate", "weight"] {
        assert!(est.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert_eq!(est.contains(r#"id="estimate-band""#), reached > 0);
    // (c) one trace per ensemble member, the ones at the target highlighted.
    let traces = panel(&svg, "traces-panel");
    assert_eq!(traces.matches(r#"class="trace"#).count(), 40);
    assert_eq!(traces.matches(r#"class="trace reached""#).count(), reached);
    assert!(traces.contains(r#"id="target-score""#));
    // (d) the counts.
    let counts = panel(&svg, "counts-panel");
    assert!(counts.contains(r#"id="killed""#) && counts.contains(r#"id="branched""#));
    svg
}

#[test]
fn plots_a_finished_and_a_budget_stopped_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let dir = tmp.path().join("run");
    ok(&[
        "tams",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        dir.to_str().unwrap(),
    ]);
    let out = tmp.path().join("figs").join("run.svg");
    std::fs::create_dir(out.parent().unwrap()).unwrap();
    let svg = plot_and_check(&dir, &out, "finished (converged)");
    assert!(svg.contains("N = 40"));
    // Plotting again overwrites the figure with the same one.
    plot_and_check(&dir, &out, "finished (converged)");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), svg);

    let cfg2 = tmp.path().join("c2.toml");
    std::fs::write(&cfg2, CONFIG.replace("100000", "7")).unwrap();
    let dir2 = tmp.path().join("run2");
    ok(&[
        "tams",
        "--config",
        cfg2.to_str().unwrap(),
        "--db",
        dir2.to_str().unwrap(),
    ]);
    let svg = plot_and_check(&dir2, &out, "stopped at nsplititer");
    assert_eq!(path_points(panel(&svg, "level-panel"), "levels"), 7);
}

#[test]
fn plots_a_running_and_then_a_killed_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    // Large enough to be still running when it is killed (the test asserts it is).
    std::fs::write(
        &cfg,
        CONFIG
            .replace("= 40", "= 1000")
            .replace("3.5", "4.5")
            .replace("\nseed = 5", "\nseed = 11"),
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(["tams", "--config", cfg.to_str().unwrap(), "--db", d])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = tmp.path().join("run.svg");
    // Synchronised on the database: plot as soon as it holds 5 committed iterations.
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "run finished before it was plotted"
        );
        if !dir.join("run.sqlite").exists() {
            std::thread::yield_now();
            continue;
        }
        let o = retrace(&["db", "show", d, "--last", "1"]);
        let text = String::from_utf8_lossy(&o.stdout);
        if o.status.success()
            && text.contains("status       running")
            && field(&text, "iterations")
                .split(' ')
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|q| q >= 5)
        {
            break;
        }
    }
    ok(&["db", "plot", d, "--svg", out.to_str().unwrap()]);
    let svg = std::fs::read_to_string(&out).unwrap();
    well_formed(&svg);
    assert!(svg.contains("running"));
    assert_eq!(
        panel(&svg, "traces-panel")
            .matches(r#"class="trace"#)
            .count(),
        1000
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "run finished before it was killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    well_formed(&svg);
    let killed = tmp.path().join("killed.svg");
    let before = snapshot(&dir);
    assert!(
        std::fs::metadata(dir.join("run.sqlite-wal")).is_ok_and(|m| m.len() > 0),
        "a killed run keeps its last commits in the WAL"
    );
    ok(&["db", "plot", d, "--svg", killed.to_str().unwrap()]);
    let diff = changed(&before, &snapshot(&dir));
    assert!(diff.is_empty(), "plotting changed {diff:?}");
    let svg = std::fs::read_to_string(&killed).unwrap();
    well_formed(&svg);
    assert!(svg.contains("interrupted (killed or crashed"));
    assert_eq!(
        panel(&svg, "traces-panel")
            .matches(r#"class="trace"#)
            .count(),
        1000
    );
}

#[test]
fn bad_arguments_exit_2_with_one_line_and_leave_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG.replace("100000", "2")).unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    ok(&["tams", "--config", cfg.to_str().unwrap(), "--db", d]);
    let out = tmp.path().join("out.svg");
    let o = out.to_str().unwrap();
    let missing = tmp.path().join("nope");
    let not_a_run = tmp.path().join("empty");
    std::fs::create_dir(&not_a_run).unwrap();
    let in_missing_dir = tmp.path().join("no-such-dir").join("out.svg");
    for (args, context) in [
        (
            vec!["db", "plot", missing.to_str().unwrap(), "--svg", o],
            "missing DIR",
        ),
        (
            vec!["db", "plot", not_a_run.to_str().unwrap(), "--svg", o],
            "DIR without a run",
        ),
        (
            vec!["db", "plot", d, "--svg", in_missing_dir.to_str().unwrap()],
            "FILE in a missing directory",
        ),
        (
            vec!["db", "plot", d, "--svg", tmp.path().to_str().unwrap()],
            "FILE is a directory",
        ),
        (vec!["db", "plot", d], "no --svg"),
    ] {
        assert_usage_error(&retrace(&args), context);
        assert!(!out.exists(), "{context}");
    }
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}
