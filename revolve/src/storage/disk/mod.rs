//! Disk checkpoints: [`DiskStore`] keeps each checkpoint in a preallocated, memory-mapped slot
//! file (`slot-N.ckpt`) as the state's raw little-endian bytes, or compressed by a [`Codec`]
//! ([`DiskStoreBuilder::codec`]), after a small header (magic, version, step, length, codec,
//! CRC-32 of header and stored payload), checked on every read.
//!
//! Writes go through a background I/O thread: [`store`](CheckpointStore::store) copies the state
//! into a staging buffer and returns. [`prefetch`](CheckpointStore::prefetch) starts reading and
//! verifying a checkpoint on that thread, so a later `restore` finds it in memory (a hint for a
//! checkpoint not stored yet is remembered and acted on when it is stored). A truncated,
//! corrupted or foreign file is reported as [`Error::Corrupt`] with its path, never loaded; an
//! error of the I/O thread is reported by the next call. The files are removed when the store is
//! dropped, also after an error or a panic, unless asked to keep them; a kept store can be
//! reopened with [`DiskStore::open_existing`]. [`checkpoint_file`] reads and writes single
//! checkpoint files in the same format.
//!
//! Memory: besides the mapped files (page cache), a background store holds
//! [`write_buffers`](DiskStoreBuilder::write_buffers) (default 1) plus
//! [`prefetch_buffers`](DiskStoreBuilder::prefetch_buffers) (default 2) states;
//! [`background(false)`](DiskStoreBuilder::background) holds none and does all I/O in the
//! calling thread. After construction no call allocates (error reports aside), except that the
//! first compressed checkpoint a thread writes or reads allocates its codec scratch (up to two
//! states and a zstd context; for zfp its stream, a state of `f64` and zfp's largest stream for
//! it), reused after.
//!
//! Limits: another process truncating a slot file while it is being read or written can still
//! fault (the length is checked before each access, not during it); on copy-on-write file
//! systems preallocation does not reserve space for overwrites.

mod builder;
pub mod checkpoint_file;
mod codec;
mod header;
mod io;
mod lifecycle;
mod slot;
mod worker;
#[cfg(feature = "zfp")]
mod zfp;

pub use builder::DiskStoreBuilder;
pub use codec::{Codec, shuffle, unshuffle};
pub use header::{HEADER_LEN, MAGIC, PAYLOAD_OFFSET, VERSION};

use crate::{CheckpointStore, Error, Level, State};
use io::{Background, Tag};
use slot::SlotFile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a [`DiskStore`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Checkpoints stored.
    pub stores: u64,
    /// Restores (including `take` and `view` reads).
    pub restores: u64,
    /// Prefetches started.
    pub prefetches: u64,
    /// Prefetch hints for checkpoints not held yet, remembered and acted on when stored.
    pub hints_early: u64,
    /// Restores served from a prefetch buffer.
    pub prefetch_hits: u64,
    /// Restores read from the slot file in the calling thread.
    pub direct_reads: u64,
    /// Times the caller blocked on the background thread.
    pub waits: u64,
    /// Payload bytes written into the slot files, after the codec (with background I/O: those
    /// whose write has finished). Against `stores * state_len` it gives the compression ratio.
    pub bytes_written: u64,
}

/// Checkpoints in memory-mapped files on disk; see the [module docs](self).
///
/// ```
/// use revolve::storage::disk::DiskStore;
/// use revolve::CheckpointStore;
///
/// let x = vec![0.5f64; 4096];
/// let mut store = DiskStore::temp(2, &x)?;
/// store.store(7, &x)?;
/// store.prefetch(7)?; // read back in the background while we compute
/// let mut y = vec![0.0; 4096];
/// store.take(7, &mut y)?;
/// assert_eq!(x, y);
/// assert!(store.is_empty());
/// # Ok::<(), revolve::Error>(())
/// ```
pub struct DiskStore<S: State> {
    slots: Arc<[SlotFile]>,
    dir: PathBuf,
    temp: Option<tempfile::TempDir>,
    created_dir: bool,
    keep_files: bool,
    state_len: usize,
    capacity: u64,
    flush: bool,
    index: HashMap<u64, usize>,
    generations: Vec<u64>,
    free_slots: Vec<usize>,
    io: Option<Background>,
    /// Codec scratch of the calling thread (empty until a compressed checkpoint is met).
    scratch: codec::CodecBuf,
    view: Option<S>,
    view_tag: Option<Tag>,
    stats: DiskStats,
}

