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
}
