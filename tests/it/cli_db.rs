//! `retrace db show` and `retrace db export` on a finished run and on a run killed mid-way.

use crate::common::{KillOnDrop, field, freeze_when, ok, retrace};
use std::path::Path;
use std::process::{Command, Stdio};

const CONFIG: &str = "[tams]\nntrajectories = 1000\nnsplititer = 100000\nl = 1\nseed = 11\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 4.5\n[model]\nname = \"brownian\"\n";

/// Check show and both exports agree with each other; returns the committed iteration count.
fn inspect(dir: &str, tmp: &Path, status: &str) -> u64 {
    let show = ok(&["db", "show", dir]);
    assert!(field(&show, "status").starts_with(status), "{show}");
    let q: u64 = field(&show, "iterations")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Iteration table: header + rows 0..=q, in order.
    let it = ok(&["db", "export", dir, "--csv", "-", "--table", "iterations"]);
    let rows: Vec<&str> = it.lines().skip(1).collect();
    assert_eq!(rows.len() as u64, q + 1);
    for (i, r) in rows.iter().enumerate() {
        assert!(r.starts_with(&format!("{i},")), "{r}");
    }
    // Trajectories: one row per id, exact scores; JSON agrees bit for bit.
    let json_path = tmp.join("export.json");
    ok(&["db", "export", dir, "--json", json_path.to_str().unwrap()]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let trajs = v["trajectories"].as_array().unwrap();
    let csv = ok(&["db", "export", dir, "--csv", "-"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,slot,parent,branch_step,born,died,alive,max_score"));
    assert_eq!(lines.len() - 1, trajs.len());
    assert_eq!(v["iterations"].as_array().unwrap().len() as u64, q + 1);
    let created: u64 = field(&show, "trajectories")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(created, trajs.len() as u64);
    // Exact: CSV values are the database BLOBs bit for bit (serde_json's default float parser
    // is not correctly rounded, so JSON is compared to 1e-15 only; Python's json is exact).
    let conn = rusqlite::Connection::open_with_flags(
        Path::new(dir).join("run.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn
        .prepare("SELECT scores FROM trajectories ORDER BY id")
        .unwrap();
    let blobs: Vec<Vec<u8>> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(blobs.len(), trajs.len());
    for ((line, t), blob) in lines[1..].iter().zip(trajs).zip(&blobs) {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols[0], t["id"].to_string());
        let scores: Vec<f64> = cols[10].split(' ').map(|s| s.parse().unwrap()).collect();
        let json: Vec<f64> = t["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap())
            .collect();
        assert_eq!(scores.len().to_string(), cols[9]);
        let exact: Vec<f64> = blob
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(scores.len(), exact.len());
        assert!(
            scores
                .iter()
                .zip(&exact)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(
            scores
                .iter()
                .zip(&json)
                .all(|(a, b)| (a - b).abs() <= 1e-15 * a.abs())
        );
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(max.to_bits(), cols[7].parse::<f64>().unwrap().to_bits());
    }
    let alive = lines[1..]
        .iter()
        .filter(|l| l.split(',').nth(6) == Some("1"))
        .count();
    if q > 0 || status.starts_with("finished") {
        let n: usize = field(&show, "reached")
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(alive, n);
    }
    q
}

#[test]
fn show_and_export_a_finished_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG.replace("1000", "100").replace("4.5", "3.5")).unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let report = ok(&["tams", "--config", cfg.to_str().unwrap(), "--db", d]);
    let q = inspect(d, tmp.path(), "finished (converged)");
    assert_eq!(field(&report, "iterations"), q.to_string());
    let show = ok(&["db", "show", d]);
    assert_eq!(
        field(&report, "estimate"),
        field(&show, "estimate").split(' ').next().unwrap()
    );
    assert!(show.contains("sessions     new -> converged"), "{show}");
    let last = ok(&["db", "show", d, "--last", "3"]);
    assert_eq!(
        last.lines().count(),
        show.lines().count() - (q as usize + 1) + 3
    );
}

#[test]
fn show_and_export_a_killed_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    // An unreachable target and no practical iteration budget: the run ends only when killed,
    // so it is certainly running when the event (20 committed iterations) is seen.
    let endless = CONFIG
        .replace("nsplititer = 100000", "nsplititer = 1000000000000")
        .replace("targetscore = 4.5", "targetscore = 1e9");
    std::fs::write(&cfg, endless).unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_retrace"))
            .args(["tams", "--config", cfg.to_str().unwrap(), "--db", d])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    // Frozen (SIGSTOP) once it has 20 committed iterations and still holds the directory, the
    // run is killed before it can end: no race with its end, no timing.
    freeze_when(child, || {
        if !dir.join("run.sqlite").exists() {
            return false;
        }
        let o = retrace(&["db", "show", d, "--last", "1"]);
        let text = String::from_utf8_lossy(&o.stdout);
        o.status.success()
            && text.contains("status       running")
            && field(&text, "iterations")
                .split(' ')
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|q| q >= 20)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let q = inspect(
        d,
        tmp.path(),
        "interrupted (killed or crashed; restartable)",
    );
    assert!(q >= 20);
    let show = ok(&["db", "show", d]);
    assert!(show.contains("sessions     new -> interrupted"), "{show}");
}
