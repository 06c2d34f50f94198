//! The distributed Burgers adjoint against the single-process one, under `mpirun -n 1, 2, 4`.
//!
//! `cargo test --features mpi --test mpi_burgers` starts this binary again under
//! `mpirun --oversubscribe -n P` for P = 1, 2, 4 (OpenMPI's `mpirun` must be on the PATH). Each
//! rank runs the cases; rank 0 compares the gathered gradient and the objective with the serial
//! ones computed in-process, bit for bit, and every rank checks that it reports the same error
//! as the others. Any mismatch exits non-zero, which fails `mpirun` and so this test.

use mpi::traits::*;
use retrace_demo::burgers::{Burgers, BurgersError, checkpointed_gradient, gradient_store_all};
use retrace_demo::burgers_mpi::{
    Checkpoints, DistributedError, FailureKind, RankGradient, StepFailure, gather, gradient,
};
use retrace_demo::partition::Partition;
use revolve::Binomial;
use sampler::mpi::{abort_on_panic, initialize};
use std::path::{Path, PathBuf};
use std::process::Command;

const CHILD: &str = "RETRACE_MPI_CHILD";
const DIR: &str = "RETRACE_MPI_DIR";

fn main() {
    if std::env::var_os(CHILD).is_some() {
        std::process::exit(child());
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let tmp = tempfile::tempdir().expect("a temporary directory");
    for ranks in [1, 2, 4] {
        let dir = tmp.path().join(format!("n{ranks}"));
        let status = Command::new("mpirun")
            .args(["--oversubscribe", "-n", &ranks.to_string()])
            .args(["-x", &format!("{CHILD}=1")])
            .args(["-x", &format!("{DIR}={}", dir.display())])
            .arg(&exe)
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .status()
            .unwrap_or_else(|e| panic!("cannot start mpirun (install openmpi-bin): {e}"));
        assert!(status.success(), "mpirun -n {ranks}: {status}");
        println!("mpirun -n {ranks}: distributed Burgers adjoint matches the serial one");
    }
}

/// Runs every case on this rank; the exit code (0: all passed).
fn child() -> i32 {
    abort_on_panic();
    let universe = match initialize() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let world = universe.world();
    let (rank, size) = (world.rank(), world.size() as usize);
    let dir = PathBuf::from(std::env::var_os(DIR).unwrap_or_else(|| "mpi-burgers".into()));
    let mut failures = Vec::new();
    let mut check = |case: &str, r: Result<(), String>| {
        if let Err(e) = r {
            eprintln!("rank {rank}, {case}: {e}");
            failures.push(case.to_string());
        }
    };
    // Uneven blocks; binomial schedule in RAM.
    check(
        "ram, 101 points",
        matches_serial(&world, 101, 60, &Checkpoints::Ram { snaps: 5 }),
    );
    // Multistage RAM + disk, each rank in its own directory.
    let disk = Checkpoints::RamAndDisk {
        ram: 2,
        disk: 3,
        dir: dir.clone(),
    };
    check(
        "ram + disk, 37 points",
        matches_serial(&world, 37, 40, &disk),
    );
    check(
        "taken rank directory",
        taken_rank_dir_is_agreed(&world, &dir),
    );
    // Blocks of one point (5 points on 4 ranks: 2, 1, 1, 1).
    check(
        "smallest blocks",
        matches_serial(&world, size.max(3) + 1, 20, &Checkpoints::Ram { snaps: 4 }),
    );
    check("non-finite step", non_finite_is_agreed(&world));
    check("initial block size", wrong_initial_block_is_agreed(&world));
    if size > 3 {
        check("too many ranks", too_many_ranks(&world));
    }
    let code = i32::from(!failures.is_empty());
    drop(universe);
    code
}

fn model(points: usize) -> Result<Burgers, String> {
    Burgers::with_stable_dt(points, 0.05, 2.0, 0.9).map_err(|e| e.to_string())
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The distributed gradient, gathered on rank 0, equals the serial store-all gradient (and the
/// serial checkpointed one) bit for bit; the halo bytes are 16 per rank per forward and reverse
/// step.
fn matches_serial<C: Communicator>(
    world: &C,
    points: usize,
    steps: u64,
    checkpoints: &Checkpoints,
) -> Result<(), String> {
    let model = model(points)?;
    let part = Partition::new(points, world.size() as usize).map_err(|e| e.to_string())?;
    let block = part.block(world.rank() as usize);
    let u0 = model.initial_condition();
    if bits(&model.initial_block(block.lo, block.hi)) != bits(&u0[block.lo..block.hi]) {
        return Err("initial_block differs from initial_condition".into());
    }
    let mine: RankGradient = gradient(world, &model, &u0[block.lo..block.hi], steps, checkpoints)
        .map_err(|e| e.to_string())?;
    if mine.block != block {
        return Err(format!("block {:?}, expected {block:?}", mine.block));
    }
    let st = mine.stats;
    let expected_bytes = 16 * (st.forward_steps + st.reverse_steps);
    if mine.halo_bytes != expected_bytes || st.reverse_steps != steps {
        return Err(format!(
            "halo bytes {} (expected {expected_bytes}), reverse steps {}",
            mine.halo_bytes, st.reverse_steps
        ));
    }
    let all = gather(world, &part, &mine.gradient).map_err(|e| e.to_string())?;
    let Some(all) = all else { return Ok(()) };
    let (j, reference) = gradient_store_all(&model, &u0, steps).map_err(|e| e.to_string())?;
    if matches!(checkpoints, Checkpoints::RamAndDisk { .. }) && st.schedule.stores[1] == 0 {
        return Err("no checkpoint went to disk".into());
    }
    if bits(&all) != bits(&reference) {
        let first = all
            .iter()
            .zip(&reference)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        return Err(format!(
            "gradient differs from store-all first at point {first:?}"
        ));
    }
    if mine.objective.to_bits() != j.to_bits() {
        return Err(format!("objective {} != serial {j}", mine.objective));
    }
    let snaps = match checkpoints {
        Checkpoints::Ram { snaps } => *snaps,
        Checkpoints::RamAndDisk { ram, disk, .. } => ram + disk,
    };
    let plan = Binomial::new(steps, snaps).map_err(|e| e.to_string())?;
    let serial = checkpointed_gradient(&model, &u0, plan, snaps as usize, None)
        .map_err(|e| e.to_string())?;
    if bits(&serial.gradient) != bits(&all) {
        return Err("gradient differs from the serial checkpointed one".into());
    }
    Ok(())
}

/// The last rank's directory `rank-R` already holds a slot file: that rank cannot set up its
/// store, and every rank names it.
fn taken_rank_dir_is_agreed<C: Communicator>(world: &C, dir: &Path) -> Result<(), String> {
    let (rank, size) = (world.rank(), world.size());
    let dir = dir.join("taken");
    if rank == 0 {
        let taken = dir.join(format!("rank-{}", size - 1));
        std::fs::create_dir_all(&taken).map_err(|e| e.to_string())?;
        std::fs::write(taken.join("slot-0.ckpt"), b"not mine").map_err(|e| e.to_string())?;
    }
    world.barrier();
    let model = model(30)?;
    let part = Partition::new(30, size as usize).map_err(|e| e.to_string())?;
    let b = part.block(rank as usize);
    let u0 = &model.initial_condition()[b.lo..b.hi];
    let disk = Checkpoints::RamAndDisk {
        ram: 1,
        disk: 2,
        dir,
    };
    match gradient(world, &model, u0, 5, &disk) {
        Err(e @ DistributedError::Setup { rank: r, .. }) if r == size - 1 && e.is_collective() => {
            Ok(())
        }
        other => Err(format!("got {other:?}")),
    }
}

/// A blow-up inside the last rank's block: every rank reports that rank and step 0, as the
/// serial model reports step 0.
fn non_finite_is_agreed<C: Communicator>(world: &C) -> Result<(), String> {
    let (rank, size) = (world.rank(), world.size());
    let model = model(40)?;
    let part = Partition::new(40, size as usize).map_err(|e| e.to_string())?;
    let last = part.block(size as usize - 1);
    let mut u0 = model.initial_condition();
    u0[(last.lo + last.hi) / 2] = 1e200;
    match gradient_store_all(&model, &u0, 10) {
        Err(BurgersError::NonFinite { step: 0 }) => {}
        other => return Err(format!("serial: {other:?}")),
    }
    let block = part.block(rank as usize);
    let r = gradient(
        world,
        &model,
        &u0[block.lo..block.hi],
        10,
        &Checkpoints::Ram { snaps: 3 },
    );
    let expected = StepFailure {
        rank: size - 1,
        step: 0,
        kind: FailureKind::NonFinite,
        agreed: true,
    };
    match r {
        Err(e @ DistributedError::Step(f)) if f == expected && e.is_collective() => Ok(()),
        other => Err(format!("got {other:?}, expected {expected:?}")),
    }
}

/// The last rank passes one point too many: every rank names it.
fn wrong_initial_block_is_agreed<C: Communicator>(world: &C) -> Result<(), String> {
    let (rank, size) = (world.rank(), world.size());
    let model = model(30)?;
    let part = Partition::new(30, size as usize).map_err(|e| e.to_string())?;
    let b = part.block(rank as usize);
    let mut u0 = model.initial_condition()[b.lo..b.hi].to_vec();
    if rank == size - 1 {
        u0.push(0.0);
    }
    match gradient(world, &model, &u0, 5, &Checkpoints::Ram { snaps: 2 }) {
        Err(DistributedError::InitialSize { rank: r, .. }) if r == size - 1 => Ok(()),
        other => Err(format!("got {other:?}")),
    }
}

/// 3 points cannot be split over 4 ranks: every rank says so.
fn too_many_ranks<C: Communicator>(world: &C) -> Result<(), String> {
    let model = model(3)?;
    match gradient(world, &model, &[0.0], 5, &Checkpoints::Ram { snaps: 2 }) {
        Err(DistributedError::Partition(p))
            if p.points == 3 && p.parts == world.size() as usize =>
        {
            Ok(())
        }
        other => Err(format!("got {other:?}")),
    }
}
