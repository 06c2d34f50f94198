//! What the protocol needs of a transport: send one message to a rank, receive the next one
//! from any rank with a deadline. [`crate::mpi`] implements it over MPI ranks,
//! [`super::LocalTransport`] over Unix sockets between the processes of one machine.

use crate::Result;
use std::time::Instant;

/// How rank 0 and the worker ranks exchange messages (whole messages, delivered in order per
/// pair of ranks). Rank 0 talks to every rank; a worker rank only to rank 0.
pub trait Transport {
    /// This process's rank (0: the coordinator).
    fn rank(&self) -> i32;

    /// The number of ranks, rank 0 included.
    fn size(&self) -> i32;

    /// Send `bytes` to `rank` as one message. A rank that cannot be reached gives
    /// [`crate::Error::Rank`] naming it.
    fn send(&mut self, rank: i32, bytes: &[u8]) -> Result<()>;

    /// The next message from any rank, as `(rank, bytes)`; `Ok(None)` if none came by
    /// `deadline` (`None`: wait as long as it takes). A rank whose connection is lost gives
    /// [`crate::Error::Rank`] naming it.
    fn receive(&mut self, deadline: Option<Instant>) -> Result<Option<(i32, Vec<u8>)>>;
}
