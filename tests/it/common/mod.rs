//! Helpers shared by the CLI test files: run the built `retrace` binary, check a usage error.
#![allow(dead_code)] // each test file uses what it needs

pub(crate) mod xml;

use std::process::{Command, Output};

/// Run the built `retrace` binary with `args`.
pub(crate) fn retrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(args)
        .output()
        .expect("run retrace")
}

/// A usage error: exit 2, nothing on stdout, exactly one stderr line `error: ...`, no panic.
pub(crate) fn assert_usage_error(out: &Output, context: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{context}: {err}");
    assert!(out.stdout.is_empty(), "{context}");
    assert_eq!(err.lines().count(), 1, "{context}: {err}");
    assert!(err.starts_with("error: "), "{context}: {err}");
    assert!(!err.contains("panicked"), "{context}: {err}");
}

/// Run `retrace` with `args`, assert it succeeded, and return its stdout.
pub(crate) fn ok(args: &[&str]) -> String {
    let o = retrace(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The value after the line prefix `name` in `text` (trimmed); panics naming it if absent.
pub(crate) fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .trim()
}

/// A child process killed (SIGKILL) when dropped, so a failing test leaves no endless run.
pub(crate) struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Freeze `child` (SIGSTOP) at a moment when `seen()` holds while it is frozen, and return:
/// it is stopped, then looked at, and let go on (SIGCONT) until the look succeeds. What `seen`
/// observes cannot change until the caller continues or kills the child: no race with its
/// progress and no timing. Panics if the child ends first.
pub(crate) fn freeze_when(child: &mut std::process::Child, mut seen: impl FnMut() -> bool) {
    let pid = child.id().to_string();
    let signal = |sig: &str| {
        let s = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(s.success(), "kill {sig} {pid}");
    };
    let stopped = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('T')
            })
            .unwrap_or(false)
    };
    loop {
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        signal("-STOP");
        // Delivered before the process runs again; wait until its state shows it.
        while !stopped() {
            assert!(child.try_wait().unwrap().is_none(), "the run ended first");
            std::thread::yield_now();
        }
        if seen() {
            return;
        }
        signal("-CONT");
    }
}
