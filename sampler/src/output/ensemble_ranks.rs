//! Ensemble output over the ranks of a distributed run ([`crate::Run::run_distributed`],
//! [`crate::Run::run_mpi`]): rank 0 creates (or continues) the group and alone writes it; the
//! members are dealt in contiguous id blocks (rank r: `r N / P .. (r + 1) N / P`), every rank
//! advances its block a chunk of snapshots at a time and sends those snapshots' states to
//! rank 0, which writes the flush as one process would (its Zarr chunks along `N` follow the
//! shape, not the ranks' blocks), so one writer keeps the files byte-identical for any rank
//! count, and worker ranks need no shared file system.

use super::ensemble::{EnsembleOutput, Others, run_with_others};
use super::zarr::fill_bytes;
use crate::array_state::ArrayState;
use crate::distributed::Transport;
use crate::distributed::coordinator::block;
use crate::distributed::link::Link;
use crate::distributed::messages::{Bytes, FromWorker, Resumed, ToWorker};
use crate::simulate::Member;
use crate::store::StateBytes;
use crate::strategy::{Progress, RunParams};
use crate::{Error, Model, NoiseKey, Result, RunOutcome};
use rayon::prelude::*;
use revolve::State as _;
use std::time::Instant;

/// Rank 0's view of the other ranks' members.
struct Ranks<'a, 'l, M> {
    model: &'a M,
    link: &'a mut Link<'l, dyn Transport + 'l>,
    pool: &'a rayon::ThreadPool,
    n: u64,
    repeat: u64,
    stride: u64,
    since: Instant,
}

impl<M: Model> Ranks<'_, '_, M>
where
    M::State: ArrayState + StateBytes,
{
    fn workers(&self) -> Vec<i32> {
        (1..self.link.size()).collect()
    }

    fn block(&self, rank: i32) -> (u64, u64) {
        block(self.n, rank, self.link.size())
    }

    /// Every worker's answer, in rank order.
    fn gather(&mut self, doing: &str) -> Result<Vec<(i32, FromWorker)>> {
        let ranks = self.workers();
        let (n, size) = (self.n, self.link.size());
        let answers = self.link.gather(&ranks, self.since, &|w| {
            let (lo, hi) = block(n, w, size);
            format!("{doing} of ensemble members {lo}..{hi}")
        })?;
        Ok(ranks.into_iter().zip(answers).collect())
    }
}

fn unexpected(rank: i32, what: &str) -> Error {
    Error::Rank {
        rank,
        message: format!("sent an unexpected answer ({what})"),
    }
}

