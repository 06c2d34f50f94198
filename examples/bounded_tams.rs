//! Memory-bounded TAMS on a large state: the stochastic Allen-Cahn equation with 10^6 unknowns
//! (8 MB per state), N = 32 trajectories of 200 steps: a store-all run would hold > 50 GB.
//!
//! For each budget this runs TAMS with a compact store in a fresh child process (so each peak RSS
//! is its own) and prints: budget, peak RSS (VmHWM from /proc/self/status) and the process's
//! fixed size before the run, peak checkpoint bytes in RAM and in spill files, the store-all
//! footprint avoided (the most states a store-all run holds at once, times the state size), model
//! steps, replay steps, recompute overhead ((model + replay) / model steps, a store-all run doing
//! exactly the model steps), the estimate and the seconds.
//!
//! ```text
//! cargo run --release --example bounded_tams                      # 256MiB,1GiB,4GiB
//! cargo run --release --example bounded_tams -- --budgets 1GiB --policy schedule
//! cargo run --release --example bounded_tams -- --n 1024 --budgets 1MiB   # small check
//! ```
//! Measured on the 2-core, 24 GiB development machine (shared with other jobs, so seconds are
//! inflated), default arguments (n = 10^6, N = 32, 200 steps, l = 2, sigma = 0.7):
//!
//! ```text
//!   budget  placement   peakRSS  fixedRSS (p-f)/b  ramPeak diskPeak  spills storeAllGB    steps   replay   ovhd   estimate  iters seconds
//!   256MiB  every 101     0.316     0.002  1.253    0.246    0.015       2       53.9    10808     3678  1.340   1.189e-1     33   239.8
//!     1GiB   every 41     1.054     0.003  1.051    0.998    0.007       1       53.9    10808     1097  1.101   1.189e-1     33   162.2
//!     4GiB   every 12     4.035     0.002  1.008    3.994    0.015       2       53.9    10808      388  1.036   1.189e-1     33   132.1
//!     1GiB   online 4     1.067     0.002  1.064    0.998    0.022      54       53.9    10808     1241  1.115   1.189e-1     33   146.0   (--policy schedule)
//! ```
//!
//! Child processes run with `MALLOC_MMAP_THRESHOLD_=262144` so glibc returns freed states to
//! the system instead of keeping them in its heap (the budget governs what is live).

use revolve::State as _;
use sampler::config::ByteSize;
use sampler::models::{AllenCahn, PointNoise};
use sampler::store::{CompactRecord, CompactStore, Placement, StateBytes, TrajectoryStore};
use sampler::{Horizon, Model, NoiseKey, RunParams, Tams};
use std::process::Command;
use std::time::Instant;

#[derive(Clone)]
struct Opts {
    n: u64,
    ntraj: u64,
    steps: u64,
    nsplititer: u64,
    l: u64,
    sigma: f64,
    target: f64,
    seed: u64,
    policy: String,
    budgets: Vec<String>,
    dir: String,
}

