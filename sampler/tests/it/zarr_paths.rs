//! Transition paths as Zarr (`sampler::output::export_paths`): every exported state equals the
//! state the run computed (a run keeping every state, same seed), the score function applied
//! to the exported states gives the database's scores bit for bit, for a built-in model and a
//! user's ndarray model; killed trajectories, id lists, thread counts and refusals.

use super::zarr_common::{attributes, read};
use ndarray::Array2;
use sampler::db::RunReader;
use sampler::models::Brownian;
use sampler::output::{PathsOptions, Select, export_paths};
use sampler::{
    Database, Error, GaussianNoise, Horizon, Model, ModelInfo, NoiseKey, OutputError, Run,
    RunParams, StoreAll, Tams,
};
use std::collections::HashMap;
use std::path::Path;

/// A 2 x 3 field of OU components; score = the mean.
#[derive(serde::Serialize)]
struct Field {
    epsilon: f64,
}

impl Model for Field {
    type State = Array2<f64>;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        6
    }
    fn initial_state(&self) -> Array2<f64> {
        Array2::zeros((2, 3))
    }
    fn step(&self, x: &mut Array2<f64>, _t: f64, dt: f64, xi: &GaussianNoise) {
        let amp = (2.0 * self.epsilon * dt).sqrt();
        for (v, n) in x.iter_mut().zip(xi.iter()) {
            *v += -*v * dt + amp * n;
        }
    }
    fn score(&self, x: &Array2<f64>, _t: f64) -> f64 {
        x.mean().unwrap_or(0.0)
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        ModelInfo::of("field", self)
    }
}

fn params(n: u64) -> RunParams {
    RunParams::new(n, 1, 400, Horizon::new(1.0, 0.01, 1.2)).unwrap()
}

/// A run database of `model` in `dir` and the same run's final ensemble with every state.
fn run_both<M: Model>(
    model: &M,
    p: &RunParams,
    seed: u64,
    dir: &Path,
    save_states: bool,
) -> HashMap<u64, Vec<M::State>>
where
    M::State: sampler::store::StateBytes + PartialEq + sampler::ArrayState,
{
    Run::new(model, p.clone())
        .seed(seed)
        .database(Database::Create(dir.to_path_buf()))
        .save_states(save_states)
        .threads(2)
        .run()
        .unwrap();
    let (_, ens) = Tams::new(StoreAll)
        .run_ensemble(model, p, NoiseKey::new(seed, 0), &|_, _| {})
        .unwrap();
    ens.trajectories
        .iter()
        .map(|t| (t.id(), t.record().clone()))
        .collect()
}

fn opts(stride: u64, select: Select) -> PathsOptions {
    PathsOptions {
        stride,
        select,
        ..PathsOptions::default()
    }
}

/// Check the group at `out` against the run in `run` and its states `kept` (by id, every
/// step; `None`: not kept, checked through the scores only): states, scores, time, padding.
fn check_group<M: Model>(
    model: &M,
    run: &Path,
    out: &Path,
    stride: u64,
    kept: Option<&HashMap<u64, Vec<M::State>>>,
    flat: impl Fn(&M::State) -> Vec<f64>,
    unflat: impl Fn(&[f64]) -> M::State,
) -> u64 {
    let (shape, states) = read::<f64>(out, "states");
    let (_, ids) = read::<u64>(out, "ids");
    let (_, lengths) = read::<u64>(out, "lengths");
    let (_, scores) = read::<f64>(out, "scores");
    let (_, time) = read::<f64>(out, "time");
    let (p, t) = (shape[0] as usize, shape[1] as usize);
    let w: usize = shape[2..].iter().product::<u64>() as usize;
    assert_eq!(ids.len(), p);
    let reader = RunReader::open(run).unwrap();
    let dt = 0.01;
    let mut checked = 0;
    for (i, &id) in ids.iter().enumerate() {
        let row = reader.trajectory(id).unwrap().unwrap();
        let len = (row.scores.len() as u64 - 1) / stride + 1;
        assert_eq!(lengths[i], len);
        for k in 0..t {
            let at = (i * t + k) * w;
            let x = &states[at..at + w];
            let step = k as u64 * stride;
            if (k as u64) < len {
                let state = unflat(x);
                let s = model.score(&state, step as f64 * dt);
                assert_eq!(
                    s.to_bits(),
                    row.scores[step as usize].to_bits(),
                    "id {id} step {step}"
                );
                assert_eq!(scores[i * t + k].to_bits(), s.to_bits());
                assert_eq!(time[k].to_bits(), (step as f64 * dt).to_bits());
                if let Some(kept) = kept {
                    let want = flat(&kept[&id][step as usize]);
                    let same = want.iter().zip(x).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "id {id} step {step}: {x:?} != {want:?}");
                }
                checked += 1;
            } else {
                assert!(x.iter().all(|v| v.is_nan()), "padding of id {id} at {k}");
                assert!(scores[i * t + k].is_nan());
            }
        }
    }
    checked
}

