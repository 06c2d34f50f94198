//! Rank 0's side: the TAMS loop's [`Compute`] over ranks. Fresh trajectories are dealt to
//! ranks in contiguous id blocks; a branch task goes to the rank holding its parent while that
//! rank has at most its share of the iteration's tasks, otherwise to the least-loaded rank,
//! which gets the parent's held states (through rank 0) and rebuilds the owner's record from
//! them: every counter equals the single-process run's either way.

use super::link::Link;
use super::messages::{Adopted, FromWorker, HeldStates, Import, ToWorker};
use super::moves::{assign, export_states, import};
use super::transport::Transport;
use crate::journal::Resume;
use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, Parent, Work, branch_from, branch_step, child_lineage, fresh};
use crate::store::{StateBytes, TrajectoryStore};
use crate::strategy::compute::{Compute, Task};
use crate::trajectory::{Ensemble, Segment, Trajectory};
use crate::{Error, Model, NoiseKey, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

/// Where a trajectory's states live: in this rank's store, or on another rank (which reported
/// how many states its record holds).
#[derive(Debug)]
pub(crate) enum Placed<R> {
    /// Held here.
    Here(R),
    /// Held by `rank`.
    There {
        /// The rank.
        rank: i32,
        /// States its record holds there.
        held: u64,
    },
}

impl<R> Placed<R> {
    fn rank(&self) -> i32 {
        match self {
            Placed::Here(_) => 0,
            Placed::There { rank, .. } => *rank,
        }
    }
}

/// Ids (or slots) `lo..hi` of rank `rank` among `size` ranks: contiguous blocks, sizes
/// differing by at most one.
pub(crate) fn block(n: u64, rank: i32, size: i32) -> (u64, u64) {
    let at = |r: i32| (u128::from(n) * r as u128 / size as u128) as u64;
    (at(rank), at(rank + 1))
}

fn here<R>(t: Trajectory<R>) -> Trajectory<Placed<R>> {
    Trajectory {
        id: t.id,
        lineage: t.lineage,
        scores: t.scores,
        max_score: t.max_score,
        reached: t.reached,
        record: Placed::Here(t.record),
    }
}

fn unexpected(rank: i32, what: &str) -> Error {
    Error::Rank {
        rank,
        message: format!("sent an unexpected answer ({what})"),
    }
}

/// Rank 0's [`Compute`]: its own share on its rayon pool, the rest by message.
pub(crate) struct Coordinator<'a, 'l, M, St, T> {
    pub model: &'a M,
    pub store: &'a St,
    pub horizon: &'a Horizon,
    pub key: NoiseKey,
    pub pool: &'a rayon::ThreadPool,
    pub link: &'a mut Link<'l, T>,
}

impl<M: Model, St: TrajectoryStore<M::State>, T: Transport> Coordinator<'_, '_, M, St, T>
where
    M::State: StateBytes,
{
    /// Deal a restored ensemble to the ranks (slot blocks): rank 0 keeps its share's records;
    /// the others rebuild theirs by replay from the recorded lineage and scores. The loop
    /// state's `held` becomes what the ranks hold.
    pub(crate) fn adopt(
        &mut self,
        resume: Resume<St::Record>,
    ) -> Result<Resume<Placed<St::Record>>> {
        let size = self.link.size();
        let n = resume.ensemble.trajectories.len() as u64;
        let mut out = Vec::with_capacity(n as usize);
        let mut lists: Vec<Vec<Adopted>> = (0..size).map(|_| Vec::new()).collect();
        let mut rank = 0;
        for (slot, t) in resume.ensemble.trajectories.into_iter().enumerate() {
            while block(n, rank, size).1 <= slot as u64 {
                rank += 1;
            }
            if rank == 0 {
                out.push(here(t));
                continue;
            }
            lists[rank as usize].push(Adopted {
                id: t.id,
                lineage: t.lineage.iter().map(|s| (s.start_step, s.stream)).collect(),
                scores: t.scores.clone(),
            });
            out.push(Trajectory {
                id: t.id,
                lineage: t.lineage,
                scores: t.scores,
                max_score: t.max_score,
                reached: t.reached,
                record: Placed::There { rank, held: 0 },
            });
        }
        let since = Instant::now();
        let mut ranks = Vec::new();
        for (r, list) in lists.iter_mut().enumerate().skip(1) {
            if !list.is_empty() {
                let trajectories = std::mem::take(list);
                self.link
                    .send(r as i32, &ToWorker::Adopt { trajectories })?;
                ranks.push(r as i32);
            }
        }
        let answers = self.link.gather(&ranks, since, &|r| {
            let (lo, hi) = block(n, r, size);
            format!("rebuilding {} trajectories for a restart", hi - lo)
        })?;
        for (&r, a) in ranks.iter().zip(answers) {
            let FromWorker::Adopted(a) = a else {
                return Err(unexpected(r, "not an adoption"));
            };
            let held = a.map_err(|f| f.error.into_error(r))?;
            let (lo, hi) = block(n, r, size);
            if held.len() as u64 != hi - lo {
                return Err(unexpected(r, "wrong number of trajectories"));
            }
            for (t, h) in out[lo as usize..hi as usize].iter_mut().zip(held) {
                t.record = Placed::There { rank: r, held: h };
            }
        }
        let held = out.iter().map(|t| self.held(&t.record)).sum();
        let mut state = resume.state;
        state.held = held;
        Ok(Resume {
            ensemble: Ensemble {
                trajectories: out,
                next_id: resume.ensemble.next_id,
            },
            state,
            kills: resume.kills,
            partial: false,
        })
    }
}

impl<M: Model, St: TrajectoryStore<M::State>, T: Transport> Coordinator<'_, '_, M, St, T>
where
    M::State: StateBytes,
{
    /// The held states of each moved parent (index into `parents`), from its owner: rank 0's
    /// own from its store, the others' by one request per owner.
    fn collect_states(
        &mut self,
        iteration: u64,
        parents: &[Trajectory<Placed<St::Record>>],
        moves: &[(usize, usize)],
    ) -> Result<HashMap<usize, HeldStates>> {
        let mut wanted: Vec<usize> = moves.iter().map(|&(p, _)| p).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = HashMap::with_capacity(wanted.len());
        if wanted.is_empty() {
            return Ok(out);
        }
        let size = self.link.size() as usize;
        let mut by_owner: Vec<Vec<usize>> = vec![Vec::new(); size];
        for &p in &wanted {
            by_owner[parents[p].record.rank() as usize].push(p);
        }
        let since = Instant::now();
        let mut ranks = Vec::new();
        for (r, list) in by_owner.iter().enumerate().skip(1) {
            if !list.is_empty() {
                let ids = list.iter().map(|&p| parents[p].id).collect();
                self.link
                    .send(r as i32, &ToWorker::Export { iteration, ids })?;
                ranks.push(r as i32);
            }
        }
        let template = self.model.initial_state();
        for &p in &by_owner[0] {
            let Placed::Here(record) = &parents[p].record else {
                return Err(unexpected(0, "a parent held elsewhere"));
            };
            out.insert(p, export_states(self.store, record, &template)?);
        }
        let answers = self.link.gather(&ranks, since, &|r| {
            let k = by_owner[r as usize].len();
            format!("computing iteration {iteration} (sending {k} parents' states for balance)")
        })?;
        for (&r, a) in ranks.iter().zip(answers) {
            let FromWorker::Exported(a) = a else {
                return Err(unexpected(r, "not states"));
            };
            let sent = a.map_err(|f| f.error.into_error(r))?;
            let mine = &by_owner[r as usize];
            if sent.len() != mine.len() {
                return Err(unexpected(r, "states of the wrong number of parents"));
            }
            for (&p, states) in mine.iter().zip(sent) {
                out.insert(p, states);
            }
        }
        let bytes: usize = out.values().flatten().map(|(_, b)| b.0.len()).sum();
        self.link.traffic.moved_bytes += bytes as u64;
        Ok(out)
    }
}

impl<M: Model, St: TrajectoryStore<M::State>, T: Transport> Compute
    for Coordinator<'_, '_, M, St, T>
where
    M::State: StateBytes,
{
    type Record = Placed<St::Record>;

    fn fresh(&mut self, n: u64) -> Result<Vec<(Trajectory<Self::Record>, Work)>> {
        let size = self.link.size();
        let since = Instant::now();
        for r in 1..size {
            let (lo, hi) = block(n, r, size);
            self.link.send(r, &ToWorker::Fresh { lo, hi })?;
        }
        let (model, store, h, key) = (self.model, self.store, self.horizon, self.key);
        let (lo, hi) = block(n, 0, size);
        let own = self.pool.install(|| {
            collect_ordered(
                (lo..hi)
                    .into_par_iter()
                    .map(|id| fresh(model, store, h, key, id)),
            )
        });
        let ranks: Vec<i32> = (1..size).collect();
        let answers = self.link.gather(&ranks, since, &|r| {
            let (lo, hi) = block(n, r, size);
            format!("computing the initial ensemble (trajectories {lo}..{hi})")
        })?;
        let mut out: Vec<_> = own?.into_iter().map(|(t, w)| (here(t), w)).collect();
        for (&r, a) in ranks.iter().zip(answers) {
            let FromWorker::Computed(a) = a else {
                return Err(unexpected(r, "not trajectories"));
            };
            let made = a.map_err(|f| f.error.into_error(r))?;
            let (lo, hi) = block(n, r, size);
            if made.len() as u64 != hi - lo {
                return Err(unexpected(r, "wrong number of trajectories"));
            }
            for (id, c) in (lo..hi).zip(made) {
                let t = Trajectory {
                    id,
                    lineage: vec![Segment {
                        start_step: 0,
                        stream: id,
                    }],
                    scores: c.tail,
                    max_score: c.max_score,
                    reached: c.reached,
                    record: Placed::There {
                        rank: r,
                        held: c.held,
                    },
                };
                let w = Work {
                    steps: c.steps,
                    replayed: c.replayed,
                };
                out.push((t, w));
            }
        }
        Ok(out)
    }

    fn branch(
        &mut self,
        iteration: u64,
        parents: &[Trajectory<Self::Record>],
        level: f64,
        tasks: &[Task],
    ) -> Result<Vec<(Trajectory<Self::Record>, Work)>> {
        let size = self.link.size() as usize;
        let owners: Vec<usize> = tasks
            .iter()
            .map(|&(_, p, _)| parents[p].record.rank() as usize)
            .collect();
        // Cost of a task: the steps from its branch point to the horizon (an upper bound).
        let costs = tasks
            .iter()
            .map(|&(_, p, _)| {
                branch_step(&parents[p].scores, level)
                    .map(|j| self.horizon.nsteps.saturating_sub(j) + 1)
            })
            .collect::<Result<Vec<u64>>>()?;
        let exec = assign(&owners, &costs, size);
        let mut per: Vec<Vec<usize>> = vec![Vec::new(); size];
        let mut drops: Vec<Vec<u64>> = vec![Vec::new(); size];
        // (parent index, computing rank) for the tasks computed away from their parent.
        let mut moves: Vec<(usize, usize)> = Vec::new();
        for (i, &(slot, p, _)) in tasks.iter().enumerate() {
            per[exec[i]].push(i);
            if exec[i] != owners[i] && !moves.contains(&(p, exec[i])) {
                moves.push((p, exec[i]));
            }
            if let Placed::There { rank, .. } = parents[slot].record {
                drops[rank as usize].push(parents[slot].id);
            }
        }
        let states = self.collect_states(iteration, parents, &moves)?;
        let t = &mut self.link.traffic;
        t.tasks.resize(size, 0);
        for (r, mine) in per.iter().enumerate() {
            t.tasks[r] += mine.len() as u64;
        }
        t.critical += per.iter().map(|m| m.len() as u64).max().unwrap_or(0);
        t.moved += exec.iter().zip(&owners).filter(|(e, o)| e != o).count() as u64;
        let mut imports: Vec<Vec<Import>> = (0..size).map(|_| Vec::new()).collect();
        for &(p, e) in &moves {
            let par = &parents[p];
            imports[e].push(Import {
                id: par.id,
                lineage: par
                    .lineage
                    .iter()
                    .map(|s| (s.start_step, s.stream))
                    .collect(),
                scores: par.scores.clone(),
                states: states[&p].clone(),
            });
        }
        let since = Instant::now();
        let mut ranks = Vec::new();
        for r in 1..size {
            if per[r].is_empty() && drops[r].is_empty() {
                continue;
            }
            let msg = ToWorker::Branch {
                iteration,
                level,
                tasks: per[r]
                    .iter()
                    .map(|&i| (parents[tasks[i].1].id, tasks[i].2))
                    .collect(),
                imports: std::mem::take(&mut imports[r]),
                drop: std::mem::take(&mut drops[r]),
            };
            self.link.send(r as i32, &msg)?;
            ranks.push(r as i32);
        }
        let (model, store, h, key) = (self.model, self.store, self.horizon, self.key);
        // Parents rank 0 branches from in their owners' place, for this iteration only.
        let mut local: HashMap<usize, Trajectory<St::Record>> = HashMap::new();
        for i in std::mem::take(&mut imports[0]) {
            let p = moves
                .iter()
                .find(|&&(p, e)| e == 0 && parents[p].id == i.id)
                .map(|&(p, _)| p)
                .ok_or_else(|| unexpected(0, "an import for no task"))?;
            local.insert(p, import(model, store, h, key, i, 0)?);
        }
        let make = |&i: &usize| {
            let (_, p, id) = tasks[i];
            let par = &parents[p];
            let record = match (&par.record, local.get(&p)) {
                (Placed::Here(record), _) => record,
                (Placed::There { .. }, Some(t)) => &t.record,
                (Placed::There { .. }, None) => {
                    return Err(unexpected(0, "a task for another rank"));
                }
            };
            let parent = Parent {
                lineage: &par.lineage,
                scores: &par.scores,
                record,
            };
            branch_from(model, store, h, key, parent, level, id)
        };
        let own: Vec<Result<_>> = match per[0].as_slice() {
            [] => Vec::new(),
            [one] => vec![make(one)],
            many => self.pool.install(|| many.par_iter().map(make).collect()),
        };
        drop(local);
        let answers = self.link.gather(&ranks, since, &|r| {
            let k = per[r as usize].len();
            format!("computing iteration {iteration} ({k} branch tasks)")
        })?;
        let mut out: Vec<Option<(Trajectory<Self::Record>, Work)>> =
            (0..tasks.len()).map(|_| None).collect();
        // The error of the first failing task in task order, as the single-process loop.
        let mut first: Option<(usize, Error)> = None;
        let mut fail = |i: usize, e: Error| {
            if first.as_ref().is_none_or(|(j, _)| i < *j) {
                first = Some((i, e));
            }
        };
        for (&i, r) in per[0].iter().zip(own) {
            match r {
                Ok((t, w)) => out[i] = Some((here(t), w)),
                Err(e) => fail(i, e),
            }
        }
        for (&r, a) in ranks.iter().zip(answers) {
            let mine = &per[r as usize];
            let FromWorker::Computed(a) = a else {
                return Err(unexpected(r, "not trajectories"));
            };
            let made = match a {
                Ok(made) => made,
                Err(f) => {
                    let i = usize::try_from(f.index)
                        .ok()
                        .and_then(|k| mine.get(k).copied())
                        .ok_or_else(|| unexpected(r, "a failure of no task"))?;
                    fail(i, f.error.into_error(r));
                    continue;
                }
            };
            if made.len() != mine.len() {
                return Err(unexpected(r, "wrong number of children"));
            }
            for (&i, c) in mine.iter().zip(made) {
                let (_, p, id) = tasks[i];
                let par = &parents[p];
                let j = branch_step(&par.scores, level)?;
                let mut scores = Vec::with_capacity(j as usize + 1 + c.tail.len());
                scores.extend_from_slice(&par.scores[..=j as usize]);
                scores.extend_from_slice(&c.tail);
                let t = Trajectory {
                    id,
                    lineage: child_lineage(&par.lineage, j, id),
                    scores,
                    max_score: c.max_score,
                    reached: c.reached,
                    record: Placed::There {
                        rank: r,
                        held: c.held,
                    },
                };
                let w = Work {
                    steps: c.steps,
                    replayed: c.replayed,
                };
                out[i] = Some((t, w));
            }
        }
        if let Some((_, e)) = first {
            return Err(e);
        }
        out.into_iter()
            .map(|c| c.ok_or_else(|| unexpected(0, "a task without a child")))
            .collect()
    }

    fn held(&self, record: &Self::Record) -> u64 {
        match record {
            Placed::Here(r) => self.store.held(r),
            Placed::There { held, .. } => *held,
        }
    }
}
