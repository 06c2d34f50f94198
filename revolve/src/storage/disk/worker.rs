//! The background I/O thread: writes staged checkpoints into their slot files and reads
//! prefetched ones back, in the order asked. Buffers travel with the messages, so nothing is
//! allocated per job.

use super::codec::CodecBuf;
use super::slot::SlotFile;
use crate::Error;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

/// Work for the I/O thread.
pub(crate) enum Job {
    /// Write `buf` (a staged state) as the checkpoint of `step` into slot `slot`.
    Write {
        slot: usize,
        step: u64,
        buf: Vec<u8>,
    },
    /// Read and verify the checkpoint of `step` from slot `slot` into read buffer `id`.
    Read {
        id: usize,
        slot: usize,
        step: u64,
        buf: Vec<u8>,
    },
}

/// A finished job, with its buffer handed back.
pub(crate) enum Done {
    /// A write finished.
    Written {
        slot: usize,
        buf: Vec<u8>,
        /// The bytes stored.
        result: Result<usize, Error>,
    },
    /// A read finished.
    Read {
        id: usize,
        buf: Vec<u8>,
        result: Result<(), Error>,
    },
}

/// The thread's loop: ends when the store drops its sender.
pub(crate) fn run(
    slots: Arc<[SlotFile]>,
    flush: bool,
    jobs: Receiver<Job>,
    done: SyncSender<Done>,
) {
    let mut scratch = CodecBuf::default();
    while let Ok(job) = jobs.recv() {
        let reply = match job {
            Job::Write { slot, step, buf } => {
                let result = slots[slot].write_bytes(step, &buf, flush, &mut scratch);
                Done::Written { slot, buf, result }
            }
            Job::Read {
                id,
                slot,
                step,
                mut buf,
            } => {
                let result = slots[slot].read_into(step, &mut buf, &mut scratch);
                Done::Read { id, buf, result }
            }
        };
        if done.send(reply).is_err() {
            break;
        }
    }
}