#[test]
fn reached_paths_equal_the_run_states_builtin() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = Brownian::default();
    let p = params(20);
    let kept = run_both(&model, &p, 5, &run, false);
    for stride in [1, 3] {
        let out = tmp.path().join(format!("paths-{stride}.zarr"));
        let s = export_paths(
            &model,
            &run,
            &out,
            &opts(stride, Select::Reached),
            &|_, _| {},
        )
        .unwrap();
        assert!(s.paths >= 1, "no path reached the target");
        let n = check_group(
            &model,
            &run,
            &out,
            stride,
            Some(&kept),
            |x| vec![*x],
            |x| x[0],
        );
        assert_eq!(n, s.states);
        // Reached paths of the final ensemble: their weights sum to the estimate.
        let (_, weights) = read::<f64>(&out, "weights");
        let summary = RunReader::open(&run).unwrap().summary().unwrap();
        let sum: f64 = weights.iter().sum();
        assert!((sum - summary.estimate).abs() <= 1e-12 * summary.estimate.abs().max(1.0));
        let a = attributes(&out);
        assert_eq!(a["retrace"]["stride"], stride);
        assert_eq!(a["model"]["name"], "brownian");
        assert_eq!(a["config"]["tams"]["ntrajectories"], 20);
    }
}

#[test]
fn custom_ndarray_model_paths_keep_their_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = Field { epsilon: 0.6 };
    let p = params(12);
    // With every state saved (store_all), the paths are read from the state files.
    let kept = run_both(&model, &p, 2, &run, true);
    let out = tmp.path().join("paths.zarr");
    let s = export_paths(&model, &run, &out, &opts(2, Select::Alive), &|_, _| {}).unwrap();
    assert_eq!(s.paths, 12);
    assert_eq!(s.replayed_steps, 0, "saved states were replayed");
    let (shape, _) = read::<f64>(&out, "states");
    assert_eq!(&shape[2..], &[2, 3]);
    let n = check_group(
        &model,
        &run,
        &out,
        2,
        Some(&kept),
        |x| x.iter().copied().collect(),
        |x| Array2::from_shape_vec((2, 3), x.to_vec()).unwrap(),
    );
    assert_eq!(n, s.states);
}

