//! Compare checkpointing strategies for one problem: `n` steps of a state of `B` bytes, a RAM
//! budget and a disk budget (bytes for checkpoints), and a cost model (seconds per forward and
//! reverse step, disk bandwidths, latency per disk operation).
//!
//! [`plan`] returns one [`Row`] per strategy: store-all, periodic, binomial (RAM only),
//! multistage (RAM + disk), cost-aware, online and mixed (RAM units holding a state or a
//! recorded step's adjoint data of [`Problem::record_bytes`]; a unit holds the larger of the
//! two). Each row holds exact counts (forward and
//! reverse steps, disk writes and reads, peak RAM and disk bytes), the recompute factor
//! `forward / n`, the modelled time and whether it fits the budgets. Counts come from running the
//! strategy's own action stream through [`validate`](crate::validate()) ([`Source::Validated`])
//! when `n` is at most [`Problem::run_limit`] (the streams have `O(n)` actions), else from a
//! closed form that is exact for that strategy ([`Source::ClosedForm`]); a strategy with no
//! closed form is then skipped.
//!
//! Conventions: the RAM and disk budgets count checkpoint bytes only (the working state is not
//! counted); `s` slots count the one holding the initial state, so store-all needs `n - 1` slots.
//! The time model is `forward uf + reverse ub + writes (B_d / write_bw + latency)
//! + reads (B_d / read_bw + latency)`; RAM copies are not charged. `B_d` is the size of a
//! state on disk: `B` divided by the compression ratio of the disk checkpoints
//! ([`Problem::with_compression_ratio`]; `B` uncompressed), which also sets how many fit on disk.
//!
//! ```
//! use revolve::planner::{plan, Problem, Strategy};
//! // 1000 steps of 1 MiB, 20 MiB of RAM, no disk.
//! let p = Problem::new(1000, 1 << 20, 20 << 20, 0);
//! let rows = plan(&p).unwrap().rows;
//! let binomial = rows.iter().find(|r| r.strategy == Strategy::Binomial).unwrap();
//! let f = binomial.figures().unwrap();
//! assert_eq!(f.forward, revolve::cost::optimal_forward(1000, 20).unwrap());
//! assert!(f.fits);
//! let store_all = rows.iter().find(|r| r.strategy == Strategy::StoreAll).unwrap();
//! assert!(!store_all.figures().unwrap().fits); // 999 states do not fit in 20 MiB
//! ```

use crate::schedule::online;
use crate::schedule::periodic::Periodic;
use crate::{
    Action, Binomial, Capacity, CostAware, Costs, Error, Level, Mixed, Multistage, Schedule, Stats,
    Violation, cost, validate,
};
use std::fmt;

/// The problem to plan for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Problem {
    /// Steps to reverse (`n >= 1`).
    pub steps: u64,
    /// Bytes of one state (`B >= 1`).
    pub state_bytes: u64,
    /// Bytes of one state on disk (`B` unless compressed: [`Problem::with_compression_ratio`]).
    pub disk_state_bytes: u64,
    /// RAM for checkpoints, bytes.
    pub ram_bytes: u64,
    /// Disk for checkpoints, bytes.
    pub disk_bytes: u64,
    /// The time model, its disk costs for states of `state_bytes` ([`Costs::with_disk`]).
    pub costs: Costs,
    /// Most steps for which schedules are run through the validator; above it, counts come from
    /// closed forms where exact, else the row is skipped.
    pub run_limit: u64,
    /// Bytes of the adjoint data of one recorded step (the mixed row); [`Problem::new`] sets
    /// the state size (Maddison's equal-size units).
    pub record_bytes: u64,
}

impl Problem {
    /// Default [`Problem::run_limit`] (steps): a second or two for all strategies together.
    pub const DEFAULT_RUN_LIMIT: u64 = 100_000;

    /// A problem with the default run limit and time model: forward 1 s, reverse 2 s per step,
    /// a disk of 1 GB/s both ways with no latency ([`Problem::with_costs`] to change it).
    pub fn new(steps: u64, state_bytes: u64, ram_bytes: u64, disk_bytes: u64) -> Self {
        Problem {
            steps,
            state_bytes,
            disk_state_bytes: state_bytes,
            ram_bytes,
            disk_bytes,
            costs: Costs::default()
                .with_disk(state_bytes, 1e9, 1e9, 0.0)
                .unwrap_or_default(),
            run_limit: Self::DEFAULT_RUN_LIMIT,
            record_bytes: state_bytes,
        }
    }

    /// This problem with `bytes` of adjoint data per recorded step (the mixed row).
    pub fn with_record_bytes(self, bytes: u64) -> Problem {
        Problem {
            record_bytes: bytes,
            ..self
        }
    }

