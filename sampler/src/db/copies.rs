//! Private copies of a killed run's database made for reading (`retrace-read-<pid>-*` in the
//! temporary directory): registered while in use so [`remove_private_copies`] (the CLI calls
//! it on SIGINT/SIGTERM) removes them, locked (`flock`) so a later reader removes those of
//! dead processes only ([`remove_stale_private_copies`]).

use crate::store::spill::{remove_stale_dirs, remove_while_written};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The prefix of private copy directory names: `retrace-read-<pid>-<random>`.
const PREFIX: &str = "retrace-read-";

/// The private copies of this process now, and whether [`remove_private_copies`] ran (then no
/// new ones are made).
static LIVE: Mutex<(Vec<PathBuf>, bool)> = Mutex::new((Vec::new(), false));

fn live() -> std::sync::MutexGuard<'static, (Vec<PathBuf>, bool)> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A private copy directory: removed when dropped.
#[derive(Debug)]
pub(crate) struct PrivateCopy {
    dir: tempfile::TempDir,
    /// The directory, opened and exclusively locked while in use.
    _lock: Option<std::fs::File>,
}

impl PrivateCopy {
    /// A fresh, registered and locked directory in the temporary directory.
    pub(crate) fn create() -> std::io::Result<PrivateCopy> {
        // Held while creating, so remove_private_copies cannot miss a directory being made.
        let mut live = live();
        if live.1 {
            return Err(std::io::Error::other(
                "the process is ending (private copies removed)",
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()?;
        let lock = std::fs::File::open(dir.path()).ok();
        if let Some(f) = &lock {
            let _ = f.try_lock();
        }
        live.0.push(dir.path().to_path_buf());
        Ok(PrivateCopy { dir, _lock: lock })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        live().0.retain(|d| d != self.dir.path());
    }
}

/// Remove every private copy of a run database this process made for reading, and refuse new
/// ones: for a process about to end on a signal. Returns how many were removed. Readers of
/// them fail, so call it only on the way out.
pub fn remove_private_copies() -> usize {
    let mut live = live();
    live.1 = true;
    let dirs = std::mem::take(&mut live.0);
    // The reading thread may still be copying files into a directory: renamed first, then
    // removed (see `remove_while_written`).
    for d in &dirs {
        remove_while_written(d);
    }
    dirs.len()
}

/// Remove the private copies in `parent` left by processes that died without removing them:
/// named `retrace-read-<pid>-<random>`, `pid` not alive (checked in `/proc` on Linux;
/// elsewhere nothing is removed) and not locked by a live owner. Returns how many were removed.
pub fn remove_stale_private_copies(parent: &Path) -> usize {
    remove_stale_dirs(parent, copy_pid)
}

/// The PID in a private copy name `retrace-read-<pid>-<random>`.
fn copy_pid(name: &str) -> Option<u32> {
    let (pid, rest) = name.strip_prefix(PREFIX)?.split_once('-')?;
    if rest.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_names_give_their_pid() {
        assert_eq!(super::copy_pid("retrace-read-123-abcDEF"), Some(123));
        for other in [
            "retrace-read-abc",
            "retrace-read-12",
            "retrace-read--x",
            "x-1-2",
        ] {
            assert_eq!(super::copy_pid(other), None, "{other}");
        }
    }
}
