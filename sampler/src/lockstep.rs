//! A Monte Carlo ensemble advanced in lockstep, snapshot by snapshot (the ensemble output,
//! [`crate::Run::output`]): the step every process of a run (one, or the ranks of a
//! distributed run) takes for its block of members.

use crate::noise::NoiseKey;
use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, Member, advance_member};
use crate::{Model, Result};
use rayon::prelude::*;

impl Member {
    /// Whether snapshot step `step` holds this member's state, given where it stands at that
    /// snapshot or later: running, or ended there or after.
    pub(crate) fn holds(&self, step: u64) -> bool {
        match *self {
            Member::Running => true,
            Member::Ended(e, _) => step <= e,
        }
    }
}

/// A cell writer of [`snapshot`]: the member's state where the snapshot holds it, else `None`.
pub(crate) type WriteCell<'a, S> = dyn Fn(&mut [u8], Option<&S>) + Sync + 'a;

/// Advance members `lo..lo + states.len()` (their states and where they stand) to snapshot
/// `k` (step `k * stride`; snapshot 0 is the start, nothing to advance), in parallel, and
/// write each member's cell of `slab` (equal cells, member order) with `write`. The error of
/// the lowest failing id, every member computed (as [`collect_ordered`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn snapshot<M: Model>(
    model: &M,
    h: &Horizon,
    key: NoiseKey,
    stride: u64,
    k: u64,
    lo: u64,
    states: &mut [M::State],
    members: &mut [Member],
    slab: &mut [u8],
    write: &WriteCell<'_, M::State>,
) -> Result<()> {
    if states.is_empty() {
        return Ok(());
    }
    let w = slab.len() / states.len();
    let step = k * stride;
    collect_ordered(
        slab.par_chunks_mut(w.max(1))
            .zip(states.par_iter_mut())
            .zip(members.par_iter_mut())
            .enumerate()
            .map_init(
                || model.noise_buffer(),
                |noise, (i, ((cell, st), mem))| {
                    if k > 0 && *mem == Member::Running {
                        *mem = advance_member(
                            model,
                            h,
                            key,
                            lo + i as u64,
                            st,
                            noise,
                            step - stride,
                            step,
                        )?;
                    }
                    // Members that ended before this snapshot keep their state as it was.
                    write(cell, mem.holds(step).then_some(&*st));
                    Ok(())
                },
            ),
    )?;
    Ok(())
}
