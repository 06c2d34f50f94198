//! Ensemble output (PySDE's storages): a Monte Carlo run advanced in lockstep, its states every
//! `stride` steps written to a Zarr array `data (d_X, N, M)` with `time (M,)`, flushed every
//! `chunk` snapshots; a progress file makes a killed run continue from its last flushed chunk.

use super::zarr::{ChunkBuf, Group, ZArray, fill_bytes};
use crate::array_state::{ArrayState, DType};
use crate::lockstep::snapshot;
use crate::parallel::collect_ordered;
use crate::simulate::{Member, initial_of, start_member};
use crate::strategy::montecarlo::outcome;
use crate::strategy::{Progress, RunParams};
use crate::{Error, Model, NoiseKey, OutputError, Result, RunOutcome};
use rayon::prelude::*;
use std::path::Path;

pub use crate::config::OutputConfig as EnsembleOutput;

/// The progress file of a group: which chunks are complete, and where each member stands.
const PROGRESS: &str = "retrace_progress.bin";
const MAGIC: &[u8; 8] = b"RTRCENS1";
/// `end step` of a member still running.
const RUNNING: u64 = u64::MAX;

/// The settings an output belongs to (the group's `retrace` attribute): a restart continues
/// an output only if they are equal.
fn identity<M: Model>(
    model: &M,
    params: &RunParams,
    key: NoiseKey,
    out: &EnsembleOutput,
    shape: &[usize],
    dtype: DType,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let h = &params.horizon;
    let model = serde_json::to_value(model.describe()?.to_table()).unwrap_or_default();
    let v = serde_json::json!({
        "kind": "ensemble",
        "format_version": 1,
        "ntrajectories": params.ntrajectories,
        "seed": key.seed,
        "repeat": key.repeat,
        "end_time": h.end_time,
        "dt": h.dt,
        "target": h.target,
        "nsteps": h.nsteps,
        "stride": out.stride,
        "chunk": out.chunk,
        "compression": out.compression.name(),
        "state_shape": shape,
        "dtype": dtype.name(),
        "model": model,
    });
    match v {
        serde_json::Value::Object(m) => Ok(m),
        _ => unreachable!("a JSON object literal"),
    }
}

/// Where members stand after `chunks` complete chunks.
struct Flushed {
    chunks: u64,
    members: Vec<Member>,
}

fn write_progress(dir: &Path, p: &Flushed) -> Result<()> {
    let mut b = Vec::with_capacity(28 + 9 * p.members.len());
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&p.chunks.to_le_bytes());
    b.extend_from_slice(&(p.members.len() as u64).to_le_bytes());
    for m in &p.members {
        let (end, hit) = match *m {
            Member::Running => (RUNNING, false),
            Member::Ended(s, r) => (s, r),
        };
        b.extend_from_slice(&end.to_le_bytes());
        b.push(u8::from(hit));
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    let path = dir.join(PROGRESS);
    let tmp = dir.join(format!("{PROGRESS}.partial"));
    std::fs::write(&tmp, &b)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| OutputError::zarr(&path, "write the progress file", e).into())
}

fn read_progress(dir: &Path, n: u64) -> Result<Flushed> {
    let path = dir.join(PROGRESS);
    let b =
        std::fs::read(&path).map_err(|e| OutputError::zarr(&path, "read the progress file", e))?;
    let bad = |reason: &str| {
        Error::from(OutputError::Corrupt {
            path: path.clone(),
            reason: reason.into(),
        })
    };
    let want = 24 + 9 * n as usize + 4;
    if b.len() != want || &b[..8] != MAGIC {
        return Err(bad("not a progress file of this ensemble"));
    }
    let (body, crc) = b.split_at(want - 4);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return Err(bad("fails its CRC-32 check"));
    }
    let u64_at = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().unwrap_or([0; 8]));
    if u64_at(16) != n {
        return Err(bad("member count differs"));
    }
    let members = (0..n as usize)
        .map(|i| {
            let at = 24 + 9 * i;
            match (u64_at(at), body[at + 8]) {
                (RUNNING, _) => Member::Running,
                (s, r) => Member::Ended(s, r != 0),
            }
        })
        .collect();
    Ok(Flushed {
        chunks: u64_at(8),
        members,
    })
}

