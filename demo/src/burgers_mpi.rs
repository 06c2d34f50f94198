//! The [Burgers](crate::burgers) model split over MPI ranks, each rank reversing its own block
//! with its own [`Revolver`] and checkpoint store (feature `mpi`).
//!
//! Rank `r` owns block `r` of a [`Partition`] of the periodic grid. A forward step and an adjoint
//! step each exchange one value with each neighbour (the halo: 16 bytes sent per rank per step)
//! and then evaluate, per point, the same expression as the serial model
//! ([`Burgers::step_block`], [`Burgers::adjoint_block`]); the objective is summed in grid order
//! along the ranks. So the gathered gradient equals the single-process one bit for bit, for any
//! number of ranks.
//!
//! Every rank runs the same schedule, so the Revolver calls the operators with the same steps
//! on every rank and the halo exchanges pair up. Checkpoints never travel: each rank keeps its
//! own block's states (RAM, and a per-rank directory for the multistage RAM + disk variant).
//!
//! Errors: a forward step that fails on some rank (non-finite value, field of the wrong size) is
//! agreed on with one `MPI_Allreduce` at the end of each forward call, so every rank returns the
//! same [`StepFailure`] (the earliest step, then the lowest rank). Errors only one rank can see
//! (its disk) are [`DistributedError::is_collective`] `false`: the caller must abort the job
//! (`MPI_Abort`), since the other ranks wait for that rank's halo.

use crate::burgers::{Burgers, all_finite};
use crate::partition::{Block, Partition, PartitionError};
use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::point_to_point::send_receive_into_with_tags;
use mpi::topology::Rank;
use mpi::traits::*;
use revolve::revolver::{ForwardOperator, ReverseOperator, RevolverStats};
use revolve::storage::disk::DiskStore;
use revolve::{Binomial, CheckpointStore, Multistage, NoDisk, RamStore, Revolver, Schedule};
use std::path::PathBuf;

const TAG_TO_LEFT: i32 = 11;
const TAG_TO_RIGHT: i32 = 12;
const TAG_SUM: i32 = 13;

/// What went wrong in a forward or adjoint step on some rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// A field did not have the length of the rank's block.
    Size,
    /// The step produced a NaN or an infinity (unstable time step?).
    NonFinite,
}

/// A step that failed on rank `rank`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rank {rank}, step {step}: {}", match kind {
    FailureKind::Size => "a field does not have the length of the rank's block",
    FailureKind::NonFinite => "non-finite value (unstable time step?)",
})]
pub struct StepFailure {
    /// The rank (the lowest one failing at `step`).
    pub rank: Rank,
    /// The step (the earliest failing one).
    pub step: u64,
    /// What failed.
    pub kind: FailureKind,
    /// `true` if every rank reports this failure (forward steps); `false` if only `rank` knows.
    pub agreed: bool,
}

/// What can go wrong in a distributed gradient.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistributedError {
    /// The grid has fewer points than there are ranks.
    #[error(transparent)]
    Partition(#[from] PartitionError),
    /// The block that rank `rank` passed (initial state, or the field to [`gather`]) has the
    /// wrong length.
    #[error("rank {rank}: block has {found} points, the rank owns {expected}")]
    InitialSize {
        /// The lowest rank with a wrong block.
        rank: Rank,
        /// Points it owns (on the rank that reports it: that rank's own count).
        expected: usize,
        /// Points it was given (likewise).
        found: usize,
    },
    /// Rank `rank` could not set up its checkpoint store.
    #[error("rank {rank}: cannot set up its checkpoint store: {detail}")]
    Setup {
        /// The lowest failing rank.
        rank: Rank,
        /// Its error (the full text on that rank; the others say which rank failed).
        detail: String,
    },
    /// A forward step failed; every rank returns the same one.
    #[error(transparent)]
    Step(StepFailure),
    /// The grid is too large for MPI's 32-bit counts in [`gather`].
    #[error("{points} grid points: too many to gather with 32-bit MPI counts")]
    GatherCount {
        /// Grid points.
        points: usize,
    },
    /// MPI was initialised already, or does not allow threads besides the one calling MPI
    /// ([`sampler::mpi::initialize`]).
    #[error(transparent)]
    Init(#[from] sampler::mpi::InitError),
    /// The schedule or the Revolver failed.
    #[error("rank {rank}: {source}")]
    Revolve {
        /// The rank reporting it.
        rank: Rank,
        /// The error.
        #[source]
        source: revolve::Error,
    },
}

impl DistributedError {
    /// `true` if every rank returns this error (exit normally); `false` if it is this rank's
    /// alone (its disk, a misused operator): the other ranks wait for its halo, so abort the job.
    pub fn is_collective(&self) -> bool {
        match self {
            DistributedError::Step(f) => f.agreed,
            DistributedError::Revolve { source, .. } => matches!(
                source,
                revolve::Error::ZeroSteps
                    | revolve::Error::ZeroSnaps
                    | revolve::Error::Overflow { .. }
                    | revolve::Error::TooLarge { .. }
                    | revolve::Error::Usage(_)
            ),
            _ => true,
        }
    }
}

/// A rank's link to its two neighbours on the periodic ring of ranks.
struct Halo<'c, C: Communicator> {
    comm: &'c C,
    left: Rank,
    right: Rank,
    bytes: u64,
}