impl<M: Model> Others<M::State> for Ranks<'_, '_, M>
where
    M::State: ArrayState + StateBytes,
{
    fn own(&self) -> u64 {
        self.block(0).1
    }

    fn start(&mut self, resume: Option<(u64, &[Member], &[u8])>) -> Result<()> {
        let template = self.model.initial_state();
        let (bw, size) = (template.byte_len(), template.dtype().size());
        let dx = template.elements();
        let n = self.n as usize;
        for w in self.workers() {
            let (lo, hi) = self.block(w);
            let resume = resume.map(|(first, members, snapshot)| {
                let mut states = Vec::new();
                if first > 0 {
                    // The running members' states, from the array's elements to state bytes.
                    states = vec![0u8; (hi - lo) as usize * bw];
                    let mut st = template.clone();
                    let mut one = vec![0u8; dx * size];
                    for (li, i) in (lo as usize..hi as usize).enumerate() {
                        if members[i] != Member::Running {
                            continue;
                        }
                        for x in 0..dx {
                            let at = (x * n + i) * size;
                            one[x * size..(x + 1) * size].copy_from_slice(&snapshot[at..at + size]);
                        }
                        st.read_elements(&one);
                        st.write_bytes(&mut states[li * bw..(li + 1) * bw]);
                    }
                }
                Resumed {
                    first,
                    members: members[lo as usize..hi as usize].to_vec(),
                    states: Bytes(states),
                }
            });
            let msg = ToWorker::EnsembleStart {
                repeat: self.repeat,
                lo,
                hi,
                stride: self.stride,
                resume,
            };
            self.link.send(w, &msg)?;
        }
        self.since = Instant::now();
        Ok(())
    }

    fn started(&mut self) -> Result<Result<Vec<Member>>> {
        let mut all = Vec::new();
        let mut failed = None;
        for (w, a) in self.gather("starting")? {
            let FromWorker::EnsembleStarted(a) = a else {
                return Err(unexpected(w, "not ensemble members"));
            };
            let (lo, hi) = self.block(w);
            match a {
                Ok(m) if m.len() as u64 == hi - lo => all.extend(m),
                Ok(_) => return Err(unexpected(w, "another member count")),
                // Blocks are in id order: the first failing rank holds the lowest failing id.
                Err(f) => {
                    failed = failed.or(Some(f.error.into_error(w)));
                }
            }
        }
        Ok(failed.map_or(Ok(all), Err))
    }

    fn request(&mut self, from: u64, to: u64) -> Result<()> {
        for w in self.workers() {
            self.link.send(w, &ToWorker::EnsembleAdvance { from, to })?;
        }
        self.since = Instant::now();
        Ok(())
    }

    fn collect(
        &mut self,
        from: u64,
        to: u64,
        members: &mut [Member],
        buf: &mut [u8],
    ) -> Result<Option<(u64, Error)>> {
        let template = self.model.initial_state();
        let bw = template.byte_len();
        let w = template.elements() * template.dtype().size();
        let fill = fill_bytes(template.dtype());
        let (n, count, stride) = (self.n as usize, (to - from) as usize, self.stride);
        let mut failed: Option<(u64, Error)> = None;
        for (r, a) in self.gather(&format!("computing snapshots {from}..{to}"))? {
            let FromWorker::EnsembleAdvanced(a) = a else {
                return Err(unexpected(r, "not ensemble snapshots"));
            };
            let (mems, Bytes(bytes)) = match a {
                Ok(x) => x,
                Err(f) => {
                    // The earliest snapshot; on a tie the lower rank (lower ids).
                    if failed.as_ref().is_none_or(|(k, _)| f.index < *k) {
                        failed = Some((f.index, f.error.into_error(r)));
                    }
                    continue;
                }
            };
            let (lo, hi) = self.block(r);
            let nb = (hi - lo) as usize;
            if mems.len() != nb || bytes.len() != count * nb * bw {
                return Err(unexpected(r, "snapshots of another size"));
            }
            members[lo as usize..hi as usize].copy_from_slice(&mems);
            let (mems, fill) = (&mems, &fill);
            let rows = &mut buf[..count * n * w];
            self.pool.install(|| {
                rows.par_chunks_mut(n * w).enumerate().for_each_init(
                    || template.clone(),
                    |st, (j, row)| {
                        let step = (from + j as u64) * stride;
                        for (li, m) in mems.iter().enumerate() {
                            let i = lo as usize + li;
                            let cell = &mut row[i * w..(i + 1) * w];
                            if m.holds(step) {
                                let at = (j * nb + li) * bw;
                                st.read_bytes(&bytes[at..at + bw]);
                                st.write_elements(cell);
                            } else {
                                for x in cell.chunks_exact_mut(fill.len()) {
                                    x.copy_from_slice(fill);
                                }
                            }
                        }
                    },
                )
            });
        }
        Ok(failed)
    }

    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

/// Rank 0 of a distributed Monte Carlo run of `params` keyed by `key` writing its ensemble to
/// `out`: the group, array and progress file of [`super::ensemble::run_with_output`], byte for
/// byte, for any rank and thread count; a killed run continues from its last complete chunk
/// on any rank count. Worker ranks answer with [`crate::distributed::serve`].
pub(crate) fn run_over_ranks<'l, M: Model>(
    model: &M,
    params: &RunParams,
    key: NoiseKey,
    out: &EnsembleOutput,
    link: &mut Link<'l, dyn Transport + 'l>,
    pool: &rayon::ThreadPool,
    progress: Progress<'_>,
) -> Result<RunOutcome>
where
    M::State: ArrayState + StateBytes,
{
    let mut ranks = Ranks {
        model,
        link,
        pool,
        n: params.ntrajectories,
        repeat: key.repeat,
        stride: out.stride,
        since: Instant::now(),
    };
    run_with_others(model, params, key, out, &mut ranks, progress)
}
