//! Balancing an iteration: a parent's held states leave its owner as bytes, and the rank that
//! branches from it in the owner's place rebuilds the owner's record from them exactly (same
//! checkpoints, so the child's record, `held` and replayed steps are the single-process ones).

use super::messages::{Bytes, HeldStates, Import};
use crate::simulate::{Horizon, initial_of};
use crate::store::{StateBytes, TrajectoryStore};
use crate::trajectory::{Segment, Trajectory};
use crate::{Error, Model, NoiseKey, Result, StoreError};
use revolve::State as _;

/// Which rank computes each task, from its parent's rank (`owners`) and its estimated cost
/// (steps left to the horizon). Tasks are taken longest first (ties in task order): a task
/// stays with its parent's rank while that rank's load stays within `ceil(total / ranks)`;
/// the others go to the least-loaded rank (the lowest on ties). Deterministic: the same
/// tasks, owners and costs give the same assignment.
pub(crate) fn assign(owners: &[usize], costs: &[u64], ranks: usize) -> Vec<usize> {
    let ranks = ranks.max(1);
    let total: u64 = costs.iter().sum();
    let cap = total.div_ceil(ranks as u64);
    let mut order: Vec<usize> = (0..owners.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(costs[i]), i));
    let mut load = vec![0u64; ranks];
    let mut exec: Vec<Option<usize>> = vec![None; owners.len()];
    for &i in &order {
        let o = owners[i];
        if load[o] + costs[i] <= cap {
            load[o] += costs[i];
            exec[i] = Some(o);
        }
    }
    for &i in &order {
        if exec[i].is_none() {
            let r = (0..ranks).min_by_key(|&r| (load[r], r)).unwrap_or(0);
            load[r] += costs[i];
            exec[i] = Some(r);
        }
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
        out.push((s, Bytes(bytes)));
    }
    Ok(out)
}

/// The parent `import` describes, with the record its owner holds.
pub(crate) fn import<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
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
    let root = import.lineage.first().ok_or(bad("no lineage".into()))?.1;
    // Step 0 is not sent: the root's initial state is drawn again.
    let initial = initial_of(model, key, root);
    let width = initial.byte_len();
    let mut states = Vec::with_capacity(import.states.len());
    for (step, Bytes(bytes)) in import.states {
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
        assert_eq!(assign(&[1, 1, 1, 1], &[1; 4], 2), vec![1, 1, 0, 0]);
        // Balanced already: nothing moves.
        assert_eq!(assign(&[0, 1, 0, 1], &[5, 5, 3, 3], 2), vec![0, 1, 0, 1]);
        // 5 tasks on 4 ranks: cap 2; the overflow goes to the emptiest, lowest rank.
        assert_eq!(assign(&[2, 2, 2, 2, 3], &[1; 5], 4), vec![2, 2, 0, 1, 3]);
        // By cost: rank 0 keeps the long task (cap 8) and one short one; the other short ones
        // go to rank 1, longest first.
        assert_eq!(assign(&[0, 0, 0, 0], &[6, 4, 3, 2], 2), vec![0, 1, 1, 0]);
        assert_eq!(assign(&[0], &[7], 3), vec![0]);
        assert!(assign(&[], &[], 3).is_empty());
    }
}
