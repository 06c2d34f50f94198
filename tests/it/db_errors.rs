//! Run database failures give one clear line and damage nothing: damaged data, an incompatible
//! format version, a second writer, config changes (refused or accepted and recorded), walltime.

use crate::common::{KillOnDrop, freeze_when};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SMALL: &str = "[tams]\nntrajectories = 50\nnsplititer = 100000\nl = 1\nseed = 3\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

fn retrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(args)
        .output()
        .expect("run retrace")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A finished run of `config` in `tmp/name`; returns (dir, config path).
fn finished(tmp: &Path, name: &str, config: &str) -> (String, String) {
    let cfg = tmp.join(format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    let dir = tmp.join(name).to_str().unwrap().to_owned();
    let cfg = cfg.to_str().unwrap().to_owned();
    let o = retrace(&["tams", "--config", &cfg, "--db", &dir]);
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, cfg)
}

fn sql(dir: &str, statement: &str) {
    let conn = rusqlite::Connection::open(Path::new(dir).join("run.sqlite")).unwrap();
    conn.execute_batch(statement).unwrap();
}

fn fails_with(args: &[&str], code: i32, want: &str) {
    let o = retrace(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: got {err:?}, want {want:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn corrupted_scores_fail_their_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = finished(tmp.path(), "run", SMALL);
    // Flip one byte of a live trajectory's scores: restart and export name the trajectory.
    let conn = rusqlite::Connection::open(Path::new(&dir).join("run.sqlite")).unwrap();
    let (id, mut blob): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT id, scores FROM trajectories WHERE died IS NULL LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    blob[3] ^= 0x10;
    conn.execute(
        "UPDATE trajectories SET scores = ?1 WHERE id = ?2",
        rusqlite::params![blob, id],
    )
    .unwrap();
    drop(conn);
    let want = format!("trajectory {id}: scores fail their CRC-32 check");
    fails_with(&["tams", "--restart", &dir], 1, &want);
    let out = tmp.path().join("x.csv");
    fails_with(
        &["db", "export", &dir, "--csv", out.to_str().unwrap()],
        1,
        &want,
    );
}

#[test]
fn scores_that_replay_differently_are_refused() {
    // Rebuilt by replay (no saved states) and from saved states: both check every score.
    let no_states = format!("{SMALL}[database]\npath = \"x\"\nsave_states = false\n");
    let states = format!("{SMALL}[database]\npath = \"x\"\nsave_states = true\n");
    for (name, config, want) in [
        ("replay", no_states.as_str(), "replayed score"),
        ("saved", states.as_str(), "saved state of step 1 (file init"),
    ] {
        score_mismatch(name, config, want);
    }
}

fn score_mismatch(name: &str, config: &str, want: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = finished(tmp.path(), name, config);
    // A consistent blob (length, CRC) whose values the replay does not reproduce.
    let conn = rusqlite::Connection::open(Path::new(&dir).join("run.sqlite")).unwrap();
    let (id, blob): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT id, scores FROM trajectories WHERE died IS NULL AND last_step > 2 LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut blob = blob;
    blob[8..16].copy_from_slice(&0.125f64.to_le_bytes());
    let crc = i64::from(crc32fast_hash(&blob));
    conn.execute(
        "UPDATE trajectories SET scores = ?1, scores_crc = ?2 WHERE id = ?3",
        rusqlite::params![blob, crc, id],
    )
    .unwrap();
    drop(conn);
    fails_with(
        &["tams", "--restart", &dir],
        1,
        &format!("trajectory {id}: {want}"),
    );
}

/// CRC-32 (IEEE), as the database stores it.
fn crc32fast_hash(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn truncated_or_foreign_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = finished(tmp.path(), "run", SMALL);
    let db = Path::new(&dir).join("run.sqlite");
    let len = std::fs::metadata(&db).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(len / 3).unwrap();
    drop(f);
    for args in [vec!["tams", "--restart", &dir], vec!["db", "show", &dir]] {
        let o = retrace(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&dir) && err.contains("malformed"), "{err}");
    }
    std::fs::write(
        &db,
        b"this is not a database, just text........................",
    )
    .unwrap();
    fails_with(&["db", "show", &dir], 1, "not a database");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    // A directory holding no run is a usage error (exit 2).
    fails_with(
        &["tams", "--restart", empty.to_str().unwrap()],
        2,
        "no run database here",
    );
}

#[test]
fn other_format_versions_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = finished(tmp.path(), "run", SMALL);
    sql(
        &dir,
        "UPDATE meta SET value = '99' WHERE key = 'schema_version';",
    );
    let want = "has format version 99; this retrace reads version 3 only";
    fails_with(&["tams", "--restart", &dir], 1, want);
    fails_with(&["db", "show", &dir], 1, want);
    sql(
        &dir,
        "UPDATE meta SET value = 'something-else' WHERE key = 'format';",
    );
    fails_with(&["db", "show", &dir], 1, "not a retrace run database");
}