fn parse() -> (Opts, Option<String>) {
    let mut o = Opts {
        n: 1_000_000,
        ntraj: 32,
        steps: 200,
        nsplititer: 300,
        l: 2,
        sigma: 0.7,
        target: 0.9,
        seed: 1,
        policy: "uniform".into(),
        budgets: vec!["256MiB".into(), "1GiB".into(), "4GiB".into()],
        dir: std::env::temp_dir().display().to_string(),
    };
    let mut child = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        let num = |s: &str| -> u64 {
            s.parse().unwrap_or_else(|_| {
                eprintln!("bad number {s:?} for {}", args[i]);
                std::process::exit(2)
            })
        };
        match args[i].as_str() {
            "--n" => o.n = num(&v),
            "--ntraj" => o.ntraj = num(&v),
            "--steps" => o.steps = num(&v),
            "--nsplititer" => o.nsplititer = num(&v),
            "--l" => o.l = num(&v),
            "--seed" => o.seed = num(&v),
            "--sigma" => o.sigma = v.parse().unwrap_or(o.sigma),
            "--target" => o.target = v.parse().unwrap_or(o.target),
            "--policy" => o.policy = v,
            "--budgets" => o.budgets = v.split(',').map(str::to_owned).collect(),
            "--dir" => o.dir = v,
            "--child" => child = Some(v),
            "--bench" => {
                i += 1;
                continue;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    (o, child)
}

/// Peak and current resident set size of this process, bytes.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A compact store reporting, as `held`, the states a store-all record would hold: the run's
/// `peak_states_held` is then exactly a store-all run's peak.
struct StoreAllEquivalent<S>(CompactStore<S>);

impl<S: StateBytes + PartialEq> TrajectoryStore<S> for StoreAllEquivalent<S> {
    type Record = CompactRecord<S>;
    fn begin(&self, initial: &S) -> Self::Record {
        self.0.begin(initial)
    }
    fn record(&self, r: &mut Self::Record, step: u64, state: &S) {
        self.0.record(r, step, state)
    }
    fn try_record(&self, r: &mut Self::Record, step: u64, state: &S) -> sampler::Result<()> {
        self.0.try_record(r, step, state)
    }
    fn prefix(&self, p: &Self::Record, last: u64) -> Self::Record {
        self.0.prefix(p, last)
    }
    fn prefix_at(&self, p: &Self::Record, last: u64, state: &S) -> Self::Record {
        self.0.prefix_at(p, last, state)
    }
    fn nearest<'a>(&self, r: &'a Self::Record, step: u64) -> Option<(u64, &'a S)> {
        self.0.nearest(r, step)
    }
    fn restore(&self, r: &Self::Record, step: u64, state: &mut S) -> sampler::Result<u64> {
        self.0.restore(r, step, state)
    }
    fn held(&self, r: &Self::Record) -> u64 {
        r.store_all_states()
    }
}

fn gib(b: u64) -> f64 {
    b as f64 / (1u64 << 30) as f64
}

fn run_child(o: &Opts, budget_text: &str) -> Result<String, String> {
    let budget: ByteSize = budget_text.parse()?;
    let mut model = AllenCahn::default();
    (model.n, model.sigma, model.noise) = (o.n, o.sigma, PointNoise::Uniform);
    model.validate().map_err(|e| e.to_string())?;
    let horizon = Horizon::new(o.steps as f64 * 0.01, 0.01, o.target);
    let params = RunParams::new(o.ntraj, o.l, o.nsplititer, horizon).map_err(|e| e.to_string())?;
    let bytes = model.initial_state().byte_len() as u64;
    let placement = match o.policy.as_str() {
        "uniform" => Placement::uniform_for(budget.0, bytes, o.ntraj, params.horizon.nsteps),
        "schedule" => Placement::schedule_for(budget.0, bytes, o.ntraj),
        p => return Err(format!("unknown policy {p}")),
    };
    let (_, fixed) = rss();
    let store = StoreAllEquivalent(CompactStore::new(
        placement,
        budget.0,
        std::path::Path::new(&o.dir),
    ));
    let tams = Tams::new(store);
    let start = Instant::now();
    let (run, ens) = tams
        .run_ensemble(&model, &params, NoiseKey::new(o.seed, 0), &|_, _| {})
        .map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    drop(ens);
    let st = tams.store.0.stats();
    let spill_dir = tams.store.0.spill_dir();
    drop(tams);
    let left = spill_dir.is_some_and(|d| d.exists());
    let (peak, _) = rss();
    let store_all = run.peak_states_held * bytes;
    let overhead = (run.model_steps + run.replay_steps) as f64 / run.model_steps as f64;
    let place = match placement {
        Placement::Uniform { interval } => format!("every {interval}"),
        Placement::Schedule { slots } => format!("online {slots}"),
    };
    Ok(format!(
        "{:>8} {:>10} {:>9.3} {:>9.3} {:>6.3} {:>8.3} {:>8.3} {:>7} {:>10.1} {:>8} {:>8} {:>6.3} {:>10.3e} {:>6} {:>7.1} {}",
        budget_text,
        place,
        gib(peak),
        gib(fixed),
        gib(peak.saturating_sub(fixed)) / gib(budget.0),
        gib(st.ram_peak),
        gib(st.disk_peak),
        st.spills,
        store_all as f64 / 1e9,
        run.model_steps,
        run.replay_steps,
        overhead,
        run.estimate,
        run.iterations,
        secs,
        if left { "SPILL DIR LEFT" } else { "" }
    ))
}

fn main() {
    let (o, child) = parse();
    if let Some(b) = child {
        match run_child(&o, &b) {
            Ok(line) => println!("ROW {line}"),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1)
            }
        }
        return;
    }
    println!(
        "# stochastic Allen-Cahn, n = {} ({} MB/state), N = {}, {} steps, nsplititer = {}, l = {}, sigma = {}, policy {}",
        o.n,
        o.n * 8 / 1_000_000,
        o.ntraj,
        o.steps,
        o.nsplititer,
        o.l,
        o.sigma,
        o.policy
    );
    println!(
        "{:>8} {:>10} {:>9} {:>9} {:>6} {:>8} {:>8} {:>7} {:>10} {:>8} {:>8} {:>6} {:>10} {:>6} {:>7}",
        "budget",
        "placement",
        "peakRSS",
        "fixedRSS",
        "(p-f)/b",
        "ramPeak",
        "diskPeak",
        "spills",
        "storeAllGB",
        "steps",
        "replay",
        "ovhd",
        "estimate",
        "iters",
        "seconds"
    );
    println!(
        "{:>8} {:>10} {:>9} {:>9} {:>6} {:>8} {:>8} {:>7} {:>10} {:>8} {:>8} {:>6} {:>10} {:>6} {:>7}",
        "", "", "GiB", "GiB", "", "GiB", "GiB", "", "avoided", "", "", "", "", "", "s"
    );
    let exe = std::env::current_exe().expect("current exe");
    let passthrough: Vec<String> = std::env::args().skip(1).collect();
    for b in &o.budgets {
        let mut cmd = Command::new(&exe);
        cmd.args(&passthrough).args(["--child", b]);
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            cmd.env("MALLOC_MMAP_THRESHOLD_", "262144");
        }
        let out = cmd.output().expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        match text.lines().find_map(|l| l.strip_prefix("ROW ")) {
            Some(row) => println!("{row}"),
            None => println!(
                "{b:>8} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
}
