//! The cost model of Aupy & Herrmann ([`Costs`]): a forward step costs `uf`, an adjoint step
//! `ub` (a reverse step of a schedule runs the taped forward step and the adjoint: `uf + ub`),
//! and writing / reading a disk checkpoint costs what the disk's bandwidths and latency give for
//! the state size. [`price`] validates any action sequence and returns its modelled makespan.

use crate::{Action, Capacity, Error, Level, Stats, Violation, validate};

/// The time model, the one used by [`price`], the cost-aware schedules and the
/// [`planner`](crate::planner): seconds per forward step, seconds per reverse (adjoint) step, and
/// the disk, stated as bandwidths (bytes/s) plus a latency per access for a state size, or as
/// seconds per checkpoint written and read. RAM checkpoints are free.
///
/// Convention: a reverse step of the schedule runs the taped forward step and then the adjoint
/// step, so it costs `forward + reverse`; an advance costs `forward` per step. A makespan is
/// `forward * (advances + n) + reverse * n + disk writes * write + disk reads * read`.
///
/// ```
/// use revolve::{Costs, Level};
/// // 1 s forward, 2 s adjoint; a 1 MB state, disk writes at 1 MB/s, reads at 2 MB/s, 0.5 s
/// // per access.
/// let c = Costs::new(1.0, 2.0)?.with_disk(1_000_000, 1e6, 2e6, 0.5)?;
/// assert_eq!((c.forward(), c.reverse()), (1.0, 2.0));
/// assert_eq!((c.write(Level::Disk), c.read(Level::Disk), c.read(Level::Ram)), (1.5, 1.0, 0.0));
/// assert!(Costs::new(-1.0, 1.0).is_err());
/// assert!(Costs::new(1.0, 1.0)?.with_disk(1_000_000, 0.0, 1e8, 0.0).is_err());
/// # Ok::<(), revolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Costs {
    forward: f64,
    reverse: f64,
    write_bandwidth: f64,
    read_bandwidth: f64,
    latency: f64,
    /// Seconds per checkpoint written / read, per level (RAM: 0).
    write: [f64; 2],
    read: [f64; 2],
}

fn checked(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::BadCost { name, value })
    }
}

fn bandwidth(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_nan() || value <= 0.0 {
        Err(Error::BadBandwidth { name, value })
    } else {
        Ok(value)
    }
}

impl Default for Costs {
    /// Forward 1 s, reverse 2 s per step, free disk.
    fn default() -> Self {
        Costs {
            forward: 1.0,
            reverse: 2.0,
            write_bandwidth: f64::INFINITY,
            read_bandwidth: f64::INFINITY,
            latency: 0.0,
            write: [0.0; 2],
            read: [0.0; 2],
        }
    }
}

impl Costs {
    /// `forward` seconds per forward step, `reverse` seconds per adjoint step (the taped
    /// forward step not included); disk checkpoints free until [`Costs::with_disk`].
    ///
    /// Errors: [`Error::BadCost`] for a negative, infinite or NaN cost.
    pub fn new(forward: f64, reverse: f64) -> Result<Costs, Error> {
        Ok(Costs {
            forward: checked("forward cost", forward)?,
            reverse: checked("reverse cost", reverse)?,
            ..Costs::default()
        })
    }

    /// The disk for states of `state_bytes` bytes: writing one costs
    /// `state_bytes / write_bandwidth + latency` seconds, reading one
    /// `state_bytes / read_bandwidth + latency` (bandwidths in bytes/s, infinite allowed).
    ///
    /// Errors: [`Error::BadBandwidth`] for a bandwidth not `> 0`, [`Error::BadCost`] for a bad
    /// latency.
    pub fn with_disk(
        self,
        state_bytes: u64,
        write_bandwidth: f64,
        read_bandwidth: f64,
        latency: f64,
    ) -> Result<Costs, Error> {
        let latency = checked("disk latency", latency)?;
        let write_bandwidth = bandwidth("write bandwidth", write_bandwidth)?;
        let read_bandwidth = bandwidth("read bandwidth", read_bandwidth)?;
        let b = state_bytes as f64;
        Ok(Costs {
            write_bandwidth,
            read_bandwidth,
            latency,
            write: [0.0, checked("disk write", b / write_bandwidth + latency)?],
            read: [0.0, checked("disk read", b / read_bandwidth + latency)?],
            ..self
        })
    }