    /// Bytes of one unit of the mixed row: a state or a recorded step, whichever is larger.
    pub fn unit_bytes(&self) -> u64 {
        self.state_bytes.max(self.record_bytes)
    }
    /// This problem with `forward` and `reverse` seconds per step and a disk of the given
    /// bandwidths (bytes/s) and latency (seconds per access), for its state size.
    ///
    /// Errors: [`Error::BadCost`], [`Error::BadBandwidth`].
    pub fn with_costs(
        self,
        forward: f64,
        reverse: f64,
        write_bandwidth: f64,
        read_bandwidth: f64,
        latency: f64,
    ) -> Result<Problem, Error> {
        let costs = Costs::new(forward, reverse)?.with_disk(
            self.disk_state_bytes,
            write_bandwidth,
            read_bandwidth,
            latency,
        )?;
        Ok(Problem { costs, ..self })
    }

    /// This problem with disk checkpoints compressed `ratio`-fold (`ratio >= 1`, e.g. measured
    /// by the disk store's [`bytes_written`](crate::storage::disk::DiskStats::bytes_written)):
    /// a state takes `ceil(B / ratio)` bytes on disk, so more fit in the disk budget, and disk
    /// transfers take that much less time (the latency per access stays; measured seconds per
    /// checkpoint, [`Costs::with_disk_seconds`], are divided by the ratio). Codec CPU time is
    /// not modelled. Errors: [`Error::BadRatio`].
    ///
    /// ```
    /// use revolve::planner::Problem;
    /// let p = Problem::new(1000, 1 << 20, 0, 100 << 20).with_compression_ratio(4.0)?;
    /// assert_eq!((p.disk_state_bytes, p.disk_slots()), (1 << 18, 400));
    /// # Ok::<(), revolve::Error>(())
    /// ```
    pub fn with_compression_ratio(self, ratio: f64) -> Result<Problem, Error> {
        if !(ratio.is_finite() && ratio >= 1.0) {
            return Err(Error::BadRatio { value: ratio });
        }
        let disk = ((self.state_bytes as f64 / ratio).ceil() as u64)
            .min(self.state_bytes)
            .max(1);
        let k = self.costs;
        let (wb, rb, lat) = (k.write_bandwidth(), k.read_bandwidth(), k.latency());
        let costs = if wb.is_infinite() && rb.is_infinite() && lat == 0.0 {
            // Measured seconds per checkpoint (or a free disk): scaled with the bytes.
            let scale = disk as f64 / self.disk_state_bytes as f64;
            k.with_disk_seconds(k.write(Level::Disk) * scale, k.read(Level::Disk) * scale)?
        } else {
            k.with_disk(disk, wb, rb, lat)?
        };
        Ok(Problem {
            disk_state_bytes: disk,
            costs,
            ..self
        })
    }

    /// States that fit in the RAM budget.
    pub fn ram_slots(&self) -> u64 {
        self.ram_bytes / self.state_bytes.max(1)
    }
    /// States that fit in the disk budget.
    pub fn disk_slots(&self) -> u64 {
        self.disk_bytes / self.disk_state_bytes.max(1)
    }
    fn check(&self) -> Result<(), PlanError> {
        if self.steps == 0 {
            return Err(PlanError::ZeroSteps);
        }
        if self.state_bytes == 0 {
            return Err(PlanError::ZeroStateBytes);
        }
        Ok(())
    }
}

/// Why a problem could not be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// `steps` was 0.
    #[error("steps must be at least 1")]
    ZeroSteps,
    /// `state_bytes` was 0.
    #[error("the state size must be at least 1 byte")]
    ZeroStateBytes,
    /// A schedule broke a rule of the validator (a bug in that schedule).
    #[error("internal: the {strategy} schedule broke a rule: {violation}")]
    InvalidSchedule {
        /// The strategy.
        strategy: Strategy,
        /// The broken rule.
        violation: Violation,
    },
    /// A schedule could not be built or counted.
    #[error(transparent)]
    Schedule(#[from] Error),
}

/// The strategies compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// Keep every state (RAM first, then disk).
    StoreAll,
    /// A checkpoint every `k` steps (`1 < k < n`, outer checkpoints in RAM or on disk); each
    /// segment is replayed once with all its states stored in RAM. `k` minimises the modelled
    /// time within the budgets; if none fits, `k` takes the fewest slots (about `sqrt(n)`).
    Periodic,
    /// Optimal binomial checkpointing in RAM (Revolve).
    Binomial,
    /// Binomial forward count with RAM and disk slots, few disk accesses.
    Multistage,
    /// Minimises the modelled time with RAM and disk checkpoints under both budgets:
    /// [`CostAware::best`] (the exhaustive table where feasible, else the better of the best
    /// two-level schedule and multistage, marked `search` in the config).
    CostAware,
    /// Online checkpointing (n unknown while running forward), RAM slots.
    Online,
    /// RAM units holding a state or one recorded step's adjoint data ([`Mixed`]), fewest
    /// forward steps.
    Mixed,
}