/// The group of `out`: created, or (holding this run's output) opened with its progress.
fn open_or_create(
    out: &EnsembleOutput,
    attrs: serde_json::Map<String, serde_json::Value>,
    dims: (u64, u64, u64),
    dtype: DType,
) -> Result<(Group, ZArray, ZArray, Option<Flushed>)> {
    let (dx, n, m) = dims;
    let path = &out.path;
    let mine = attrs.get("retrace").cloned().unwrap_or_default();
    if let Some((g, stored)) = Group::open(path)? {
        let theirs = stored.get("retrace").cloned().unwrap_or_default();
        if let Some((key, a, b)) = first_difference(&theirs, &mine) {
            return Err(OutputError::OtherRun {
                path: path.clone(),
                key,
                stored: a,
                given: b,
            }
            .into());
        }
        let data = g.open_array("data", dtype, out.compression)?;
        let time = g.open_array("time", DType::F64, out.compression)?;
        if data.shape() != [dx, n, m] || time.shape() != [m] {
            return Err(OutputError::Corrupt {
                path: path.clone(),
                reason: "arrays of another shape".into(),
            }
            .into());
        }
        let p = read_progress(path, n)?;
        return Ok((g, data, time, Some(p)));
    }
    let g = Group::create(path, attrs)?;
    let c = out.chunk.min(m).max(1);
    let names = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let data = g.array(
        "data",
        &[dx, n, m],
        &[dx.max(1), members_per_chunk(dx, n, c, dtype.size()), c],
        dtype,
        &names(&["d_X", "N", "M"]),
        out.compression,
    )?;
    let time = g.array(
        "time",
        &[m],
        &[c],
        DType::F64,
        &names(&["M"]),
        out.compression,
    )?;
    Ok((g, data, time, None))
}

/// Bytes of one chunk of `data` the writer aims at: a flush of `chunk` snapshots is split along
/// `N` into chunks of about this size, encoded in parallel.
const CHUNK_TARGET: u64 = 2 << 20;

/// Members per chunk of `data` (`dx` elements of `size` bytes, `c` snapshots per chunk): as
/// many as fit [`CHUNK_TARGET`] (at least one), evened out over the chunks a flush needs. It
/// depends on the shape alone, so the array is the same for any thread or rank count.
fn members_per_chunk(dx: u64, n: u64, c: u64, size: usize) -> u64 {
    let member = (dx * c * size as u64).max(1);
    let per = (CHUNK_TARGET / member).clamp(1, n.max(1));
    let pieces = n.max(1).div_ceil(per);
    n.max(1).div_ceil(pieces)
}

/// The first key (dotted) whose value differs between two JSON values, with both values.
fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return (a != b).then(|| ("retrace".into(), a.to_string(), b.to_string()));
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let absent = serde_json::Value::String("(absent)".into());
    keys.into_iter().find_map(|k| {
        let (x, y) = (a.get(k).unwrap_or(&absent), b.get(k).unwrap_or(&absent));
        (x != y).then(|| (k.clone(), x.to_string(), y.to_string()))
    })
}

/// The members other ranks compute (a distributed run, see [`super::ensemble_ranks`]): this
/// process computes ids `0..own`, the others `own..n`, concurrently, snapshot chunk by chunk.
pub(crate) trait Others<S> {
    /// One past the last id this process computes.
    fn own(&self) -> u64;
    /// Ask the others to start their members: fresh (`None`), or continuing at snapshot
    /// `first` from `members` (all, id order) and snapshot `first - 1` as read back
    /// (`(element, member)` element bytes; empty when `first` is 0).
    fn start(&mut self, resume: Option<(u64, &[Member], &[u8])>) -> Result<()>;
    /// Where their members stand after starting (ids `own..n`), or the lowest failing id's
    /// error (inside `Ok`; a lost rank is the outer error).
    fn started(&mut self) -> Result<Result<Vec<Member>>>;
    /// Ask them for snapshots `from..to`.
    fn request(&mut self, from: u64, to: u64) -> Result<()>;
    /// Their answer to [`Others::request`]: where their members stand into `members[own..]`,
    /// their cells of the snapshots into `buf` (`(snapshot, member, element)`, rows of all
    /// members), or the earliest failing snapshot with its error (inside `Ok`).
    fn collect(
        &mut self,
        from: u64,
        to: u64,
        members: &mut [Member],
        buf: &mut [u8],
    ) -> Result<Option<(u64, Error)>>;
    /// Run `f` on this process's thread pool.
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R;
}

/// No other ranks: this process computes every member.
struct Alone(u64);

