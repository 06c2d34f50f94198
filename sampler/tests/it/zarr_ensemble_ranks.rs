//! Ensemble output over ranks (`LocalTransport`: worker ranks on threads of this process, as
//! the Python package's worker processes are): the group a distributed Monte Carlo run writes
//! is the single-process one byte for byte (every file: metadata, chunks, progress) for 1 to 4
//! ranks; a run that failed part-way on 3 ranks left the single-process run's partial group,
//! reported its error, and continues on 2 ranks to the uninterrupted group.

use super::distributed_local::distributed;
use super::zarr_common::{Flaky, read};
use sampler::models::DoubleWell2d;
use sampler::{Error, Horizon, OutputConfig, Report, Run, RunParams, StrategyKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

fn output(path: &Path, stride: u64, chunk: u64) -> OutputConfig {
    OutputConfig {
        path: path.to_path_buf(),
        stride,
        chunk,
        compression: sampler::output::Codec::zstd(),
    }
}

/// Every file under `dir` (relative path, bytes), path order.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Both groups hold the same files, byte for byte, and the same arrays read back.
fn assert_same_group(a: &Path, b: &Path, context: &str) {
    let (fa, fb) = (files(a), files(b));
    let names = |f: &[(PathBuf, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "{context}: other files");
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{context}: {} differs", name.display());
    }
    for name in ["data", "time"] {
        let (sa, va) = read::<f64>(a, name);
        let (sb, vb) = read::<f64>(b, name);
        assert_eq!(sa, sb, "{context}: {name}'s shape");
        assert_eq!(bits(&va), bits(&vb), "{context}: {name}");
    }
}

fn json(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

#[test]
fn output_over_one_to_four_ranks_is_the_single_process_output_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let model = DoubleWell2d { epsilon: 0.05 };
    // 37 members in uneven blocks, some ending early; 134 snapshots in chunks of 7 (the last
    // one partial).
    let params = RunParams::new(37, 1, 1, Horizon::new(4.0, 0.01, 0.2)).unwrap();
    let run = |path: &Path, threads: usize| {
        Run::new(&model, params.clone())
            .strategy(StrategyKind::MonteCarlo)
            .seed(5)
            .threads(threads)
            .output(Some(output(path, 3, 7)))
    };
    let single = tmp.path().join("single.zarr");
    let one = run(&single, 2).run().unwrap();
    assert!(one.details[0].reached > 0, "no member reached the target");
    assert_eq!(read::<f64>(&single, "data").0, vec![2, 37, 134]);
    for ranks in 1..=4 {
        let path = tmp.path().join(format!("ranks-{ranks}.zarr"));
        let r = distributed(&model, ranks, |t| run(&path, 1).run_distributed(t)).unwrap();
        assert_eq!(json(&r), json(&one), "{ranks} ranks: report");
        assert_same_group(&single, &path, &format!("{ranks} ranks"));
    }
}

#[test]
fn a_failed_run_over_ranks_continues_on_another_rank_count() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Flaky {
        fail: AtomicBool::new(false),
    };
    let params = RunParams::new(16, 1, 1, Horizon::new(1.0, 0.01, 1.5)).unwrap();
    let run = |path: &Path, threads: usize| {
        Run::new(&model, params.clone())
            .strategy(StrategyKind::MonteCarlo)
            .seed(7)
            .threads(threads)
            .output(Some(output(path, 2, 4)))
    };
    let whole = tmp.path().join("whole.zarr");
    let full = run(&whole, 2).run().unwrap();
    model.fail.store(true, Ordering::Relaxed);
    let single_part = tmp.path().join("single-part.zarr");
    let e1 = run(&single_part, 2).run().unwrap_err();
    let part = tmp.path().join("part.zarr");
    let e3 = distributed(&model, 3, |t| run(&part, 1).run_distributed(t)).unwrap_err();
    assert!(matches!(e3, Error::Model(_)), "{e3:?}");
    assert_eq!(e3.to_string(), e1.to_string());
    // Readable up to the last flushed chunk: the single-process run's partial group.
    assert_same_group(&single_part, &part, "failed on 3 ranks");
    model.fail.store(false, Ordering::Relaxed);
    let again = distributed(&model, 2, |t| run(&part, 1).run_distributed(t)).unwrap();
    assert_eq!(json(&again), json(&full));
    assert_same_group(&whole, &part, "continued on 2 ranks");
    // Finished: a rerun on 4 ranks changes nothing.
    let third = distributed(&model, 4, |t| run(&part, 1).run_distributed(t)).unwrap();
    assert_eq!(json(&third), json(&full));
    assert_same_group(&whole, &part, "rerun on 4 ranks");
}