impl Strategy {
    /// Every strategy, in table order.
    pub const ALL: [Strategy; 7] = [
        Strategy::StoreAll,
        Strategy::Periodic,
        Strategy::Binomial,
        Strategy::Multistage,
        Strategy::CostAware,
        Strategy::Online,
        Strategy::Mixed,
    ];
    /// Short name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Strategy::StoreAll => "store-all",
            Strategy::Periodic => "periodic",
            Strategy::Binomial => "binomial",
            Strategy::Multistage => "multistage",
            Strategy::CostAware => "cost-aware",
            Strategy::Online => "online",
            Strategy::Mixed => "mixed",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a row's counts come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The strategy's action stream was run through [`validate`](crate::validate()).
    Validated,
    /// An exact closed form (the stream was too long to run).
    ClosedForm,
}

impl Source {
    /// Short name: `validated`, `closed-form`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Validated => "validated",
            Source::ClosedForm => "closed-form",
        }
    }
}

/// Counts, bytes and time of one strategy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// RAM slots the schedule was given.
    pub ram_slots: u64,
    /// Disk slots the schedule was given.
    pub disk_slots: u64,
    /// Total forward steps (advances plus the `n` taped steps).
    pub forward: u64,
    /// Reverse steps (`n`).
    pub reverse: u64,
    /// States written to disk.
    pub disk_writes: u64,
    /// States read from disk.
    pub disk_reads: u64,
    /// Bytes written to disk.
    pub disk_bytes_written: u128,
    /// Bytes read from disk.
    pub disk_bytes_read: u128,
    /// Peak RAM checkpoint bytes.
    pub peak_ram_bytes: u128,
    /// Peak disk checkpoint bytes.
    pub peak_disk_bytes: u128,
    /// `forward / n`.
    pub recompute_factor: f64,
    /// Modelled seconds.
    pub time: f64,
    /// Peak RAM within the RAM budget.
    pub fits_ram: bool,
    /// Peak disk within the disk budget.
    pub fits_disk: bool,
    /// Both budgets hold.
    pub fits: bool,
    /// Where the counts come from.
    pub source: Source,
}

/// A strategy with the parameters the planner chose for it; its `Display` is the table's
/// `config` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Config {
    /// Every state kept: `ram` in RAM, the other `disk` on disk.
    StoreAll {
        /// RAM slots.
        ram: u64,
        /// Disk slots.
        disk: u64,
    },
    /// A checkpoint every `period` steps at level `outer`, each segment replayed once.
    Periodic {
        /// Steps between outer checkpoints.
        period: u64,
        /// Level of the outer checkpoints.
        outer: Level,
    },
    /// Binomial with `slots` RAM slots.
    Binomial {
        /// RAM slots.
        slots: u64,
    },
    /// Multistage with `ram` RAM and `disk` disk slots.
    Multistage {
        /// RAM slots.
        ram: u64,
        /// Disk slots.
        disk: u64,
    },
    /// [`CostAware::best`] with `ram` RAM and `disk` disk slots; `search` when the exhaustive
    /// table is not feasible (two-level search or multistage).
    CostAware {
        /// RAM slots.
        ram: u64,
        /// Disk slots.
        disk: u64,
        /// Not the exhaustive table.
        search: bool,
    },
    /// Online with `slots` RAM slots.
    Online {
        /// RAM slots.
        slots: u64,
    },
    /// Mixed with `units` RAM units.
    Mixed {
        /// RAM units (each a state or a recorded step).
        units: u64,
    },
}

impl Config {
    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        match self {
            Config::StoreAll { .. } => Strategy::StoreAll,
            Config::Periodic { .. } => Strategy::Periodic,
            Config::Binomial { .. } => Strategy::Binomial,
            Config::Multistage { .. } => Strategy::Multistage,
            Config::CostAware { .. } => Strategy::CostAware,
            Config::Online { .. } => Strategy::Online,
            Config::Mixed { .. } => Strategy::Mixed,
        }
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Config::StoreAll { ram, disk: 0 } => write!(f, "ram={ram}"),
            Config::StoreAll { ram, disk } => write!(f, "ram={ram} disk={disk}"),
            Config::Periodic {
                period,
                outer: Level::Ram,
            } => write!(f, "k={period}"),
            Config::Periodic {
                period,
                outer: Level::Disk,
            } => write!(f, "k={period} outer=disk"),
            Config::Binomial { slots } | Config::Online { slots } => write!(f, "s={slots}"),
            Config::Mixed { units } => write!(f, "units={units}"),
            Config::Multistage { ram, disk }
            | Config::CostAware {
                ram,
                disk,
                search: false,
            } => write!(f, "R={ram} D={disk}"),
            Config::CostAware { ram, disk, .. } => write!(f, "R={ram} D={disk} search"),
        }
    }
}

