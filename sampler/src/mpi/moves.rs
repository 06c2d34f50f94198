//! Balancing an iteration: a parent's held states leave its owner as bytes, and the rank that
//! branches from it in the owner's place rebuilds the owner's record from them exactly (same
//! checkpoints, so the child's record, `held` and replayed steps are the single-process ones).

use super::messages::{HeldStates, Import};
use crate::simulate::Horizon;
use crate::store::{StateBytes, TrajectoryStore};
use crate::trajectory::{Segment, Trajectory};
use crate::{Error, Model, Result, StoreError};
use revolve::State as _;

/// Which rank computes each task: the parent's owner while it has fewer than
/// `ceil(tasks / ranks)` tasks, else the least-loaded rank (the lowest on ties). Deterministic:
/// the same tasks and owners give the same assignment.
pub(crate) fn assign(owners: &[usize], ranks: usize) -> Vec<usize> {
    let cap = owners.len().div_ceil(ranks.max(1));
    let mut load = vec![0usize; ranks.max(1)];
    let mut exec: Vec<Option<usize>> = owners
        .iter()
        .map(|&o| {
            (load[o] < cap).then(|| {
                load[o] += 1;
                o
            })
        })
        .collect();
    for e in exec.iter_mut().filter(|e| e.is_none()) {
        let (r, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(r, &l)| (l, r))
            .unwrap_or((0, &0));
        load[r] += 1;
        *e = Some(r);
    }
    exec.into_iter().map(|e| e.unwrap_or(0)).collect()
}

/// The held states after step 0 of `record` as `(step, little-endian bytes)`, in step order.
pub(crate) fn export_states<S: StateBytes + Clone, St: TrajectoryStore<S>>(
    store: &St,
    record: &St::Record,
    template: &S,
) -> Result<HeldStates> {
    let steps = store.held_steps(record).ok_or_else(|| {
        Error::config(
            "trajectory.policy",
            "this store cannot hand a trajectory's states to another rank",
        )
    })?;
    let mut tmp = template.clone();
    let mut out = Vec::with_capacity(steps.len());
    for s in steps.into_iter().filter(|&s| s > 0) {
        let kept = store.restore(record, s, &mut tmp)?;
        if kept != s {
            return Err(StoreError::MissingState { step: s }.into());
        }
        let mut bytes = vec![0u8; tmp.byte_len()];
        tmp.write_bytes(&mut bytes);
        out.push((s, bytes));
    }
    Ok(out)
}

/// The parent `import` describes, with the record its owner holds.
pub(crate) fn import<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    import: Import,
    rank: i32,
) -> Result<Trajectory<St::Record>>
where
    M::State: StateBytes,
{
    let id = import.id;
    let bad = |m: String| Error::Rank {
        rank,
        message: format!("parent {id} sent for balance: {m}"),
    };
    let initial = model.initial_state();
    let width = initial.byte_len();
    let mut states = Vec::with_capacity(import.states.len());
    for (step, bytes) in import.states {
        if bytes.len() != width {
            return Err(bad(format!(
                "state of step {step} has {} bytes, not {width}",
                bytes.len()
            )));
        }
        let mut s = initial.clone();
        s.read_bytes(&bytes);
        states.push((step, s));
    }
    let last = import
        .scores
        .len()
        .checked_sub(1)
        .ok_or(bad("no scores".into()))? as u64;
    let record = store
        .record_from_held(&initial, states, last)
        .ok_or(bad("this store cannot rebuild a record from states".into()))??;
    let max_score = import
        .scores
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(Trajectory {
        id,
        lineage: import
            .lineage
            .iter()
            .map(|&(start_step, stream)| Segment { start_step, stream })
            .collect(),
        reached: max_score >= h.target,
        max_score,
        scores: import.scores,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::assign;

    #[test]
    fn owners_keep_their_share_and_the_rest_goes_to_the_least_loaded() {
        // Rank 1 owns every parent: it keeps ceil(4 / 2) = 2, rank 0 gets the others.
        assert_eq!(assign(&[1, 1, 1, 1], 2), vec![1, 1, 0, 0]);
        // Balanced already: nothing moves.
        assert_eq!(assign(&[0, 1, 0, 1], 2), vec![0, 1, 0, 1]);
        // 5 tasks on 4 ranks: cap 2; the overflow goes to the emptiest, lowest rank.
        assert_eq!(assign(&[2, 2, 2, 2, 3], 4), vec![2, 2, 0, 1, 3]);
        assert_eq!(assign(&[0], 3), vec![0]);
        assert!(assign(&[], 3).is_empty());
    }
}
