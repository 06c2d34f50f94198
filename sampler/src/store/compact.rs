//! Compact trajectories: full states only at checkpoints placed by a policy (uniform or a
//! `revolve` online schedule), shared between parent and children by reference counting, kept in
//! RAM up to an ensemble-wide budget and spilled to checksummed files beyond it.

use super::TrajectoryStore;
use super::budget::{Budget, BudgetStats};
use super::spill::{SpillDir, StateBytes, read_state, write_state};
use crate::{Error, Result, StoreError};
use revolve::storage::disk::Codec;
use revolve::{Action, Online};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where a trajectory keeps checkpoints (besides step 0, which every trajectory shares).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Every `interval` steps (steps that are multiples of `interval`).
    Uniform {
        /// Steps between checkpoints (>= 1).
        interval: u64,
    },
    /// As the `revolve` online planner ([`Online`]) places them while the trajectory grows
    /// (its length is not known in advance), with `slots` checkpoints per trajectory besides
    /// step 0. A child inherits at most half of them from its parent and plans the rest itself
    /// from the branch point on.
    Schedule {
        /// Checkpoints per trajectory besides step 0 (>= 1).
        slots: u64,
    },
}

impl Placement {
    /// Checkpoints per trajectory that fit in `budget` bytes for `ntrajectories` trajectories
    /// of `state_bytes` each (step 0 is shared by all and counted once); at least 1.
    pub fn slots_for(budget: u64, state_bytes: u64, ntrajectories: u64) -> u64 {
        let per = state_bytes.max(1).saturating_mul(ntrajectories.max(1));
        (budget.saturating_sub(state_bytes) / per).max(1)
    }

    /// Uniform placement over `nsteps` steps with [`Placement::slots_for`] checkpoints.
    pub fn uniform_for(budget: u64, state_bytes: u64, ntrajectories: u64, nsteps: u64) -> Self {
        let slots = Self::slots_for(budget, state_bytes, ntrajectories);
        // `slots` multiples of the interval fit in 1..=nsteps, spread over the whole horizon.
        Placement::Uniform {
            interval: nsteps / slots.saturating_add(1) + 1,
        }
    }

    /// Online-schedule placement with [`Placement::slots_for`] checkpoints.
    pub fn schedule_for(budget: u64, state_bytes: u64, ntrajectories: u64) -> Self {
        Placement::Schedule {
            slots: Self::slots_for(budget, state_bytes, ntrajectories),
        }
    }
}

/// One checkpoint: in RAM (counted in the budget) or in a spill file (deleted on drop).
#[derive(Debug)]
struct Checkpoint<S> {
    step: u64,
    bytes: u64,
    body: Body<S>,
    budget: Arc<Budget>,
}

#[derive(Debug)]
enum Body<S> {
    Ram(S),
    Disk { path: PathBuf, _dir: Arc<SpillDir> },
}

impl<S> Drop for Checkpoint<S> {
    fn drop(&mut self) {
        match &self.body {
            Body::Ram(_) => self.budget.release_ram(self.bytes),
            Body::Disk { path, .. } => {
                let _ = std::fs::remove_file(path);
                self.budget.release_disk(self.bytes);
            }
        }
    }
}

/// A compact trajectory: its checkpoints (shared with relatives) in increasing step order.
#[derive(Debug)]
pub struct CompactRecord<S> {
    cps: Vec<Arc<Checkpoint<S>>>,
    /// Steps recorded + 1 (the length a store-all record would have).
    len: u64,
    /// First step planned by this record (0, or the branch point of a child).
    base: u64,
    planner: Option<Online>,
    /// An error of an infallible call (`begin`, `record`, `prefix`), reported by the next
    /// fallible one.
    deferred: Option<Arc<Error>>,
}

impl<S> CompactRecord<S> {
    /// States a store-all record of the same trajectory would hold (last step recorded + 1).
    pub fn store_all_states(&self) -> u64 {
        self.len
    }
    /// Steps of the checkpoints held, increasing.
    pub fn steps(&self) -> Vec<u64> {
        self.cps.iter().map(|c| c.step).collect()
    }
    /// Steps of the checkpoints held in spill files.
    pub fn spilled_steps(&self) -> Vec<u64> {
        self.cps
            .iter()
            .filter(|c| matches!(c.body, Body::Disk { .. }))
            .map(|c| c.step)
            .collect()
    }
    /// Paths of the spill files this record refers to.
    pub fn spill_files(&self) -> Vec<PathBuf> {
        self.cps
            .iter()
            .filter_map(|c| match &c.body {
                Body::Disk { path, .. } => Some(path.clone()),
                Body::Ram(_) => None,
            })
            .collect()
    }
    fn index_at_or_before(&self, step: u64) -> Option<usize> {
        self.cps.partition_point(|c| c.step <= step).checked_sub(1)
    }
    fn has(&self, step: u64) -> bool {
        self.cps.binary_search_by_key(&step, |c| c.step).is_ok()
    }
    fn insert(&mut self, c: Arc<Checkpoint<S>>) {
        let i = self.cps.partition_point(|x| x.step < c.step);
        self.cps.insert(i, c);
    }
}

