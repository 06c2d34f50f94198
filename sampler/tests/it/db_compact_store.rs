//! A run database honours `[trajectory] policy`: with a compact, budgeted store the recorded run
//! and its restarts give the same estimate, bit for bit, as a plain store-all run.

use sampler::Config;
use sampler::runner::{DbOptions, RunOptions, run_config, run_with_database};

const BASE: &str = "[tams]\nntrajectories = 16\nnsplititer = NSPLIT\nl = 2\nseed = 5\n\
    [trajectory]\nend_time = 2.0\nstep_size = 0.01\ntargetscore = 0.9\nPOLICY\
    [model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n";

fn config(nsplit: u64, policy: &str) -> Config {
    let text = BASE
        .replace("NSPLIT", &nsplit.to_string())
        .replace("POLICY", policy);
    Config::from_toml(&text).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn compact_policy_with_database_and_restart_is_bit_identical() {
    let spill = tempfile::tempdir().unwrap();
    let policy = format!(
        "policy = \"uniform\"\nmemory_budget = 64\ncheckpoint_dir = \"{}\"\n",
        spill.path().display()
    );
    let plain = run_config(&config(200, ""), &RunOptions::default(), &|_, _| {}).unwrap();
    assert!(plain.iterations > 4, "the run must split a few times");

    // Uninterrupted database run with the compact store.
    let runs = tempfile::tempdir().unwrap();
    let whole = DbOptions::new(runs.path().join("whole"), false);
    let (r, _) = run_with_database(Some(&config(200, &policy)), &whole, &|_, _| {}).unwrap();
    assert_eq!(bits(&r.runs), bits(&plain.runs));
    assert_eq!(r.iterations, plain.iterations);
    assert!(
        r.replay_steps > 0,
        "the compact store must replay to branch"
    );

    // Stopped by the iteration budget, then restarted with a larger one (a harmless change).
    let split = DbOptions::new(runs.path().join("split"), false);
    let (first, _) = run_with_database(Some(&config(3, &policy)), &split, &|_, _| {}).unwrap();
    assert_eq!(first.iterations, 3);
    let again = DbOptions::new(runs.path().join("split"), true);
    let (r, _) = run_with_database(Some(&config(200, &policy)), &again, &|_, _| {}).unwrap();
    assert_eq!(bits(&r.runs), bits(&plain.runs));
    assert_eq!(r.iterations, plain.iterations);
    assert_eq!(r.model_steps, plain.model_steps);
    // Spill files are gone after every session.
    assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
}
