//! Disk levels for measurements: [`DiskMode`] builds a [`DiskStore`] in one of three I/O
//! settings, and [`TimedStore`] wraps any store to time the calls that write and read
//! checkpoints. The Revolver hands either back with its type
//! ([`Revolver::disk`](revolve::Revolver::disk), [`Revolver::into_stores`](revolve::Revolver::into_stores)).

use revolve::storage::disk::DiskStoreBuilder;
use revolve::{CheckpointStore, DiskStore, Error, State};
use std::time::Instant;

/// A store that adds up the seconds its callers spend in `store`, and in `restore` / `take`
/// (in the calling thread: with a background disk store, the time to hand a write over or to
/// collect a prefetch). Views are not passed through (`view` checks the step and returns
/// `Ok(None)`, so every restore is a timed copy).
#[derive(Debug)]
pub struct TimedStore<D> {
    inner: D,
    write_secs: f64,
    read_secs: f64,
}

impl<D> TimedStore<D> {
    /// Wrap `inner`.
    pub fn new(inner: D) -> Self {
        TimedStore {
            inner,
            write_secs: 0.0,
            read_secs: 0.0,
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped store, unwrapped.
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// Seconds spent in `store`, and in `restore` and `take`, so far.
    pub fn io_secs(&self) -> (f64, f64) {
        (self.write_secs, self.read_secs)
    }
}

fn timed<T>(secs: &mut f64, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    *secs += t.elapsed().as_secs_f64();
    out
}

impl<S: State, D: CheckpointStore<S>> CheckpointStore<S> for TimedStore<D> {
    fn capacity(&self) -> u64 {
        self.inner.capacity()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn store(&mut self, step: u64, state: &S) -> Result<(), Error> {
        let inner = &mut self.inner;
        timed(&mut self.write_secs, || inner.store(step, state))
    }
    fn restore(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        let inner = &mut self.inner;
        timed(&mut self.read_secs, || inner.restore(step, state))
    }
    fn take(&mut self, step: u64, state: &mut S) -> Result<(), Error> {
        let inner = &mut self.inner;
        timed(&mut self.read_secs, || inner.take(step, state))
    }
    fn free(&mut self, step: u64) -> Result<(), Error> {
        self.inner.free(step)
    }
    fn view(&mut self, step: u64) -> Result<Option<&S>, Error> {
        self.inner.view(step)?;
        Ok(None)
    }
    fn prefetch(&mut self, step: u64) -> Result<(), Error> {
        self.inner.prefetch(step)
    }
    fn sync(&mut self) -> Result<(), Error> {
        self.inner.sync()
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

    /// A builder of a store of `capacity` slots in a fresh temporary directory inside
    /// `parent`, in this mode (set more, e.g. a codec, before building).
    pub fn builder(self, capacity: u64, parent: &std::path::Path) -> DiskStoreBuilder {
        let b = DiskStore::builder(capacity).temp_in(parent);
        match self {
            DiskMode::Prefetch => b.background(true),
            DiskMode::NoPrefetch => b.background(true).prefetch_buffers(0),
            DiskMode::Sync => b.background(false),
        }
    }

    /// A store of `capacity` slots in a fresh temporary directory inside `parent`.
    pub fn build<S: State>(
        self,
        capacity: u64,
        parent: &std::path::Path,
        prototype: &S,
    ) -> Result<DiskStore<S>, Error> {
        self.builder(capacity, parent).build(prototype)
    }
}