/// A schedule a planner row chose, ready to run (e.g. by a [`Revolver`](crate::Revolver)).
pub type BoxedSchedule = Box<dyn Schedule + Send>;

/// One strategy's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The strategy.
    pub strategy: Strategy,
    /// Its parameters (slots, period, levels).
    pub config: Config,
    /// Figures, or why the strategy was skipped.
    pub outcome: Outcome,
    /// Steps and time model planned for (to build the schedule).
    steps: u64,
    costs: Costs,
}

impl Row {
    /// The schedule this row planned, built afresh (skipped rows too: a schedule too long to
    /// count may still be run). Its [`Schedule::capacity`] is the row's slots, so
    /// [`Revolver::for_schedule`](crate::Revolver::for_schedule) sizes the stores from it.
    ///
    /// ```
    /// use revolve::planner::{plan, Problem, Strategy};
    /// use revolve::{Schedule, validate};
    /// let p = plan(&Problem::new(100, 8, 80, 0)).unwrap();
    /// let row = p.row(Strategy::Binomial).unwrap();
    /// let s = row.schedule().unwrap();
    /// let (steps, cap) = (s.steps(), s.capacity());
    /// assert_eq!(validate(steps, cap, s).unwrap().forward, row.figures().unwrap().forward);
    /// ```
    ///
    /// Errors: as the schedule's constructor (e.g. [`Error::TooLarge`] for a cost-aware table).
    pub fn schedule(&self) -> Result<BoxedSchedule, Error> {
        let n = self.steps;
        Ok(match self.config {
            Config::StoreAll { ram, .. } => Box::new(Periodic::store_all(n, ram)?),
            Config::Periodic { period, outer } => Box::new(Periodic::new(n, period, outer)?),
            Config::Binomial { slots } => Box::new(Binomial::new(n, slots)?),
            Config::Multistage { ram, disk } => Box::new(Multistage::new(n, ram, disk)?),
            Config::CostAware { ram, disk, .. } => {
                Box::new(CostAware::best(n, ram, disk, self.costs)?)
            }
            Config::Online { slots } => Box::new(online::simulate(n, slots)?),
            Config::Mixed { units } => Box::new(Mixed::new(n, units)?),
        })
    }

    /// The figures, if the strategy was evaluated.
    pub fn figures(&self) -> Option<&Figures> {
        match &self.outcome {
            Outcome::Planned(f) => Some(f),
            Outcome::Skipped(_) => None,
        }
    }
}

/// A row's figures or the reason it has none.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Evaluated.
    Planned(Figures),
    /// Not evaluated, with the reason.
    Skipped(SkipReason),
}

/// Why a planner row has no figures (its `Display` is the sentence of `retrace plan`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The schedule must be run to be counted, and `n` exceeds [`Problem::run_limit`].
    RunLimit {
        /// The run limit (steps).
        limit: u64,
        /// A lower bound (or the exact value) of the forward steps, if known.
        forward: Option<u64>,
        /// Whether `forward` is exact while disk traffic has no closed form (multistage).
        exact_forward: bool,
    },
    /// The online planner's work `n s` exceeds its limit.
    OnlineWork {
        /// `n s`.
        work: u128,
        /// The limit.
        limit: u64,
        /// `T(n, s)`, a lower bound of the forward steps.
        forward: u64,
    },
    /// A count of this row overflows 64 bits ([`Error::Overflow`]).
    Overflow {
        /// The quantity that overflowed.
        what: &'static str,
    },
    /// The mixed schedule's table (`(n + 1) (units - 1)` entries) exceeds the planner's limit.
    MixedTable {
        /// Entries.
        entries: u128,
        /// The limit ([`MIXED_TABLE`]).
        limit: u64,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::RunLimit {
                limit,
                forward: Some(forward),
                exact_forward: true,
            } => write!(
                f,
                "n > run limit {limit} (forward would be T(n, R+D) = {forward}; disk traffic has no closed form)"
            ),
            SkipReason::RunLimit {
                limit,
                forward: Some(bound),
                exact_forward: false,
            } => write!(
                f,
                "n > run limit {limit} (no closed form; forward >= T(n, s) = {bound})"
            ),
            SkipReason::RunLimit {
                limit,
                forward: None,
                ..
            } => write!(f, "n > run limit {limit}"),
            SkipReason::OnlineWork {
                work,
                limit,
                forward,
            } => write!(
                f,
                "n s = {work} > {limit} (no closed form; forward >= T(n, s) = {forward})"
            ),
            SkipReason::Overflow { what } => fmt::Display::fmt(&Error::Overflow { what }, f),
            SkipReason::MixedTable { entries, limit } => {
                write!(f, "table of {entries} entries > {limit}")
            }
        }
    }
}

