//! Cost of the TAMS run database: commit time per iteration, the initial trajectories' commits
//! (as they finish, batched by what finished meanwhile), database size per 1000 iterations,
//! and the restart cost (rebuilding the ensemble by replay); then, on a large model, the restart
//! rebuild time and the disk bytes with and without saved states (`[database] save_states`).
//!
//! `cargo run --release --example db_cost`

use retrace::sampler;
use sampler::db::{RunDb, resume, states_dir};
use sampler::models::BuiltinModel;
use sampler::runner::{DbOptions, run_with_database};
use sampler::strategy::RunOutcome;
use sampler::{
    Config, Ensemble, IterationRecord, Journal, LoopState, Model, NoiseKey, StoreAll, Tams,
    Trajectory,
};
use std::time::{Duration, Instant};

/// Times every call into the wrapped journal.
struct Timed<J> {
    inner: J,
    commits: Vec<Duration>,
    /// The initial trajectories' commits.
    fresh: Vec<Duration>,
}

impl<R, J: Journal<R>> Journal<R> for Timed<J> {
    fn on_fresh(&mut self, ts: &[&Trajectory<R>]) -> sampler::Result<()> {
        let t = Instant::now();
        let out = self.inner.on_fresh(ts);
        self.fresh.push(t.elapsed());
        out
    }
    fn on_initial(&mut self, e: &Ensemble<R>, s: &LoopState) -> sampler::Result<()> {
        self.inner.on_initial(e, s)
    }
    fn on_iteration(&mut self, r: &IterationRecord<'_, R>) -> sampler::Result<()> {
        let t = Instant::now();
        let out = self.inner.on_iteration(r);
        self.commits.push(t.elapsed());
        out
    }
    fn on_stop(&mut self, o: &RunOutcome) -> sampler::Result<()> {
        self.inner.on_stop(o)
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn case<M: Model>(label: &str, config: &Config, model: &M)
where
    M::State: sampler::store::StateBytes + PartialEq,
{
    let params = config.params().unwrap();
    let description = sampler::Run::new(model, params.clone())
        .seed(config.tams.seed.unwrap_or(0))
        .description()
        .unwrap();
    let key = NoiseKey::new(config.tams.seed.unwrap_or(0), 0);
    let tams = Tams::new(StoreAll);
    let t = Instant::now();
    let (plain, _) = tams.run_ensemble(model, &params, key, &|_, _| {}).unwrap();
    let t_plain = t.elapsed();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut journal = Timed {
        inner: RunDb::create(&dir, &description).unwrap(),
        commits: Vec::new(),
        fresh: Vec::new(),
    };
    let t = Instant::now();
    let (out, _) = tams
        .run_journaled(model, &params, key, &|_, _| {}, &mut journal, None)
        .unwrap();
    let t_db = t.elapsed();
    assert_eq!(out, plain, "database run differs from the plain run");
    drop(journal.inner);
    let size = dir_size(&dir);
    let fresh_ms = journal.fresh.iter().sum::<Duration>().as_secs_f64() * 1e3;
    let fresh_n = journal.fresh.len();
    let mut c = journal.commits;
    c.sort();
    let q = out.iterations.max(1);
    let mean = c.iter().sum::<Duration>().as_secs_f64() / q as f64;
    let median = c.get(c.len() / 2).copied().unwrap_or_default();
    let p99 = c.get(c.len() * 99 / 100).copied().unwrap_or_default();
    let (db, _) = RunDb::open(&dir).unwrap();
    let t = Instant::now();
    let r = resume(
        &db,
        model,
        &StoreAll,
        &params.horizon,
        key,
        params.ntrajectories,
    )
    .unwrap()
    .unwrap();
    let t_resume = t.elapsed();
    assert_eq!(r.state.iterations, out.iterations);
    println!(
        "| {label} | {} | {fresh_n} | {fresh_ms:.2} | {:.1} | {:.1} | {:.1} | {:.3} | {:.3} | {:.2} | {:.1} | {:.1} |",
        out.iterations,
        mean * 1e6,
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        t_plain.as_secs_f64(),
        t_db.as_secs_f64(),
        size as f64 / 1e6,
        size as f64 / q as f64 * 1000.0 / 1e6,
        t_resume.as_secs_f64() * 1e3,
    );
}

fn tree_size(dir: &std::path::Path) -> u64 {
    let states = states_dir(dir);
    dir_size(dir)
        + if states.is_dir() {
            dir_size(&states)
        } else {
            0
        }
}

/// A large state (Allen-Cahn, `n` grid points): run `iterations`, then time a restart that
/// only rebuilds the ensemble (same iteration budget), with and without saved states.
fn states_case(n: u64, ntraj: u64, steps: u64, iterations: u64, policy: &str) {
    let text = |save: bool| {
        format!(
            "[tams]\nntrajectories = {ntraj}\nnsplititer = {iterations}\nseed = 3\n\
             [trajectory]\nend_time = {}\nstep_size = 0.01\ntargetscore = 0.9\n{policy}\
             [model]\nname = \"allen_cahn\"\nn = {n}\nsigma = 0.5\n\
             [database]\npath = \"unused\"\nsave_states = {save}\n",
            steps as f64 * 0.01
        )
    };
    for save in [false, true] {
        let config = Config::from_toml(&text(save)).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let t = Instant::now();
        let (first, _) = run_with_database(
            Some(&config),
            &DbOptions::new(dir.clone(), false),
            &|_, _| {},
        )
        .unwrap();
        let t_run = t.elapsed();
        let t = Instant::now();
        let (again, _) = run_with_database(
            Some(&config),
            &DbOptions::new(dir.clone(), true),
            &|_, _| {},
        )
        .unwrap();
        let t_restart = t.elapsed();
        assert_eq!(again.iterations, first.iterations);
        println!(
            "| allen_cahn n={n}, N={ntraj}, {steps} steps{} | {save} | {} | {:.2} | {:.3} | {:.1} | {:.1} |",
            if policy.is_empty() {
                ""
            } else {
                ", compact 40 MB"
            },
            first.iterations,
            t_run.as_secs_f64(),
            t_restart.as_secs_f64(),
            tree_size(&dir) as f64 / 1e6,
            if states_dir(&dir).is_dir() {
                dir_size(&states_dir(&dir)) as f64 / 1e6
            } else {
                0.0
            }
        );
    }
}

fn main() {
    let brownian = |n: u64, dt: f64, target: f64| {
        format!(
            "[tams]\nntrajectories = {n}\nnsplititer = 1000000\nseed = 1\n[trajectory]\n\
             end_time = 1.0\nstep_size = {dt}\ntargetscore = {target}\n[model]\nname = \"brownian\"\n"
        )
    };
    let cases = [
        ("brownian N=100, 100 steps", brownian(100, 0.01, 4.0)),
        ("brownian N=1000, 100 steps", brownian(1000, 0.01, 4.0)),
        ("brownian N=100, 1000 steps", brownian(100, 0.001, 4.0)),
        ("brownian N=100, 10000 steps", brownian(100, 0.0001, 4.0)),
        (
            "doublewell2d N=50, 1000 steps",
            "[tams]\nntrajectories = 50\nnsplititer = 100000\nseed = 1\n[trajectory]\n\
             end_time = 10.0\nstep_size = 0.01\ntargetscore = 0.95\n[model]\n\
             name = \"doublewell2d\"\nepsilon = 0.05\n"
                .to_string(),
        ),
    ];
    println!(
        "| case | iterations | initial commits | their time (ms) | commit mean (us) | median (us) | \
         p99 (us) | run without db (s) | run with db (s) | db size (MB) | MB per 1000 iterations | \
         restart rebuild (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (label, text) in cases {
        let config = Config::from_toml(&text).unwrap();
        match &config.model {
            BuiltinModel::Brownian(m) => case(label, &config, m),
            BuiltinModel::Doublewell2d(m) => case(label, &config, m),
            _ => unreachable!(),
        }
    }
    println!();
    println!(
        "| case | save_states | iterations | run (s) | restart rebuild (s) | run dir (MB) | \
         states/ (MB) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let big = std::env::args().any(|a| a == "--big");
    let n = if big { 100_000 } else { 10_000 };
    let spill = tempfile::tempdir().unwrap();
    let compact = format!(
        "policy = \"uniform\"\nmemory_budget = 40000000\ncheckpoint_dir = \"{}\"\n",
        spill.path().display()
    );
    states_case(n, 10, 20, 5, "");
    states_case(n, 10, 100, 5, &compact);
}
