//! Trajectory-Adaptive Multilevel Splitting (Lestang et al. 2018), with the unbiased
//! tie handling of Brehier et al. (2016).

use super::compute::{Compute, Local, Task};
use super::{OnStall, Progress, RunOutcome, RunParams, StopReason, Strategy, ideal_std_error};
use crate::journal::{IterationRecord, Journal, LoopState, NoJournal, Resume};
use crate::simulate::Work;
use crate::store::{StoreAll, TrajectoryStore};
use crate::trajectory::{Ensemble, Trajectory};
use crate::{Model, NoiseKey, Result};
use rand::RngExt;
use std::time::Instant;

/// TAMS with trajectory states kept in store `St` (`Tams::default()` keeps every state).
#[derive(Debug, Clone, Copy)]
pub struct Tams<St = StoreAll> {
    /// Where states are kept.
    pub store: St,
}

impl Default for Tams<StoreAll> {
    fn default() -> Self {
        Tams { store: StoreAll }
    }
}

impl<St> Tams<St> {
    /// TAMS using `store`.
    pub fn new(store: St) -> Self {
        Tams { store }
    }
}

impl<M: Model, St: TrajectoryStore<M::State>> Strategy<M> for Tams<St> {
    fn name(&self) -> &'static str {
        "tams"
    }
    fn run(
        &self,
        model: &M,
        params: &RunParams,
        key: NoiseKey,
        progress: Progress<'_>,
    ) -> Result<RunOutcome> {
        self.run_ensemble(model, params, key, progress)
            .map(|(o, _)| o)
    }
}

impl<St> Tams<St> {
    /// One run; also returns the final ensemble.
    pub fn run_ensemble<M: Model>(
        &self,
        model: &M,
        params: &RunParams,
        key: NoiseKey,
        progress: Progress<'_>,
    ) -> Result<(RunOutcome, Ensemble<St::Record>)>
    where
        St: TrajectoryStore<M::State>,
    {
        self.run_journaled(model, params, key, progress, &mut NoJournal, None)
    }

    /// One run reporting to `journal` (initial ensemble, every iteration, the stop), started from
    /// `resume` (a restored ensemble and loop state) or, if `None`, from a fresh ensemble.
    /// Continuing from a [`Resume`] taken after iteration q gives bit for bit the run that was
    /// never interrupted.
    pub fn run_journaled<M: Model>(
        &self,
        model: &M,
        params: &RunParams,
        key: NoiseKey,
        progress: Progress<'_>,
        journal: &mut dyn Journal<St::Record>,
        resume: Option<Resume<St::Record>>,
    ) -> Result<(RunOutcome, Ensemble<St::Record>)>
    where
        St: TrajectoryStore<M::State>,
    {
        let mut local = Local {
            model,
            store: &self.store,
            horizon: &params.horizon,
            key,
        };
        run_loop(&mut local, params, key, progress, journal, resume)
    }
}

/// The initial ensemble of `n` trajectories, by id, and the model steps it took: `done` (a
/// partial ensemble restored from a journal, any ids) is kept, every other id is computed and
/// handed to the journal ([`Journal::on_fresh`]) as it finishes. The error of the lowest
/// failing id, after the finished ones were journaled.
fn initial_ensemble<C: Compute>(
    c: &mut C,
    n: u64,
    done: Vec<Trajectory<C::Record>>,
    journal: &mut dyn Journal<C::Record>,
) -> Result<(Vec<Trajectory<C::Record>>, u64)> {
    let mut slots: Vec<Option<Trajectory<C::Record>>> = (0..n).map(|_| None).collect();
    // The model steps of a fresh trajectory are its last step.
    let mut steps = 0u64;
    for t in done {
        let slot = usize::try_from(t.id)
            .ok()
            .and_then(|i| slots.get_mut(i))
            .filter(|s| s.is_none())
            .ok_or_else(|| crate::Error::InvalidResume {
                message: format!("initial trajectory {} is not one of 0..{n}, or twice", t.id),
            })?;
        steps += t.last_step();
        *slot = Some(t);
    }
    let missing: Vec<u64> = (0..n).filter(|&i| slots[i as usize].is_none()).collect();
    c.fresh_each(n, &missing, &mut |batch| {
        let refs: Vec<&Trajectory<C::Record>> = batch.iter().map(|(t, _)| t).collect();
        journal.on_fresh(&refs)?;
        for (t, w) in batch {
            steps += w.steps;
            if let Some(s) = usize::try_from(t.id).ok().and_then(|i| slots.get_mut(i)) {
                *s = Some(t);
            }
        }
        Ok(())
    })?;
    let trajectories = slots
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| crate::Error::InvalidResume {
            message: "the initial ensemble was left incomplete".into(),
        })?;
    Ok((trajectories, steps))
}

