//! Spilling checkpoints to files: raw bytes of a state ([`StateBytes`]), or those compressed by
//! a [`Codec`], in the `revolve` checkpoint-file format (header with the codec + CRC-32), in a
//! run-specific directory removed on drop.

use crate::{Result, StoreError};
use revolve::storage::disk::Codec;
use revolve::storage::disk::checkpoint_file::{
    read_checkpoint, write_checkpoint, write_checkpoint_coded,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A state seen as raw little-endian bytes (for spill files, saved states and memory accounting):
/// revolve's checkpoint [`State`](revolve::State), shared between threads. Implemented for the
/// built-in models' states (`f64`, `i64`, `[f64; N]`), `Vec<T>` and `ndarray::Array<T, D>` of
/// plain numbers.
pub trait StateBytes: revolve::State + Sync {}

impl<T: revolve::State + Sync> StateBytes for T {}

/// A run-specific directory of spill files under the configured `checkpoint_dir`, removed with
/// everything in it when the last checkpoint and the store referring to it are dropped, by
/// [`remove_spill_dirs`] (the CLI calls it on SIGINT/SIGTERM), or, after the process died
/// without either, by the next [`SpillDir::create`] in the same parent directory.
#[derive(Debug)]
pub(crate) struct SpillDir {
    path: PathBuf,
    next: AtomicU64,
    /// The directory itself, opened and exclusively locked (`flock`) while in use: the lock
    /// dies with the process, so it is held exactly as long as the owner lives, in any PID
    /// namespace. `None` where a directory cannot be opened as a file (Windows).
    _lock: Option<std::fs::File>,
}

static DIRS: AtomicU64 = AtomicU64::new(0);

/// The spill directories of this process now, and whether [`remove_spill_dirs`] ran (then no
/// new one is created).
static LIVE: Mutex<(Vec<PathBuf>, bool)> = Mutex::new((Vec::new(), false));

/// The prefix of spill directory names: `retrace-spill-<pid>-<n>`.
const PREFIX: &str = "retrace-spill-";

fn live() -> std::sync::MutexGuard<'static, (Vec<PathBuf>, bool)> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remove every spill directory of this process now, and refuse new ones: for a process about
/// to end on a signal (the directories would otherwise outlive it). Returns how many were
/// removed. Checkpoints still referring to them fail to read, so call it only on the way out.
pub fn remove_spill_dirs() -> usize {
    let mut live = live();
    live.1 = true;
    let dirs = std::mem::take(&mut live.0);
    for d in &dirs {
        remove_while_written(d);
    }
    dirs.len()
}

/// Remove directory `dir` (a spill directory, a private read copy) while other threads may
/// still be writing files into it: rename it first (a file created by path afterwards fails
/// instead of appearing in it), then remove it.
pub(crate) fn remove_while_written(dir: &Path) {
    let mut doomed = dir.as_os_str().to_owned();
    doomed.push(REMOVING);
    let doomed = PathBuf::from(doomed);
    let target = match std::fs::rename(dir, &doomed) {
        Ok(()) => doomed.as_path(),
        Err(_) => dir,
    };
    // A worker whose path lookup passed `dir` before the rename can still create one file in
    // the renamed directory, after `remove_dir_all` listed it (then it fails: not empty). Such
    // creations are finitely many, so trying again removes the directory.
    for _ in 0..1000 {
        match std::fs::remove_dir_all(target) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => std::thread::yield_now(),
            _ => break,
        }
    }
}

/// The suffix of a spill directory being removed.
const REMOVING: &str = ".removing";

/// Remove the spill directories in `parent` left by processes that died without removing them:
/// named `retrace-spill-<pid>-<n>` (or that with `.removing`: interrupted removals), `pid` not
/// alive (checked in `/proc` on Linux; elsewhere nothing is removed) and not locked by a live owner. Returns how many were removed.
pub fn remove_stale_spill_dirs(parent: &Path) -> usize {
    remove_stale_dirs(parent, spill_pid)
}

