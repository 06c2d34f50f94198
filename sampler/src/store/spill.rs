//! Spilling checkpoints to files: raw bytes of a state ([`StateBytes`]) in the `revolve`
//! checkpoint-file format (header + CRC-32), in a run-specific directory removed on drop.

use crate::{Result, StoreError};
use revolve::storage::disk::checkpoint_file::{read_checkpoint, write_checkpoint_with};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A state seen as raw little-endian bytes (for spill files, saved states and memory accounting):
/// revolve's checkpoint [`State`](revolve::State), shared between threads. Implemented for the
/// built-in models' states (`f64`, `i64`, `[f64; N]`), `Vec<T>` and `ndarray::Array<T, D>` of
/// plain numbers.
pub trait StateBytes: revolve::State + Sync {}

impl<T: revolve::State + Sync> StateBytes for T {}

/// A run-specific directory of spill files under the configured `checkpoint_dir`, removed with
/// everything in it when the last checkpoint and the store referring to it are dropped.
#[derive(Debug)]
pub(crate) struct SpillDir {
    path: PathBuf,
    next: AtomicU64,
}

static DIRS: AtomicU64 = AtomicU64::new(0);

impl SpillDir {
    /// Create a fresh directory `retrace-spill-<pid>-<n>` inside `parent` (created if missing).
    pub(crate) fn create(parent: &Path) -> Result<SpillDir> {
        let io = |p: &Path, e: std::io::Error| StoreError::SpillDir {
            path: p.to_path_buf(),
            source: e,
        };
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        loop {
            let n = DIRS.fetch_add(1, Relaxed);
            let path = parent.join(format!("retrace-spill-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(SpillDir {
                        path,
                        next: AtomicU64::new(0),
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
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Write `state` as the checkpoint of `step` to `path` (header + CRC-32).
pub(crate) fn write_state<S: StateBytes>(path: &Path, step: u64, state: &S) -> Result<()> {
    let mut bytes = vec![0u8; state.byte_len()];
    state.write_bytes(&mut bytes);
    let mut scratch = Vec::new();
    write_checkpoint_with(path, step, &bytes, &mut scratch).map_err(|source| {
        StoreError::Checkpoint {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// Read the checkpoint in `path` (verifying header, length and checksum) into `state`; the
/// file must hold step `step`.
pub(crate) fn read_state<S: StateBytes>(path: &Path, step: u64, state: &mut S) -> Result<()> {
    let mut bytes = vec![0u8; state.byte_len()];
    let got = read_checkpoint(path, &mut bytes).map_err(|source| StoreError::Checkpoint {
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
    state.read_bytes(&bytes);
    Ok(())
}
