//! `retrace tams`: summary, JSON report (bit-identical across thread counts apart from `seconds`),
//! and one-line errors with exit code 2 for bad configs and arguments.

use crate::common;
use crate::common::retrace;
use std::path::Path;
use std::process::Output;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

fn json_of(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn summary_and_json_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let cfg = example("brownian.toml");
    let run = |threads: &str, out: &Path| {
        let o = retrace(&[
            "tams",
            "--config",
            &cfg,
            "--seed",
            "5",
            "--repeats",
            "3",
            "--threads",
            threads,
            "--json",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let text = run("1", &a);
    run("2", &b);
    for key in [
        "estimate",
        "std error",
        "IQR",
        "iterations",
        "model steps",
        "seconds",
    ] {
        assert!(text.contains(key), "summary lacks {key}: {text}");
    }
    let (mut ja, mut jb) = (json_of(&a), json_of(&b));
    for key in [
        "estimate",
        "std_error",
        "runs",
        "iterations",
        "model_steps",
        "seconds",
        "iqr",
    ] {
        assert!(ja.get(key).is_some(), "JSON lacks {key}");
    }
    let runs = ja["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let mean = runs.iter().map(|r| r.as_f64().unwrap()).sum::<f64>() / 3.0;
    assert!((ja["estimate"].as_f64().unwrap() - mean).abs() <= 1e-15 * mean);
    assert!(ja["model_steps"].as_u64().unwrap() > 10_000);
    ja.as_object_mut().unwrap().remove("seconds");
    jb.as_object_mut().unwrap().remove("seconds");
    assert_eq!(ja, jb);
}

#[test]
fn montecarlo_strategy_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mc.toml");
    let text = std::fs::read_to_string(example("brownian.toml"))
        .unwrap()
        .replace("strategy = \"tams\"", "strategy = \"montecarlo\"")
        .replace("targetscore = 3.0", "targetscore = 1.0")
        .replace("ntrajectories = 100", "ntrajectories = 20000");
    std::fs::write(&cfg, text).unwrap();
    let o = retrace(&["tams", "--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("montecarlo on brownian"), "{out}");
    assert!(out.contains("binomial"), "{out}");
}

fn assert_usage_error(o: &Output, want: &str) {
    common::assert_usage_error(o, want);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(want), "{err:?} should contain {want:?}");
}

#[test]
fn bad_configs_exit_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(example("ou.toml")).unwrap();
    let cases = [
        (
            base.replace("ntrajectories = 100", "ntrajectories = 1"),
            "tams.ntrajectories: must be >= 2, got 1",
        ),
        (
            base.replace("nsplititer =", "nsplititers ="),
            "tams.nsplititers: unknown key",
        ),
        (
            base.replace("step_size = 0.01", "step_size = 0.0"),
            "trajectory.step_size: must be > 0",
        ),
        (
            base.replace("l = 1", "l = 100"),
            "tams.l: must be >= 1 and < tams.ntrajectories",
        ),
        (
            base.replace("targetscore = 3.0\n", ""),
            "trajectory.targetscore: missing",
        ),
        (
            base.replace("theta = 1.0", "theta = \"fast\""),
            "model.theta: invalid type",
        ),
        (
            base.replace("name = \"ou\"", "name = \"lorenz\""),
            "model.name: unknown model `lorenz`",
        ),
        (base.replace("[tams]", "[tams"), "invalid TOML: line "),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        assert_usage_error(
            &retrace(&["tams", "--config", path.to_str().unwrap()]),
            want,
        );
    }
    let missing = dir.path().join("nope.toml");
    assert_usage_error(
        &retrace(&["tams", "--config", missing.to_str().unwrap()]),
        "cannot read",
    );
    let cfg = example("ou.toml");
    assert_usage_error(
        &retrace(&["tams", "--config", &cfg, "--repeats", "0"]),
        "--repeats",
    );
    assert_usage_error(
        &retrace(&["tams", "--config", &cfg, "--threads", "0"]),
        "--threads",
    );
    assert_usage_error(
        &retrace(&["tams", "--config", &cfg, "--seed", "x"]),
        "invalid value",
    );
}
