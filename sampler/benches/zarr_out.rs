//! Zarr outputs, one run each, printed as tables (not criterion: each row is one timed run).
//!
//! 1. Monte Carlo ensemble output (`[output]`): the run with output against the same run
//!    without (the difference is the writer's cost), and zarr-python writing the same array with
//!    the same chunks and codecs (`python/bench/zarr_write.py`; skipped without python3 + zarr;
//!    `PYTHON` names the interpreter).
//! 2. Path regeneration (`export_paths`): seconds per exported state (stride 1, every path of
//!    the run) against the model's own cost per step (a Monte Carlo run of the same model:
//!    wall time / model steps). Goal: within 1.2x.
//!
//! `cargo bench -p sampler --bench zarr_out` (uses all cores; set RAYON_NUM_THREADS to change).

use sampler::models::AllenCahn;
use sampler::output::{PathsOptions, Select, export_paths};
use sampler::{Database, Horizon, OutputConfig, Run, RunParams, StrategyKind};
use std::path::Path;
use std::time::Instant;

fn secs(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
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
            .strategy(StrategyKind::MonteCarlo)
            .output(out)
            .run()
            .unwrap()
    };
    let bare = secs(|| {
        run(None);
    });
    let path = tmp.join("ensemble.zarr");
    let out = OutputConfig {
        path: path.clone(),
        stride: 1,
        chunk: 32,
    };
    let with = secs(|| {
        run(Some(out));
    });
    let raw = 64 * 512 * 501 * 8;
    let stored = dir_bytes(&path);
    println!("## Monte Carlo ensemble output: Allen-Cahn n = 64, N = 512, 501 snapshots, chunk 32");
    println!("| what | seconds | MB/s of raw data |");
    println!("|---|---:|---:|");
    println!("| run without output | {bare:.3} | |");
    println!("| run with output | {with:.3} | |");
    let ours = (with - bare).max(1e-9);
    println!(
        "| retrace writer (difference) | {ours:.3} | {:.0} |",
        raw as f64 / ours / 1e6
    );
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/bench/zarr_write.py");
    let res = std::process::Command::new(&python)
        .arg(&script)
        .arg(&path)
        .arg(tmp.join("python.zarr"))
        .arg("data")
        .output();
    match res {
        Ok(o) if o.status.success() => {
            let t: f64 = String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(f64::NAN);
            println!(
                "| zarr-python, same chunks and codecs | {t:.3} | {:.0} |",
                raw as f64 / t / 1e6
            );
            println!("\nratio zarr-python / retrace writer: {:.2}", t / ours);
        }
        Ok(o) => println!(
            "| zarr-python | skipped: {} | |",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        ),
        Err(e) => println!("| zarr-python | skipped: {e} | |"),
    }
    println!(
        "compression: {raw} bytes raw, {stored} stored ({:.2}x)\n",
        raw as f64 / stored as f64
    );
}

fn paths(tmp: &Path) {
    let mut model = AllenCahn::default();
    model.n = 256;
    model.sigma = 0.5;
    let h = Horizon::new(2.0, 0.01, 0.6);
    let run = tmp.join("run");
    Run::new(&model, RunParams::new(32, 1, 100, h).unwrap())
        .database(Database::Create(run.clone()))
        .save_states(false)
        .run()
        .unwrap();
    let mc_params = RunParams::new(256, 1, 1, h).unwrap();
    let mut steps = 0;
    let mc = secs(|| {
        steps = Run::new(&model, mc_params)
            .strategy(StrategyKind::MonteCarlo)
            .run()
            .unwrap()
            .model_steps;
    });
    let out = tmp.join("paths.zarr");
    let opts = PathsOptions {
        stride: 1,
        select: Select::All,
        ..PathsOptions::default()
    };
    let mut summary = None;
    let export =
        secs(|| summary = Some(export_paths(&model, &run, &out, &opts, &|_, _| {}).unwrap()));
    let s = summary.unwrap();
    let per_step = mc / steps as f64;
    let per_state = export / s.states as f64;
    println!("## Path regeneration: Allen-Cahn n = 256, every trajectory of a TAMS run, stride 1");
    println!("| what | count | seconds | us each |");
    println!("|---|---:|---:|---:|");
    println!(
        "| Monte Carlo model steps | {steps} | {mc:.3} | {:.2} |",
        per_step * 1e6
    );
    println!(
        "| exported states ({} paths, {} steps replayed) | {} | {export:.3} | {:.2} |",
        s.paths,
        s.replayed_steps,
        s.states,
        per_state * 1e6
    );
    println!(
        "\nratio (per exported state / per model step): {:.2} (goal <= 1.2)",
        per_state / per_step
    );
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    ensemble(tmp.path());
    paths(tmp.path());
}