impl<'c, C: Communicator> Halo<'c, C> {
    fn new(comm: &'c C) -> Self {
        let (rank, size) = (comm.rank(), comm.size());
        Halo {
            comm,
            left: (rank + size - 1) % size,
            right: (rank + 1) % size,
            bytes: 0,
        }
    }

    /// Sends `first` to the left neighbour and `last` to the right one; returns the values just
    /// outside this block: (left neighbour's last, right neighbour's first).
    fn exchange(&mut self, first: f64, last: f64) -> (f64, f64) {
        let left = self.comm.process_at_rank(self.left);
        let right = self.comm.process_at_rank(self.right);
        let (mut from_left, mut from_right) = (0.0f64, 0.0f64);
        send_receive_into_with_tags(
            &first,
            &left,
            TAG_TO_LEFT,
            &mut from_right,
            &right,
            TAG_TO_LEFT,
        );
        send_receive_into_with_tags(
            &last,
            &right,
            TAG_TO_RIGHT,
            &mut from_left,
            &left,
            TAG_TO_RIGHT,
        );
        self.bytes += 2 * size_of::<f64>() as u64;
        (from_left, from_right)
    }
}

/// The forward operator on this rank's block: one halo exchange per step, then
/// [`Burgers::step_block`]. Every rank must call it with the same steps.
pub struct DistributedForward<'c, C: Communicator> {
    model: Burgers,
    halo: Halo<'c, C>,
    rank: Rank,
    len: usize,
    scratch: Vec<f64>,
}

impl<'c, C: Communicator> DistributedForward<'c, C> {
    /// The forward operator of `model` on this rank's block of `partition`.
    pub fn new(model: Burgers, comm: &'c C, partition: &Partition) -> Self {
        let len = partition.block(rank_index(comm)).len();
        DistributedForward {
            model,
            halo: Halo::new(comm),
            rank: comm.rank(),
            len,
            scratch: vec![0.0; len],
        }
    }

    /// Bytes this rank has sent to its neighbours.
    pub fn halo_bytes(&self) -> u64 {
        self.halo.bytes
    }

    /// Steps `from..to` starting from `src` (or `dst` itself), ending in `dst`; then the
    /// collective agreement on the first failure.
    fn steps(
        &mut self,
        src: Option<&[f64]>,
        dst: &mut Vec<f64>,
        from: u64,
        to: u64,
    ) -> Result<(), StepFailure> {
        let m = self.len;
        let mut failure = None;
        if dst.len() != m || src.is_some_and(|s| s.len() != m) {
            // Keep the exchanges paired with the neighbours', then report.
            for _ in from..to {
                self.halo.exchange(0.0, 0.0);
            }
            failure = Some((from, FailureKind::Size));
        } else {
            let (model, halo) = (&self.model, &mut self.halo);
            let mut step = |u: &[f64], out: &mut [f64], k: u64| {
                let (l, r) = halo.exchange(u[0], u[m - 1]);
                model.step_block(l, u, r, out);
                if failure.is_none() && !all_finite(out) {
                    failure = Some((k, FailureKind::NonFinite));
                }
            };
            let mut k = from;
            if let Some(src) = src
                && k < to
            {
                step(src, dst, k);
                k += 1;
            }
            for k in k..to {
                step(dst, &mut self.scratch, k);
                std::mem::swap(dst, &mut self.scratch);
            }
        }
        agree(self.halo.comm, self.rank, failure)
    }
}

