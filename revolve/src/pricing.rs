//! The cost model of Aupy & Herrmann: a forward step costs `uf`, a reverse step (the taped
//! forward step together with its adjoint) `ub`, and writing / reading a checkpoint costs
//! `write[level]` / `read[level]`. [`price`] validates any action sequence and returns its
//! modelled makespan.

use crate::{Action, Capacity, Error, Level, Stats, Violation, validate};

/// Costs of the model; every cost is finite and non-negative.
///
/// ```
/// let c = revolve::pricing::Costs::new(1.0, 2.0, 5.0, 3.0).unwrap();
/// assert_eq!((c.forward(), c.reverse(), c.write(revolve::Level::Disk)), (1.0, 2.0, 5.0));
/// assert!(revolve::pricing::Costs::new(-1.0, 1.0, 0.0, 0.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Costs {
    forward: f64,
    reverse: f64,
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

impl Costs {
    /// `uf` per forward step, `ub` per reverse step, `wd` / `rd` per disk write / read; RAM
    /// checkpoints are free (the setting of Disk-Revolve).
    pub fn new(uf: f64, ub: f64, wd: f64, rd: f64) -> Result<Costs, Error> {
        Costs::with_levels(uf, ub, [0.0, wd], [0.0, rd])
    }

    /// Costs with a write and a read cost per level, indexed by [`Level::index`].
    pub fn with_levels(
        forward: f64,
        reverse: f64,
        write: [f64; 2],
        read: [f64; 2],
    ) -> Result<Costs, Error> {
        Ok(Costs {
            forward: checked("forward", forward)?,
            reverse: checked("reverse", reverse)?,
            write: [
                checked("write ram", write[0])?,
                checked("write disk", write[1])?,
            ],
            read: [
                checked("read ram", read[0])?,
                checked("read disk", read[1])?,
            ],
        })
    }

    /// Cost of one forward step (`uf`).
    pub fn forward(&self) -> f64 {
        self.forward
    }

    /// Cost of one reverse step, taped forward step included (`ub`).
    pub fn reverse(&self) -> f64 {
        self.reverse
    }

    /// Cost of writing one checkpoint at `level`.
    pub fn write(&self, level: Level) -> f64 {
        self.write[level.index()]
    }

    /// Cost of reading one checkpoint at `level`.
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
    /// `uf` times the untaped forward steps (advances).
    pub forward: f64,
    /// `ub` times the reverse steps.
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
        let forward = c.forward * stats.advanced as f64;
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
/// use revolve::pricing::{price, Costs};
/// use revolve::{Action, Capacity};
/// let plan = ["store 0 disk", "advance 0 1", "reverse 1", "restore 0 disk", "free 0 disk", "reverse 0"];
/// let actions = plan.iter().map(|l| l.parse::<Action>().unwrap());
/// let costs = Costs::new(1.0, 3.0, 10.0, 4.0).unwrap();
/// let p = price(actions, 2, Capacity { ram: 0, disk: 1 }, &costs).unwrap();
/// assert_eq!(p.makespan, 1.0 + 2.0 * 3.0 + 10.0 + 4.0);
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
