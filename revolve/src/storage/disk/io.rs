//! The store's side of the background I/O thread: staging buffers, prefetch buffers, jobs in
//! flight, and errors kept for the next call.

use super::slot::{SlotFile, io_error};
use super::worker::{self, Done, Job};
use crate::Error;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

/// Which stored version of which checkpoint a buffer holds: `gen` counts stores into the slot,
/// so a buffer read before the slot was reused never matches again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub step: u64,
    pub slot: usize,
    pub generation: u64,
}

/// A prefetch buffer.
pub(crate) struct ReadBuf {
    /// The bytes (empty while the I/O thread holds the buffer).
    pub buf: Vec<u8>,
    /// What it holds or will hold; `None` when empty or invalidated while in flight.
    pub tag: Option<Tag>,
    /// The I/O thread holds it.
    pub in_flight: bool,
    /// The read failed: the error is handed to the restore that asks for it.
    pub error: Option<Error>,
    /// When it was filled or last served (least recently used is replaced first).
    pub stamp: u64,
}

/// The background half of a store.
pub(crate) struct Background {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
    idle_writes: Vec<Vec<u8>>,
    /// Writes queued or running, per slot.
    pub pending_writes: Vec<u32>,
    pub reads: Vec<ReadBuf>,
    outstanding: usize,
    clock: u64,
    /// The first error of a background write, reported by the next call.
    pub deferred: Option<Error>,
    /// Times the caller blocked on the I/O thread.
    pub waits: u64,
    /// Payload bytes the I/O thread stored (after the codec).
    pub bytes_written: u64,
    /// Steps hinted before they were stored, oldest first (at most one per prefetch buffer).
    hints: Vec<u64>,
}

impl Background {
    /// Start the I/O thread with `writes` staging buffers and `reads` prefetch buffers of
    /// `len` bytes each.
    pub(super) fn start(
        slots: Arc<[SlotFile]>,
        dir: &Path,
        flush: bool,
        len: usize,
        writes: usize,
        reads: usize,
    ) -> Result<Self, Error> {
        // Jobs in flight never exceed the buffers, so neither channel ever blocks the sender.
        let bound = writes + reads;
        let (job_tx, job_rx) = sync_channel(bound);
        let (done_tx, done_rx) = sync_channel(bound);
        let nslots = slots.len();
        let thread = std::thread::Builder::new()
            .name("revolve-disk-io".into())
            .spawn(move || worker::run(slots, flush, job_rx, done_tx))
            .map_err(|e| io_error(dir, e))?;
        Ok(Background {
            jobs: Some(job_tx),
            done: done_rx,
            thread: Some(thread),
            idle_writes: (0..writes).map(|_| vec![0u8; len]).collect(),
            pending_writes: vec![0; nslots],
            reads: (0..reads)
                .map(|_| ReadBuf {
                    buf: vec![0u8; len],
                    tag: None,
                    in_flight: false,
                    error: None,
                    stamp: 0,
                })
                .collect(),
            outstanding: 0,
            clock: 0,
            deferred: None,
            waits: 0,
            bytes_written: 0,
            hints: Vec::with_capacity(reads),
        })
    }

    fn stopped(dir: &Path) -> Error {
        io_error(
            dir,
            std::io::Error::other("the background checkpoint I/O thread stopped"),
        )
    }

    fn handle(&mut self, done: Done) {
        self.outstanding -= 1;
        match done {
            Done::Written { slot, buf, result } => {
                self.idle_writes.push(buf);
                self.pending_writes[slot] -= 1;
                match result {
                    Ok(n) => self.bytes_written += n as u64,
                    Err(e) if self.deferred.is_none() => self.deferred = Some(e),
                    Err(_) => {}
                }
            }
            Done::Read { id, buf, result } => {
                let r = &mut self.reads[id];
                r.buf = buf;
                r.in_flight = false;
                r.error = if r.tag.is_some() { result.err() } else { None };
            }
        }
    }

    /// Take in every finished job without blocking.
    pub(super) fn poll(&mut self, dir: &Path) -> Result<(), Error> {
        loop {
            match self.done.try_recv() {
                Ok(d) => self.handle(d),
                Err(TryRecvError::Empty) => return Ok(()),
                Err(TryRecvError::Disconnected) if self.outstanding == 0 => return Ok(()),
                Err(TryRecvError::Disconnected) => return Err(Self::stopped(dir)),
            }
        }
    }

    /// Block until one job finishes.
    pub(super) fn wait_one(&mut self, dir: &Path) -> Result<(), Error> {
        self.waits += 1;
        let d = self.done.recv().map_err(|_| Self::stopped(dir))?;
        self.handle(d);
        Ok(())
    }

