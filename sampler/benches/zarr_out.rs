//! Zarr outputs, printed as tables (not criterion: each figure is the best of `REPEATS` timed
//! runs, the machine's noise being one-sided).
//!
//! 1. Monte Carlo ensemble output (`[output]`): the run with output against the same run
//!    without (the difference is the writer's cost), and zarr-python writing the same array with
//!    the same chunks and codecs (`python/bench/zarr_write.py`; skipped without python3 + zarr;
//!    `PYTHON` names the interpreter), for each codec.
//! 2. Path regeneration (`export_paths`): seconds per exported state (stride 1, every path of
//!    the run) against the model's own cost per step (a Monte Carlo run of the same model:
//!    wall time / model steps), for each codec. Goal: within 1.2x.
//!
//! `cargo bench -p sampler --bench zarr_out [-- ensemble|paths]` (uses all cores; set
//! RAYON_NUM_THREADS to change).

use sampler::models::AllenCahn;
use sampler::output::{Codec, PathsOptions, Select, export_paths};
use sampler::{Database, Horizon, OutputConfig, Run, RunParams, StrategyKind};
use std::path::Path;
use std::time::Instant;

/// Timed runs per figure (the best is kept).
const REPEATS: usize = 5;

/// The best of [`REPEATS`] timings of `f` (given the repetition's index), calling `after`
/// untimed after each: it removes what a repetition wrote, so that the next writes into memory
/// the page cache has used before (on a virtual machine, pages touched for the first time can
/// cost a host fault each, which a longer-running machine does not see).
fn best(mut f: impl FnMut(usize), mut after: impl FnMut(usize)) -> f64 {
    (0..REPEATS)
        .map(|r| {
            let t = Instant::now();
            f(r);
            let s = t.elapsed().as_secs_f64();
            after(r);
            s
        })
        .fold(f64::INFINITY, f64::min)
}

/// Remove the directory `p` (a bench output).
fn remove(p: &Path) {
    std::fs::remove_dir_all(p).unwrap();
}

/// The codecs compared: zstd level 3 (zarr-python's zstd default), retrace's default (level 1),
/// zstd without the byte shuffle, and none.
fn codecs() -> Vec<Codec> {
    ["zstd:3", "zstd", "zstd:1:1", "none"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect()
}

fn dir_bytes(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            n += if path.is_dir() {
                dir_bytes(&path)
            } else {
                e.metadata().map_or(0, |m| m.len())
            };
        }
    }
    n
}

fn ensemble(tmp: &Path) {
    let mut model = AllenCahn::default();
    model.n = 64;
    // 512 members x 64 values x 501 snapshots = 131 MB of float64.
    let params = RunParams::new(512, 1, 1, Horizon::new(5.0, 0.01, 0.99)).unwrap();
    let run = |out: Option<OutputConfig>| {
        Run::new(&model, params.clone())
            .seed(1)
            .strategy(StrategyKind::MonteCarlo)
            .output(out)
            .run()
            .unwrap()
    };
    let bare = best(
        |_| {
            run(None);
        },
        |_| {},
    );
    let raw = 64 * 512 * 501 * 8;
    println!(
        "## Monte Carlo ensemble output: Allen-Cahn n = 64, N = 512, 501 snapshots, chunk 32 \
         (best of {REPEATS})"
    );
    println!(
        "run without output: {bare:.3} s; the writer's cost is the run with output minus it\n"
    );
    println!(
        "| codec | ratio | retrace writer s | MB/s | zarr-python s | MB/s | zarr-python / retrace |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/bench/zarr_write.py");
    for codec in codecs() {
        let name = codec.name();
        let path = |r: usize| tmp.join(format!("ensemble-{name}-{r}.zarr"));
        // The first repetition's group stays for its size and for zarr-python.
        let with = best(
            |r| {
                run(Some(OutputConfig {
                    path: path(r),
                    stride: 1,
                    chunk: 32,
                    compression: codec,
                }));
            },
            |r| {
                if r > 0 {
                    remove(&path(r));
                }
            },
        );
        let ours = (with - bare).max(1e-9);
        let stored = dir_bytes(&path(0));
        let res = std::process::Command::new(&python)
            .arg(&script)
            .arg(path(0))
            .arg(tmp.join("python.zarr"))
            .arg("data")
            .arg(REPEATS.to_string())
            .output();
        let theirs = match res {
            Ok(o) if o.status.success() => {
                let t: f64 = String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse()
                    .unwrap_or(f64::NAN);
                format!("{t:.3} | {:.0} | {:.2}", raw as f64 / t / 1e6, t / ours)
            }
            Ok(o) => format!(
                "skipped: {} | |",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("failed")
            ),
            Err(e) => format!("skipped: {e} | |"),
        };
        remove(&path(0));
        let _ = std::fs::remove_dir_all(tmp.join("python.zarr"));
        println!(
            "| {name} | {:.2} | {ours:.3} | {:.0} | {theirs} |",
            raw as f64 / stored as f64,
            raw as f64 / ours / 1e6
        );
    }
    println!();
}

fn paths(tmp: &Path) {
    let mut model = AllenCahn::default();
    model.n = 256;
    model.sigma = 0.5;
    let h = Horizon::new(2.0, 0.01, 0.6);
    let run = tmp.join("run");
    Run::new(&model, RunParams::new(32, 1, 100, h).unwrap())
        .seed(1)
        .database(Database::Create(run.clone()))
        .save_states(false)
        .run()
        .unwrap();
    let mc_params = RunParams::new(256, 1, 1, h).unwrap();
    let mut steps = 0;
    let mc = best(
        |_| {
            steps = Run::new(&model, mc_params.clone())
                .seed(1)
                .strategy(StrategyKind::MonteCarlo)
                .run()
                .unwrap()
                .model_steps;
        },
        |_| {},
    );
    let per_step = mc / steps as f64;
    println!(
        "## Path regeneration: Allen-Cahn n = 256, every trajectory of a TAMS run, stride 1 \
         (best of {REPEATS})"
    );
    println!(
        "Monte Carlo of the same model: {steps} steps in {mc:.3} s, {:.2} us a step\n",
        per_step * 1e6
    );
    println!("| codec | paths | states | steps replayed | seconds | us a state | / model step |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for codec in codecs() {
        let mut summary = None;
        let out = tmp.join(format!("paths-{}.zarr", codec.name()));
        let opts = PathsOptions {
            stride: 1,
            select: Select::All,
            compression: codec,
            ..PathsOptions::default()
        };
        let export = best(
            |_| summary = Some(export_paths(&model, &run, &out, &opts, &|_, _| {}).unwrap()),
            |_| remove(&out),
        );
        let s = summary.unwrap();
        let per_state = export / s.states as f64;
        println!(
            "| {} | {} | {} | {} | {export:.3} | {:.2} | {:.2} |",
            codec.name(),
            s.paths,
            s.states,
            s.replayed_steps,
            per_state * 1e6,
            per_state / per_step
        );
    }
    println!("\ngoal: within 1.2x of a model step");
}

fn main() {
    // `cargo bench -p sampler --bench zarr_out -- paths` runs one part (`ensemble`, `paths`).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let part = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let tmp = tempfile::tempdir().unwrap();
    if part("ensemble") {
        ensemble(tmp.path());
    }
    if part("paths") {
        paths(tmp.path());
    }
}
