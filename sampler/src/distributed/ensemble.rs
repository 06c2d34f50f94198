//! A worker rank's share of an ensemble output ([`crate::Run::output`] over ranks): its block
//! of Monte Carlo members, advanced snapshot by snapshot as rank 0 asks, their states sent
//! back a chunk of snapshots at a time (rank 0 alone writes the Zarr arrays: every chunk holds
//! all members).

use super::messages::{Bytes, Resumed};
use crate::lockstep::snapshot;
use crate::noise::NoiseKey;
use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, Member, initial_of, start_member};
use crate::store::StateBytes;
use crate::{Error, Model, Result};
use rayon::prelude::*;
use revolve::State as _;

/// The members `lo..lo + states.len()` a worker rank advances.
pub(crate) struct Block<S> {
    lo: u64,
    stride: u64,
    key: NoiseKey,
    states: Vec<S>,
    members: Vec<Member>,
}

impl<S> Block<S> {
    /// Where the members stand (id order).
    pub(crate) fn members(&self) -> &[Member] {
        &self.members
    }
}

/// Members `lo..hi` keyed by `key`: started from their initial states, or (`resume`) where a
/// continued output left them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    (lo, hi): (u64, u64),
    stride: u64,
    resume: Option<Resumed>,
    pool: &rayon::ThreadPool,
    rank: i32,
) -> Result<Block<M::State>>
where
    M::State: StateBytes,
{
    let mut states: Vec<M::State> = (lo..hi).map(|i| initial_of(model, key, i)).collect();
    let members = match resume {
        None => pool.install(|| {
            collect_ordered(
                states
                    .par_iter()
                    .enumerate()
                    .map(|(i, s)| start_member(model, h, lo + i as u64, s)),
            )
        })?,
        Some(r) => {
            let n = (hi - lo) as usize;
            let bad = |what: &str| Error::Rank {
                rank: 0,
                message: format!("sent an ensemble to continue with {what} (rank {rank})"),
            };
            if r.members.len() != n {
                return Err(bad("another member count"));
            }
            if r.first > 0 {
                let w = model.initial_state().byte_len();
                if r.states.0.len() != n * w {
                    return Err(bad("states of another size"));
                }
                for ((st, m), cell) in states
                    .iter_mut()
                    .zip(&r.members)
                    .zip(r.states.0.chunks_exact(w.max(1)))
                {
                    if *m == Member::Running {
                        st.read_bytes(cell);
                    }
                }
            }
            r.members
        }
    };
    Ok(Block {
        lo,
        stride,
        key,
        states,
        members,
    })
}

/// Advance `block` through snapshots `from..to`: where its members stand after `to - 1` and
/// the snapshots' state bytes (`(snapshot, member)` cells), or the earliest snapshot's error
/// with that snapshot.
pub(crate) fn advance<M: Model>(
    model: &M,
    h: &Horizon,
    block: &mut Block<M::State>,
    (from, to): (u64, u64),
    pool: &rayon::ThreadPool,
) -> std::result::Result<Bytes, Box<(u64, Error)>>
where
    M::State: StateBytes,
{
    let n = block.states.len();
    let w = model.initial_state().byte_len();
    let count = to.saturating_sub(from) as usize;
    let mut out = vec![0u8; count * n * w];
    let write = |cell: &mut [u8], st: Option<&M::State>| {
        if let Some(st) = st {
            st.write_bytes(cell);
        }
    };
    for (j, k) in (from..to).enumerate() {
        let slab = &mut out[j * n * w..(j + 1) * n * w];
        pool.install(|| {
            snapshot(
                model,
                h,
                block.key,
                block.stride,
                k,
                block.lo,
                &mut block.states,
                &mut block.members,
                slab,
                &write,
            )
        })
        .map_err(|e| Box::new((k, e)))?;
    }
    Ok(Bytes(out))
}
