//! The Burgers adjoint of `examples/burgers_adjoint.rs`, split over MPI ranks: each rank owns a
//! block of the grid, exchanges one value with each neighbour per step and reverses its block
//! with its own `Revolver` and checkpoints. The gathered gradient is the single-process one, bit
//! for bit.
//!
//! Build: `cargo build --release --features mpi --example burgers_mpi`, then
//! `mpirun -n 4 target/release/examples/burgers_mpi [points] [steps] [snaps] [options]`
//! (defaults 100000 1000 20). Options:
//! - `--disk D --dir DIR`: multistage schedule with `snaps` RAM and `D` disk slots per rank, rank
//!   `r` writing its slot files in `DIR/rank-r` (node-local disk on a cluster);
//! - `--check`: also compute the gradient on rank 0 alone and compare bit for bit (exit 1 if not
//!   equal).
//!
//! Errors every rank sees (bad arguments, an unstable step) are printed once, by rank 0, and every
//! rank exits with 2; an error only one rank sees (its disk) aborts the job (`MPI_Abort`).

use mpi::traits::*;
use retrace_demo::burgers::{Burgers, gradient_store_all};
use retrace_demo::burgers_mpi::{Checkpoints, gather, gradient};
use retrace_demo::partition::Partition;
use sampler::mpi::{abort_on_panic, initialize};
use std::path::PathBuf;

struct Args {
    points: usize,
    steps: u64,
    snaps: u64,
    disk: Option<(u64, PathBuf)>,
    check: bool,
}

fn args() -> Result<Args, String> {
    let mut counts = Vec::new();
    let (mut disk, mut dir, mut check) = (None, None, false);
    let mut it = std::env::args().skip(1);
    let count = |s: Option<String>, what: &str| -> Result<u64, String> {
        let s = s.ok_or_else(|| format!("{what} needs a value"))?;
        s.parse()
            .map_err(|_| format!("{what} `{s}` is not a count"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--disk" => disk = Some(count(it.next(), "--disk")?),
            "--dir" => dir = Some(PathBuf::from(it.next().ok_or("--dir needs a value")?)),
            "--check" => check = true,
            _ => counts.push(count(Some(a), "argument")?),
        }
    }
    if counts.len() > 3 {
        return Err("at most three counts: points steps snaps".into());
    }
    let get = |i: usize, default: u64| counts.get(i).copied().unwrap_or(default);
    let disk = match (disk, dir) {
        (Some(d), Some(dir)) => Some((d, dir)),
        (None, None) => None,
        _ => return Err("--disk and --dir go together".into()),
    };
    Ok(Args {
        points: usize::try_from(get(0, 100_000)).map_err(|e| e.to_string())?,
        steps: get(1, 1000),
        snaps: get(2, 20),
        disk,
        check,
    })
}

fn main() {
    abort_on_panic();
    let universe = match initialize() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("burgers_mpi: {e}");
            std::process::exit(2);
        }
    };
    let world = universe.world();
    let code = match run(&world) {
        Ok(code) => code,
        Err((message, collective)) => {
            if !collective {
                eprintln!(
                    "burgers_mpi: rank {}: {message}; aborting the job",
                    world.rank()
                );
                world.abort(1);
            }
            if world.rank() == 0 {
                eprintln!("burgers_mpi: {message}");
            }
            2
        }
    };
    drop(universe);
    std::process::exit(code);
}

/// The exit code, or an error message and whether every rank has it.
fn run<C: Communicator>(world: &C) -> Result<i32, (String, bool)> {
    let collective = |e: String| (e, true);
    // Every rank parses the same arguments, so a bad one is an error on every rank.
    let a = args().map_err(collective)?;
    let (rank, size) = (world.rank(), world.size() as usize);
    // The model of examples/burgers_adjoint.rs.
    let model =
        Burgers::with_stable_dt(a.points, 2e-3, 2.0, 0.9).map_err(|e| collective(e.to_string()))?;
    let part = Partition::new(a.points, size).map_err(|e| collective(e.to_string()))?;
    let block = part.block(rank as usize);
    // Each rank needs only its own block of the initial state.
    let u0 = model.initial_block(block.lo, block.hi);
    let checkpoints = match &a.disk {
        None => Checkpoints::Ram { snaps: a.snaps },
        Some((disk, dir)) => Checkpoints::RamAndDisk {
            ram: a.snaps,
            disk: *disk,
            dir: dir.clone(),
        },
    };
    world.barrier();
    let t = mpi::time();
    let mine = gradient(world, &model, &u0, a.steps, &checkpoints)
        .map_err(|e| (e.to_string(), e.is_collective()))?;
    world.barrier();
    let secs = mpi::time() - t;
    let all = gather(world, &part, &mine.gradient).map_err(|e| collective(e.to_string()))?;
    let Some(all) = all else { return Ok(0) };
    let st = mine.stats;
    let norm = all.iter().map(|x| x * x).sum::<f64>().sqrt();
    println!(
        "{size} ranks, {} points ({}..{} points per rank), {} steps, {checkpoints:?}",
        a.points,
        part.blocks().map(|b| b.len()).min().unwrap_or(0),
        part.blocks().map(|b| b.len()).max().unwrap_or(0),
        a.steps
    );
    println!(
        "J = {:.12e}, |dJ/du0| = {norm:.12e}, {secs:.3} s; per rank: forward steps {}, \
         disk stores {}, halo {} bytes ({} per step)",
        mine.objective,
        st.forward_steps,
        st.schedule.stores[1],
        mine.halo_bytes,
        mine.halo_bytes / (st.forward_steps + st.reverse_steps).max(1)
    );
    if !a.check {
        return Ok(0);
    }
    let (j, serial) = gradient_store_all(&model, &model.initial_condition(), a.steps)
        .map_err(|e| collective(e.to_string()))?;
    let same = j.to_bits() == mine.objective.to_bits()
        && serial.len() == all.len()
        && serial
            .iter()
            .zip(&all)
            .all(|(x, y)| x.to_bits() == y.to_bits());
    println!(
        "check against the single-process gradient: {}",
        if same { "bitwise equal" } else { "DIFFERENT" }
    );
    Ok(if same { 0 } else { 1 })
}
