//! Sending and receiving messages over a [`Transport`]. Rank 0 waits for answers against a
//! deadline ([`crate::Run::rank_timeout`]), so a rank that hangs gives
//! [`crate::Error::RankTimeout`] instead of hanging the run.

use super::messages::{FromWorker, ToWorker, decode, encode};
use super::transport::Transport;
use crate::Result;
use std::time::{Duration, Instant};

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
pub(crate) struct Link<'a, T: ?Sized> {
    pub transport: &'a mut T,
    /// How long a rank may take to answer a request (`None`: as long as it takes).
    pub timeout: Option<Duration>,
    pub traffic: Traffic,
}

impl<T: Transport + ?Sized> Link<'_, T> {
    /// Number of ranks.
    pub(crate) fn size(&self) -> i32 {
        self.transport.size()
    }

    /// Send `msg` to `rank`.
    pub(crate) fn send(&mut self, rank: i32, msg: &ToWorker) -> Result<()> {
        let bytes = encode(msg);
        self.traffic.sent += 1;
        self.traffic.sent_bytes += bytes.len() as u64;
        self.transport.send(rank, &bytes)
    }

    /// The answers of `ranks` (each sent one request at `since`), in the order of `ranks`. A
    /// rank that has not answered `timeout` after `since` gives [`crate::Error::RankTimeout`]
    /// naming it and `doing(rank)`.
    pub(crate) fn gather(
        &mut self,
        ranks: &[i32],
        since: Instant,
        doing: &dyn Fn(i32) -> String,
    ) -> Result<Vec<FromWorker>> {
        let began = Instant::now();
        let deadline = self.timeout.and_then(|t| since.checked_add(t));
        let mut got: Vec<Option<FromWorker>> = vec![None; ranks.len()];
        let mut left = ranks.len();
        while left > 0 {
            let Some((from, bytes)) = self.transport.receive(deadline)? else {
                let r = ranks
                    .iter()
                    .zip(&got)
                    .find(|(_, g)| g.is_none())
                    .map_or(-1, |(&r, _)| r);
                return Err(crate::Error::RankTimeout {
                    rank: r,
                    seconds: self.timeout.unwrap_or_default().as_secs_f64(),
                    doing: doing(r),
                });
            };
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
        }
        self.traffic.wait_seconds += began.elapsed().as_secs_f64();
        Ok(got.into_iter().flatten().collect())
    }
}

/// A worker's next request from rank 0 (waits as long as it takes: if rank 0 ends, the
/// transport reports it, or the launcher ends the job).
pub(crate) fn next_request<T: Transport>(transport: &mut T) -> Result<ToWorker> {
    loop {
        if let Some((from, bytes)) = transport.receive(None)?
            && from == 0
        {
            return decode(&bytes, 0);
        }
    }
}

/// Send a worker's answer to rank 0.
pub(crate) fn answer<T: Transport>(transport: &mut T, msg: &FromWorker) -> Result<()> {
    transport.send(0, &encode(msg))
}