/// A [`TrajectoryStore`] keeping only checkpoints, under an ensemble-wide RAM budget.
///
/// Per step it keeps nothing (the trajectory's scores and noise lineage live in the
/// [`crate::Trajectory`]); full states only at the checkpoints of its [`Placement`]. A child
/// refers to its parent's checkpoints before the branch point (`Arc`s, never copies); a
/// checkpoint is freed, and its spill file deleted, when no trajectory refers to it. Checkpoints
/// go to RAM while the budget allows and to files in a run-specific directory under
/// `checkpoint_dir` beyond it (removed when the store and its checkpoints are dropped).
///
/// ```
/// use sampler::models::Brownian;
/// use sampler::store::{CompactStore, Placement};
/// use sampler::{Horizon, NoiseKey, RunParams, Tams};
/// let params = RunParams::new(20, 1, 200, Horizon::new(1.0, 0.01, 2.5))?;
/// let key = NoiseKey::new(4, 0);
/// let all = Tams::default().run_ensemble(&Brownian::default(), &params, key, &|_, _| {})?.0;
/// let dir = tempfile::tempdir().unwrap();
/// let store = CompactStore::new(Placement::Uniform { interval: 10 }, 64, dir.path());
/// let compact = Tams::new(store).run_ensemble(&Brownian::default(), &params, key, &|_, _| {})?.0;
/// assert_eq!(all.estimate.to_bits(), compact.estimate.to_bits());
/// # Ok::<(), sampler::Error>(())
/// ```
#[derive(Debug)]
pub struct CompactStore<S> {
    placement: Placement,
    budget: Arc<Budget>,
    dir: PathBuf,
    spill: Mutex<Option<Arc<SpillDir>>>,
    codec: Codec,
    initial: Mutex<Option<Arc<Checkpoint<S>>>>,
}

impl<S: StateBytes + PartialEq> CompactStore<S> {
    /// A store placing checkpoints by `placement`, with `budget` bytes of RAM for all
    /// checkpoints of the ensemble, spilling into a fresh directory inside `checkpoint_dir`.
    pub fn new(placement: Placement, budget: u64, checkpoint_dir: &Path) -> Self {
        CompactStore {
            placement,
            budget: Arc::new(Budget::new(budget)),
            dir: checkpoint_dir.to_path_buf(),
            spill: Mutex::new(None),
            codec: Codec::None,
            initial: Mutex::new(None),
        }
    }

    /// Write spill files through `codec` (default [`Codec::None`]: raw bytes);
    /// [`Codec::zstd()`] shuffles and compresses them losslessly. Each file records its codec,
    /// and results are bit-identical whatever the codec. A lossy codec (zfp) is refused by the
    /// first spill, with an error: spilled states are replayed and must come back bit for bit. The byte counters
    /// ([`stats`](Self::stats)) still count state bytes.
    pub fn with_spill_codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// The codec of new spill files.
    pub fn spill_codec(&self) -> Codec {
        self.codec
    }

    /// The placement policy.
    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// Byte counters (RAM now / peak, spill files now / peak, live checkpoints, spills).
    pub fn stats(&self) -> BudgetStats {
        self.budget.stats()
    }

    /// The spill directory, once something was spilled (removed when the store and every
    /// checkpoint are dropped).
    pub fn spill_dir(&self) -> Option<PathBuf> {
        let g = self.spill.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().map(|d| d.path().to_path_buf())
    }

    fn spill_handle(&self) -> Result<Arc<SpillDir>> {
        let mut g = self.spill.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = g.as_ref() {
            return Ok(d.clone());
        }
        let d = Arc::new(SpillDir::create(&self.dir)?);
        *g = Some(d.clone());
        Ok(d)
    }

    /// A checkpoint of `state` at `step`: in RAM if the budget allows, else in a spill file.
    fn checkpoint(&self, step: u64, state: &S) -> Result<Arc<Checkpoint<S>>> {
        let bytes = state.byte_len() as u64;
        let body = if self.budget.try_reserve_ram(bytes) {
            Body::Ram(state.clone())
        } else {
            let dir = self.spill_handle()?;
            let path = dir.file_for(step);
            write_state(&path, step, state, self.codec)?;
            self.budget.add_disk(bytes);
            Body::Disk { path, _dir: dir }
        };
        Ok(Arc::new(Checkpoint {
            step,
            bytes,
            body,
            budget: self.budget.clone(),
        }))
    }

