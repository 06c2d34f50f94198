//! [`LocalTransport`]: the protocol over Unix sockets between the processes of one machine
//! (one socket per worker process, each message a little-endian `u64` length and its bytes).
//! A thread per socket reads whole messages into one queue, so waiting for the next message
//! from any rank is one blocking receive, with or without a deadline, and a process that
//! ends (its socket closes) is reported at once as [`Error::Rank`] naming it.

use super::transport::Transport;
use crate::{Error, Result};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Instant;

/// What a reader thread hands over: a whole message, or why the connection ended.
type Arrival = (i32, io::Result<Vec<u8>>);

/// The protocol over Unix sockets (see the [module documentation](self)): rank 0 holds one
/// socket per worker rank ([`LocalTransport::coordinator`]), a worker rank one socket to rank 0
/// ([`LocalTransport::worker`]). Dropping it shuts the sockets down and joins its threads.
///
/// ```
/// use sampler::distributed::{LocalTransport, Transport};
/// use std::os::unix::net::UnixStream;
///
/// let (a, b) = UnixStream::pair()?;
/// let mut zero = LocalTransport::coordinator(vec![a])?;
/// let mut one = LocalTransport::worker(b, 1, 2)?;
/// zero.send(1, b"ping")?;
/// assert_eq!(one.receive(None)?, Some((0, b"ping".to_vec())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LocalTransport {
    rank: i32,
    size: i32,
    /// `(peer rank, socket)`.
    peers: Vec<(i32, UnixStream)>,
    inbox: Receiver<Arrival>,
    readers: Vec<JoinHandle<()>>,
}

/// Read whole messages from `stream` into `tx` until the connection ends.
fn read_messages(rank: i32, mut stream: UnixStream, tx: Sender<Arrival>) {
    loop {
        let mut len = [0u8; 8];
        let got = stream.read_exact(&mut len).and_then(|()| {
            let len = u64::from_le_bytes(len);
            let mut bytes = Vec::new();
            // `take`: a corrupt length cannot make one huge allocation up front.
            let n = (&mut stream).take(len).read_to_end(&mut bytes)?;
            if n as u64 != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("message cut short ({n} of {len} bytes)"),
                ));
            }
            Ok(bytes)
        });
        let failed = got.is_err();
        if tx.send((rank, got)).is_err() || failed {
            return;
        }
    }
}

fn lost(rank: i32, e: &io::Error) -> Error {
    let why = match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe => "its process ended or closed the connection".to_owned(),
        _ => format!("connection lost: {e}"),
    };
    Error::Rank { rank, message: why }
}

impl LocalTransport {
    fn new(rank: i32, size: i32, peers: Vec<(i32, UnixStream)>) -> Result<Self> {
        let (tx, inbox) = channel();
        let mut readers = Vec::with_capacity(peers.len());
        for (r, s) in &peers {
            let reader = s.try_clone().map_err(|e| lost(*r, &e))?;
            let (tx, r) = (tx.clone(), *r);
            let spawned = std::thread::Builder::new()
                .name(format!("retrace-rank-{r}"))
                .spawn(move || read_messages(r, reader, tx))
                .map_err(|e| lost(r, &e))?;
            readers.push(spawned);
        }
        Ok(LocalTransport {
            rank,
            size,
            peers,
            inbox,
            readers,
        })
    }

    /// Rank 0's end: `workers[i]` is connected to rank `i + 1`.
    pub fn coordinator(workers: Vec<UnixStream>) -> Result<Self> {
        let size = i32::try_from(workers.len() + 1)
            .map_err(|_| Error::config("workers", format!("too many ({})", workers.len())))?;
        let peers = (1..).zip(workers).collect();
        Self::new(0, size, peers)
    }

    /// Worker rank `rank` of `size`'s end: `to_zero` is connected to rank 0.
    pub fn worker(to_zero: UnixStream, rank: i32, size: i32) -> Result<Self> {
        if rank < 1 || rank >= size {
            return Err(Error::config(
                "workers",
                format!("rank {rank} is not a worker rank of {size}"),
            ));
        }
        Self::new(rank, size, vec![(0, to_zero)])
    }
}

impl Transport for LocalTransport {
    fn rank(&self) -> i32 {
        self.rank
    }

    fn size(&self) -> i32 {
        self.size
    }

    fn send(&mut self, rank: i32, bytes: &[u8]) -> Result<()> {
        let Some((_, s)) = self.peers.iter_mut().find(|(r, _)| *r == rank) else {
            return Err(Error::Rank {
                rank,
                message: format!(
                    "no such rank to send to (rank {} of {})",
                    self.rank, self.size
                ),
            });
        };
        s.write_all(&(bytes.len() as u64).to_le_bytes())
            .and_then(|()| s.write_all(bytes))
            .map_err(|e| lost(rank, &e))
    }

    fn receive(&mut self, deadline: Option<Instant>) -> Result<Option<(i32, Vec<u8>)>> {
        let arrival = match deadline {
            None => self.inbox.recv().ok(),
            Some(d) => match self
                .inbox
                .recv_timeout(d.saturating_duration_since(Instant::now()))
            {
                Ok(a) => Some(a),
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => None,
            },
        };
        match arrival {
            Some((rank, Ok(bytes))) => Ok(Some((rank, bytes))),
            Some((rank, Err(e))) => Err(lost(rank, &e)),
            // Every reader ended after reporting its own loss: nothing can come any more.
            None => Err(Error::Rank {
                rank: -1,
                message: "every connection is closed".into(),
            }),
        }
    }
}

impl Drop for LocalTransport {
    fn drop(&mut self) {
        for (_, s) in &self.peers {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}