#[test]
fn config_changes_refused_or_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let budget = SMALL.replace("nsplititer = 100000", "nsplititer = 20");
    let (dir, cfg) = finished(tmp.path(), "run", &budget);
    let with = |name: &str, text: String| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    for (name, text, key) in [
        (
            "seed.toml",
            budget.replace("seed = 3", "seed = 4"),
            "tams.seed changed from 3 to 4",
        ),
        (
            "n.toml",
            budget.replace("ntrajectories = 50", "ntrajectories = 60"),
            "tams.ntrajectories",
        ),
        (
            "model.toml",
            budget.replace("\"brownian\"", "\"brownian\"\ndrift = 0.5"),
            "model.drift",
        ),
        (
            "target.toml",
            budget.replace("targetscore = 3.0", "targetscore = 2.0"),
            "trajectory.targetscore",
        ),
    ] {
        let p = with(name, text);
        fails_with(&["tams", "--config", &p, "--restart", &dir], 2, key);
    }
    fails_with(
        &["tams", "--config", &cfg, "--restart", &dir, "--seed", "9"],
        2,
        "tams.seed",
    );
    // Raising the budget and adding a walltime are accepted, recorded, and give the
    // uninterrupted result.
    let more = with(
        "more.toml",
        SMALL.replace(
            "nsplititer = 100000",
            "nsplititer = 100000\nwalltime = 1000.0",
        ),
    );
    let a = tmp.path().join("a.json");
    let o = retrace(&[
        "tams",
        "--config",
        &more,
        "--restart",
        &dir,
        "--json",
        a.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let show = retrace(&["db", "show", &dir]);
    let text = String::from_utf8(show.stdout).unwrap();
    assert!(
        text.contains("changed      tams.nsplititer: 20 -> 100000"),
        "{text}"
    );
    assert!(
        text.contains("changed      tams.walltime: (absent) -> 1000.0"),
        "{text}"
    );
    assert!(
        text.contains("new -> iteration_budget, restart -> converged"),
        "{text}"
    );
    let b = tmp.path().join("b.json");
    let cfg_b = with(
        "b.toml",
        SMALL.replace(
            "nsplititer = 100000",
            "nsplititer = 100000\nwalltime = 1000.0",
        ),
    );
    assert!(
        retrace(&["tams", "--config", &cfg_b, "--json", b.to_str().unwrap()])
            .status
            .success()
    );
    let json = |p: &PathBuf| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    assert_eq!(json(&a), json(&b));
}

/// The `--json` report at `p` without its timing.
fn report(p: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

/// The committed iteration count of the run in `dir` (from `db show`), if it has one.
fn committed(dir: &str) -> Option<u64> {
    let o = retrace(&["db", "show", dir, "--last", "1"]);
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text.lines().find(|l| l.starts_with("iterations"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn second_writer_is_refused_and_nothing_is_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    // An unreachable target and no practical iteration budget: the first run goes on for
    // thousands of iterations (until extinction), and is frozen below while others try.
    let endless = SMALL
        .replace("ntrajectories = 50", "ntrajectories = 1000")
        .replace("nsplititer = 100000", "nsplititer = 1000000000000")
        .replace("targetscore = 3.0", "targetscore = 1e9");
    let cfg = tmp.path().join("endless.toml");
    std::fs::write(&cfg, &endless).unwrap();
    let cfg = cfg.to_str().unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let mut first = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_retrace"))
            .args(["tams", "--config", cfg, "--db", d])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Frozen with 3 committed iterations and the directory held, the run certainly holds it
    // while the second writers try (no race with its end, no timing).
    freeze_when(&mut first.0, || {
        let show = String::from_utf8(retrace(&["db", "show", d]).stdout).unwrap();
        show.contains("status       running") && committed(d).is_some_and(|q| q >= 3)
    });
    let want = format!("run directory {d} is in use by another process");
    fails_with(&["tams", "--restart", d], 2, &want);
    fails_with(&["tams", "--config", cfg, "--db", d], 2, &want);
    // Reading while it runs works.
    let show = retrace(&["db", "show", d]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = String::from_utf8(show.stdout).unwrap();
    assert!(text.contains("status       running"), "{text}");
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    // Nothing was damaged: continued to a fixed iteration budget, the run equals the one that
    // was never interrupted (nor disturbed by refused writers).
    let q = committed(d).expect("a committed run");
    let budget = endless.replace(
        "nsplititer = 1000000000000",
        &format!("nsplititer = {}", q + 5),
    );
    let bcfg = tmp.path().join("budget.toml");
    std::fs::write(&bcfg, &budget).unwrap();
    let (a, b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    let o = retrace(&[
        "tams",
        "--restart",
        d,
        "--config",
        bcfg.to_str().unwrap(),
        "--json",
        a.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = retrace(&[
        "tams",
        "--config",
        bcfg.to_str().unwrap(),
        "--json",
        b.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (mut got, mut want) = (report(&a), report(&b));
    assert_eq!(got["details"][0]["iterations"], q + 5);
    got.as_object_mut().unwrap().remove("config");
    want.as_object_mut().unwrap().remove("config");
    assert_eq!(got, want);
}

#[test]
fn walltime_stops_before_the_limit_and_restarts_finish_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let long = SMALL
        .replace("ntrajectories = 50", "ntrajectories = 1000")
        .replace("targetscore = 3.0", "targetscore = 4.5");
    // A walltime of 1 ns stops every session before its first iteration, whatever the
    // machine's speed: the stops are certain, not raced. An iteration budget in between makes
    // progress; the last session has neither and converges.
    let with = |extra: &str| {
        long.replace("seed = 3", &format!("seed = 3\n{extra}"))
            + "[database]\npath = \"unused\"\nsave_states = false\n"
    };
    let write = |name: &str, text: String| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let stop_now = write(
        "stop.toml",
        long.replace("seed = 3", "seed = 3\nwalltime = 1e-9"),
    );
    let (dir, _) = finished(tmp.path(), "run", &with("walltime = 1e-9"));
    let a = tmp.path().join("a.json");
    let a_s = a.to_str().unwrap();
    let show = |want: &str, q: u64| {
        let text = String::from_utf8(retrace(&["db", "show", &dir]).stdout).unwrap();
        assert!(text.contains(want), "{text}");
        assert_eq!(committed(&dir), Some(q), "{text}");
    };
    show("stopped by walltime (restartable)", 0);
    for (session, budget) in [(1u64, 4u64), (2, 9)] {
        let step = write(
            &format!("step{session}.toml"),
            long.replace("nsplititer = 100000", &format!("nsplititer = {budget}")),
        );
        let o = retrace(&["tams", "--restart", &dir, "--config", &step, "--json", a_s]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(report(&a)["details"][0]["stop"], "iteration_budget");
        show("stopped at nsplititer", budget);
        let o = retrace(&[
            "tams",
            "--restart",
            &dir,
            "--config",
            &stop_now,
            "--json",
            a_s,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(report(&a)["details"][0]["stop"], "walltime");
        show("stopped by walltime (restartable)", budget);
    }
    let plain = write("plain.toml", long.clone());
    let o = retrace(&["tams", "--restart", &dir, "--config", &plain, "--json", a_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Compare with the run that never stopped.
    let c = tmp.path().join("c.json");
    let o = retrace(&["tams", "--config", &plain, "--json", c.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (mut got, mut want) = (report(&a), report(&c));
    got.as_object_mut().unwrap().remove("config");
    want.as_object_mut().unwrap().remove("config");
    // Same estimate, weight and counters: no extra (1 - K/N) factor for any stop.
    assert_eq!(got, want);
    assert_eq!(report(&a)["details"][0]["stop"], "converged");
}
