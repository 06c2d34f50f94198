//! Distributed TAMS (`Run::run_mpi`) for ranks x threads on this machine: seconds per run,
//! speed-up over 1 rank x 1 thread in the same bench run, parallel efficiency (speed-up /
//! workers), rank 0's coordination cost per iteration (messages, bytes, time waiting for the
//! other ranks) and how the branch tasks were spread (the placement's bound on efficiency).
//! Every row's estimate and counters must be bit-identical to the 1 x 1 row.
//!
//! Cases: doublewell2d (N = 100, T = 10, dt = 0.01, l = 10: cheap steps, the coordination cost
//! shows) and Allen-Cahn with 10^5 unknowns (N = 32, l = 4 >= workers, uniform checkpoints under
//! a 256 MiB budget per rank, a fixed number of iterations).
//!
//! `cargo bench --features mpi --bench tams_mpi [-- --grid 1x1,1x2,2x1,4x1 --cases dw,ac
//! --repeats N]`. It starts itself under `mpirun --oversubscribe -n R` per row (OpenMPI's
//! `mpirun` on the PATH; waiting ranks yield their core, `--mca mpi_yield_when_idle 1`; no core
//! binding, so that a rank's threads can use every core).

use mpi::traits::*;
use sampler::models::ModelVisitor;
use sampler::mpi::{abort_on_panic, initialize};
use sampler::store::StateBytes;
use sampler::{Config, Model, Run};
use std::process::Command;
use std::sync::Mutex;

type BoxError = Box<dyn std::error::Error>;

const CHILD: &str = "RETRACE_TAMS_MPI_BENCH_CHILD";

const DOUBLEWELL: &str = r#"
[tams]
ntrajectories = 100
nsplititer = 100000
l = 10
seed = 7
[trajectory]
end_time = 10.0
step_size = 0.01
targetscore = 0.95
[sampler]
strategy = "tams"
[model]
name = "doublewell2d"
epsilon = 0.05
"#;

const ALLEN_CAHN: &str = r#"
[tams]
ntrajectories = 32
nsplititer = 24
l = 4
seed = 1
[trajectory]
end_time = 2.0
step_size = 0.01
targetscore = 0.9
policy = "uniform"
memory_budget = "256MiB"
[sampler]
strategy = "tams"
[model]
name = "allen_cahn"
n = 100000
length = 1.0
epsilon = 0.4
sigma = 0.7
tilt = 0.0
u0 = -1.0
noise = "uniform"
"#;

/// One row's measurements (rank 0), as written by a child.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Row {
    seconds: f64,
    iterations: u64,
    estimate_bits: u64,
    model_steps: u64,
    replay_steps: u64,
    peak: u64,
    sent: u64,
    sent_bytes: u64,
    received: u64,
    received_bytes: u64,
    wait_seconds: f64,
    tasks: Vec<u64>,
    critical: u64,
    moved: u64,
    moved_bytes: u64,
}

struct Visit<'a, C> {
    config: &'a Config,
    threads: usize,
    world: &'a C,
}

impl<C: Communicator> ModelVisitor for Visit<'_, C> {
    type Output = Result<Option<Row>, BoxError>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: StateBytes + PartialEq,
    {
        let traffic = Mutex::new(None);
        let c = self.config;
        let report = Run::new(model, c.params()?)
            .seed(c.tams.seed.unwrap_or(0))
            .store(c.store_policy())
            .threads(self.threads)
            .on_traffic(|t| *traffic.lock().unwrap() = Some(t.clone()))
            .run_mpi(self.world)?;
        let Some(r) = report else { return Ok(None) };
        let t = traffic.into_inner().unwrap().unwrap_or_default();
        Ok(Some(Row {
            seconds: r.seconds,
            iterations: r.iterations,
            estimate_bits: r.estimate.to_bits(),
            model_steps: r.model_steps,
            replay_steps: r.replay_steps,
            peak: r.details[0].peak_states_held,
            sent: t.sent,
            sent_bytes: t.sent_bytes,
            received: t.received,
            received_bytes: t.received_bytes,
            wait_seconds: t.wait_seconds,
            tasks: t.tasks,
            critical: t.critical,
            moved: t.moved,
            moved_bytes: t.moved_bytes,
        }))
    }
}

fn config_of(case: &str) -> Result<Config, BoxError> {
    Ok(Config::from_toml(match case {
        "dw" => DOUBLEWELL,
        "ac" => ALLEN_CAHN,
        other => return Err(format!("unknown case {other} (dw, ac)").into()),
    })?)
}