/// The earliest failure over all ranks (lowest rank among those failing at that step), the same
/// on every rank. One `MPI_Allreduce` (two when something failed).
fn agree<C: Communicator>(
    comm: &C,
    rank: Rank,
    local: Option<(u64, FailureKind)>,
) -> Result<(), StepFailure> {
    let key = local.map_or(u64::MAX, |(step, kind)| {
        step.saturating_mul(2)
            .saturating_add(u64::from(kind == FailureKind::NonFinite))
            .min(u64::MAX - 1)
    });
    let mut first = u64::MAX;
    comm.all_reduce_into(&key, &mut first, SystemOperation::min());
    if first == u64::MAX {
        return Ok(());
    }
    let mine = if key == first { rank } else { Rank::MAX };
    let mut lowest = Rank::MAX;
    comm.all_reduce_into(&mine, &mut lowest, SystemOperation::min());
    Err(StepFailure {
        rank: lowest,
        step: first / 2,
        kind: if first % 2 == 0 {
            FailureKind::Size
        } else {
            FailureKind::NonFinite
        },
        agreed: true,
    })
}

impl<C: Communicator> ForwardOperator<Vec<f64>> for DistributedForward<'_, C> {
    type Error = StepFailure;

    fn advance(&mut self, state: &mut Vec<f64>, from: u64, to: u64) -> Result<(), StepFailure> {
        self.steps(None, state, from, to)
    }

    fn out_of_place(&self) -> bool {
        true
    }

    fn advance_from(
        &mut self,
        src: &Vec<f64>,
        dst: &mut Vec<f64>,
        from: u64,
        to: u64,
    ) -> Result<(), StepFailure> {
        self.steps(Some(src), dst, from, to)
    }
}

/// The adjoint operator on this rank's block: one halo exchange of the adjoint per step, then
/// [`Burgers::adjoint_block`]. A size error here is this rank's alone (`agreed: false`).
pub struct DistributedAdjoint<'c, C: Communicator> {
    model: Burgers,
    halo: Halo<'c, C>,
    rank: Rank,
    len: usize,
    scratch: Vec<f64>,
}

impl<'c, C: Communicator> DistributedAdjoint<'c, C> {
    /// The adjoint operator of `model` on this rank's block of `partition`.
    pub fn new(model: Burgers, comm: &'c C, partition: &Partition) -> Self {
        let len = partition.block(rank_index(comm)).len();
        DistributedAdjoint {
            model,
            halo: Halo::new(comm),
            rank: comm.rank(),
            len,
            scratch: vec![0.0; len],
        }
    }

    /// Bytes this rank has sent to its neighbours.
    pub fn halo_bytes(&self) -> u64 {
        self.halo.bytes
    }
}

impl<C: Communicator> ReverseOperator<Vec<f64>, Vec<f64>> for DistributedAdjoint<'_, C> {
    type Error = StepFailure;

    fn reverse(&mut self, u: &Vec<f64>, lam: &mut Vec<f64>, step: u64) -> Result<(), StepFailure> {
        let m = self.len;
        if u.len() != m || lam.len() != m {
            self.halo.exchange(0.0, 0.0);
            return Err(StepFailure {
                rank: self.rank,
                step,
                kind: FailureKind::Size,
                agreed: false,
            });
        }
        let (l, r) = self.halo.exchange(lam[0], lam[m - 1]);
        self.model.adjoint_block(u, l, lam, r, &mut self.scratch);
        std::mem::swap(lam, &mut self.scratch);
        Ok(())
    }
}

fn rank_index<C: Communicator>(comm: &C) -> usize {
    usize::try_from(comm.rank()).unwrap_or(0)
}

/// Where each rank keeps its checkpoints. Every rank must pass the same counts.
#[derive(Clone, Debug, PartialEq)]
pub enum Checkpoints {
    /// `snaps` RAM slots, optimal binomial schedule ([`Binomial`]).
    Ram {
        /// Slots, including the one for the initial state.
        snaps: u64,
    },
    /// `ram` RAM slots and `disk` disk slots, the multistage schedule
    /// ([`Multistage::best`]); rank `r` puts its slot files in `dir/rank-r` (created; node-local
    /// disk on a cluster).
    RamAndDisk {
        /// RAM slots.
        ram: u64,
        /// Disk slots.
        disk: u64,
        /// Parent directory of the per-rank directories.
        dir: PathBuf,
    },
}

