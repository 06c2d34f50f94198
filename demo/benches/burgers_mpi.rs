//! The distributed Burgers adjoint (`retrace_demo::burgers_mpi`) on 1, 2 and 4 ranks: seconds per
//! gradient, speed-up over 1 rank in the same run, halo bytes per step, and whether the
//! gradients are bitwise equal across rank counts.
//!
//! `cargo bench --features mpi --bench burgers_mpi [-- --points N --steps N --snaps N
//! --repeats N --ranks 1,2,4 --busy-poll]`. It starts itself under `mpirun --oversubscribe -n P`
//! for each P (OpenMPI's `mpirun` on the PATH); on a machine with fewer cores than ranks the
//! ranks share cores. Waiting ranks yield their core (`--mca mpi_yield_when_idle 1`) unless
//! `--busy-poll` is given.

use mpi::traits::*;
use retrace_demo::burgers::Burgers;
use retrace_demo::burgers_mpi::{Checkpoints, gather, gradient};
use retrace_demo::partition::Partition;
use sampler::mpi::{abort_on_panic, initialize};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::process::Command;

type BoxError = Box<dyn std::error::Error>;

const CHILD: &str = "RETRACE_MPI_BENCH_CHILD";

#[derive(Clone, Debug)]
struct Options {
    points: usize,
    steps: u64,
    snaps: u64,
    repeats: usize,
    ranks: Vec<u32>,
    /// Let waiting ranks yield the core (OpenMPI `mpi_yield_when_idle`).
    yield_idle: bool,
}

fn options() -> Result<Options, BoxError> {
    let mut o = Options {
        points: 100_000,
        steps: 1000,
        snaps: 20,
        repeats: 5,
        ranks: vec![1, 2, 4],
        yield_idle: true,
    };
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(key) = args.next() {
        if key == "--busy-poll" {
            o.yield_idle = false;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{key} needs a value"))?;
        let count = || -> Result<u64, BoxError> {
            value
                .parse()
                .map_err(|_| format!("{key} {value}: not a count").into())
        };
        match key.as_str() {
            "--points" => o.points = usize::try_from(count()?)?,
            "--steps" => o.steps = count()?,
            "--snaps" => o.snaps = count()?,
            "--repeats" => o.repeats = usize::try_from(count()?)?.max(1),
            "--ranks" => {
                o.ranks = value
                    .split(',')
                    .map(|r| {
                        r.parse()
                            .map_err(|_| format!("--ranks: `{r}` is not a count"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ => return Err(format!("unknown option {key}").into()),
        }
    }
    Ok(o)
}

fn main() -> Result<(), BoxError> {
    let o = options()?;
    if std::env::var_os(CHILD).is_some() {
        return child(&o);
    }
    let exe = std::env::current_exe()?;
    // Bad parameters fail here, once, before any rank starts.
    Burgers::with_stable_dt(o.points, 2e-3, 2.0, 0.9)?;
    println!(
        "burgers_mpi: {} points, {} steps, Binomial(n, {}) in RAM on every rank, median of {} \
         runs; {} cores; load average {}",
        o.points,
        o.steps,
        o.snaps,
        o.repeats,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    println!(
        "{:>5} {:>12} {:>10} {:>10} {:>8} {:>14} {:>14} {:>13} {:>9}",
        "ranks",
        "points/rank",
        "median s",
        "min s",
        "speed-up",
        "halo B/step",
        "B/rank/step",
        "halo MB/run",
        "gradient"
    );
    let mut base = None;
    let mut reference = None;
    // OpenMPI busy-polls while a rank waits unless it knows the node is oversubscribed; on a
    // machine shared with other work that spinning takes the core the partner rank needs.
    let wait = if o.yield_idle {
        ["--mca", "mpi_yield_when_idle", "1"]
    } else {
        ["--mca", "mpi_yield_when_idle", "0"]
    };
    println!("mpirun --oversubscribe {}", wait.join(" "));
    for &p in &o.ranks {
        let out = Command::new("mpirun")
            .args(["--oversubscribe", "-n", &p.to_string()])
            .args(wait)
            .args(["-x", &format!("{CHILD}=1")])
            .arg(&exe)
            .args(["--points", &o.points.to_string()])
            .args(["--steps", &o.steps.to_string()])
            .args(["--snaps", &o.snaps.to_string()])
            .args(["--repeats", &o.repeats.to_string()])
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .output()
            .map_err(|e| format!("cannot start mpirun (install openmpi-bin): {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .ok_or_else(|| {
                format!(
                    "mpirun -n {p}: {}; no result\n{text}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let f: Vec<&str> = line.split_whitespace().collect();
        let [median, min, bytes, per_step, hash] = f[..] else {
            return Err(format!("bad result line `{line}`").into());
        };
        let (median, min): (f64, f64) = (median.parse()?, min.parse()?);
        let (bytes, per_step): (u64, u64) = (bytes.parse()?, per_step.parse()?);
        let b = *base.get_or_insert(median);
        let same = reference.get_or_insert_with(|| hash.to_string()) == hash;
        let part = Partition::new(o.points, p as usize)?;
        println!(
            "{:>5} {:>12} {:>10.3} {:>10.3} {:>8.2} {:>14} {:>14} {:>13.3} {:>9}",
            p,
            part.block(0).len(),
            median,
            min,
            b / median,
            per_step * u64::from(p),
            per_step,
            (bytes * u64::from(p)) as f64 / 1e6,
            if same { "bitwise=" } else { "DIFFERS" }
        );
    }
    println!("load average {}", loadavg());
    Ok(())
}

/// One rank: `repeats` gradients; rank 0 prints the median and minimum seconds, the halo bytes
/// this rank sent per run and per step, and a hash of the gathered gradient's bits.
fn child(o: &Options) -> Result<(), BoxError> {
    abort_on_panic();
    let universe = initialize()?;
    let world = universe.world();
    let size = usize::try_from(world.size())?;
    let model = Burgers::with_stable_dt(o.points, 2e-3, 2.0, 0.9)?;
    let part = Partition::new(o.points, size)?;
    let block = part.block(usize::try_from(world.rank())?);
    let u0 = model.initial_block(block.lo, block.hi);
    let checkpoints = Checkpoints::Ram { snaps: o.snaps };
    let mut times = Vec::with_capacity(o.repeats);
    let mut last = None;
    for _ in 0..o.repeats {
        world.barrier();
        let t = mpi::time();
        let g = gradient(&world, &model, &u0, o.steps, &checkpoints)?;
        world.barrier();
        times.push(mpi::time() - t);
        last = Some(g);
    }
    let g = last.ok_or("no run")?;
    let all = gather(&world, &part, &g.gradient)?;
    if let Some(all) = all {
        times.sort_by(f64::total_cmp);
        let mut h = DefaultHasher::new();
        all.iter().for_each(|x| x.to_bits().hash(&mut h));
        g.objective.to_bits().hash(&mut h);
        let steps = g.stats.forward_steps + g.stats.reverse_steps;
        println!(
            "RESULT {} {} {} {} {:016x}",
            times[times.len() / 2],
            times[0],
            g.halo_bytes,
            g.halo_bytes / steps.max(1),
            h.finish()
        );
    }
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