    /// The disk as measured seconds per checkpoint written and read (bandwidths and latency
    /// are then reported as infinite and 0).
    ///
    /// Errors: [`Error::BadCost`].
    pub fn with_disk_seconds(self, write: f64, read: f64) -> Result<Costs, Error> {
        Ok(Costs {
            write_bandwidth: f64::INFINITY,
            read_bandwidth: f64::INFINITY,
            latency: 0.0,
            write: [0.0, checked("disk write", write)?],
            read: [0.0, checked("disk read", read)?],
            ..self
        })
    }

    /// Seconds per forward step.
    pub fn forward(&self) -> f64 {
        self.forward
    }

    /// Seconds per adjoint step (the taped forward step not included).
    pub fn reverse(&self) -> f64 {
        self.reverse
    }

    /// Seconds of one reverse step of a schedule: the taped forward step and the adjoint step.
    pub(crate) fn taped_reverse(&self) -> f64 {
        self.forward + self.reverse
    }

    /// Disk write bandwidth as stated, bytes/s.
    pub fn write_bandwidth(&self) -> f64 {
        self.write_bandwidth
    }

    /// Disk read bandwidth as stated, bytes/s.
    pub fn read_bandwidth(&self) -> f64 {
        self.read_bandwidth
    }

    /// Seconds added to every disk access, as stated.
    pub fn latency(&self) -> f64 {
        self.latency
    }

    /// Seconds of writing one checkpoint at `level`.
    pub fn write(&self, level: Level) -> f64 {
        self.write[level.index()]
    }

    /// Seconds of reading one checkpoint at `level`.
    pub fn read(&self, level: Level) -> f64 {
        self.read[level.index()]
    }

    /// Modelled makespan of a schedule with these counts.
    pub fn makespan(&self, stats: &Stats) -> f64 {
        Priced::new(*stats, self).makespan
    }
}

/// A validated schedule's counts and modelled time, split by kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Priced {
    /// The validator's counts.
    pub stats: Stats,
    /// `uf` times all forward steps (advances and the `n` taped steps).
    pub forward: f64,
    /// `ub` times the reverse (adjoint) steps.
    pub reverse: f64,
    /// Write cost per level.
    pub writes: [f64; 2],
    /// Read cost per level.
    pub reads: [f64; 2],
    /// The sum of all of the above.
    pub makespan: f64,
}

impl Priced {
    fn new(stats: Stats, c: &Costs) -> Priced {
        let forward = c.forward * stats.forward as f64;
        let reverse = c.reverse * stats.reverse as f64;
        let writes = [0, 1].map(|i| c.write[i] * stats.stores[i] as f64);
        let reads = [0, 1].map(|i| c.read[i] * stats.restores[i] as f64);
        let makespan = forward + reverse + writes[0] + writes[1] + reads[0] + reads[1];
        Priced {
            stats,
            forward,
            reverse,
            writes,
            reads,
            makespan,
        }
    }
}

/// Validate `actions` (a reversal of `steps` steps within `capacity`) and price it.
///
/// ```
/// use revolve::pricing::price;
/// use revolve::{Action, Capacity, Costs};
/// let plan = ["store 0 disk", "advance 0 1", "reverse 1", "restore 0 disk", "free 0 disk", "reverse 0"];
/// let actions = plan.iter().map(|l| l.parse::<Action>().unwrap());
/// let costs = Costs::new(1.0, 2.0).unwrap().with_disk_seconds(10.0, 4.0).unwrap();
/// let p = price(actions, 2, Capacity { ram: 0, disk: 1 }, &costs).unwrap();
/// // 3 forward steps (one advance, two taped), 2 adjoint steps, one write, one read.
/// assert_eq!(p.makespan, 3.0 * 1.0 + 2.0 * 2.0 + 10.0 + 4.0);
/// ```
pub fn price<I>(
    actions: I,
    steps: u64,
    capacity: Capacity,
    costs: &Costs,
) -> Result<Priced, Violation>
where
    I: IntoIterator<Item = Action>,
{
    let stats = validate(steps, capacity, actions)?;
    Ok(Priced::new(stats, costs))
}
