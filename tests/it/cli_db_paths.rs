//! `retrace db paths`: the transition paths of a built-in model's run as a Zarr v3 group; the
//! model's score applied to every exported state gives the run's recorded score bit for bit;
//! usage errors for a bad stride, selection or an existing output; a Monte Carlo `[output]`.

use super::common::{assert_usage_error, ok, retrace};
use sampler::Model;
use sampler::db::RunReader;
use sampler::models::DoubleWell2d;
use std::path::Path;
use std::sync::Arc;
use zarrs::array::{Array, ElementOwned};
use zarrs::filesystem::FilesystemStore;

const CONFIG: &str = "[tams]\nntrajectories = 12\nnsplititer = 60\nseed = 4\n\
    [trajectory]\nend_time = 3.0\nstep_size = 0.01\ntargetscore = 0.6\n\
    [model]\nname = \"doublewell2d\"\nepsilon = 0.1\n";

fn read<T: ElementOwned>(group: &Path, name: &str) -> (Vec<u64>, Vec<T>) {
    let store = Arc::new(FilesystemStore::new(group).unwrap());
    let a = Array::open(store, &format!("/{name}")).unwrap();
    let v = a.retrieve_array_subset::<Vec<T>>(&a.subset_all()).unwrap();
    (a.shape().to_vec(), v)
}

#[test]
fn db_paths_exports_states_that_score_as_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let run = tmp.path().join("run");
    let (cfg, run_s) = (cfg.to_str().unwrap(), run.to_str().unwrap());
    ok(&["tams", "--config", cfg, "--db", run_s]);
    let out = tmp.path().join("p.zarr");
    let out_s = out.to_str().unwrap();
    let text = ok(&[
        "db", "paths", run_s, "--zarr", out_s, "--stride", "4", "--select", "all",
    ]);
    assert!(text.contains("paths x"), "{text}");
    let (shape, states) = read::<f64>(&out, "states");
    let (_, ids) = read::<u64>(&out, "ids");
    let (_, lengths) = read::<u64>(&out, "lengths");
    assert_eq!(shape[2], 2);
    let model = DoubleWell2d { epsilon: 0.1 };
    let reader = RunReader::open(&run).unwrap();
    let t = shape[1] as usize;
    for (p, &id) in ids.iter().enumerate() {
        let scores = reader.trajectory(id).unwrap().unwrap().scores;
        for k in 0..lengths[p] as usize {
            let x = [states[(p * t + k) * 2], states[(p * t + k) * 2 + 1]];
            let s = model.score(&x, (4 * k) as f64 * 0.01);
            assert_eq!(
                s.to_bits(),
                scores[4 * k].to_bits(),
                "id {id} step {}",
                4 * k
            );
        }
    }
    // Usage errors: the output exists, a bad stride, a bad selection, an unknown id.
    let again = retrace(&["db", "paths", run_s, "--zarr", out_s]);
    assert_usage_error(&again, "existing output");
    let other = tmp.path().join("q.zarr");
    let other = other.to_str().unwrap();
    assert_usage_error(
        &retrace(&["db", "paths", run_s, "--zarr", other, "--stride", "0"]),
        "stride 0",
    );
    assert_usage_error(
        &retrace(&["db", "paths", run_s, "--zarr", other, "--select", "x"]),
        "select",
    );
    assert_usage_error(
        &retrace(&["db", "paths", run_s, "--zarr", other, "--select", "99999"]),
        "id",
    );
    assert!(!Path::new(other).exists());
}

#[test]
fn montecarlo_output_table_writes_the_ensemble() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ens.zarr");
    let text = CONFIG.replace("nsplititer = 60\n", "")
        + &format!(
            "[sampler]\nstrategy = \"montecarlo\"\n[output]\npath = {:?}\nstride = 10\nchunk = 7\n",
            out.to_str().unwrap()
        );
    let cfg = tmp.path().join("mc.toml");
    std::fs::write(&cfg, text).unwrap();
    ok(&["tams", "--config", cfg.to_str().unwrap()]);
    let (shape, data) = read::<f64>(&out, "data");
    assert_eq!(shape, vec![2, 12, 31]);
    // Snapshot 0 is every member's initial state.
    let x0 = DoubleWell2d { epsilon: 0.1 }.initial_state();
    for i in 0..12 {
        assert_eq!(data[i * 31], x0[0]);
        assert_eq!(data[(12 + i) * 31], x0[1]);
    }
}
