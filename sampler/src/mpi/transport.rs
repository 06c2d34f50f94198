//! [`MpiTransport`]: the protocol over MPI point-to-point messages. Only the main thread calls
//! MPI (`MPI_THREAD_FUNNELED`); a waiting rank probes without blocking, spinning briefly and
//! then sleeping between probes, so it can give up at a deadline.

use crate::Result;
use crate::distributed::Transport;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::topology::Communicator;
use std::time::{Duration, Instant};

/// Empty probes before a waiting rank starts sleeping between probes (answers to cheap
/// iterations arrive within microseconds; long waits should not burn a core).
const SPIN_PROBES: u32 = 2_000;

/// Sleep between probes after `idle` empty probes.
fn backoff(idle: u32) {
    if idle > SPIN_PROBES {
        let us = if idle > SPIN_PROBES * 10 { 500 } else { 20 };
        std::thread::sleep(Duration::from_micros(us));
    } else {
        std::hint::spin_loop();
    }
}

/// The ranks of an MPI communicator as a [`Transport`] (what [`crate::Run::run_mpi`] uses).
#[derive(Debug)]
pub struct MpiTransport<'a, C> {
    comm: &'a C,
}

impl<'a, C: Communicator> MpiTransport<'a, C> {
    /// The ranks of `comm`.
    pub fn new(comm: &'a C) -> Self {
        MpiTransport { comm }
    }
}

impl<C: Communicator> Transport for MpiTransport<'_, C> {
    fn rank(&self) -> i32 {
        self.comm.rank()
    }

    fn size(&self) -> i32 {
        self.comm.size()
    }

    /// A blocking standard send (messages are small).
    fn send(&mut self, rank: i32, bytes: &[u8]) -> Result<()> {
        self.comm.process_at_rank(rank).send(bytes);
        Ok(())
    }

    fn receive(&mut self, deadline: Option<Instant>) -> Result<Option<(i32, Vec<u8>)>> {
        let mut idle = 0u32;
        loop {
            if let Some(probed) = self.comm.any_process().immediate_matched_probe() {
                let (bytes, status) = probed.matched_receive_vec::<u8>();
                return Ok(Some((status.source_rank(), bytes)));
            }
            idle = idle.saturating_add(1);
            if idle.is_multiple_of(64) && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            backoff(idle);
        }
    }
}
