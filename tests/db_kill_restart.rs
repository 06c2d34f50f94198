//! Kill a TAMS run with SIGKILL at seeded random points (10+ times), restart it until it
//! finishes, and compare with an uninterrupted run bit for bit: the report (minus `seconds`) and
//! the whole database content (iterations, trajectories, scores). The kill points are events,
//! not instants: "k more commits reached the WAL" (k seeded random), read from the WAL file.

use std::path::Path;
use std::process::{Command, Stdio};

const CONFIG: &str = "[tams]\nntrajectories = 1000\nnsplititer = 100000\nl = 1\nseed = 7\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 4.5\ncheckpoint_dir = \"/tmp\"\n[model]\nname = \"brownian\"\n";

fn retrace(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retrace"));
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn without(mut v: serde_json::Value, keys: &[&str]) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    v
}

/// The database content that must not depend on interruptions.
fn content(dir: &Path, out: &Path) -> serde_json::Value {
    let o = retrace(&[
        "db",
        "export",
        dir.to_str().unwrap(),
        "--json",
        out.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut v = json(out);
    let summary = without(v["summary"].take(), &["sessions", "active"]);
    let iterations: Vec<_> = v["iterations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| without(r.clone(), &["committed_at"]))
        .collect();
    serde_json::json!({"summary": summary, "iterations": iterations, "trajectories": v["trajectories"]})
}

/// The WAL's page size and its valid frames (current salts): `(offset, is_commit)`.
fn wal_frames(wal: &[u8]) -> Option<(usize, Vec<(usize, bool)>)> {
    if wal.len() < 32 {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    let page = be(&wal[8..12]) as usize;
    let mut frames = Vec::new();
    let mut at = 32;
    while at + 24 + page <= wal.len() && wal[at + 8..at + 16] == wal[16..24] {
        frames.push((at, be(&wal[at + 4..at + 8]) != 0));
        at += 24 + page;
    }
    Some((page, frames))
}

/// The WAL's generation (its salts) and its number of commit frames (`None`: no WAL yet).
fn wal_commits(dir: &Path) -> Option<([u8; 8], usize)> {
    let wal = std::fs::read(dir.join("run.sqlite-wal")).ok()?;
    let (_, frames) = wal_frames(&wal)?;
    let salt: [u8; 8] = wal[16..24].try_into().unwrap();
    Some((salt, frames.iter().filter(|f| f.1).count()))
}

/// Commits since `base` was read: new commit frames in the same WAL generation; in a new
/// generation (the WAL restarted after a checkpoint, which a write causes), at least 1.
fn commits_since(base: Option<([u8; 8], usize)>, dir: &Path) -> usize {
    match (base, wal_commits(dir)) {
        (_, None) => 0,
        (Some((salt, c0)), Some((now, c))) if salt == now => c.saturating_sub(c0),
        (_, Some((_, c))) => c.max(1),
    }
}

/// Frames after the last commit frame (a transaction being committed when the process died).
fn uncommitted_wal_frames(dir: &Path) -> usize {
    let Ok(wal) = std::fs::read(dir.join("run.sqlite-wal")) else {
        return 0;
    };
    let Some((_, frames)) = wal_frames(&wal) else {
        return 0;
    };
    frames.iter().rev().take_while(|f| !f.1).count()
}

/// Simulate a kill in the middle of writing the last committed transaction to the WAL: cut the
/// WAL inside that transaction's frames (only if no frame of the WAL can have been
/// checkpointed into the database yet, as after a real crash). Returns whether it cut.
fn tear_last_commit(dir: &Path) -> bool {
    let path = dir.join("run.sqlite-wal");
    let Ok(wal) = std::fs::read(&path) else {
        return false;
    };
    let Some((page, frames)) = wal_frames(&wal) else {
        return false;
    };
    let commits: Vec<usize> = (0..frames.len()).filter(|&i| frames[i].1).collect();
    let Some(&last) = commits.last() else {
        return false;
    };
    let first = commits.len().checked_sub(2).map_or(0, |i| commits[i] + 1);
    // Below 1000 frames (SQLite's auto-checkpoint threshold) no checkpoint has copied any frame
    // of this WAL generation into the database, not even one interrupted by the kill.
    if frames.len() >= 1000 {
        return false;
    }
    // Frames a checkpoint copied, or began to copy, into the database (the run checkpoints
    // explicitly, so a kill can land inside one): nBackfill and nBackfillAttempted of the
    // wal-index's checkpoint info (bytes 96 and 128, native byte order).
    let shm = std::fs::read(dir.join("run.sqlite-shm")).unwrap_or_default();
    let word = |at: usize| {
        shm.get(at..at + 4).map_or(usize::MAX, |b| {
            u32::from_ne_bytes(b.try_into().unwrap()) as usize
        })
    };
    let backfilled = word(96).max(word(128));
    if backfilled > first {
        return false;
    }
    let cut = frames[first + (last - first) / 2].0 + 24 + page / 2;
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(cut as u64).unwrap();
    true
}

/// splitmix64: the test's own seeded kill points.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn sigkill_and_restart_is_bit_identical() {
    // Scalar states: by default no state files (a restart replays).
    kill_and_restart("");
}

#[test]
fn sigkill_and_restart_with_saved_states_is_bit_identical() {
    // State files written before each commit, removed after a checkpoint: a kill at any instant
    // must leave a run whose restart rebuilds from them exactly.
    kill_and_restart("[database]\npath = \"replaced-by---db\"\nsave_states = true\n");
}

fn kill_and_restart(database: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let plain_cfg = tmp.path().join("plain.toml");
    std::fs::write(&plain_cfg, CONFIG).unwrap();
    let plain_cfg = plain_cfg.to_str().unwrap();
    let cfg = tmp.path().join("run.toml");
    std::fs::write(&cfg, format!("{CONFIG}{database}")).unwrap();
    let cfg = cfg.to_str().unwrap();
    let path = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();

    // Uninterrupted references: without and with a database.
    let plain = retrace(&["tams", "--config", plain_cfg, "--json", &path("plain.json")])
        .status()
        .unwrap();
    assert!(plain.success());
    let full = retrace(&[
        "tams",
        "--config",
        cfg,
        "--db",
        &path("full"),
        "--json",
        &path("full.json"),
    ])
    .status()
    .unwrap();
    assert!(full.success());
    let reference = without(json(&tmp.path().join("plain.json")), &["seconds"]);
    assert_eq!(
        without(json(&tmp.path().join("full.json")), &["seconds"]),
        reference
    );
    let saves = !database.is_empty();
    assert_eq!(
        tmp.path().join("full/states").exists(),
        saves,
        "state files exactly when asked for"
    );

    // Killed run: each session is killed after 1 to 24 more commits (seeded), an event read
    // from the WAL, so the kill lands at a varying point (between commits, or inside one).
    let run = path("killed");
    let killed_json = path("killed.json");
    let mut rng = 0x5eed_u64;
    let (mut kills, mut attempts, mut mid_commit, mut torn) = (0u32, 0u32, 0u32, 0u32);
    loop {
        attempts += 1;
        assert!(attempts < 200, "no progress after {attempts} attempts");
        let restart = Path::new(&run).join("run.sqlite").exists();
        let mode = if restart { "--restart" } else { "--db" };
        let mut args = vec!["tams", mode, &run, "--json", &killed_json];
        if !restart {
            args.extend(["--config", cfg]);
        }
        let base = wal_commits(Path::new(&run));
        let mut child = retrace(&args).spawn().unwrap();
        // At least 12 kills, and more (up to 40) until 3 commits could be torn.
        if kills < 12 || (torn < 3 && kills < 40) {
            let point = 1 + (next(&mut rng) % 24) as usize;
            let mut running = true;
            while commits_since(base, Path::new(&run)) < point {
                if child.try_wait().unwrap().is_some() {
                    running = false; // finished first: checked below
                    break;
                }
                // A poll interval only (the kill waits for the event, however long it takes):
                // re-reading the WAL back to back would take the cores from the run.
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if running {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                if uncommitted_wal_frames(Path::new(&run)) > 0 {
                    mid_commit += 1;
                }
                if tear_last_commit(Path::new(&run)) {
                    torn += 1;
                }
                continue;
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        break;
    }
    eprintln!(
        "{kills} kills ({mid_commit} during a commit: WAL frames after the last commit; \
         {torn} last commits torn on purpose), {attempts} attempts"
    );
    // Where exactly a kill lands after its commit event, and so how many last commits could
    // be torn, depends on scheduling: the bit-identical report below is the assertion.
    assert!(kills >= 1, "no kill landed before the run finished");
    let got = without(json(&tmp.path().join("killed.json")), &["seconds"]);
    assert_eq!(got, reference, "after {kills} kills");
    assert_eq!(
        content(Path::new(&run), &tmp.path().join("k.json")),
        content(&tmp.path().join("full"), &tmp.path().join("f.json"))
    );
}
