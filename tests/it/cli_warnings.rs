//! Warnings of a run come back in its report; `retrace tams` prints them on stderr (the library
//! prints nothing) and writes them to the JSON report.

use crate::common::retrace;

const CONFIG: &str = "[tams]\nntrajectories = 20\nnsplititer = NSPLIT\nl = 2\nseed = 11\n\
    [trajectory]\nend_time = 1.0\nstep_size = 0.02\ntargetscore = 0.8\n\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n[database]\npath = \"unused\"\n\
    save_states = true\n";

#[test]
fn a_restart_that_replays_missing_states_prints_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let cfg = tmp.path().join("c.toml");
    let (d, c) = (dir.to_str().unwrap(), cfg.to_str().unwrap());
    std::fs::write(&cfg, CONFIG.replace("NSPLIT", "3")).unwrap();
    let first = retrace(&["tams", "--config", c, "--db", d]);
    assert!(first.status.success(), "{first:?}");
    assert!(!String::from_utf8_lossy(&first.stderr).contains("warning"));
    std::fs::remove_file(dir.join("states").join("init0.bin")).unwrap();
    std::fs::write(&cfg, CONFIG.replace("NSPLIT", "5")).unwrap();
    let json = tmp.path().join("r.json");
    let j = json.to_str().unwrap();
    let again = retrace(&["tams", "--config", c, "--restart", d, "--json", j]);
    assert!(again.status.success(), "{again:?}");
    let err = String::from_utf8_lossy(&again.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("replayed from step 0"), "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["warnings"][0], lines[0]["warning: ".len()..]);
}
