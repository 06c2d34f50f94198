//! Private copies a reader makes of a killed run's database (`retrace-read-<pid>-*` in
//! TMPDIR) do not outlive it: SIGTERM and SIGINT while reading remove them, and a later reader
//! removes those of dead processes, keeping those of live ones. Synchronised on the filesystem
//! and on SIGSTOP (tests/common), never on time.
#![cfg(target_os = "linux")]

mod common;
use common::{KillOnDrop, freeze_when};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// A killed run in `dir`: 100 trajectories, an unreachable target, killed (SIGKILL) once its
/// WAL holds the initial ensemble, so readers read it from a private copy.
fn killed_run(tmp: &Path, dir: &Path) {
    let cfg = tmp.join("run.toml");
    std::fs::write(
        &cfg,
        "[tams]\nntrajectories = 100\nnsplititer = 1000000000\nseed = 1\n\
         [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 1e9\n\
         [model]\nname = \"brownian\"\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(["tams", "--config", cfg.to_str().unwrap(), "--threads", "1"])
        .arg("--db")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let wal = dir.join("run.sqlite-wal");
    freeze_when(&mut child.0, || {
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 300_000)
    });
    drop(child);
}

/// The `retrace-read-*` entries of `dir`.
fn copies(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("retrace-read-"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_signal_while_reading_a_killed_run_removes_its_private_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    killed_run(tmp.path(), &run);
    for (signal, name) in [(15, "TERM"), (2, "INT")] {
        let tmpdir = tmp.path().join(format!("tmp-{name}"));
        std::fs::create_dir(&tmpdir).unwrap();
        // stdout is never read: the export blocks on it holding its copy, until the signal.
        let child = Command::new(env!("CARGO_BIN_EXE_retrace"))
            .args(["db", "export", "--json", "-"])
            .arg(&run)
            .env("TMPDIR", &tmpdir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        freeze_when(&mut child.0, || !copies(&tmpdir).is_empty());
        let pid = child.0.id().to_string();
        for sig in [format!("-{name}"), "-CONT".into()] {
            assert!(
                Command::new("kill")
                    .args([&sig, &pid])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let status = child.0.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "SIG{name}: {status:?}");
        assert_eq!(copies(&tmpdir), Vec::<String>::new(), "SIG{name}");
    }
}

#[test]
fn a_later_reader_removes_private_copies_of_dead_processes_only() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    killed_run(tmp.path(), &run);
    let tmpdir = tmp.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    // A PID that is certainly dead: a child that has exited and been reaped.
    let mut done = Command::new("true").spawn().unwrap();
    let dead = done.id();
    done.wait().unwrap();
    let live = std::process::id();
    for pid in [dead, live] {
        let d = tmpdir.join(format!("retrace-read-{pid}-abc123"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("run.sqlite"), b"left over").unwrap();
    }
    std::fs::create_dir(tmpdir.join("retrace-read-notapid")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(["db", "show"])
        .arg(&run)
        .env("TMPDIR", &tmpdir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        copies(&tmpdir),
        [
            format!("retrace-read-{live}-abc123"),
            "retrace-read-notapid".into()
        ],
        "dead {dead}, live {live}"
    );
}