/// Remove the directories in `parent` whose name gives a PID (`pid_of`) of a process that is
/// not this one, not alive and does not hold the directory's lock (spill directories, private
/// read copies). Symbolic links are never followed. Returns how many were removed.
pub(crate) fn remove_stale_dirs(parent: &Path, pid_of: fn(&str) -> Option<u32>) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(pid_of) else {
            continue;
        };
        let path = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if pid == std::process::id() || !is_dir || process_alive(pid) || lock_held(&path) {
            continue;
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The PID in a spill directory name `retrace-spill-<pid>-<n>`.
fn spill_pid(name: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(PREFIX)?.split_once('-')?;
    n.strip_suffix(REMOVING).unwrap_or(n).parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether process `pid` is alive (`/proc/<pid>` exists). Where that cannot be checked (not
/// Linux), every process counts as alive, so nothing is removed.
pub(crate) fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Whether spill directory `dir` is locked by a live process (possibly in another PID
/// namespace sharing the directory).
pub(crate) fn lock_held(dir: &Path) -> bool {
    match std::fs::File::open(dir) {
        Ok(f) => matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

impl SpillDir {
    /// Create a fresh directory `retrace-spill-<pid>-<n>` inside `parent` (which must exist:
    /// missing parents are never created),
    /// after removing stale ones there ([`remove_stale_spill_dirs`]).
    pub(crate) fn create(parent: &Path) -> Result<SpillDir> {
        let io = |p: &Path, e: std::io::Error| StoreError::SpillDir {
            path: p.to_path_buf(),
            source: e,
        };
        remove_stale_spill_dirs(parent);
        // Held while creating, so remove_spill_dirs cannot miss a directory being made.
        let mut live = live();
        if live.1 {
            let e = std::io::Error::other("the process is ending (spill directories removed)");
            return Err(io(parent, e).into());
        }
        loop {
            let n = DIRS.fetch_add(1, Relaxed);
            let path = parent.join(format!("{PREFIX}{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    let lock = std::fs::File::open(&path).ok();
                    if let Some(f) = &lock
                        && let Err(e) = f.try_lock()
                    {
                        let _ = std::fs::remove_dir_all(&path);
                        return Err(io(&path, std::io::Error::from(e)).into());
                    }
                    live.0.push(path.clone());
                    return Ok(SpillDir {
                        path,
                        next: AtomicU64::new(0),
                        _lock: lock,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(&path, e).into()),
            }
        }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A new unique file name for a checkpoint of `step`.
    pub(crate) fn file_for(&self, step: u64) -> PathBuf {
        let n = self.next.fetch_add(1, Relaxed);
        self.path.join(format!("ckpt-{n}-step{step}.bin"))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        live().0.retain(|p| *p != self.path);
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Write `state` as the checkpoint of `step` to `path` (header + CRC-32) through `codec` (the
/// header records it: [`read_state`] needs no option). A lossy codec is refused (nothing is
/// written): spilled states are replayed and must come back bit for bit.
pub(crate) fn write_state<S: StateBytes>(
    path: &Path,
    step: u64,
    state: &S,
    codec: Codec,
) -> Result<()> {
    let written = match codec {
        Codec::None => write_checkpoint(path, step, state),
        c if !c.is_lossless() => Err(revolve::Error::Usage(
            "spill files must come back bit for bit (TAMS replays them): a lossy codec (zfp) is \
             refused; use `none` or `zstd`",
        )),
        c => write_checkpoint_coded(path, step, state, c),
    };
    written.map_err(|source| {
        StoreError::Checkpoint {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// Read the checkpoint in `path` (verifying header, length and checksum; decoding a compressed
/// one) into `state`; the file must hold step `step`.
pub(crate) fn read_state<S: StateBytes>(path: &Path, step: u64, state: &mut S) -> Result<()> {
    let got = read_checkpoint(path, state).map_err(|source| StoreError::Checkpoint {
        path: path.to_path_buf(),
        source,
    })?;
    if got != step {
        return Err(StoreError::WrongStep {
            path: path.to_path_buf(),
            found: got,
            expected: step,
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_spill_codecs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ckpt");
        let x = vec![0.25f64; 64];
        let e = write_state(&path, 3, &x, Codec::Zfp { minexp: -20 }).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("bit for bit") && text.contains("lossy"),
            "{text}"
        );
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!path.exists());
        write_state(&path, 3, &x, Codec::zstd()).unwrap();
        let mut y = vec![0.0f64; 64];
        read_state(&path, 3, &mut y).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn spill_names_give_their_pid() {
        assert_eq!(spill_pid("retrace-spill-1234-0"), Some(1234));
        assert_eq!(spill_pid("retrace-spill-1234-17"), Some(1234));
        assert_eq!(spill_pid("retrace-spill-1234-17.removing"), Some(1234));
        for other in [
            "retrace-spill-x-0",
            "retrace-spill-12",
            "retrace-spill-12-a",
            "run",
            "",
        ] {
            assert_eq!(spill_pid(other), None, "{other}");
        }
    }

    #[test]
    fn own_directory_is_locked_kept_and_removed_on_drop() {
        // (remove_spill_dirs is tested through the CLI: it ends the process's spilling.)
        let parent = tempfile::tempdir().unwrap();
        let d = SpillDir::create(parent.path()).unwrap();
        assert!(d.path().is_dir());
        assert!(lock_held(d.path()), "held while in use");
        assert_eq!(
            remove_stale_spill_dirs(parent.path()),
            0,
            "own directory kept"
        );
        drop(d);
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