    /// Block until every job has finished.
    pub(super) fn wait_all(&mut self, dir: &Path) -> Result<(), Error> {
        while self.outstanding > 0 {
            self.wait_one(dir)?;
        }
        Ok(())
    }

    /// Block until no write to `slot` is queued or running.
    pub(super) fn wait_slot(&mut self, slot: usize, dir: &Path) -> Result<(), Error> {
        while self.pending_writes[slot] > 0 {
            self.wait_one(dir)?;
        }
        Ok(())
    }

    /// An idle staging buffer, waiting for a write to finish if all are busy.
    pub(super) fn staging(&mut self, dir: &Path) -> Result<Vec<u8>, Error> {
        loop {
            if let Some(b) = self.idle_writes.pop() {
                return Ok(b);
            }
            self.wait_one(dir)?;
        }
    }

    /// Queue a job. If the thread is gone its buffer is taken back and an error returned.
    pub(super) fn send(&mut self, job: Job, dir: &Path) -> Result<(), Error> {
        let sent = match &self.jobs {
            Some(tx) => tx.send(job).map_err(|e| e.0),
            None => Err(job),
        };
        match sent {
            Ok(()) => {
                self.outstanding += 1;
                Ok(())
            }
            Err(Job::Write { buf, .. }) => {
                self.idle_writes.push(buf);
                Err(Self::stopped(dir))
            }
            Err(Job::Read { id, buf, .. }) => {
                let r = &mut self.reads[id];
                r.buf = buf;
                r.in_flight = false;
                r.tag = None;
                Err(Self::stopped(dir))
            }
        }
    }

    /// Queue the write of staged `buf` as the checkpoint of `step` in `slot`.
    pub(super) fn write(
        &mut self,
        slot: usize,
        step: u64,
        buf: Vec<u8>,
        dir: &Path,
    ) -> Result<(), Error> {
        self.send(Job::Write { slot, step, buf }, dir)?;
        self.pending_writes[slot] += 1;
        Ok(())
    }

    /// The prefetch buffer holding or fetching `tag`.
    pub(super) fn find(&self, tag: Tag) -> Option<usize> {
        self.reads.iter().position(|r| r.tag == Some(tag))
    }

    /// Mark prefetch buffer `id` as just used.
    pub(super) fn touch(&mut self, id: usize) {
        self.clock += 1;
        self.reads[id].stamp = self.clock;
    }

    /// A prefetch buffer to fill: an empty one, else the least recently used idle one;
    /// `None` when all are in flight.
    pub(super) fn pick(&self) -> Option<usize> {
        let idle = self.reads.iter().enumerate().filter(|(_, r)| !r.in_flight);
        if let Some((i, _)) = idle.clone().find(|(_, r)| r.tag.is_none()) {
            return Some(i);
        }
        idle.min_by_key(|(_, r)| r.stamp).map(|(i, _)| i)
    }

    /// Start reading `tag` into prefetch buffer `id`.
    pub(super) fn fetch(&mut self, id: usize, tag: Tag, dir: &Path) -> Result<(), Error> {
        self.clock += 1;
        let buf = std::mem::take(&mut self.reads[id].buf);
        let r = &mut self.reads[id];
        r.tag = Some(tag);
        r.in_flight = true;
        r.error = None;
        r.stamp = self.clock;
        let job = Job::Read {
            id,
            slot: tag.slot,
            step: tag.step,
            buf,
        };
        self.send(job, dir)
    }

    /// Remember a hint for `step`, not stored yet (the oldest is forgotten when full).
    pub(super) fn remember_hint(&mut self, step: u64) {
        let cap = self.reads.len();
        if cap == 0 || self.hints.contains(&step) {
            return;
        }
        if self.hints.len() == cap {
            self.hints.remove(0);
        }
        self.hints.push(step);
    }

    /// Whether `step` was hinted before it was stored (the hint is used up).
    pub(super) fn take_hint(&mut self, step: u64) -> bool {
        match self.hints.iter().position(|&h| h == step) {
            Some(i) => {
                self.hints.remove(i);
                true
            }
            None => false,
        }
    }

    /// Forget every prefetch of `slot` (its checkpoint was freed).
    pub(super) fn forget_slot(&mut self, slot: usize) {
        for r in &mut self.reads {
            if r.tag.is_some_and(|t| t.slot == slot) {
                r.tag = None;
                r.error = None;
            }
        }
    }

    /// Stop the I/O thread after the jobs already queued.
    pub(super) fn shutdown(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
