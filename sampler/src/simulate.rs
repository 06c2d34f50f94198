//! Running, branching and replaying trajectories: the only code that calls the model.

use crate::noise::{NoiseKey, NoiseRng};
use crate::store::TrajectoryStore;
use crate::trajectory::{Segment, Trajectory};
use crate::{Model, ModelError, Result, StoreError};

/// Time horizon and target of every trajectory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Horizon {
    /// The end time as given to [`Horizon::new`] (recorded by a run database).
    pub end_time: f64,
    /// Number of steps to the end time (a trajectory has at most `nsteps + 1` snapshots).
    pub nsteps: u64,
    /// Step size.
    pub dt: f64,
    /// Target score: the target set is `score >= target`.
    pub target: f64,
}

impl Horizon {
    /// Horizon of `end_time` with steps of `dt` (the step count is rounded up, ignoring rounding
    /// noise of the division: 1.0 / 0.01 gives 100 steps).
    pub fn new(end_time: f64, dt: f64, target: f64) -> Self {
        let ratio = end_time / dt;
        let nearest = ratio.round();
        let nsteps = if (ratio - nearest).abs() <= 1e-9 * nearest.max(1.0) {
            nearest
        } else {
            ratio.ceil()
        };
        Horizon {
            end_time,
            nsteps: nsteps.max(0.0) as u64,
            dt,
            target,
        }
    }

    /// Model time of step `step`.
    #[inline]
    pub fn time(&self, step: u64) -> f64 {
        step as f64 * self.dt
    }

    #[inline]
    fn ended<M: Model>(&self, model: &M, state: &M::State, step: u64, score: f64) -> bool {
        score >= self.target || step >= self.nsteps || model.is_done(state, self.time(step), score)
    }
}

/// Advance from `step` until the horizon (or step `until`, if earlier), the target or the
/// model's end condition; `rng` must be positioned at `step`. Calls `on_step(step, score,
/// state)` after each step; returns the steps taken.
#[inline]
#[allow(clippy::too_many_arguments)]
fn run_until_end<M: Model>(
    model: &M,
    h: &Horizon,
    rng: &mut NoiseRng,
    state: &mut M::State,
    noise: &mut M::Noise,
    mut step: u64,
    until: u64,
    trajectory: u64,
    mut on_step: impl FnMut(u64, f64, &M::State) -> Result<()>,
) -> Result<u64> {
    let start = step;
    let end = until.min(h.nsteps);
    while step < end {
        model.sample_noise(rng, noise);
        rng.finish_step(step)?;
        model.step(state, h.time(step), h.dt, noise);
        step += 1;
        let t = h.time(step);
        let score = model.score(state, t);
        if score.is_nan() {
            return Err(ModelError::NanScore { trajectory, step }.into());
        }
        on_step(step, score, state)?;
        if score >= h.target || model.is_done(state, t, score) {
            break;
        }
    }
    Ok(step - start)
}

/// Regenerate the state at step `to` from the state at step `from`, drawing each step's noise from
/// the stream `lineage` assigns to it. Bit-identical to the original run. An empty `lineage`
/// (with steps to replay) is [`StoreError::EmptyLineage`].
#[allow(clippy::too_many_arguments)]
pub fn replay<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    lineage: &[Segment],
    state: &mut M::State,
    noise: &mut M::Noise,
    from: u64,
    to: u64,
) -> Result<()> {
    replay_with(
        model,
        h,
        key,
        lineage,
        state,
        noise,
        from,
        to,
        |_, _| Ok(()),
    )
}

/// [`replay`], calling `on_step(step, state)` with each state reached (steps `from + 1..=to`):
/// the only replay loop (branching and a run database's restart both use it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn replay_with<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    lineage: &[Segment],
    state: &mut M::State,
    noise: &mut M::Noise,
    from: u64,
    to: u64,
    mut on_step: impl FnMut(u64, &M::State) -> Result<()>,
) -> Result<()> {
    let words = model.noise_words();
    let mut current: Option<(u64, NoiseRng)> = None;
    for step in from..to {
        let i = lineage.partition_point(|s| s.start_step <= step);
        let stream = lineage
            .get(i.saturating_sub(1))
            .ok_or(StoreError::EmptyLineage { step })?
            .stream;
        let rng = match &mut current {
            Some((id, rng)) if *id == stream => rng,
            _ => {
                let mut rng = key.stream(stream, words);
                rng.seek(step)?;
                &mut current.insert((stream, rng)).1
            }
        };
        model.sample_noise(rng, noise);
        rng.finish_step(step)?;
        model.step(state, h.time(step), h.dt, noise);
        on_step(step + 1, state)?;
    }
    Ok(())
}

