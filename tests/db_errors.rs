//! Run database failures give one clear line and damage nothing: damaged data, an incompatible
//! format version, a second writer, config changes (refused or accepted and recorded), walltime.

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
        (
            "saved",
            states.as_str(),
            "saved state of step 1 (file it0.bin) scores",
        ),
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

#[test]
fn second_writer_is_refused_and_nothing_is_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let long = SMALL
        .replace("ntrajectories = 50", "ntrajectories = 1000")
        .replace("targetscore = 3.0", "targetscore = 4.5");
    let cfg = tmp.path().join("long.toml");
    std::fs::write(&cfg, &long).unwrap();
    let cfg = cfg.to_str().unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let first_json = tmp.path().join("first.json");
    let mut first = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args([
            "tams",
            "--config",
            cfg,
            "--db",
            d,
            "--json",
            first_json.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the event (the database exists) while the run lives; no time bound.
    while !dir.join("run.sqlite").exists() {
        assert!(first.try_wait().unwrap().is_none(), "the run ended first");
        std::thread::yield_now();
    }
    let want = format!("run directory {d} is in use by another process");
    fails_with(&["tams", "--restart", d], 2, &want);
    fails_with(&["tams", "--config", cfg, "--db", d], 2, &want);
    // Reading while it runs works.
    let show = retrace(&["db", "show", d]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = String::from_utf8(show.stdout).unwrap();
    assert!(
        text.contains("status       running") || text.contains("finished"),
        "{text}"
    );
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference = tmp.path().join("ref.json");
    assert!(
        retrace(&[
            "tams",
            "--config",
            cfg,
            "--json",
            reference.to_str().unwrap()
        ])
        .status
        .success()
    );
    let json = |p: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    assert_eq!(json(&first_json), json(&reference));
}

#[test]
fn walltime_stops_before_the_limit_and_restarts_finish_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let long = SMALL
        .replace("ntrajectories = 50", "ntrajectories = 1000")
        .replace("targetscore = 3.0", "targetscore = 4.5");
    let walltime = 0.15;
    // Saving states costs ~1 ms per iteration of this tiny model (a file and its fsync):
    // replay instead, so that each short session still makes progress.
    let timed = long.replace("seed = 3", &format!("seed = 3\nwalltime = {walltime}"))
        + "[database]\npath = \"unused\"\nsave_states = false\n";
    let (dir, _) = finished(tmp.path(), "run", &timed);
    let a = tmp.path().join("a.json");
    let json = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    // Each session gets the walltime again; restart until the run completes.
    let mut stops = 1;
    loop {
        let show = String::from_utf8(retrace(&["db", "show", &dir]).stdout).unwrap();
        assert!(show.contains("stopped by walltime (restartable)"), "{show}");
        let o = retrace(&["tams", "--restart", &dir, "--json", a.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v = json(&a);
        if v["details"][0]["stop"] != "walltime" {
            break;
        }
        stops += 1;
        assert!(stops < 100);
    }
    assert!(stops >= 2, "the walltime never stopped the run");
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    // Compare with the run that never stopped (walltime removed), config echo aside.
    let plain = tmp.path().join("plain.toml");
    std::fs::write(&plain, &long).unwrap();
    let c = tmp.path().join("c.json");
    assert!(
        retrace(&[
            "tams",
            "--config",
            plain.to_str().unwrap(),
            "--json",
            c.to_str().unwrap()
        ])
        .status
        .success()
    );
    let (mut got, mut want) = (strip(json(&a)), strip(json(&c)));
    got.as_object_mut().unwrap().remove("config");
    want.as_object_mut().unwrap().remove("config");
    // Same estimate, weight and counters: no extra (1 - K/N) factor for any stop.
    assert_eq!(got, want);
    assert_eq!(json(&a)["details"][0]["stop"], "converged");
}
