//! `retrace tams` refuses what cannot fit before starting: one line naming the numbers, exit 2.
//! The sizes are beyond any machine, so a run that was not refused would abort or never end.

use crate::common::{assert_usage_error, retrace};

const BASE: &str = "[tams]\nntrajectories = 10\nnsplititer = 100\n\
[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

/// Run `tams` on `config` with `extra` arguments; assert a usage error containing every `want`.
fn refused(config: &str, extra: &[&str], want: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let args = [&["tams", "--config", path.to_str().unwrap()][..], extra].concat();
    let o = retrace(&args);
    assert_usage_error(&o, &format!("{config} {extra:?}"));
    let err = String::from_utf8_lossy(&o.stderr);
    for w in want {
        assert!(err.contains(w), "{err} lacks {w:?}");
    }
}

#[test]
fn a_grid_of_2_pow_31_points_is_refused_before_allocating() {
    let config = BASE.replace("\"brownian\"", "\"allen_cahn\"\nn = 2147483648");
    refused(
        &config,
        &[],
        &[
            "the run needs at least",
            "TiB of RAM",
            "states",
            "more than the",
        ],
    );
}

#[test]
fn a_hundred_billion_trajectories_are_refused() {
    let config = BASE.replace("ntrajectories = 10", "ntrajectories = 100000000000");
    refused(
        &config,
        &[],
        &["the run needs at least", "scores 73.49 TiB"],
    );
}

#[test]
fn a_million_threads_are_refused() {
    refused(
        BASE,
        &["--threads", "1000000"],
        &["--threads: must be at most", "got 1000000"],
    );
    refused(
        &format!("{BASE}[runner]\nnworkers = 1000000\n"),
        &[],
        &["runner.nworkers: must be at most", "got 1000000"],
    );
}
