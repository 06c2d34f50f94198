//! Ensemble output (PySDE's storages): a Monte Carlo run writes `data (d_X, N, M)` and
//! `time (M,)`; the estimate is that of the run without output, bit for bit; every snapshot
//! is the member's state (NaN after its end); the same array for 1 and 4 threads; a run that
//! failed part-way is readable up to its last flushed chunk and a rerun continues it to the
//! uninterrupted array; another run's output is refused.

use super::zarr_common::{Flaky, attributes, read};
use sampler::models::Brownian;
use sampler::simulate::replay;
use sampler::{
    Error, Horizon, Model, NoiseKey, OutputConfig, OutputError, Run, RunParams, Segment,
    StrategyKind,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

fn params(n: u64) -> RunParams {
    RunParams::new(n, 1, 1, Horizon::new(1.0, 0.01, 1.5)).unwrap()
}

fn output(path: &Path, stride: u64, chunk: u64) -> OutputConfig {
    OutputConfig {
        path: path.to_path_buf(),
        stride,
        chunk,
        compression: sampler::output::Codec::zstd(),
    }
}

fn mc<M: Model>(
    model: &M,
    n: u64,
    seed: u64,
    threads: usize,
    out: Option<OutputConfig>,
) -> sampler::Result<sampler::Report>
where
    M::State: sampler::store::StateBytes + PartialEq + sampler::ArrayState,
{
    Run::new(model, params(n))
        .strategy(StrategyKind::MonteCarlo)
        .seed(seed)
        .threads(threads)
        .output(out)
        .run()
}

/// Every member's expected snapshots (state at step k * stride up to its end, else NaN).
fn expected(model: &Brownian, n: u64, seed: u64, stride: u64, m: u64) -> Vec<f64> {
    let h = params(n).horizon;
    let key = NoiseKey::new(seed, 0);
    let mut out = vec![f64::NAN; (n * m) as usize];
    for i in 0..n {
        let lineage = [Segment {
            start_step: 0,
            stream: i,
        }];
        let mut x = model.initial_state();
        let mut noise = model.noise_buffer();
        let mut step = 0;
        out[(i * m) as usize] = x;
        let mut end = h.nsteps;
        if model.score(&x, 0.0) >= h.target {
            end = 0;
        }
        while step < end {
            replay(model, &h, key, &lineage, &mut x, &mut noise, step, step + 1).unwrap();
            step += 1;
            if step % stride == 0 {
                out[(i * m + step / stride) as usize] = x;
            }
            if model.score(&x, h.time(step)) >= h.target {
                end = step;
            }
        }
    }
    out
}

#[test]
fn snapshots_are_the_members_states_and_the_estimate_is_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Brownian::default();
    let plain = mc(&model, 64, 4, 2, None).unwrap();
    let mut arrays = Vec::new();
    for threads in [1, 4] {
        let path = tmp.path().join(format!("ens-{threads}.zarr"));
        let r = mc(&model, 64, 4, threads, Some(output(&path, 3, 5))).unwrap();
        assert_eq!(r.estimate.to_bits(), plain.estimate.to_bits());
        assert_eq!(r.model_steps, plain.model_steps);
        let (shape, data) = read::<f64>(&path, "data");
        let (tshape, time) = read::<f64>(&path, "time");
        assert_eq!(shape, vec![1, 64, 34]);
        assert_eq!(tshape, vec![34]);
        for (k, t) in time.iter().enumerate() {
            assert_eq!(t.to_bits(), ((3 * k) as f64 * 0.01).to_bits());
        }
        arrays.push(data.iter().map(|x| x.to_bits()).collect::<Vec<u64>>());
        assert_eq!(attributes(&path)["retrace"]["ntrajectories"], 64);
    }
    assert_eq!(arrays[0], arrays[1], "1 and 4 threads differ");
    let want: Vec<u64> = expected(&model, 64, 4, 3, 34)
        .iter()
        .map(|x| x.to_bits())
        .collect();
    assert_eq!(arrays[0], want);
    assert!(plain.details[0].reached > 0, "no member reached the target");
}

#[test]
fn a_failed_run_is_readable_and_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole.zarr");
    let part = tmp.path().join("part.zarr");
    let model = Flaky {
        fail: AtomicBool::new(false),
    };
    let full = mc(&model, 16, 7, 2, Some(output(&whole, 2, 4))).unwrap();
    model.fail.store(true, Ordering::Relaxed);
    let e = mc(&model, 16, 7, 2, Some(output(&part, 2, 4)));
    assert!(matches!(e, Err(Error::Model(_))), "{e:?}");
    // Steps 0..=54 (snapshots 0..=27: chunks 0..=6) were flushed before step 56 failed.
    let (_, a) = read::<f64>(&whole, "data");
    let (_, b) = read::<f64>(&part, "data");
    let m = 51;
    for i in 0..16 {
        for k in 0..28 {
            let (x, y) = (a[i * m + k], b[i * m + k]);
            assert_eq!(x.to_bits(), y.to_bits(), "member {i} snapshot {k}");
        }
    }
    model.fail.store(false, Ordering::Relaxed);
    let again = mc(&model, 16, 7, 3, Some(output(&part, 2, 4))).unwrap();
    assert_eq!(again.estimate.to_bits(), full.estimate.to_bits());
    assert_eq!(again.model_steps, full.model_steps);
    let (_, b) = read::<f64>(&part, "data");
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(
        bits(&read::<f64>(&whole, "time").1),
        bits(&read::<f64>(&part, "time").1)
    );
    // Finished: a rerun changes nothing and gives the same outcome.
    let third = mc(&model, 16, 7, 1, Some(output(&part, 2, 4))).unwrap();
    assert_eq!(third.estimate.to_bits(), full.estimate.to_bits());
}