/// The TAMS loop: levels, selection, weights and the journal, computing trajectories with `c`;
/// bad `params` are an error before anything runs.
pub(crate) fn run_loop<C: Compute>(
    c: &mut C,
    params: &RunParams,
    key: NoiseKey,
    progress: Progress<'_>,
    journal: &mut dyn Journal<C::Record>,
    resume: Option<Resume<C::Record>>,
) -> Result<(RunOutcome, Ensemble<C::Record>)> {
    params.check()?;
    let start = Instant::now();
    let n = params.ntrajectories;
    let h = &params.horizon;
    let mut select = key.selection();
    let (mut ens, st, mut kills) = match resume {
        Some(r) if !r.partial => {
            select.set_word_pos(r.state.select_word_pos);
            (r.ensemble, r.state, r.kills)
        }
        partial => {
            let done = partial.map_or_else(Vec::new, |r| r.ensemble.trajectories);
            let (trajectories, steps) = initial_ensemble(c, n, done, journal)?;
            let held: u64 = trajectories.iter().map(|t| c.held(&t.record)).sum();
            let ens = Ensemble {
                trajectories,
                next_id: n,
            };
            let st = LoopState {
                iterations: 0,
                weight: 1.0,
                branches: 0,
                model_steps: steps,
                replay_steps: 0,
                held,
                peak_held: held,
                select_word_pos: select.get_word_pos(),
            };
            journal.on_initial(&ens, &st)?;
            (ens, st, Vec::new())
        }
    };
    let mut work = Work {
        steps: st.model_steps,
        replayed: st.replay_steps,
    };
    let (mut held, mut peak_held) = (st.held, st.peak_held);
    let (mut weight, mut iterations, mut branches) = (st.weight, st.iterations, st.branches);
    let mut killed_ids = Vec::new();
    let mut longest = std::time::Duration::ZERO;
    let mut maxima = Vec::with_capacity(n as usize);
    let mut killed = Vec::new();
    let mut survivors = Vec::new();
    let mut tasks: Vec<Task> = Vec::new();
    let kth = (params.l.max(1) - 1) as usize;
    let stop = loop {
        if params.init_ensemble_only {
            break StopReason::InitEnsembleOnly;
        }
        if iterations >= params.nsplititer {
            break StopReason::IterationBudget;
        }
        // Stop before the limit: no iteration starts that could not finish in time at the
        // pace of the longest one so far.
        if params
            .walltime
            .is_some_and(|w| start.elapsed() + longest >= w)
        {
            break StopReason::Walltime;
        }
        let began = Instant::now();
        maxima.clear();
        maxima.extend(ens.trajectories.iter().map(|t| t.max_score));
        let level = *maxima.select_nth_unstable_by(kth, f64::total_cmp).1;
        if level >= h.target {
            break StopReason::Converged;
        }
        killed.clear();
        survivors.clear();
        for (i, t) in ens.trajectories.iter().enumerate() {
            if t.max_score <= level {
                killed.push(i);
            } else {
                survivors.push(i);
            }
        }
        if survivors.is_empty() {
            if params.on_stall == OnStall::Zero {
                break StopReason::Extinction;
            }
            return Err(crate::Error::Stalled {
                iteration: iterations + 1,
                level,
                count: maxima.iter().filter(|&&m| m == level).count() as u64,
                ntrajectories: n,
            });
        }
        tasks.clear();
        for &slot in &killed {
            let pick = select.random_range(0..survivors.len() as u64) as usize;
            tasks.push((slot, survivors[pick], ens.next_id));
            ens.next_id = ens
                .next_id
                .checked_add(1)
                .ok_or(crate::Error::Overflow("trajectory ids"))?;
        }
        let children = c.branch(iterations + 1, &ens.trajectories, level, &tasks)?;
        // All children exist before the killed trajectories are dropped.
        held += children.iter().map(|(t, _)| c.held(&t.record)).sum::<u64>();
        peak_held = peak_held.max(held);
        killed_ids.clear();
        for (&(slot, _, _), (child, w)) in tasks.iter().zip(children) {
            killed_ids.push(ens.trajectories[slot].id);
            work.steps += w.steps;
            work.replayed += w.replayed;
            held -= c.held(&ens.trajectories[slot].record);
            ens.trajectories[slot] = child;
        }
        let k = killed.len() as u64;
        weight *= (n - k) as f64 / n as f64;
        branches += k;
        kills.push(k);
        iterations += 1;
        journal.on_iteration(&IterationRecord {
            ensemble: &ens,
            level,
            tasks: &tasks,
            killed_ids: &killed_ids,
            state: LoopState {
                iterations,
                weight,
                branches,
                model_steps: work.steps,
                replay_steps: work.replayed,
                held,
                peak_held,
                select_word_pos: select.get_word_pos(),
            },
        })?;
        longest = longest.max(began.elapsed());
        progress(iterations, params.nsplititer);
    };
    let reached = if stop == StopReason::Extinction {
        0
    } else {
        ens.reached()
    };
    let estimate = weight * (reached as f64 / n as f64);
    let outcome = RunOutcome {
        estimate,
        std_error: ideal_std_error(estimate, n),
        weight,
        reached,
        ntrajectories: n,
        iterations,
        branches,
        model_steps: work.steps,
        replay_steps: work.replayed,
        peak_states_held: peak_held,
        stop,
        kills,
    };
    journal.on_stop(&outcome)?;
    Ok((outcome, ens))
}
