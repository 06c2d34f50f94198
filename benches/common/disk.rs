//! Shared by `tests/burgers_disk_adjoint.rs` and `examples/disk_adjoint.rs`: a [`DiskStore`]
//! handle that the Revolver owns as its disk level while the caller keeps reading the store's
//! counters and directory.

#![allow(dead_code)]

use revolve::storage::disk::{DiskStats, DiskStore};
use revolve::{CheckpointStore, Error, State};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

/// The shared store and the seconds its callers spent in `store` and in `restore` / `take`.
pub(crate) struct Shared<S: State> {
    pub store: RefCell<DiskStore<S>>,
    pub write_secs: Cell<f64>,
    pub read_secs: Cell<f64>,
}

/// A [`DiskStore`] shared between the Revolver (through [`CheckpointStore`]) and the caller,
/// timing the calls that write and read checkpoints (in the calling thread: with a background
/// store, the time to hand a write over or to collect a prefetch). Views are not passed through
/// (`view` checks the step and returns `Ok(None)`, as a store built without `views(true)` does).
pub(crate) struct SharedDisk<S: State>(pub Rc<Shared<S>>);

impl<S: State> SharedDisk<S> {
    /// Share `store`; [`SharedDisk::handle`] gives a second handle.
    pub(crate) fn new(store: DiskStore<S>) -> Self {
        SharedDisk(Rc::new(Shared {
            store: RefCell::new(store),
            write_secs: Cell::new(0.0),
            read_secs: Cell::new(0.0),
        }))
    }

    /// A second handle to the same store.
    pub(crate) fn handle(&self) -> Self {
        SharedDisk(Rc::clone(&self.0))
    }

    /// The store's counters.
    pub(crate) fn stats(&self) -> DiskStats {
        self.0.store.borrow().stats()
    }

    /// Seconds spent in `store`, and in `restore` and `take`, so far.
    pub(crate) fn io_secs(&self) -> (f64, f64) {
        (self.0.write_secs.get(), self.0.read_secs.get())
    }

    /// The directory of the slot files.
    pub(crate) fn dir(&self) -> PathBuf {
        self.0.store.borrow().dir().to_path_buf()
    }

    fn timed<T>(&self, secs: &Cell<f64>, f: impl FnOnce(&mut DiskStore<S>) -> T) -> T {
        let t = Instant::now();
        let out = f(&mut self.0.store.borrow_mut());
        secs.set(secs.get() + t.elapsed().as_secs_f64());
        out
    }
}

impl<S: State> CheckpointStore<S> for SharedDisk<S> {
    fn capacity(&self) -> u64 {
        self.0.store.borrow().capacity()
    }
    fn len(&self) -> u64 {
        self.0.store.borrow().len()
    }
    fn store(&mut self, step: u64, state: &S) -> Result<(), Error> {
        self.timed(&self.0.write_secs, |d| d.store(step, state))
    }
    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.timed(&self.0.read_secs, |d| d.restore(step, state))
    }
    fn take(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.timed(&self.0.read_secs, |d| d.take(step, state))
    }
    fn free(&mut self, step: u64) -> Result<(), Error> {
        self.0.store.borrow_mut().free(step)
    }
    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        self.0.store.borrow_mut().view(step)?;
        Ok(None)
    }
    fn prefetch(&mut self, step: u64) -> Result<(), Error> {
        self.0.store.borrow_mut().prefetch(step)
    }
    fn sync(&mut self) -> Result<(), Error> {
        self.0.store.borrow_mut().sync()
    }
}

/// The three ways of running a disk level compared here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiskMode {
    /// Background writer thread and two prefetch buffers (the defaults).
    Prefetch,
    /// Background writer, no prefetch buffers (hints ignored, every restore reads the file).
    NoPrefetch,
    /// All I/O in the calling thread.
    Sync,
}

impl DiskMode {
    /// All modes.
    pub(crate) const ALL: [DiskMode; 3] =
        [DiskMode::Prefetch, DiskMode::NoPrefetch, DiskMode::Sync];

    /// A short name for tables.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DiskMode::Prefetch => "disk bg+prefetch",
            DiskMode::NoPrefetch => "disk bg, no prefetch",
            DiskMode::Sync => "disk synchronous",
        }
    }

    /// A store of `capacity` slots in a fresh temporary directory inside `parent`.
    pub(crate) fn build<S: State>(
        self,
        capacity: u64,
        parent: &std::path::Path,
        prototype: &S,
    ) -> Result<DiskStore<S>, Error> {
        let b = DiskStore::builder(capacity).temp_in(parent);
        let b = match self {
            DiskMode::Prefetch => b.background(true),
            DiskMode::NoPrefetch => b.background(true).prefetch_buffers(0),
            DiskMode::Sync => b.background(false),
        };
        b.build(prototype)
    }
}