#[test]
fn another_runs_output_and_bad_settings_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("e.zarr");
    let model = Brownian::default();
    mc(&model, 8, 1, 1, Some(output(&path, 1, 8))).unwrap();
    let e = mc(&model, 8, 2, 1, Some(output(&path, 1, 8)));
    match e {
        Err(Error::Output(OutputError::OtherRun { key, .. })) => assert_eq!(key, "seed"),
        other => panic!("{other:?}"),
    }
    let e = mc(&model, 8, 1, 1, Some(output(&tmp.path().join("z"), 0, 8)));
    assert!(e.unwrap_err().to_string().contains("output.stride"));
    let e = Run::new(&model, params(8))
        .output(Some(output(&tmp.path().join("t"), 1, 8)))
        .run();
    assert!(e.unwrap_err().to_string().contains("Monte Carlo"));
    // From a config: `[output]` on a built-in model, through the runner.
    let out = tmp.path().join("cfg.zarr");
    let text = format!(
        "[tams]\nntrajectories = 8\n[trajectory]\nend_time = 0.5\nstep_size = 0.01\n\
         targetscore = 1.0\n[sampler]\nstrategy = \"montecarlo\"\n[model]\nname = \"ou\"\n\
         [output]\npath = {:?}\nstride = 5\n",
        out.display().to_string()
    );
    let config = sampler::Config::from_toml(&text).unwrap();
    sampler::runner::run_config(&config, &Default::default(), &|_, _| {}).unwrap();
    assert_eq!(read::<f64>(&out, "data").0, vec![1, 8, 11]);
    let tams = text.replace("montecarlo", "tams");
    let e = sampler::Config::from_toml(&tams).unwrap_err().to_string();
    assert!(e.contains("output.path"), "{e}");
    // `compression`: raw bytes read back the same; a lossy codec is refused, in a config or
    // in code, before anything is written.
    let seeded = |to: &Path, extra: &str| {
        let t = text
            .replace("ntrajectories = 8\n", "ntrajectories = 8\nseed = 4\n")
            .replace(
                &format!("{:?}", out.display().to_string()),
                &format!("{:?}", to.display().to_string()),
            );
        let config = sampler::Config::from_toml(&(t + extra)).unwrap();
        sampler::runner::run_config(&config, &Default::default(), &|_, _| {}).unwrap();
    };
    let (raw, zstd) = (tmp.path().join("raw.zarr"), tmp.path().join("zstd.zarr"));
    seeded(&raw, "compression = \"none\"\n");
    seeded(&zstd, "");
    let bits = |p: &Path| -> Vec<u64> {
        read::<f64>(p, "data")
            .1
            .iter()
            .map(|x| x.to_bits())
            .collect()
    };
    assert_eq!(bits(&raw), bits(&zstd));
    assert_eq!(attributes(&raw)["retrace"]["compression"], "none");
    let e = sampler::Config::from_toml(&(text.clone() + "compression = \"zfp:1e-6\"\n"));
    assert!(e.unwrap_err().to_string().contains("lossy"));
    let lossy = OutputConfig {
        compression: sampler::output::Codec::Zfp { minexp: -20 },
        ..output(&tmp.path().join("zfp.zarr"), 1, 8)
    };
    let e = mc(&model, 8, 1, 1, Some(lossy)).unwrap_err().to_string();
    assert!(e.contains("output.compression"), "{e}");
    assert!(!tmp.path().join("zfp.zarr").exists());
}

#[test]
fn large_states_are_split_over_several_chunks_along_the_members() {
    // 4096 points x 6 snapshots = 196 KB a member: 10 fit the writer's 2 MiB chunk, so 23
    // members go in 3 chunks of 8 (the last holds 7 and the fill value).
    let tmp = tempfile::tempdir().unwrap();
    let mut model = sampler::models::AllenCahn::default();
    model.n = 4096;
    let p = RunParams::new(23, 1, 1, Horizon::new(0.05, 0.01, 0.99)).unwrap();
    let mut arrays = Vec::new();
    for threads in [1, 3] {
        let path = tmp.path().join(format!("ac-{threads}.zarr"));
        Run::new(&model, p.clone())
            .strategy(StrategyKind::MonteCarlo)
            .seed(11)
            .threads(threads)
            .output(Some(output(&path, 1, 64)))
            .run()
            .unwrap();
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.join("data/zarr.json")).unwrap())
                .unwrap();
        let (shape, data) = read::<f64>(&path, "data");
        let m = shape[2];
        assert_eq!(shape, vec![4096, 23, m]);
        assert_eq!(
            meta["chunk_grid"]["configuration"]["chunk_shape"],
            serde_json::json!([4096, 8, m])
        );
        arrays.push(data.iter().map(|x| x.to_bits()).collect::<Vec<u64>>());
    }
    assert_eq!(arrays[0], arrays[1], "1 and 3 threads differ");
    let h = p.horizon;
    let key = NoiseKey::new(11, 0);
    let m = h.nsteps + 1;
    for i in 0..23u64 {
        let lineage = [Segment {
            start_step: 0,
            stream: i,
        }];
        let mut x = model.initial_state();
        let mut noise = model.noise_buffer();
        for k in 0..m {
            if k > 0 {
                replay(&model, &h, key, &lineage, &mut x, &mut noise, k - 1, k).unwrap();
            }
            for (e, v) in x.iter().enumerate() {
                let at = (e as u64 * 23 + i) * m + k;
                assert_eq!(
                    arrays[0][at as usize],
                    v.to_bits(),
                    "member {i} step {k} x {e}"
                );
            }
        }
    }
}
