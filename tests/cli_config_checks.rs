//! Config semantics and messages: a step longer than the horizon, a bad `checkpoint_dir` (found
//! when the config is validated, whatever the budget; never created with its parents), an
//! array of tables, units in bits and rates below 1 B/s: exit 2 with one line naming the key
//! or flag. A 0-iteration run plots axes with distinct tick labels.
#![cfg(unix)]

mod common;
use common::{assert_usage_error, ok, retrace};
use std::path::Path;

const BASE: &str = "[tams]\nntrajectories = 10\nnsplititer = 5\nseed = 5\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.05\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

/// `tams --config` of `text` is a usage error containing every `want`.
fn refused(dir: &Path, text: &str, want: &[&str]) {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, text).unwrap();
    let o = retrace(&["tams", "--config", cfg.to_str().unwrap()]);
    assert_usage_error(&o, text);
    let err = String::from_utf8_lossy(&o.stderr);
    for w in want {
        assert!(err.contains(w), "{err} lacks {w:?}");
    }
}

#[test]
fn a_step_longer_than_the_horizon_is_refused_naming_both_keys() {
    let tmp = tempfile::tempdir().unwrap();
    refused(
        tmp.path(),
        &BASE.replace("step_size = 0.05", "step_size = 5.0"),
        &["trajectory.step_size: 5.0 is larger than trajectory.end_time 1.0"],
    );
}

#[test]
fn a_bad_checkpoint_dir_is_refused_at_validation_with_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let missing = tmp.path().join("a").join("b");
    let with = |dir: &str, budget: &str| {
        BASE.replace(
            "targetscore = 3.0",
            &format!(
                "targetscore = 3.0\npolicy = \"uniform\"\nmemory_budget = \"{budget}\"\ncheckpoint_dir = \"{dir}\""
            ),
        )
    };
    // The same with a budget holding everything (no spill would ever happen).
    for budget in ["1KiB", "1GiB"] {
        for (dir, want) in [
            (file.to_str().unwrap(), "not a directory"),
            ("/proc/self", "cannot create files in it"),
            (
                missing.to_str().unwrap(),
                "no such directory (it is not created",
            ),
            ("", "must not be empty"),
        ] {
            refused(
                tmp.path(),
                &with(dir, budget),
                &["trajectory.checkpoint_dir: ", want],
            );
        }
    }
    assert!(
        !tmp.path().join("a").exists(),
        "missing parents were created"
    );
}

#[test]
fn an_existing_checkpoint_dir_gets_only_the_spill_directory_and_keeps_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let spill = tmp.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(
        &cfg,
        BASE.replace(
            "targetscore = 3.0",
            &format!(
                "targetscore = 3.0\npolicy = \"uniform\"\nmemory_budget = \"1KiB\"\ncheckpoint_interval = 1\ncheckpoint_dir = \"{}\"",
                spill.display()
            ),
        ),
    )
    .unwrap();
    ok(&["tams", "--config", cfg.to_str().unwrap()]);
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
}

#[test]
fn an_array_of_tables_names_the_section() {
    let tmp = tempfile::tempdir().unwrap();
    refused(
        tmp.path(),
        &BASE.replace("[tams]", "[[tams]]"),
        &["tams: [[tams]] is an array of tables; write the section once as [tams]"],
    );
}

#[test]
fn bits_and_tiny_rates_are_refused_naming_the_flag_or_key() {
    let plan = |flag: &'static str, value: &'static str| {
        let mut args = vec!["plan", "--steps", "10", "--state-bytes", "8", "--ram", "80"];
        if let Some(i) = args.iter().position(|a| *a == flag) {
            args.drain(i..i + 2);
        }
        args.extend([flag, value]);
        args
    };
    for (extra, want) in [
        (["--disk-bandwidth", "1e-320"], "must be at least 1 B/s"),
        (["--disk-bandwidth", "1Gb/s"], "a lower-case b means bits"),
        (["--ram", "8Mb"], "a lower-case b means bits"),
    ] {
        let args = plan(extra[0], extra[1]);
        let o = retrace(&args);
        assert_usage_error(&o, &format!("{args:?}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(want) && err.contains(extra[0]),
            "{args:?}: {err}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    refused(
        tmp.path(),
        &BASE.replace(
            "targetscore = 3.0",
            "targetscore = 3.0\npolicy = \"uniform\"\nmemory_budget = \"8Mb\"",
        ),
        &["trajectory.memory_budget", "bits"],
    );
}

#[test]
fn the_level_axis_of_a_run_without_iterations_has_distinct_ticks() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, BASE.replace("nsplititer = 5", "nsplititer = 0")).unwrap();
    let run = tmp.path().join("run");
    let svg = tmp.path().join("o.svg");
    ok(&[
        "tams",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        run.to_str().unwrap(),
    ]);
    ok(&[
        "db",
        "plot",
        run.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    let start = text.find("level-panel").unwrap();
    let end = text.find("estimate-panel").unwrap();
    let labels: Vec<&str> = text[start..end]
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .map(|(_, r)| r.split('<').next().unwrap_or(""))
        })
        .filter(|l| l.parse::<f64>().is_ok())
        .collect();
    for l in &labels {
        let n = labels.iter().filter(|m| *m == l).count();
        assert!(n <= 2, "tick label {l} repeated {n} times: {labels:?}");
    }
    assert!(text[start..end].contains("no level yet"));
}
