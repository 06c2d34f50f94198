//! [`DiskStoreBuilder`]: where the slot files go and how the store works.

use super::DiskStore;
use crate::{Error, State};
use std::path::PathBuf;

/// Where a store puts its slot files.
#[derive(Clone, Debug)]
pub(crate) enum Location {
    /// This directory (created if missing).
    Dir(PathBuf),
    /// A fresh temporary directory inside this one (the system's when `None`).
    Temp(Option<PathBuf>),
    /// The slot files a kept store left in this directory.
    Existing(PathBuf),
}

/// Options of a [`DiskStore`]; start with [`DiskStore::builder`].
///
/// ```
/// use revolve::storage::disk::DiskStore;
/// use revolve::CheckpointStore;
///
/// let x = vec![1.0f64; 1000];
/// let mut store = DiskStore::builder(4)
///     .temp()
///     .background(false)
///     .build(&x)?;
/// store.store(0, &x)?;
/// let mut y = vec![0.0; 1000];
/// store.restore(0, &mut y)?;
/// assert_eq!(x, y);
/// # Ok::<(), revolve::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct DiskStoreBuilder {
    pub(crate) capacity: u64,
    pub(crate) location: Location,
    pub(crate) background: bool,
    pub(crate) write_buffers: usize,
    pub(crate) prefetch_buffers: usize,
    pub(crate) keep_files: bool,
    pub(crate) flush: bool,
    pub(crate) preallocate: bool,
    pub(crate) views: bool,
    pub(crate) codec: super::Codec,
}

impl DiskStoreBuilder {
    /// Options for a store of `capacity` checkpoints (same as [`DiskStore::builder`]).
    pub fn new(capacity: u64) -> Self {
        DiskStoreBuilder {
            capacity,
            location: Location::Temp(None),
            background: true,
            write_buffers: 1,
            prefetch_buffers: 2,
            keep_files: false,
            flush: false,
            preallocate: true,
            views: false,
            codec: super::Codec::None,
        }
    }

    /// Put the slot files `slot-N.ckpt` in `dir` (created if missing; files already there with
    /// those names are an error, never overwritten).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.location = Location::Dir(dir.into());
        self
    }

    /// Reopen the slot files `slot-0.ckpt`, `slot-1.ckpt`, ... that a store with
    /// [`keep_files`](Self::keep_files) left in `dir`: the capacity is their number (the
    /// builder's is ignored), every complete checkpoint is verified (header and checksum) and
    /// held again, and a damaged one is an [`Error::Corrupt`](crate::Error::Corrupt), never
    /// loaded. Also sets `keep_files(true)`; call `keep_files(false)` after it to remove the
    /// files when done.
    pub fn reopen(mut self, dir: impl Into<PathBuf>) -> Self {
        self.location = Location::Existing(dir.into());
        self.keep_files = true;
        self
    }

    /// Put the slot files in a fresh temporary directory of the system's (the default).
    pub fn temp(mut self) -> Self {
        self.location = Location::Temp(None);
        self
    }

    /// Put the slot files in a fresh temporary directory inside `parent`.
    pub fn temp_in(mut self, parent: impl Into<PathBuf>) -> Self {
        self.location = Location::Temp(Some(parent.into()));
        self
    }

    /// Write and prefetch on a background thread (default `true`); `false` does all I/O in the
    /// calling thread and ignores prefetch hints.
    pub fn background(mut self, on: bool) -> Self {
        self.background = on;
        self
    }

    /// Staging buffers for background writes (default 1, at least 1): a store copies the state
    /// into one and returns; it blocks only when all are still being written. Each costs one
    /// state of memory.
    pub fn write_buffers(mut self, n: usize) -> Self {
        self.write_buffers = n;
        self
    }

    /// Buffers for prefetched checkpoints (default 2; 0 ignores prefetch hints). Each costs one
    /// state of memory. A driver hints the next restore while the current one is still
    /// pending, and a checkpoint restored again is served from its buffer, so two are needed
    /// for the disk reads to overlap computation; the least recently used one is reused.
    pub fn prefetch_buffers(mut self, n: usize) -> Self {
        self.prefetch_buffers = n;
        self
    }

    /// Leave the slot files (and directory) on disk when the store is dropped (default
    /// `false`: they are removed, also when the run failed).
    pub fn keep_files(mut self, keep: bool) -> Self {
        self.keep_files = keep;
        self
    }

    /// Flush every checkpoint to the device (`msync`) after writing it (default `false`: the
    /// operating system writes back when it likes; reads see the data either way).
    pub fn flush(mut self, on: bool) -> Self {
        self.flush = on;
        self
    }

    /// Write every byte of the slot files at creation so the space is reserved (default
    /// `true`). Without it the files are sparse and a full disk faults during a later write.
    pub fn preallocate(mut self, on: bool) -> Self {
        self.preallocate = on;
        self
    }

    /// Keep one extra state in memory so [`view`](crate::CheckpointStore::view) can return a
    /// checkpoint (default `false`: `view` returns `Ok(None)`).
    pub fn views(mut self, on: bool) -> Self {
        self.views = on;
        self
    }

    /// How checkpoints are written (default [`Codec::None`](super::Codec::None): raw bytes).
    /// [`Codec::zstd()`](super::Codec::zstd) shuffles and compresses them losslessly: fewer
    /// bytes written and read, at the cost of CPU time on the I/O thread (or the caller's,
    /// without [`background`](Self::background)) and one or two states of scratch memory
    /// there. The codec is recorded in each checkpoint's header: any store reads any codec. The
    /// slot files keep room for a raw state; with [`preallocate(false)`](Self::preallocate)
    /// they use on disk only what was written into them.
    pub fn codec(mut self, codec: super::Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Create the slot files and start the I/O thread; `prototype` gives the state size.
    pub fn build<S: State>(self, prototype: &S) -> Result<DiskStore<S>, Error> {
        DiskStore::from_builder(self, prototype)
    }
}