    fn load(&self, c: &Checkpoint<S>, state: &mut S) -> Result<()> {
        match &c.body {
            Body::Ram(s) => state.clone_from(s),
            Body::Disk { path, .. } => {
                self.budget.count_read();
                read_state(path, c.step, state)?;
            }
        }
        Ok(())
    }

    /// The shared checkpoint of the initial state (one for all trajectories starting there).
    fn initial_checkpoint(&self, initial: &S) -> Result<Arc<Checkpoint<S>>> {
        let mut g = self.initial.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = g.as_ref() {
            let same = match &c.body {
                Body::Ram(s) => s == initial,
                Body::Disk { .. } => {
                    let mut tmp = initial.clone();
                    self.load(c, &mut tmp)?;
                    &tmp == initial
                }
            };
            if same {
                return Ok(c.clone());
            }
        }
        let c = self.checkpoint(0, initial)?;
        *g = Some(c.clone());
        Ok(c)
    }

    /// Apply the planner's actions for the state at `step`.
    fn plan(&self, record: &mut CompactRecord<S>, step: u64, state: &S) -> Result<()> {
        let Some(planner) = record.planner.as_mut() else {
            return Ok(());
        };
        debug_assert_eq!(planner.current() + record.base, step);
        let actions = planner
            .advance()
            .map_err(|e| Error::Store(StoreError::Planner(e)))?;
        for a in actions {
            match a {
                Action::Free { step: rel, .. } => {
                    let at = record.base + rel;
                    if let Ok(i) = record.cps.binary_search_by_key(&at, |c| c.step) {
                        record.cps.remove(i);
                    }
                }
                Action::Store { step: rel, .. } => {
                    let at = record.base + rel;
                    if !record.has(at) {
                        let c = self.checkpoint(at, state)?;
                        record.insert(c);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn child(&self, parent: &CompactRecord<S>, j: u64, state: Option<&S>) -> CompactRecord<S> {
        let mut rec = CompactRecord {
            cps: Vec::new(),
            len: j + 1,
            base: j,
            planner: None,
            deferred: None,
        };
        match self.placement {
            Placement::Uniform { .. } => {
                rec.cps = parent.cps.iter().filter(|c| c.step <= j).cloned().collect();
            }
            Placement::Schedule { slots } => {
                let mut inherited: Vec<_> =
                    parent.cps.iter().filter(|c| c.step < j).cloned().collect();
                thin(&mut inherited, j, (slots / 2).max(1) as usize);
                let own = (slots + 1).saturating_sub(inherited.len() as u64).max(2);
                rec.cps = inherited;
                if let Some(at_j) = parent.cps.iter().find(|c| c.step == j) {
                    rec.cps.push(at_j.clone());
                }
                rec.planner = Online::new(own).ok();
                let planned = match state {
                    Some(s) => self.plan(&mut rec, j, s),
                    None => rec
                        .planner
                        .as_mut()
                        .map_or(Ok(()), |p| p.advance().map(drop))
                        .map_err(|e| Error::Store(StoreError::Planner(e))),
                };
                if let Err(e) = planned {
                    rec.deferred = Some(Arc::new(e));
                }
            }
        }
        rec
    }
}

/// Drop checkpoints (never the first) until at most `cap` remain, each time the one whose
/// removal leaves the shortest merged gap (`end` closes the last gap; ties: the latest).
fn thin<S>(cps: &mut Vec<Arc<Checkpoint<S>>>, end: u64, cap: usize) {
    while cps.len() > cap.max(1) {
        let mut best: Option<(u64, usize)> = None;
        for i in 1..cps.len() {
            let next = cps.get(i + 1).map_or(end, |c| c.step);
            let gap = next - cps[i - 1].step;
            if best.is_none_or(|(g, _)| gap <= g) {
                best = Some((gap, i));
            }
        }
        match best {
            Some((_, i)) => {
                cps.remove(i);
            }
            None => break,
        }
    }
}

impl<S: StateBytes + PartialEq> TrajectoryStore<S> for CompactStore<S> {
    type Record = CompactRecord<S>;

    fn begin(&self, initial: &S) -> CompactRecord<S> {
        let mut rec = CompactRecord {
            cps: Vec::new(),
            len: 1,
            base: 0,
            planner: None,
            deferred: None,
        };
        match self.initial_checkpoint(initial) {
            Ok(c) => rec.cps.push(c),
            Err(e) => rec.deferred = Some(Arc::new(e)),
        }
        if let Placement::Schedule { slots } = self.placement {
            rec.planner = Online::new(slots.saturating_add(1)).ok();
            if let Err(e) = self.plan(&mut rec, 0, initial) {
                rec.deferred = Some(Arc::new(e));
            }
        }
        rec
    }

    fn record(&self, record: &mut CompactRecord<S>, step: u64, state: &S) {
        if let Err(e) = self.try_record(record, step, state) {
            record.deferred = Some(Arc::new(e));
        }
    }

    fn try_record(&self, record: &mut CompactRecord<S>, step: u64, state: &S) -> Result<()> {
        if let Some(e) = record.deferred.take() {
            return Err(Arc::try_unwrap(e).unwrap_or_else(|e| StoreError::Earlier(e).into()));
        }
        record.len = step + 1;
        match self.placement {
            Placement::Uniform { interval } => {
                if step.is_multiple_of(interval.max(1)) && !record.has(step) {
                    let c = self.checkpoint(step, state)?;
                    record.insert(c);
                }
                Ok(())
            }
            Placement::Schedule { .. } => self.plan(record, step, state),
        }
    }

    fn prefix(&self, parent: &CompactRecord<S>, last_step: u64) -> CompactRecord<S> {
        self.child(parent, last_step, None)
    }

    fn prefix_at(&self, parent: &CompactRecord<S>, last_step: u64, state: &S) -> CompactRecord<S> {
        self.child(parent, last_step, Some(state))
    }

    fn nearest<'a>(&self, record: &'a CompactRecord<S>, step: u64) -> Option<(u64, &'a S)> {
        record.cps[..record.index_at_or_before(step)? + 1]
            .iter()
            .rev()
            .find_map(|c| match &c.body {
                Body::Ram(s) => Some((c.step, s)),
                Body::Disk { .. } => None,
            })
    }

    fn restore(&self, record: &CompactRecord<S>, step: u64, state: &mut S) -> Result<u64> {
        if let Some(e) = &record.deferred {
            return Err(StoreError::Earlier(e.clone()).into());
        }
        let i = record
            .index_at_or_before(step)
            .ok_or(StoreError::MissingState { step })?;
        let c = &record.cps[i];
        self.load(c, state)?;
        Ok(c.step)
    }

    fn held(&self, record: &CompactRecord<S>) -> u64 {
        record.cps.len() as u64
    }

    fn held_steps(&self, record: &CompactRecord<S>) -> Option<Vec<u64>> {
        Some(record.steps())
    }

    fn record_from_held(
        &self,
        initial: &S,
        states: Vec<(u64, S)>,
        last_step: u64,
    ) -> Option<Result<CompactRecord<S>>> {
        // A completed record is only read (branch points, prefixes), never planned further.
        let build = || {
            let mut cps = vec![self.initial_checkpoint(initial)?];
            for (step, state) in &states {
                cps.push(self.checkpoint(*step, state)?);
            }
            Ok(CompactRecord {
                cps,
                len: last_step + 1,
                base: last_step,
                planner: None,
                deferred: None,
            })
        };
        Some(build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_placements_fit_the_budget() {
        // 1 GiB, 8 MB states, 32 trajectories: 4 checkpoints each besides the shared step 0.
        let (b, s, n) = (1u64 << 30, 8_000_000, 32);
        assert_eq!(Placement::slots_for(b, s, n), 4);
        let Placement::Uniform { interval } = Placement::uniform_for(b, s, n, 200) else {
            unreachable!()
        };
        assert_eq!(200 / interval, 4);
        assert_eq!(
            Placement::schedule_for(b, s, n),
            Placement::Schedule { slots: 4 }
        );
        // A budget below one state still gives one checkpoint (the rest spills).
        assert_eq!(Placement::slots_for(10, s, n), 1);
    }

    #[test]
    fn schedule_records_stay_within_their_slots() {
        let dir = std::env::temp_dir();
        let store = CompactStore::new(Placement::Schedule { slots: 5 }, 1 << 20, &dir);
        let mut rec = store.begin(&vec![0.0f64; 4]);
        for step in 1..=500u64 {
            store
                .try_record(&mut rec, step, &vec![step as f64; 4])
                .unwrap();
            assert!(rec.cps.len() <= 6, "{:?}", rec.steps());
        }
        let child = store.prefix_at(&rec, 321, &vec![321.0; 4]);
        assert!(child.steps().contains(&321) && child.steps()[0] == 0);
        assert!(child.steps().iter().all(|&s| s <= 321));
        let mut out = vec![0.0; 4];
        assert_eq!(store.restore(&child, 321, &mut out).unwrap(), 321);
        assert_eq!(out, vec![321.0; 4]);
        let k = store.restore(&rec, 400, &mut out).unwrap();
        assert_eq!(out, vec![k as f64; 4]);
        drop((rec, child));
        assert_eq!(store.stats().live, 1);
    }
}