/// Steps taken to build one trajectory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Work {
    pub steps: u64,
    pub replayed: u64,
}

/// The initial state of the trajectories descending from root trajectory `root`
/// ([`Model::initial_state_from`] on its initial-state stream).
#[inline]
pub(crate) fn initial_of<M: Model>(model: &M, key: NoiseKey, root: u64) -> M::State {
    model.initial_state_from(&mut key.initial_stream(root))
}

/// The root ancestor of a trajectory with `lineage` (whose initial state it has): the stream of
/// its first segment. [`StoreError::EmptyLineage`] if there is none.
pub(crate) fn root_of(lineage: &[Segment]) -> Result<u64> {
    lineage
        .first()
        .map(|s| s.stream)
        .ok_or_else(|| StoreError::EmptyLineage { step: 0 }.into())
}

/// A new trajectory `id` from the initial condition.
pub(crate) fn fresh<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    id: u64,
) -> Result<(Trajectory<St::Record>, Work)> {
    let mut state = initial_of(model, key, id);
    let mut noise = model.noise_buffer();
    let s0 = model.score(&state, 0.0);
    if s0.is_nan() {
        return Err(ModelError::NanScore {
            trajectory: id,
            step: 0,
        }
        .into());
    }
    let mut traj = Trajectory {
        id,
        lineage: vec![Segment {
            start_step: 0,
            stream: id,
        }],
        scores: vec![s0],
        max_score: s0,
        reached: false,
        record: store.begin(&state),
    };
    let work = Work {
        steps: extend(model, store, h, key, &mut traj, &mut state, &mut noise, 0)?,
        replayed: 0,
    };
    Ok((traj, work))
}

/// A child `id` of `parent`: a copy up to the first step whose score is strictly above `level`,
/// continued from there with the child's own noise stream.
pub(crate) fn branch<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    parent: &Trajectory<St::Record>,
    level: f64,
    id: u64,
) -> Result<(Trajectory<St::Record>, Work)> {
    let p = Parent {
        lineage: &parent.lineage,
        scores: &parent.scores,
        record: &parent.record,
    };
    branch_from(model, store, h, key, p, level, id)
}

/// What branching reads of a parent trajectory (its record may be held apart from the rest).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parent<'a, R> {
    pub lineage: &'a [Segment],
    pub scores: &'a [f64],
    pub record: &'a R,
}

/// The branch step of a child of `parent` at `level`: the first step scoring above it.
pub(crate) fn branch_step(scores: &[f64], level: f64) -> Result<u64> {
    scores
        .iter()
        .position(|&s| s > level)
        .map(|i| i as u64)
        .ok_or(
            StoreError::MissingState {
                step: scores.len() as u64 - 1,
            }
            .into(),
        )
}

/// The noise lineage of a child `id` branched at step `j` from a parent with `lineage`. The
/// first segment (the root ancestor, whose initial state the child shares) is always kept: a
/// child branched at step 0 (possible when initial states differ) has two segments starting at
/// step 0, the root's and its own, and draws its noise from the later one.
pub(crate) fn child_lineage(lineage: &[Segment], j: u64, id: u64) -> Vec<Segment> {
    let mut out: Vec<Segment> = lineage
        .iter()
        .enumerate()
        .filter(|(i, s)| *i == 0 || s.start_step < j)
        .map(|(_, s)| *s)
        .collect();
    out.push(Segment {
        start_step: j,
        stream: id,
    });
    out
}

