//! Spill directories do not outlive their run: every signal that ends the process by default
//! (HUP, INT, QUIT, TERM, USR1, USR2, ALRM) removes them (the process then
//! ends by the signal, as without a handler), and a later run removes those of dead processes,
//! keeping those of live ones. Synchronised on the filesystem (the spill directory appearing),
//! never on time.
#![cfg(target_os = "linux")]

mod common;
use common::ok;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// A TAMS run spilling every step's state (budget 1 KiB, a checkpoint per step) into `spill`.
fn config(dir: &Path, spill: &Path, nsplititer: u64, target: f64) -> String {
    std::fs::create_dir_all(spill).unwrap();
    let text = format!(
        "[tams]\nntrajectories = 20\nnsplititer = {nsplititer}\nseed = 1\n\
         [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = {target}\n\
         policy = \"uniform\"\nmemory_budget = \"1KiB\"\ncheckpoint_interval = 1\n\
         checkpoint_dir = \"{}\"\n[model]\nname = \"brownian\"\n",
        spill.display()
    );
    let path = dir.join(format!("run-{nsplititer}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The `retrace-spill-*` directories in `dir`.
fn spill_dirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("retrace-spill-"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Start a run that ends only by a signal, and wait until its spill directory exists.
fn spilling_run(tmp: &Path, spill: &Path) -> std::process::Child {
    // An unreachable target and a huge iteration budget: the run ends only by the signal.
    let cfg = config(tmp, spill, 1_000_000_000, 1e9);
    let mut child = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(["tams", "--config", &cfg, "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the event: the spill directory exists (the child must still be running).
    while spill_dirs(spill).is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::yield_now();
    }
    child
}

fn send(child: &std::process::Child, name: &str) {
    let pid = child.id().to_string();
    let kill = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(kill.success());
}

#[test]
fn a_signal_during_a_spilling_run_removes_its_spill_directory() {
    for (signal, name) in [
        (1, "HUP"),
        (2, "INT"),
        (3, "QUIT"),
        (10, "USR1"),
        (12, "USR2"),
        (14, "ALRM"),
        (15, "TERM"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let spill = tmp.path().join("spill");
        let mut child = spilling_run(tmp.path(), &spill);
        send(&child, name);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "SIG{name}: {status:?}");
        assert_eq!(spill_dirs(&spill), Vec::<String>::new(), "SIG{name}");
    }
}

/// SIGPIPE is ignored (a closed stdout is a write error, ended quietly): the run goes on, and a
/// later SIGTERM still removes the spill directory.
#[test]
fn sigpipe_does_not_end_a_run_and_a_later_signal_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let spill = tmp.path().join("spill");
    let mut child = spilling_run(tmp.path(), &spill);
    send(&child, "PIPE");
    // A signal is delivered before kill(1) returns; were SIGPIPE fatal the next one would find
    // the child gone (or dead by SIGPIPE).
    send(&child, "TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert_eq!(spill_dirs(&spill), Vec::<String>::new());
}

#[test]
fn a_later_run_removes_spill_directories_of_dead_processes_only() {
    let tmp = tempfile::tempdir().unwrap();
    let spill = tmp.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    // A PID that is certainly dead: a child that has exited and been reaped.
    let mut done = Command::new("true").spawn().unwrap();
    let dead = done.id();
    done.wait().unwrap();
    // A live PID: this test process.
    let live = std::process::id();
    for pid in [dead, live] {
        let d = spill.join(format!("retrace-spill-{pid}-0"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("ckpt-0-step1.bin"), b"left over").unwrap();
    }
    // Something else in the directory is never touched.
    std::fs::create_dir(spill.join("retrace-spill-notapid")).unwrap();
    let cfg = config(tmp.path(), &spill, 20, 3.0);
    let out = ok(&["tams", "--config", &cfg]);
    assert!(out.contains("estimate"), "{out}");
    assert_eq!(
        spill_dirs(&spill),
        [
            format!("retrace-spill-{live}-0"),
            "retrace-spill-notapid".into()
        ],
        "dead {dead}, live {live}"
    );
}