/// The problem and one row per strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The problem planned for.
    pub problem: Problem,
    /// One row per strategy, in [`Strategy::ALL`] order.
    pub rows: Vec<Row>,
}

impl Plan {
    /// The row of `strategy`.
    pub fn row(&self, strategy: Strategy) -> Option<&Row> {
        self.rows.iter().find(|r| r.strategy == strategy)
    }
}

/// Counts of a schedule, before pricing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    forward: u64,
    reverse: u64,
    disk_writes: u64,
    disk_reads: u64,
    peak_ram: u64,
    peak_disk: u64,
}

impl From<&Stats> for Counts {
    fn from(s: &Stats) -> Self {
        let (r, d) = (Level::Ram.index(), Level::Disk.index());
        Counts {
            forward: s.forward,
            reverse: s.reverse,
            disk_writes: s.stores[d],
            disk_reads: s.restores[d],
            peak_ram: s.peak[r],
            peak_disk: s.peak[d],
        }
    }
}

impl Problem {
    fn row(&self, config: Config, outcome: Outcome) -> Row {
        Row {
            strategy: config.strategy(),
            config,
            outcome,
            steps: self.steps,
            costs: self.costs,
        }
    }

    fn time(&self, c: &Counts) -> f64 {
        let k = &self.costs;
        c.forward as f64 * k.forward()
            + c.reverse as f64 * k.reverse()
            + c.disk_writes as f64 * k.write(Level::Disk)
            + c.disk_reads as f64 * k.read(Level::Disk)
    }

    fn fits(&self, c: &Counts) -> (bool, bool) {
        let (b, bd) = (
            u128::from(self.state_bytes),
            u128::from(self.disk_state_bytes),
        );
        (
            u128::from(c.peak_ram) * b <= u128::from(self.ram_bytes),
            u128::from(c.peak_disk) * bd <= u128::from(self.disk_bytes),
        )
    }

    fn figures(&self, c: Counts, ram_slots: u64, disk_slots: u64, source: Source) -> Figures {
        let (b, bd) = (
            u128::from(self.state_bytes),
            u128::from(self.disk_state_bytes),
        );
        let (fits_ram, fits_disk) = self.fits(&c);
        Figures {
            ram_slots,
            disk_slots,
            forward: c.forward,
            reverse: c.reverse,
            disk_writes: c.disk_writes,
            disk_reads: c.disk_reads,
            disk_bytes_written: u128::from(c.disk_writes) * bd,
            disk_bytes_read: u128::from(c.disk_reads) * bd,
            peak_ram_bytes: u128::from(c.peak_ram) * b,
            peak_disk_bytes: u128::from(c.peak_disk) * bd,
            recompute_factor: c.forward as f64 / self.steps as f64,
            time: self.time(&c),
            fits_ram,
            fits_disk,
            fits: fits_ram && fits_disk,
            source,
        }
    }

    /// Run `actions` through the validator with the given slots.
    fn run(
        &self,
        strategy: Strategy,
        capacity: Capacity,
        actions: impl Iterator<Item = Action>,
    ) -> Result<Counts, PlanError> {
        validate(self.steps, capacity, actions)
            .map(|s| Counts::from(&s))
            .map_err(|violation| PlanError::InvalidSchedule {
                strategy,
                violation,
            })
    }
}