#[test]
fn killed_trajectories_ids_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = Brownian::default();
    run_both(&model, &params(10), 9, &run, false);
    let total = RunReader::open(&run)
        .unwrap()
        .summary()
        .unwrap()
        .trajectories;
    let out = tmp.path().join("all.zarr");
    let s = export_paths(&model, &run, &out, &opts(2, Select::All), &|_, _| {}).unwrap();
    assert_eq!(s.paths, total);
    assert!(total > 10, "no trajectory was killed");
    check_group(&model, &run, &out, 2, None, |x| vec![*x], |x| x[0]);
    // Small paths share chunks (at least 16 chunks along the paths: the last one partial).
    let meta = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(out.join(name).join("zarr.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let per = total.div_ceil(16);
    assert!(
        per > 1 && !total.is_multiple_of(per),
        "{total} paths: pick a run with a partial chunk"
    );
    for name in ["states", "scores"] {
        assert_eq!(
            meta(name)["chunk_grid"]["configuration"]["chunk_shape"][0],
            per
        );
    }
    let all = |threads| {
        let o = tmp.path().join(format!("all-{threads}.zarr"));
        let opts = PathsOptions {
            threads: Some(threads),
            ..opts(2, Select::All)
        };
        export_paths(&model, &run, &o, &opts, &|_, _| {}).unwrap();
        let bits =
            |a: &str| -> Vec<u64> { read::<f64>(&o, a).1.iter().map(|x| x.to_bits()).collect() };
        (bits("states"), bits("scores"))
    };
    assert_eq!(all(1), all(3), "1 and 3 threads differ");
    // Ids in the order given; the same bytes for any thread count.
    let mut arrays = Vec::new();
    for threads in [1, 3] {
        let out = tmp.path().join(format!("ids-{threads}.zarr"));
        let o = PathsOptions {
            threads: Some(threads),
            ..opts(1, Select::Ids(vec![total - 1, 0, 4]))
        };
        export_paths(&model, &run, &out, &o, &|_, _| {}).unwrap();
        assert_eq!(read::<u64>(&out, "ids").1, vec![total - 1, 0, 4]);
        let bits: Vec<u64> = read::<f64>(&out, "states")
            .1
            .iter()
            .map(|x| x.to_bits())
            .collect();
        arrays.push(bits);
    }
    assert_eq!(arrays[0], arrays[1]);
}

#[test]
fn refusals_name_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = Brownian::default();
    run_both(&model, &params(6), 1, &run, false);
    let out = tmp.path().join("p.zarr");
    export_paths(&model, &run, &out, &opts(1, Select::Alive), &|_, _| {}).unwrap();
    let again = export_paths(&model, &run, &out, &opts(1, Select::Alive), &|_, _| {});
    assert!(
        matches!(again, Err(Error::Output(OutputError::Exists { .. }))),
        "{again:?}"
    );
    let other = Brownian {
        drift: 0.5,
        x0: 0.0,
    };
    let q = tmp.path().join("q.zarr");
    let e = export_paths(&other, &run, &q, &opts(1, Select::Alive), &|_, _| {});
    let msg = e.unwrap_err().to_string();
    assert!(msg.contains("model.drift"), "{msg}");
    assert!(!q.exists(), "a refused export writes nothing");
    let e = export_paths(
        &model,
        &run,
        &tmp.path().join("r.zarr"),
        &opts(1, Select::Ids(vec![999])),
        &|_, _| {},
    );
    assert!(
        matches!(
            e,
            Err(Error::Output(OutputError::NoTrajectory { id: 999, .. }))
        ),
        "{e:?}"
    );
    let e = export_paths(
        &model,
        &run,
        &tmp.path().join("s.zarr"),
        &opts(0, Select::Alive),
        &|_, _| {},
    );
    assert!(e.unwrap_err().to_string().contains("stride"));
    // A select string parses; a bad one is refused.
    assert_eq!("3, 5".parse::<Select>().unwrap(), Select::Ids(vec![3, 5]));
    assert!("some".parse::<Select>().is_err());
}

#[test]
fn every_codec_reads_back_the_same_states_and_lossy_ones_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = Brownian::default();
    run_both(&model, &params(10), 9, &run, false);
    let mut arrays = Vec::new();
    for name in ["zstd", "zstd:3", "zstd:1:1", "none"] {
        let out = tmp.path().join(format!("{name}.zarr"));
        let o = PathsOptions {
            compression: name.parse().unwrap(),
            ..opts(1, Select::All)
        };
        export_paths(&model, &run, &out, &o, &|_, _| {}).unwrap();
        let text = std::fs::read_to_string(out.join("states/zarr.json")).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
        let codecs: Vec<String> = meta["codecs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        let want: &[&str] = match name {
            "none" => &["bytes"],
            "zstd:1:1" => &["bytes", "zstd"],
            _ => &["bytes", "numcodecs.shuffle", "zstd"],
        };
        assert_eq!(codecs, want, "{name}");
        let canonical = name.parse::<sampler::output::Codec>().unwrap().name();
        assert_eq!(attributes(&out)["retrace"]["compression"], canonical);
        let bits: Vec<u64> = read::<f64>(&out, "states")
            .1
            .iter()
            .map(|x| x.to_bits())
            .collect();
        arrays.push(bits);
    }
    assert!(
        arrays.windows(2).all(|w| w[0] == w[1]),
        "codecs read back differently"
    );
    let o = PathsOptions {
        compression: sampler::output::Codec::Zfp { minexp: -20 },
        ..opts(1, Select::All)
    };
    let out = tmp.path().join("zfp.zarr");
    let e = export_paths(&model, &run, &out, &o, &|_, _| {}).unwrap_err();
    assert!(e.to_string().contains("compression"), "{e}");
    assert!(!out.exists(), "a refused export wrote its group");
}