/// This rank's share of a distributed gradient.
#[derive(Clone, Debug)]
pub struct RankGradient {
    /// `J(u_n) = 1/2 ||u_n||^2` over the whole grid (the same on every rank).
    pub objective: f64,
    /// This rank's block of the grid.
    pub block: Block,
    /// `dJ/du_0` on this rank's block.
    pub gradient: Vec<f64>,
    /// What this rank's Revolver did (the same counts on every rank).
    pub stats: RevolverStats,
    /// Bytes this rank sent to its neighbours (forward and adjoint halos).
    pub halo_bytes: u64,
}

/// `J = 1/2 ||u_n||^2` and this rank's block of `dJ/du_0`, after `steps` steps from `u0_block`
/// (this rank's block of the initial state), each rank checkpointing its own block as
/// `checkpoints` says. Collective: every rank of `comm` calls it with the same model, steps and
/// counts. On an error with [`DistributedError::is_collective`] `false`, abort the job.
pub fn gradient<C: Communicator>(
    comm: &C,
    model: &Burgers,
    u0_block: &[f64],
    steps: u64,
    checkpoints: &Checkpoints,
) -> Result<RankGradient, DistributedError> {
    let rank = comm.rank();
    let size = usize::try_from(comm.size()).unwrap_or(0);
    let partition = Partition::new(model.points(), size)?;
    let block = partition.block(rank_index(comm));
    let found = u0_block.len();
    if let Err(StepFailure { rank, .. }) = agree(
        comm,
        rank,
        (found != block.len()).then_some((0, FailureKind::Size)),
    ) {
        return Err(DistributedError::InitialSize {
            rank,
            expected: block.len(),
            found,
        });
    }
    let fwd = DistributedForward::new(model.clone(), comm, &partition);
    let adj = DistributedAdjoint::new(model.clone(), comm, &partition);
    let revolve_err = |source| DistributedError::Revolve { rank, source };
    let u0 = u0_block.to_vec();
    match checkpoints {
        Checkpoints::Ram { snaps } => {
            let plan = Binomial::new(steps, *snaps).map_err(revolve_err)?;
            let slots = usize::try_from(*snaps).unwrap_or(usize::MAX);
            run(comm, (fwd, adj), plan, slots, None, u0, block)
        }
        Checkpoints::RamAndDisk { ram, disk, dir } => {
            let plan = Multistage::best(steps, *ram, *disk).map_err(revolve_err)?;
            let store = disk_store(dir, rank, *disk, &u0);
            let failure = store.as_ref().err().map(|_| (0, FailureKind::Size));
            if let Err(f) = agree(comm, rank, failure) {
                let detail = match &store {
                    Err(e) if f.rank == rank => e.to_string(),
                    _ => format!("see rank {}", f.rank),
                };
                return Err(DistributedError::Setup {
                    rank: f.rank,
                    detail,
                });
            }
            let disk = store
                .ok()
                .map(|s| Box::new(s) as Box<dyn CheckpointStore<Vec<f64>>>);
            let slots = usize::try_from(*ram).unwrap_or(usize::MAX);
            run(comm, (fwd, adj), plan, slots, disk, u0, block)
        }
    }
}

/// Rank `rank`'s disk store of `slots` checkpoints in `dir/rank-<rank>`.
fn disk_store(
    dir: &std::path::Path,
    rank: Rank,
    slots: u64,
    prototype: &Vec<f64>,
) -> Result<DiskStore<Vec<f64>>, revolve::Error> {
    DiskStore::builder(slots)
        .dir(dir.join(format!("rank-{rank}")))
        .build(prototype)
}

/// This rank's Revolver.
type RankRevolver<'c, C, P> = Revolver<
    Vec<f64>,
    DistributedForward<'c, C>,
    DistributedAdjoint<'c, C>,
    P,
    Box<dyn CheckpointStore<Vec<f64>>>,
>;