/// Plan `problem`: one row per strategy, in [`Strategy::ALL`] order.
///
/// Errors: bad input ([`PlanError::ZeroSteps`], ...), or a schedule breaking a validator rule.
pub fn plan(problem: &Problem) -> Result<Plan, PlanError> {
    problem.check()?;
    type RowFn = fn(&Problem) -> Result<Row, PlanError>;
    let makers: [(Strategy, RowFn); 7] = [
        (Strategy::StoreAll, store_all_row),
        (Strategy::Periodic, periodic_row),
        (Strategy::Binomial, binomial_row),
        (Strategy::Multistage, multistage_row),
        (Strategy::CostAware, cost_aware_row),
        (Strategy::Online, online_row),
        (Strategy::Mixed, mixed_row),
    ];
    let mut rows = Vec::with_capacity(makers.len());
    for (strategy, make) in makers {
        rows.push(match make(problem) {
            // A count past 64 bits spoils that row only.
            Err(PlanError::Schedule(Error::Overflow { what })) => skipped(
                problem,
                slots_config(strategy, problem),
                SkipReason::Overflow { what },
            ),
            other => other?,
        });
    }
    Ok(Plan {
        problem: *problem,
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// Store-all and periodic: one generator.

/// Closed-form counts of the periodic schedule with the checkpoints at `0, k, ...` at level
/// `outer` and all other states in RAM (exact; checked against the validator in its tests).
fn periodic_counts(n: u64, k: u64, outer: Level) -> Result<Counts, Error> {
    Ok(closed_counts(&Periodic::new(n, k, outer)?))
}

fn closed_counts(p: &Periodic) -> Counts {
    let cap = p.capacity();
    Counts {
        forward: p.forward(),
        reverse: Schedule::steps(p),
        disk_writes: p.disk_writes(),
        disk_reads: p.disk_reads(),
        peak_ram: cap.ram,
        peak_disk: cap.disk,
    }
}

fn store_all_row(p: &Problem) -> Result<Row, PlanError> {
    let config = slots_config(Strategy::StoreAll, p);
    let schedule = Periodic::store_all(p.steps, p.ram_slots())?;
    let closed = closed_counts(&schedule);
    let (ram, disk) = (closed.peak_ram, closed.peak_disk);
    let (counts, source) = if p.steps <= p.run_limit {
        let cap = schedule.capacity();
        let c = p.run(Strategy::StoreAll, cap, schedule)?;
        (c, Source::Validated)
    } else {
        (closed, Source::ClosedForm)
    };
    Ok(p.row(
        config,
        Outcome::Planned(p.figures(counts, ram, disk, source)),
    ))
}

/// Periods of a proper periodic schedule: `k = 1` and `k = n` are store-all (kept for `n <= 2`).
fn periods(n: u64) -> std::ops::RangeInclusive<u64> {
    if n <= 2 { 1..=n } else { 2..=n - 1 }
}

/// Periods worth trying: for every segment count `m`, the smallest period giving it and the one
/// whose last segment is a single step (the only periods that can be best for that `m`).
fn periodic_candidates(n: u64) -> Vec<u64> {
    let root = n.isqrt() + 1;
    // Every small k and every segment count m up to sqrt(n); past 2^20 of them, a geometric
    // sample of both (then the period is near-best, its counts still exact).
    let small: Vec<u64> = if root <= 1 << 20 {
        (1..=root.min(n)).collect()
    } else {
        let mut v: Vec<u64> = (0..4096)
            .map(|i| (root as f64).powf(f64::from(i) / 4095.0) as u64)
            .collect();
        v.dedup();
        v
    };
    let mut ks = small.clone();
    for &m in &small {
        ks.push(n.div_ceil(m));
        if m >= 2 && (n - 1).is_multiple_of(m - 1) {
            ks.push((n - 1) / (m - 1));
        }
    }
    ks.retain(|&k| periods(n).contains(&k));
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// The period and outer level that minimise the modelled time among those that fit; if none
/// fits, the one with the fewest slots in all (the classic `k ~ sqrt(n)`), all in RAM.
fn choose_period(p: &Problem) -> Result<(u64, Level, Counts), Error> {
    let mut best: Option<(f64, u64, u64, Level, Counts)> = None;
    let mut smallest: Option<(u64, u64, Counts)> = None;
    for k in periodic_candidates(p.steps) {
        for outer in Level::ALL {
            let c = periodic_counts(p.steps, k, outer)?;
            let (ram_ok, disk_ok) = p.fits(&c);
            let slots = c.peak_ram + c.peak_disk;
            if ram_ok && disk_ok {
                let t = p.time(&c);
                if best.is_none_or(|(bt, bs, ..)| t < bt || (t == bt && slots < bs)) {
                    best = Some((t, slots, k, outer, c));
                }
            }
            if outer == Level::Ram && smallest.is_none_or(|(s, ..)| slots < s) {
                smallest = Some((slots, k, c));
            }
        }
    }
    Ok(match (best, smallest) {
        (Some((_, _, k, outer, c)), _) => (k, outer, c),
        (None, Some((_, k, c))) => (k, Level::Ram, c),
        (None, None) => unreachable!("k = 1 is always a candidate"),
    })
}

fn periodic_row(p: &Problem) -> Result<Row, PlanError> {
    let n = p.steps;
    let (k, outer, closed) = choose_period(p)?;
    let config = Config::Periodic { period: k, outer };
    let (counts, source) = if n <= p.run_limit {
        let schedule = Periodic::new(n, k, outer)?;
        let cap = schedule.capacity();
        let c = p.run(Strategy::Periodic, cap, schedule)?;
        (c, Source::Validated)
    } else {
        (closed, Source::ClosedForm)
    };
    Ok(p.row(
        config,
        Outcome::Planned(p.figures(counts, closed.peak_ram, closed.peak_disk, source)),
    ))
}

// ---------------------------------------------------------------------------------------------
// Binomial.

fn binomial_row(p: &Problem) -> Result<Row, PlanError> {
    let n = p.steps;
    // More than n slots are never used; 0 slots cannot work: show s = 1, marked as not fitting.
    let s = p.ram_slots().clamp(1, n);
    let schedule = Binomial::new(n, s)?;
    let (counts, source) = if n <= p.run_limit {
        let c = p.run(Strategy::Binomial, Capacity::UNLIMITED, schedule)?;
        (c, Source::Validated)
    } else {
        let closed = Counts {
            forward: schedule.forward(),
            reverse: n,
            disk_writes: 0,
            disk_reads: 0,
            // The optimal schedule fills every slot it has, up to the n - 1 store-all needs.
            peak_ram: s.min(n - 1).max(u64::from(n >= 2)),
            peak_disk: 0,
        };
        (closed, Source::ClosedForm)
    };
    Ok(p.row(
        slots_config(Strategy::Binomial, p),
        Outcome::Planned(p.figures(counts, s, 0, source)),
    ))
}

// ---------------------------------------------------------------------------------------------
// Multistage, cost-aware, online: no closed form for their disk traffic or forward count.

/// Most `n s` work (steps times slots) of an online run the planner makes (a second or so).
pub(crate) const ONLINE_WORK: u64 = 100_000_000;

/// The slots a strategy is given (the period is chosen later: a placeholder for it).
fn slots_config(strategy: Strategy, p: &Problem) -> Config {
    let n = p.steps;
    match strategy {
        Strategy::StoreAll => {
            let ram = p.ram_slots().min(n - 1);
            Config::StoreAll {
                ram,
                disk: n - 1 - ram,
            }
        }
        Strategy::Periodic => Config::Periodic {
            period: 1,
            outer: Level::Ram,
        },
        Strategy::Binomial => Config::Binomial {
            slots: p.ram_slots().clamp(1, n),
        },
        Strategy::Online => Config::Online {
            slots: p.ram_slots().clamp(1, n),
        },
        Strategy::Mixed => Config::Mixed {
            units: mixed_units(p),
        },
        Strategy::Multistage => {
            let (ram, disk) = two_level_slots(p);
            Config::Multistage { ram, disk }
        }
        Strategy::CostAware => {
            let (ram, disk) = two_level_slots(p);
            Config::CostAware {
                ram,
                disk,
                search: !CostAware::table_feasible(n, ram, disk),
            }
        }
    }
}

fn skipped(p: &Problem, config: Config, reason: SkipReason) -> Row {
    p.row(config, Outcome::Skipped(reason))
}

/// RAM and disk slots for a two-level schedule: at most `n` each, at least one in all (shown
/// as not fitting when the budgets hold no state).
fn two_level_slots(p: &Problem) -> (u64, u64) {
    let n = p.steps;
    let (r, d) = (p.ram_slots().min(n), p.disk_slots().min(n));
    if r == 0 && d == 0 { (1, 0) } else { (r, d) }
}

fn multistage_row(p: &Problem) -> Result<Row, PlanError> {
    let n = p.steps;
    let (r, d) = two_level_slots(p);
    let config = slots_config(Strategy::Multistage, p);
    if n > p.run_limit {
        let forward = cost::optimal_forward(n, r.saturating_add(d).min(n - 1).max(1))?;
        return Ok(skipped(
            p,
            config,
            SkipReason::RunLimit {
                limit: p.run_limit,
                forward: Some(forward),
                exact_forward: true,
            },
        ));
    }
    let schedule = Multistage::new(n, r, d)?;
    let c = p.run(Strategy::Multistage, Capacity { ram: r, disk: d }, schedule)?;
    Ok(p.row(
        config,
        Outcome::Planned(p.figures(c, r, d, Source::Validated)),
    ))
}

fn cost_aware_row(p: &Problem) -> Result<Row, PlanError> {
    let n = p.steps;
    let (r, d) = two_level_slots(p);
    let config = slots_config(Strategy::CostAware, p);
    if n > p.run_limit {
        return Ok(skipped(
            p,
            config,
            SkipReason::RunLimit {
                limit: p.run_limit,
                forward: None,
                exact_forward: false,
            },
        ));
    }
    let schedule = CostAware::best(n, r, d, p.costs)?;
    let c = p.run(Strategy::CostAware, Capacity { ram: r, disk: d }, schedule)?;
    Ok(p.row(
        config,
        Outcome::Planned(p.figures(c, r, d, Source::Validated)),
    ))
}

fn online_row(p: &Problem) -> Result<Row, PlanError> {
    let n = p.steps;
    let s = p.ram_slots().clamp(1, n);
    let config = slots_config(Strategy::Online, p);
    let work = u128::from(n) * u128::from(s);
    if n > p.run_limit || work > u128::from(ONLINE_WORK) {
        let bound = cost::optimal_forward(n, s)?;
        let why = if n > p.run_limit {
            SkipReason::RunLimit {
                limit: p.run_limit,
                forward: Some(bound),
                exact_forward: false,
            }
        } else {
            SkipReason::OnlineWork {
                work,
                limit: ONLINE_WORK,
                forward: bound,
            }
        };
        return Ok(skipped(p, config, why));
    }
    let c = p.run(Strategy::Online, Capacity::ram(s), online::simulate(n, s)?)?;
    Ok(p.row(
        config,
        Outcome::Planned(p.figures(c, s, 0, Source::Validated)),
    ))
}

/// Most table entries of the mixed row (`(n + 1) (units - 1)`): building the table costs a
/// branch and bound per entry (about 0.1 to 50 µs each, growing with `n`), so the planner stops
/// at `2^18` entries (a second or two).
pub const MIXED_TABLE: u64 = 1 << 18;

/// RAM units of the mixed row: the budget over the larger of a state and a record, at least 1
/// (shown as not fitting when none fits), more than `n - 1` never used.
fn mixed_units(p: &Problem) -> u64 {
    (p.ram_bytes / p.unit_bytes().max(1)).clamp(1, p.steps.saturating_sub(1).max(1))
}

fn mixed_row(p: &Problem) -> Result<Row, PlanError> {
    let n = p.steps;
    let s = mixed_units(p);
    let config = slots_config(Strategy::Mixed, p);
    let entries = (u128::from(n) + 1) * u128::from(s - 1);
    if entries > u128::from(MIXED_TABLE) {
        let why = SkipReason::MixedTable {
            entries,
            limit: MIXED_TABLE,
        };
        return Ok(skipped(p, config, why));
    }
    if n > p.run_limit {
        let why = SkipReason::RunLimit {
            limit: p.run_limit,
            forward: None,
            exact_forward: false,
        };
        return Ok(skipped(p, config, why));
    }
    let c = p.run(Strategy::Mixed, Capacity::ram(s), Mixed::new(n, s)?)?;
    let mut f = p.figures(c, s, 0, Source::Validated);
    // Units hold the larger of a state and a record.
    f.peak_ram_bytes = u128::from(c.peak_ram) * u128::from(p.unit_bytes());
    f.fits_ram = f.peak_ram_bytes <= u128::from(p.ram_bytes);
    f.fits = f.fits_ram && f.fits_disk;
    Ok(p.row(config, Outcome::Planned(f)))
}

/// One point of the binomial trade-off curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// RAM slots `s`.
    pub slots: u64,
    /// Checkpoint bytes `s B`.
    pub bytes: u128,
    /// Recompute factor `T(n, s) / n`.
    pub factor: f64,
}

/// The binomial trade-off curve `T(n, s) / n` against memory, for at most about `points` values
/// of `s` spread geometrically from 1 to `max(n - 1, 1)` (store-all), both ends included. Points
/// whose `T(n, s)` overflows 64 bits are left out.
///
/// ```
/// let c = revolve::planner::tradeoff_curve(10, 8, 50);
/// assert_eq!((c[0].slots, c[0].factor), (1, 5.5));
/// assert_eq!(c.last().unwrap().factor, 1.9); // store-all: (2n - 1) / n
/// ```
pub fn tradeoff_curve(steps: u64, state_bytes: u64, points: usize) -> Vec<CurvePoint> {
    let top = steps.saturating_sub(1).max(1);
    let points = points.max(2);
    let ratio = (top as f64).powf(1.0 / (points - 1) as f64);
    let mut slots = Vec::with_capacity(points + 1);
    let mut x = 1.0f64;
    for _ in 0..points {
        slots.push((x.round() as u64).clamp(1, top));
        x *= ratio;
    }
    slots.push(top);
    slots.dedup();
    slots
        .into_iter()
        .filter_map(|s| {
            let t = cost::optimal_forward(steps.max(1), s).ok()?;
            Some(CurvePoint {
                slots: s,
                bytes: u128::from(s) * u128::from(state_bytes),
                factor: t as f64 / steps.max(1) as f64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_hold_the_best_period() {
        // The candidate set contains a period as good as the best over all k.
        for n in 1..=120u64 {
            for (ram, disk) in [(3, 0), (8, 0), (12, 40), (5, 5), (200, 0), (0, 200)] {
                let p = Problem::new(n, 10, ram * 10, disk * 10)
                    .with_costs(1.0, 2.0, 1e9, 1e9, 0.5)
                    .unwrap();
                let (_, _, chosen) = choose_period(&p).unwrap();
                let best = periods(n)
                    .flat_map(|k| Level::ALL.map(|o| periodic_counts(n, k, o).unwrap()))
                    .filter(|c| p.fits(c) == (true, true))
                    .map(|c| p.time(&c))
                    .fold(f64::INFINITY, f64::min);
                if best.is_finite() {
                    assert_eq!(p.time(&chosen), best, "n={n} ram={ram} disk={disk}");
                } else {
                    let fewest = periods(n)
                        .map(|k| periodic_counts(n, k, Level::Ram).unwrap().peak_ram)
                        .min()
                        .unwrap();
                    assert_eq!(chosen.peak_ram, fewest, "n={n}");
                }
            }
        }
    }
}