impl DiskStore<Vec<u8>> {
    /// Options for a store of `capacity` checkpoints; [`DiskStoreBuilder::build`] takes the
    /// state type from its prototype (this lives on `DiskStore<Vec<u8>>` only so that
    /// `DiskStore::builder(n)` needs no type annotation).
    pub fn builder(capacity: u64) -> DiskStoreBuilder {
        DiskStoreBuilder::new(capacity)
    }
}

impl<S: State> DiskStore<S> {
    /// A store of `capacity` checkpoints in `dir` with the default options (background I/O,
    /// preallocated files removed on drop); `prototype` gives the state size.
    pub fn new(dir: impl AsRef<Path>, capacity: u64, prototype: &S) -> Result<Self, Error> {
        DiskStoreBuilder::new(capacity)
            .dir(dir.as_ref())
            .build(prototype)
    }

    /// A store of `capacity` checkpoints in a fresh temporary directory.
    pub fn temp(capacity: u64, prototype: &S) -> Result<Self, Error> {
        DiskStoreBuilder::new(capacity).temp().build(prototype)
    }

    /// Reopen the slot files a kept store left in `dir` (see [`DiskStoreBuilder::reopen`]):
    /// every complete checkpoint in them is verified and held again; the files are kept on drop.
    ///
    /// ```
    /// use revolve::{CheckpointStore, DiskStore};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let x = vec![2.0f32; 100];
    /// let mut s = DiskStore::builder(3).dir(dir.path()).keep_files(true).build(&x)?;
    /// s.store(10, &x)?;
    /// drop(s); // say the run failed here
    /// let mut again = DiskStore::open_existing(dir.path(), &x)?;
    /// assert_eq!((again.capacity(), again.len()), (3, 1));
    /// let mut y = vec![0.0f32; 100];
    /// again.take(10, &mut y)?;
    /// assert_eq!(x, y);
    /// # Ok::<(), revolve::Error>(())
    /// ```
    pub fn open_existing(dir: impl AsRef<Path>, prototype: &S) -> Result<Self, Error> {
        DiskStoreBuilder::new(0)
            .reopen(dir.as_ref())
            .build(prototype)
    }

    /// The directory holding the slot files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the checkpoint of `step`, if it is held.
    pub fn path_of(&self, step: u64) -> Option<&Path> {
        self.index.get(&step).map(|&i| self.slots[i].path.as_path())
    }

    /// Bytes per state.
    pub fn state_len(&self) -> usize {
        self.state_len
    }

    /// `true` when writes and prefetches run on the background thread.
    pub fn is_background(&self) -> bool {
        self.io.is_some()
    }

    /// Counters of what the store has done.
    pub fn stats(&self) -> DiskStats {
        let mut s = self.stats;
        if let Some(io) = &self.io {
            s.waits = io.waits;
            s.bytes_written += io.bytes_written;
        }
        s
    }

    /// Wait for background work, stop the I/O thread and remove the files (unless kept),
    /// reporting what went wrong; dropping the store does the same silently.
    pub fn close(mut self) -> Result<(), Error> {
        let synced = self.sync();
        let cleaned = self.shutdown();
        synced.and(cleaned)
    }

    fn check_deferred(&mut self) -> Result<(), Error> {
        if let Some(io) = &mut self.io {
            io.poll(&self.dir)?;
            if let Some(e) = io.deferred.take() {
                return Err(e);
            }
        }
        Ok(())
    }

    fn check_size(&self, state: &S) -> Result<(), Error> {
        let found = state.byte_len();
        if found != self.state_len {
            return Err(Error::StateSize {
                expected: self.state_len as u64,
                found: found as u64,
            });
        }
        Ok(())
    }

    fn slot_of(&self, step: u64) -> Result<usize, Error> {
        self.index.get(&step).copied().ok_or(Error::NoCheckpoint {
            level: Level::Disk,
            step,
        })
    }

    fn tag(&self, step: u64, slot: usize) -> Tag {
        Tag {
            step,
            slot,
            generation: self.generations[slot],
        }
    }

    /// Start reading the checkpoint of `step` in `slot` into a prefetch buffer.
    fn fetch(&mut self, slot: usize, step: u64) -> Result<(), Error> {
        let tag = self.tag(step, slot);
        let Some(io) = &mut self.io else {
            return Ok(());
        };
        if io.find(tag).is_some() {
            return Ok(());
        }
        // All buffers busy: the hint is dropped and the restore reads directly.
        let Some(id) = io.pick() else {
            return Ok(());
        };
        io.fetch(id, tag, &self.dir)?;
        self.stats.prefetches += 1;
        Ok(())
    }
}

