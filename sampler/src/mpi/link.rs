//! Sending and receiving messages: only the main thread calls MPI (`MPI_THREAD_FUNNELED`).
//! Rank 0 waits for answers with immediate probes against an `MPI_Wtime` deadline, so a rank
//! that hangs gives [`crate::Error::RankTimeout`] (the caller ends the job) instead of hanging it.

use super::messages::{FromWorker, ToWorker, decode, encode};
use crate::Result;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::topology::Communicator;
use std::time::Duration;

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

/// What coordinating a run cost rank 0: messages, bytes, waiting, and how the branch tasks
/// were spread over ranks (see [`crate::Run::on_traffic`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// Messages sent to other ranks.
    pub sent: u64,
    /// Bytes sent to other ranks.
    pub sent_bytes: u64,
    /// Messages received from other ranks.
    pub received: u64,
    /// Bytes received from other ranks.
    pub received_bytes: u64,
    /// Seconds rank 0 waited for answers after computing its own share.
    pub wait_seconds: f64,
    /// Branch tasks computed by each rank (index: rank).
    pub tasks: Vec<u64>,
    /// Sum over iterations of the most branch tasks one rank computed in it (the iterations'
    /// critical path in tasks: `sum(tasks) / (ranks * critical)` bounds the efficiency that
    /// the placement allows).
    pub critical: u64,
    /// Branch tasks computed away from their parent's rank, to balance an iteration.
    pub moved: u64,
    /// Bytes of parent states sent for those tasks (owner to rank 0, rank 0 to the computing
    /// rank: counted once).
    pub moved_bytes: u64,
}

/// Rank 0's end: sends requests, gathers answers under a deadline.
pub(crate) struct Link<'a, C> {
    pub comm: &'a C,
    /// Seconds a rank may take to answer a request.
    pub timeout: f64,
    pub traffic: Traffic,
}

impl<C: Communicator> Link<'_, C> {
    /// Number of ranks.
    pub(crate) fn size(&self) -> i32 {
        self.comm.size()
    }

    /// Send `msg` to `rank` (blocking standard send; messages are small).
    pub(crate) fn send(&mut self, rank: i32, msg: &ToWorker) {
        let bytes = encode(msg);
        self.traffic.sent += 1;
        self.traffic.sent_bytes += bytes.len() as u64;
        self.comm.process_at_rank(rank).send(&bytes[..]);
    }

    /// The answers of `ranks` (each sent one request at time `since`, `mpi::time()`), in the
    /// order of `ranks`. A rank that has not answered `timeout` seconds after `since` gives
    /// [`crate::Error::RankTimeout`] naming it and `doing(rank)`.
    pub(crate) fn gather(
        &mut self,
        ranks: &[i32],
        since: f64,
        doing: &dyn Fn(i32) -> String,
    ) -> Result<Vec<FromWorker>> {
        let began = mpi::time();
        let mut got: Vec<Option<FromWorker>> = vec![None; ranks.len()];
        let mut left = ranks.len();
        let mut idle = 0u32;
        while left > 0 {
            match self.comm.any_process().immediate_matched_probe() {
                Some(probed) => {
                    let (bytes, status) = probed.matched_receive_vec::<u8>();
                    let from = status.source_rank();
                    self.traffic.received += 1;
                    self.traffic.received_bytes += bytes.len() as u64;
                    let Some(i) = ranks.iter().position(|&r| r == from) else {
                        return Err(crate::Error::Rank {
                            rank: from,
                            message: "answered a request it was not sent".into(),
                        });
                    };
                    if got[i].is_some() {
                        return Err(crate::Error::Rank {
                            rank: from,
                            message: "answered one request twice".into(),
                        });
                    }
                    got[i] = Some(decode(&bytes, from)?);
                    left -= 1;
                    idle = 0;
                }
                None => {
                    idle = idle.saturating_add(1);
                    if idle.is_multiple_of(64) && mpi::time() - since > self.timeout {
                        let r = ranks
                            .iter()
                            .zip(&got)
                            .find(|(_, g)| g.is_none())
                            .map_or(-1, |(&r, _)| r);
                        return Err(crate::Error::RankTimeout {
                            rank: r,
                            seconds: self.timeout,
                            doing: doing(r),
                        });
                    }
                    backoff(idle);
                }
            }
        }
        self.traffic.wait_seconds += mpi::time() - began;
        Ok(got.into_iter().flatten().collect())
    }
}

/// A worker's next request from rank 0 (waits as long as it takes: if rank 0 dies, the
/// launcher ends the job).
pub(crate) fn next_request<C: Communicator>(comm: &C) -> Result<ToWorker> {
    let root = comm.process_at_rank(0);
    let mut idle = 0u32;
    loop {
        if let Some(probed) = root.immediate_matched_probe() {
            let (bytes, _) = probed.matched_receive_vec::<u8>();
            return decode(&bytes, 0);
        }
        idle = idle.saturating_add(1);
        backoff(idle);
    }
}

/// Send a worker's answer to rank 0.
pub(crate) fn answer<C: Communicator>(comm: &C, msg: &FromWorker) {
    let bytes = encode(msg);
    comm.process_at_rank(0).send(&bytes[..]);
}