impl<S> Others<S> for Alone {
    fn own(&self) -> u64 {
        self.0
    }
    fn start(&mut self, _: Option<(u64, &[Member], &[u8])>) -> Result<()> {
        Ok(())
    }
    fn started(&mut self) -> Result<Result<Vec<Member>>> {
        Ok(Ok(Vec::new()))
    }
    fn request(&mut self, _: u64, _: u64) -> Result<()> {
        Ok(())
    }
    fn collect(
        &mut self,
        _: u64,
        _: u64,
        _: &mut [Member],
        _: &mut [u8],
    ) -> Result<Option<(u64, Error)>> {
        Ok(None)
    }
    /// The caller's pool ([`crate::Run::run`] installs it).
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        f()
    }
}

/// A Monte Carlo run of `params` keyed by `key` that writes its ensemble to `out` (see
/// [`crate::Run::output`]): bit-identical outcome to the run without output, and the same
/// array for any thread count. A group holding this run's output already (a killed run) is
/// continued from its last complete chunk.
pub(crate) fn run_with_output<M: Model>(
    model: &M,
    params: &RunParams,
    key: NoiseKey,
    out: &EnsembleOutput,
    progress: Progress<'_>,
) -> Result<RunOutcome>
where
    M::State: ArrayState,
{
    run_with_others(
        model,
        params,
        key,
        out,
        &mut Alone(params.ntrajectories),
        progress,
    )
}

/// [`run_with_output`] with members `own..n` computed by `others`: the same array, progress
/// file and outcome for any split (this process alone writes the group).
pub(crate) fn run_with_others<M: Model, O: Others<M::State>>(
    model: &M,
    params: &RunParams,
    key: NoiseKey,
    out: &EnsembleOutput,
    others: &mut O,
    progress: Progress<'_>,
) -> Result<RunOutcome>
where
    M::State: ArrayState,
{
    params.check()?;
    out.check()?;
    let n = params.ntrajectories;
    let h = params.horizon;
    let stride = out.stride;
    let m = h.nsteps / stride + 1;
    let template = model.initial_state();
    let dtype = template.dtype();
    let dx = template.elements();
    let w = dx * dtype.size();
    let shape = template.shape();
    if dx == 0 {
        return Err(Error::config("output", "the model's state has no elements"));
    }
    let attrs = {
        let mut a = serde_json::Map::new();
        a.insert(
            "retrace".into(),
            serde_json::Value::Object(identity(model, params, key, out, &shape, dtype)?),
        );
        a
    };
    let (g, data, time, prog) = open_or_create(out, attrs, (dx as u64, n, m), dtype)?;
    let chunk = out.chunk.min(m).max(1);
    let nu = usize::try_from(n).map_err(|_| Error::Overflow("ensemble size"))?;
    let own = others.own().min(n);
    let ou = own as usize;
    // Each member's start, drawn from its own initial-state stream as a run without output.
    let mut states: Vec<M::State> = (0..own).map(|i| initial_of(model, key, i)).collect();
    let (mut members, first) = match prog {
        None => {
            others.start(None)?;
            let mine = others.install(|| {
                collect_ordered(
                    states
                        .par_iter()
                        .enumerate()
                        .map(|(i, s)| start_member(model, &h, i as u64, s)),
                )
            });
            // The lowest failing id's error: ours, else the others' (in id order).
            let theirs = others.started()?;
            let mut members = mine?;
            members.extend(theirs?);
            (members, 0)
        }
        Some(p) if p.chunks == 0 => {
            // Nothing flushed: start afresh (the same members again).
            others.start(Some((0, &p.members, &[])))?;
            others.started()??;
            (p.members, 0)
        }
        Some(p) => {
            // Continue from the last snapshot of the last complete chunk.
            let first = p.chunks * chunk;
            let s = first - 1;
            let bytes = data.read(&[0..dx as u64, 0..n, s..s + 1])?;
            others.start(Some((first, &p.members, &bytes)))?;
            let size = dtype.size();
            let mut one = vec![0u8; w];
            for (i, st) in states.iter_mut().enumerate() {
                if p.members[i] == Member::Running {
                    for x in 0..dx {
                        let at = (x * nu + i) * size;
                        one[x * size..(x + 1) * size].copy_from_slice(&bytes[at..at + size]);
                    }
                    st.read_elements(&one);
                }
            }
            drop(bytes);
            others.started()??;
            (p.members, first)
        }
    };
    if first == 0 {
        write_progress(
            g.root(),
            &Flushed {
                chunks: 0,
                members: members.clone(),
            },
        )?;
    }
    let cu = chunk as usize;
    let grid = data.chunk_shape()?;
    if grid.get(2) != Some(&chunk) {
        return Err(OutputError::Corrupt {
            path: out.path.clone(),
            reason: format!("chunks {grid:?} do not hold {chunk} snapshots"),
        }
        .into());
    }
    // Members per chunk of `data` (older groups: all of them).
    let per = usize::try_from(grid[1]).map_err(|_| Error::Overflow("members per chunk"))?;
    let mut buf = vec![0u8; cu * nu * w];
    // One encoder per chunk of a flush, reused from flush to flush.
    let mut pieces: Vec<ChunkBuf> = (0..nu.div_ceil(per)).map(|_| ChunkBuf::new()).collect();
    let mut times = vec![f64::NAN; cu];
    let fill = fill_bytes(dtype);
    let write = |cell: &mut [u8], st: Option<&M::State>| match st {
        Some(st) => st.write_elements(cell),
        None => {
            for x in cell.chunks_exact_mut(fill.len()) {
                x.copy_from_slice(&fill);
            }
        }
    };
    let mut c = first / chunk;
    while c * chunk < m {
        let (k0, k1) = (c * chunk, ((c + 1) * chunk).min(m));
        others.request(k0, k1)?;
        let mut failed = None;
        for k in k0..k1 {
            let j = (k - k0) as usize;
            times[j] = h.time(k * stride);
            let row = j * nu * w;
            let (st, mem, slab) = (&mut states, &mut members[..ou], &mut buf[row..row + ou * w]);
            let r =
                others.install(|| snapshot(model, &h, key, stride, k, 0, st, mem, slab, &write));
            if let Err(e) = r {
                failed = Some((k, e));
                break;
            }
            progress(k + 1, m);
        }
        // The earliest failing snapshot's error, the lowest id there (ours on a tie).
        let theirs = others.collect(k0, k1, &mut members, &mut buf)?;
        match (failed, theirs) {
            (Some((k, e)), Some((kt, et))) => return Err(if kt < k { et } else { e }),
            (Some((_, e)), None) | (None, Some((_, e))) => return Err(e),
            (None, None) => {}
        }
        let filled = (k1 - k0) as usize;
        let lay = Layout {
            cu,
            filled,
            n: nu,
            dx,
            per,
            size: dtype.size(),
        };
        let (b, f, d) = (&buf, &fill, &data);
        others.install(|| {
            collect_ordered(pieces.par_iter_mut().enumerate().map(|(s, piece)| {
                lay.transpose(b, &mut piece.plain, s, f);
                d.write_chunk_buf(&[0, s as u64, c], piece)
            }))
        })?;
        for t in &mut times[filled..] {
            *t = f64::NAN;
        }
        time.write_chunk(&[c], super::zarr::bytes_of(&times))?;
        write_progress(
            g.root(),
            &Flushed {
                chunks: c + 1,
                members: members.clone(),
            },
        )?;
        c += 1;
    }
    let mut reached = 0u64;
    let mut steps = 0u64;
    for mem in &members {
        match *mem {
            Member::Ended(s, r) => {
                reached += u64::from(r);
                steps += s;
            }
            Member::Running => steps += h.nsteps,
        }
    }
    Ok(outcome(n, reached, steps))
}

