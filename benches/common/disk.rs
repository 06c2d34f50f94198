//! Shared by `tests/burgers_disk_adjoint.rs` and `examples/disk_adjoint.rs`: a [`DiskStore`]
//! handle that the Revolver owns as its disk level while the caller keeps reading the store's
//! counters and directory.

#![allow(dead_code)]

use revolve::storage::disk::{DiskStats, DiskStore};
use revolve::{CheckpointStore, Error, State};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// A [`DiskStore`] shared between the Revolver (through [`CheckpointStore`]) and the caller.
/// Views are not passed through (`view` checks the step and returns `Ok(None)`, as a store
/// built without `views(true)` does).
pub struct SharedDisk<S: State>(pub Rc<RefCell<DiskStore<S>>>);

impl<S: State> SharedDisk<S> {
    /// Share `store`: the returned handle goes to the Revolver, `self.0` stays with the caller.
    pub fn new(store: DiskStore<S>) -> Self {
        SharedDisk(Rc::new(RefCell::new(store)))
    }

    /// A second handle to the same store.
    pub fn handle(&self) -> Self {
        SharedDisk(Rc::clone(&self.0))
    }

    /// The store's counters.
    pub fn stats(&self) -> DiskStats {
        self.0.borrow().stats()
    }

    /// The directory of the slot files.
    pub fn dir(&self) -> PathBuf {
        self.0.borrow().dir().to_path_buf()
    }
}

impl<S: State> CheckpointStore<S> for SharedDisk<S> {
    fn capacity(&self) -> u64 {
        self.0.borrow().capacity()
    }
    fn len(&self) -> u64 {
        self.0.borrow().len()
    }
    fn store(&mut self, step: u64, state: &S) -> Result<(), Error> {
        self.0.borrow_mut().store(step, state)
    }
    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.0.borrow_mut().restore(step, state)
    }
    fn take(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        self.0.borrow_mut().take(step, state)
    }
    fn free(&mut self, step: u64) -> Result<(), Error> {
        self.0.borrow_mut().free(step)
    }
    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        self.0.borrow_mut().view(step)?;
        Ok(None)
    }
    fn prefetch(&mut self, step: u64) -> Result<(), Error> {
        self.0.borrow_mut().prefetch(step)
    }
    fn sync(&mut self) -> Result<(), Error> {
        self.0.borrow_mut().sync()
    }
}

/// The three ways of running a disk level compared here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskMode {
    /// Background writer thread and two prefetch buffers (the defaults).
    Prefetch,
    /// Background writer, no prefetch buffers (hints ignored, every restore reads the file).
    NoPrefetch,
    /// All I/O in the calling thread.
    Sync,
}

impl DiskMode {
    /// All modes.
    pub const ALL: [DiskMode; 3] = [DiskMode::Prefetch, DiskMode::NoPrefetch, DiskMode::Sync];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            DiskMode::Prefetch => "disk bg+prefetch",
            DiskMode::NoPrefetch => "disk bg, no prefetch",
            DiskMode::Sync => "disk synchronous",
        }
    }

    /// A store of `capacity` slots in a fresh temporary directory inside `parent`.
    pub fn build<S: State>(
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