/// The one place a Revolver is built.
fn revolver<'c, C: Communicator, P: Schedule>(
    ops: (DistributedForward<'c, C>, DistributedAdjoint<'c, C>),
    plan: P,
    ram_slots: usize,
    disk: Option<Box<dyn CheckpointStore<Vec<f64>>>>,
    prototype: &Vec<f64>,
) -> Result<RankRevolver<'c, C, P>, revolve::Error> {
    let rv = Revolver::new(plan, ops.0, ops.1, RamStore::new(ram_slots, prototype))?;
    Ok(rv.with_disk(disk.unwrap_or_else(|| Box::new(NoDisk))))
}

/// A Revolver error as a [`DistributedError`]: an agreed step failure stays collective.
fn classify(rank: Rank, e: revolve::Error) -> DistributedError {
    if let revolve::Error::Operator { source, .. } = &e
        && let Some(f) = source.downcast_ref::<StepFailure>()
    {
        return DistributedError::Step(*f);
    }
    DistributedError::Revolve { rank, source: e }
}

#[allow(clippy::too_many_arguments)]
fn run<'c, C: Communicator, P: Schedule>(
    comm: &'c C,
    ops: (DistributedForward<'c, C>, DistributedAdjoint<'c, C>),
    plan: P,
    ram_slots: usize,
    disk: Option<Box<dyn CheckpointStore<Vec<f64>>>>,
    u0: Vec<f64>,
    block: Block,
) -> Result<RankGradient, DistributedError> {
    let rank = comm.rank();
    let mut rv = revolver(ops, plan, ram_slots, disk, &u0)
        .map_err(|source| DistributedError::Revolve { rank, source })?;
    let mut u = u0;
    rv.apply_forward(&mut u).map_err(|e| classify(rank, e))?;
    let objective = 0.5 * ordered_sum_squares(comm, &u);
    // dJ/du_n = u_n seeds the adjoint.
    let mut lam = u;
    rv.apply_reverse(&mut lam).map_err(|e| classify(rank, e))?;
    let halo_bytes = rv.forward_operator().halo_bytes() + rv.reverse_operator().halo_bytes();
    Ok(RankGradient {
        objective,
        block,
        gradient: lam,
        stats: rv.stats(),
        halo_bytes,
    })
}

/// `sum u_i^2` over the whole grid, added in grid order (rank 0's block first), so it equals the
/// serial [`Burgers::sum_squares`] bit for bit; the same value on every rank.
pub fn ordered_sum_squares<C: Communicator>(comm: &C, block: &[f64]) -> f64 {
    let (rank, size) = (comm.rank(), comm.size());
    let mut acc = 0.0f64;
    if rank > 0 {
        comm.process_at_rank(rank - 1)
            .receive_into_with_tag(&mut acc, TAG_SUM);
    }
    acc = Burgers::sum_squares(acc, block);
    if rank + 1 < size {
        comm.process_at_rank(rank + 1).send_with_tag(&acc, TAG_SUM);
    }
    comm.process_at_rank(size - 1).broadcast_into(&mut acc);
    acc
}

/// The whole field on rank 0 (`None` on the others) from every rank's block of `partition`.
/// Collective.
pub fn gather<C: Communicator>(
    comm: &C,
    partition: &Partition,
    block: &[f64],
) -> Result<Option<Vec<f64>>, DistributedError> {
    // MPI counts are 32-bit; every rank checks, so all return the error together.
    let points = partition.points();
    if i32::try_from(points).is_err() {
        return Err(DistributedError::GatherCount { points });
    }
    let counts: Vec<i32> = partition.blocks().map(|b| b.len() as i32).collect();
    let displs: Vec<i32> = partition.blocks().map(|b| b.lo as i32).collect();
    let (rank, expected) = (comm.rank(), partition.block(rank_index(comm)).len());
    let wrong = (block.len() != expected).then_some((0, FailureKind::Size));
    if let Err(f) = agree(comm, rank, wrong) {
        return Err(DistributedError::InitialSize {
            rank: f.rank,
            expected,
            found: block.len(),
        });
    }
    let root = comm.process_at_rank(0);
    if comm.rank() != 0 {
        root.gather_varcount_into(block);
        return Ok(None);
    }
    let mut all = vec![0.0; partition.points()];
    {
        let mut parts = PartitionMut::new(&mut all[..], counts, displs);
        root.gather_varcount_into_root(block, &mut parts);
    }
    Ok(Some(all))
}