/// The shape of a flush: `cu` snapshots per chunk of which `filled` were taken, `n` members
/// of `dx` elements of `size` bytes, `per` members per chunk of `data`.
#[derive(Clone, Copy)]
struct Layout {
    cu: usize,
    filled: usize,
    n: usize,
    dx: usize,
    per: usize,
    size: usize,
}

impl Layout {
    /// The snapshots `buf` (snapshot, member, element) -> chunk `s` along `N` in `out`
    /// (element, member `s * per..`, snapshot); snapshots not taken and members past the
    /// ensemble's end hold `fill`.
    fn transpose(&self, buf: &[u8], out: &mut Vec<u8>, s: usize, fill: &[u8]) {
        let Layout {
            cu,
            filled,
            n,
            dx,
            per,
            size,
        } = *self;
        out.resize(dx * per * cu * size, 0);
        let i0 = s * per;
        for (x, plane) in out.chunks_exact_mut((per * cu * size).max(1)).enumerate() {
            for (r, row) in plane.chunks_exact_mut((cu * size).max(1)).enumerate() {
                let i = i0 + r;
                for (j, cell) in row.chunks_exact_mut(size).enumerate() {
                    if i < n && j < filled {
                        let from = ((j * n + i) * dx + x) * size;
                        cell.copy_from_slice(&buf[from..from + size]);
                    } else {
                        cell.copy_from_slice(fill);
                    }
                }
            }
        }
    }
}