impl<S: State> Drop for DiskStore<S> {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl<S: State> std::fmt::Debug for DiskStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStore")
            .field("dir", &self.dir)
            .field("capacity", &self.capacity)
            .field("len", &self.index.len())
            .field("state_len", &self.state_len)
            .field("background", &self.io.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: State> CheckpointStore<S> for DiskStore<S> {
    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn len(&self) -> u64 {
        self.index.len() as u64
    }

    fn store(&mut self, step: u64, state: &S) -> Result<(), Error> {
        self.check_deferred()?;
        self.check_size(state)?;
        if self.index.contains_key(&step) {
            return Err(Error::DuplicateCheckpoint {
                level: Level::Disk,
                step,
            });
        }
        let Some(&slot) = self.free_slots.last() else {
            return Err(Error::StoreFull {
                level: Level::Disk,
                step,
                capacity: self.capacity,
            });
        };
        match &mut self.io {
            Some(io) => {
                let mut buf = io.staging(&self.dir)?;
                state.write_bytes(&mut buf);
                io.write(slot, step, buf, &self.dir)?;
            }
            None => {
                let n = self.slots[slot].write_state(step, state, self.flush, &mut self.scratch)?;
                self.stats.bytes_written += n as u64;
            }
        }
        self.free_slots.pop();
        self.generations[slot] = self.generations[slot].wrapping_add(1);
        self.index.insert(step, slot);
        self.stats.stores += 1;
        if self.io.as_mut().is_some_and(|io| io.take_hint(step)) {
            // Hinted before it existed: read it back after its write, in the background. The
            // checkpoint is stored either way; a stopped I/O thread is reported by the next call.
            let _ = self.fetch(slot, step);
        }
        Ok(())
    }

    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.check_deferred()?;
        self.check_size(state)?;
        let slot = self.slot_of(step)?;
        let tag = self.tag(step, slot);
        if let Some(io) = &mut self.io {
            if let Some(id) = io.find(tag) {
                while io.reads[id].in_flight {
                    io.wait_one(&self.dir)?;
                }
                let r = &mut io.reads[id];
                if let Some(e) = r.error.take() {
                    r.tag = None;
                    return Err(e);
                }
                state.read_bytes(&r.buf);
                io.touch(id);
                self.stats.restores += 1;
                self.stats.prefetch_hits += 1;
                return Ok(());
            }
            io.wait_slot(slot, &self.dir)?;
        }
        self.slots[slot].read_state(step, state, &mut self.scratch)?;
        self.stats.restores += 1;
        self.stats.direct_reads += 1;
        Ok(())
    }

    fn free(&mut self, step: u64) -> Result<(), Error> {
        self.check_deferred()?;
        let slot = self.slot_of(step)?;
        if let Some(io) = &mut self.io {
            io.wait_slot(slot, &self.dir)?;
            io.forget_slot(slot);
        }
        if self.view_tag.is_some_and(|t| t.slot == slot) {
            self.view_tag = None;
        }
        self.index.remove(&step);
        self.free_slots.push(slot);
        self.slots[slot].clear()
    }

    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        self.check_deferred()?;
        let slot = self.slot_of(step)?;
        let tag = self.tag(step, slot);
        let Some(mut v) = self.view.take() else {
            return Ok(None);
        };
        if self.view_tag != Some(tag) {
            self.view_tag = None;
            let r = self.restore(step, &mut v);
            self.view = Some(v);
            r?;
            self.view_tag = Some(tag);
        } else {
            self.view = Some(v);
        }
        Ok(self.view.as_ref())
    }

    /// A hint for a step not held is ignored: a driver looking ahead may name a checkpoint the
    /// schedule stores before restoring it.
    fn prefetch(&mut self, step: u64) -> Result<(), Error> {
        self.check_deferred()?;
        let Some(io) = &mut self.io else {
            return Ok(());
        };
        let Some(&slot) = self.index.get(&step) else {
            io.remember_hint(step);
            self.stats.hints_early += 1;
            return Ok(());
        };
        self.fetch(slot, step)
    }

    fn sync(&mut self) -> Result<(), Error> {
        if let Some(io) = &mut self.io {
            io.wait_all(&self.dir)?;
        }
        self.check_deferred()
    }
}
