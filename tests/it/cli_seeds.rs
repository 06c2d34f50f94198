//! `retrace tams` seeds and stalls: without a seed a run draws one from the OS, prints
//! `seed: N` on stderr and reports it (the same seed then reproduces the run, and a restart
//! keeps it); a stalled run fails with exit 1 naming the iteration, the level and the count,
//! unless `on_stall = "zero"`.

use crate::common::retrace;
use std::path::Path;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = 400\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 2.0\n\
    [model]\nname = \"brownian\"\n";

fn json_of(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `seed: N` line of stderr.
fn printed_seed(stderr: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(stderr)
        .lines()
        .find_map(|l| l.strip_prefix("seed: ").and_then(|s| s.trim().parse().ok()))
}

#[test]
fn no_seed_draws_one_prints_it_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let run = |json: &Path, seed: Option<&str>| {
        let mut args = vec![
            "tams",
            "--config",
            cfg.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ];
        if let Some(s) = seed {
            args.extend(["--seed", s]);
        }
        let o = retrace(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (printed_seed(&o.stderr), json_of(json))
    };
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let (sa, ja) = run(&a, None);
    let (sb, jb) = run(&b, None);
    let (sa, sb) = (sa.expect("seed printed"), sb.expect("seed printed"));
    assert_ne!(sa, sb);
    assert_eq!(ja["seed"].as_u64(), Some(sa));
    assert_eq!(ja["config"]["tams"]["seed"].as_u64(), Some(sa));
    assert_eq!(jb["seed"].as_u64(), Some(sb));
    // The printed seed reproduces the run; a given seed is not printed.
    let c = dir.path().join("c.json");
    let (sc, mut jc) = run(&c, Some(&sa.to_string()));
    assert_eq!(sc, None);
    let mut ja = ja;
    ja.as_object_mut().unwrap().remove("seconds");
    jc.as_object_mut().unwrap().remove("seconds");
    assert_eq!(ja, jc);

    // A run database records the drawn seed; the restart keeps it.
    let db = dir.path().join("db");
    let o = retrace(&[
        "tams",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let drawn = printed_seed(&o.stderr).expect("seed printed");
    let d = dir.path().join("d.json");
    let o = retrace(&[
        "tams",
        "--restart",
        db.to_str().unwrap(),
        "--json",
        d.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(printed_seed(&o.stderr), None);
    assert_eq!(json_of(&d)["seed"].as_u64(), Some(drawn));
}

#[test]
fn a_stalled_run_fails_naming_iteration_level_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("stall.toml");
    // No time to move: every trajectory's maximum is its initial score 0.
    let text = CONFIG.replace("end_time = 1.0", "end_time = 0.0") + "";
    std::fs::write(&cfg, text.replace("[trajectory]", "seed = 1\n[trajectory]")).unwrap();
    let o = retrace(&["tams", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("splitting stalled at iteration 1")
            && err.contains("level 0")
            && err.contains("20 of 20")
            && err.contains("on_stall"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Asked for, the extinction is a result: estimate 0.
    std::fs::write(
        &cfg,
        text.replace("[trajectory]", "seed = 1\non_stall = \"zero\"\n[trajectory]"),
    )
    .unwrap();
    let json = dir.path().join("zero.json");
    let o = retrace(&[
        "tams",
        "--config",
        cfg.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j = json_of(&json);
    assert_eq!(j["estimate"].as_f64(), Some(0.0));
    assert_eq!(j["details"][0]["stop"].as_str(), Some("extinction"));
}