/// [`branch`] from a parent given by parts.
pub(crate) fn branch_from<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    parent: Parent<'_, St::Record>,
    level: f64,
    id: u64,
) -> Result<(Trajectory<St::Record>, Work)> {
    let j = branch_step(parent.scores, level)?;
    let mut state = model.initial_state();
    let kept = store.restore(parent.record, j, &mut state)?;
    let mut noise = model.noise_buffer();
    replay(
        model,
        h,
        key,
        parent.lineage,
        &mut state,
        &mut noise,
        kept,
        j,
    )?;
    let ju = j as usize;
    let mut traj = Trajectory {
        id,
        lineage: child_lineage(parent.lineage, j, id),
        scores: parent.scores[..=ju].to_vec(),
        max_score: parent.scores[ju],
        reached: false,
        record: store.prefix_at(parent.record, j, &state),
    };
    let mut work = Work {
        steps: 0,
        replayed: j - kept,
    };
    work.steps = extend(model, store, h, key, &mut traj, &mut state, &mut noise, j)?;
    Ok((traj, work))
}

/// Continue `traj` (its state at step `start` in `state`) to its end with its own noise stream,
/// recording each step's score and state; sets `reached` and returns the steps taken.
#[allow(clippy::too_many_arguments)]
fn extend<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    traj: &mut Trajectory<St::Record>,
    state: &mut M::State,
    noise: &mut M::Noise,
    start: u64,
) -> Result<u64> {
    let mut steps = 0;
    if !h.ended(model, state, start, traj.max_score) {
        let id = traj.id;
        let mut rng = key.stream(id, model.noise_words());
        if start > 0 {
            rng.seek(start)?;
        }
        let (scores, max, record) = (&mut traj.scores, &mut traj.max_score, &mut traj.record);
        let end = h.nsteps;
        steps = run_until_end(
            model,
            h,
            &mut rng,
            state,
            noise,
            start,
            end,
            id,
            |n, s, st| {
                scores.push(s);
                if s > *max {
                    *max = s;
                }
                store.try_record(record, n, st)
            },
        )?;
    }
    traj.reached = traj.max_score >= h.target;
    Ok(steps)
}

/// Run one trajectory `id` to its end without keeping anything; returns (reached, steps).
#[inline]
pub(crate) fn run_plain<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    id: u64,
    state: &mut M::State,
    noise: &mut M::Noise,
) -> Result<(bool, u64)> {
    let s0 = model.score(state, 0.0);
    if s0.is_nan() {
        return Err(ModelError::NanScore {
            trajectory: id,
            step: 0,
        }
        .into());
    }
    let mut max = s0;
    let mut steps = 0;
    if !h.ended(model, state, 0, s0) {
        let mut rng = key.stream(id, model.noise_words());
        steps = run_until_end(
            model,
            h,
            &mut rng,
            state,
            noise,
            0,
            h.nsteps,
            id,
            |_, s, _| {
                if s > max {
                    max = s;
                }
                Ok(())
            },
        )?;
    }
    Ok((max >= h.target, steps))
}

/// Where a Monte Carlo member stands in a run advanced in lockstep (the ensemble output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Member {
    /// Still running.
    Running,
    /// Ended at this step; whether it reached the target.
    Ended(u64, bool),
}

/// Member `id` at step 0 (its initial state in `state`): ended there, or running. The same
/// checks as [`run_plain`].
pub(crate) fn start_member<M: Model>(
    model: &M,
    h: &Horizon,
    id: u64,
    state: &M::State,
) -> Result<Member> {
    let s0 = model.score(state, 0.0);
    if s0.is_nan() {
        return Err(ModelError::NanScore {
            trajectory: id,
            step: 0,
        }
        .into());
    }
    Ok(if h.ended(model, state, 0, s0) {
        Member::Ended(0, s0 >= h.target)
    } else {
        Member::Running
    })
}

/// Advance running member `id` (its state at step `from` in `state`) to step `to` or to its
/// end, whichever comes first, exactly as [`run_plain`] steps it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn advance_member<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    id: u64,
    state: &mut M::State,
    noise: &mut M::Noise,
    from: u64,
    to: u64,
) -> Result<Member> {
    let mut rng = key.stream(id, model.noise_words());
    if from > 0 {
        rng.seek(from)?;
    }
    let mut last = f64::NEG_INFINITY;
    let steps = run_until_end(model, h, &mut rng, state, noise, from, to, id, |_, s, _| {
        last = s;
        Ok(())
    })?;
    let step = from + steps;
    let ended = steps > 0 && h.ended(model, state, step, last);
    Ok(if ended {
        Member::Ended(step, last >= h.target)
    } else {
        Member::Running
    })
}
