//! Keep every state.

use super::TrajectoryStore;

/// Keeps the state of every step (fast branching, memory grows with trajectory length).
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreAll;

impl<S: Clone + Send + Sync> TrajectoryStore<S> for StoreAll {
    type Record = Vec<S>;
    fn begin(&self, initial: &S) -> Vec<S> {
        vec![initial.clone()]
    }
    #[inline]
    fn record(&self, record: &mut Vec<S>, step: u64, state: &S) {
        debug_assert_eq!(record.len() as u64, step);
        record.push(state.clone());
    }
    fn prefix(&self, parent: &Vec<S>, last_step: u64) -> Vec<S> {
        let n = (last_step as usize + 1).min(parent.len());
        parent[..n].to_vec()
    }
    fn nearest<'a>(&self, record: &'a Vec<S>, step: u64) -> Option<(u64, &'a S)> {
        let i = (step as usize).min(record.len().checked_sub(1)?);
        Some((i as u64, &record[i]))
    }
    fn held(&self, record: &Vec<S>) -> u64 {
        record.len() as u64
    }
    fn held_steps(&self, record: &Vec<S>) -> Option<Vec<u64>> {
        Some((0..record.len() as u64).collect())
    }
    fn record_from_held(
        &self,
        initial: &S,
        states: Vec<(u64, S)>,
        last_step: u64,
    ) -> Option<crate::Result<Vec<S>>> {
        let complete = states.len() as u64 == last_step
            && states
                .iter()
                .enumerate()
                .all(|(i, (s, _))| *s == i as u64 + 1);
        if !complete {
            return Some(Err(
                crate::StoreError::MissingState { step: last_step }.into()
            ));
        }
        let mut all = Vec::with_capacity(states.len() + 1);
        all.push(initial.clone());
        all.extend(states.into_iter().map(|(_, s)| s));
        Some(Ok(all))
    }
}