/// A child rank: run the case, rank 0 prints its row as JSON on stdout.
fn child() -> Result<(), BoxError> {
    abort_on_panic();
    let universe = initialize()?;
    let world = universe.world();
    let case = std::env::var("BENCH_CASE")?;
    let threads: usize = std::env::var("BENCH_THREADS")?.parse()?;
    let config = config_of(&case)?;
    let row = config.model.visit(Visit {
        config: &config,
        threads,
        world: &world,
    })?;
    if let Some(row) = row {
        println!("ROW {}", serde_json::to_string(&row)?);
    }
    Ok(())
}

fn run_row(case: &str, ranks: u32, threads: u32) -> Result<Row, BoxError> {
    let exe = std::env::current_exe()?;
    let out = Command::new("mpirun")
        .args(["--oversubscribe", "--mca", "mpi_yield_when_idle", "1"])
        // OpenMPI binds each rank to one core by default: a rank's rayon threads would share it.
        .args(["--bind-to", "none"])
        .args(["-n", &ranks.to_string()])
        .args(["-x", &format!("{CHILD}=1")])
        .args(["-x", &format!("BENCH_CASE={case}")])
        .args(["-x", &format!("BENCH_THREADS={threads}")])
        .arg(&exe)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "mpirun -n {ranks} ({case}, {threads} threads): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ROW "))
        .ok_or("no row printed")?;
    Ok(serde_json::from_str(line)?)
}

fn main() -> Result<(), BoxError> {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let mut grid = vec![(1u32, 1u32), (1, 2), (2, 1), (4, 1)];
    let mut cases = vec!["dw".to_string(), "ac".to_string()];
    let mut repeats = 1usize;
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(key) = args.next() {
        let value = args.next().ok_or_else(|| format!("{key} needs a value"))?;
        match key.as_str() {
            "--grid" => {
                grid = value
                    .split(',')
                    .map(|g| {
                        let (r, t) = g.split_once('x').ok_or("grid entries are RxT")?;
                        Ok((r.parse()?, t.parse()?))
                    })
                    .collect::<Result<_, BoxError>>()?
            }
            "--cases" => cases = value.split(',').map(str::to_string).collect(),
            "--repeats" => repeats = value.parse::<usize>()?.max(1),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{cores} cores; best of {repeats} per row; seconds = rank 0's wall time of the run");
    for case in &cases {
        println!("\n{case}:");
        println!(
            "| ranks x threads | seconds | speed-up | efficiency | iterations | msgs/it | bytes/it | wait us/it | tasks per rank | placement bound | moved tasks | state bytes moved/it |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        let mut base: Option<Row> = None;
        for &(ranks, threads) in &grid {
            let mut best: Option<Row> = None;
            for _ in 0..repeats {
                let row = run_row(case, ranks, threads)?;
                if best.as_ref().is_none_or(|b| row.seconds < b.seconds) {
                    best = Some(row);
                }
            }
            let row = best.ok_or("no run")?;
            let b = base.get_or_insert_with(|| row.clone());
            let same = (
                row.estimate_bits,
                row.model_steps,
                row.replay_steps,
                row.peak,
            ) == (b.estimate_bits, b.model_steps, b.replay_steps, b.peak);
            if !same {
                return Err(format!("{case} {ranks}x{threads}: report differs from 1x1").into());
            }
            let speedup = b.seconds / row.seconds;
            let workers = f64::from(ranks * threads);
            let it = row.iterations.max(1) as f64;
            let total: u64 = row.tasks.iter().sum();
            let bound = if row.critical == 0 {
                1.0
            } else {
                total as f64 / (f64::from(ranks) * row.critical as f64)
            };
            println!(
                "| {ranks} x {threads} | {:.3} | {speedup:.2} | {:.0}% | {} | {:.1} | {:.0} | {:.1} | {:?} | {:.0}% | {} | {:.0} |",
                row.seconds,
                100.0 * speedup / workers,
                row.iterations,
                (row.sent + row.received) as f64 / it,
                (row.sent_bytes + row.received_bytes) as f64 / it,
                1e6 * row.wait_seconds / it,
                row.tasks,
                100.0 * bound,
                row.moved,
                row.moved_bytes as f64 / it,
            );
        }
    }
    Ok(())
}
