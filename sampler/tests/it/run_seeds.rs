//! Seeds: a run given no seed draws a fresh one from the OS and reports it; a run database
//! records it, so continuing without a seed is bit-identical to an uninterrupted run with it;
//! a given seed keeps runs deterministic (builder, config and runner alike).

use sampler::models::Brownian;
use sampler::runner::{DbOptions, RunOptions, run_config, run_with_database};
use sampler::{Config, Database, Horizon, Report, Run, RunParams};

fn params() -> RunParams {
    RunParams::new(30, 1, 300, Horizon::new(1.0, 0.01, 2.0)).expect("valid parameters")
}

fn json(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

#[test]
fn no_seed_draws_a_fresh_one_and_reports_it() {
    let m = Brownian::default();
    let a = Run::new(&m, params()).threads(2).run().unwrap();
    let b = Run::new(&m, params()).threads(2).run().unwrap();
    // Two draws of 63 bits are equal with probability 2^-63.
    assert_ne!(a.seed, b.seed);
    assert!(a.seed < 1 << 63 && b.seed < 1 << 63);
    // The reported seed reproduces the run.
    let again = Run::new(&m, params()).seed(a.seed).threads(1).run().unwrap();
    assert_eq!(json(&again), json(&a));
    // A given seed is used as given.
    let fixed = Run::new(&m, params()).seed(0).run().unwrap();
    assert_eq!(fixed.seed, 0);
    assert_eq!(Run::new(&m, params()).seed_given(), None);
}

#[test]
fn the_database_records_the_drawn_seed_for_restarts() {
    let m = Brownian::default();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run");
    let first = Run::new(&m, params())
        .iterations(20)
        .database(Database::Create(db.clone()))
        .run()
        .unwrap();
    assert_eq!(first.iterations, 20);
    // Continued without a seed, through the recorded settings or the builder: the recorded one.
    let rest = Run::from_database(&m, &db)
        .unwrap()
        .iterations(300)
        .run()
        .unwrap();
    assert_eq!(rest.seed, first.seed);
    let whole = Run::new(&m, params()).seed(first.seed).run().unwrap();
    assert_eq!(json(&rest), json(&whole));
    let again = Run::new(&m, params())
        .database(Database::Continue(db.clone()))
        .run()
        .unwrap();
    assert_eq!(json(&again), json(&whole));
    // Another seed is refused, naming the key.
    let err = Run::new(&m, params())
        .seed(first.seed ^ 1)
        .database(Database::Continue(db))
        .run()
        .unwrap_err();
    assert!(err.to_string().contains("tams.seed"), "{err}");
}

#[test]
fn configs_without_a_seed_draw_one_and_record_it() {
    let text = "[tams]\nntrajectories = 20\nnsplititer = 200\n\
        [trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 2.0\n\
        [model]\nname = \"brownian\"\n";
    let c = Config::from_toml(text).unwrap();
    assert_eq!(c.tams.seed, None);
    let opts = RunOptions {
        threads: Some(2),
        ..RunOptions::default()
    };
    let a = run_config(&c, &opts, &|_, _| {}).unwrap();
    let b = run_config(&c, &opts, &|_, _| {}).unwrap();
    assert_ne!(a.seed, b.seed);
    let seeded = Config::from_toml(&text.replace("nsplititer", "seed = 4\nnsplititer")).unwrap();
    let s = run_config(&seeded, &opts, &|_, _| {}).unwrap();
    assert_eq!(json(&s), json(&run_config(&seeded, &opts, &|_, _| {}).unwrap()));
    assert_eq!(s.seed, 4);
    // A run database: the drawn seed is recorded, and a restart without a config keeps it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run");
    let (first, _) = run_with_database(Some(&c), &DbOptions::new(db.clone(), false), &|_, _| {})
        .unwrap();
    let (again, config) =
        run_with_database(None, &DbOptions::new(db.clone(), true), &|_, _| {}).unwrap();
    assert_eq!(config.tams.seed, Some(first.seed));
    assert_eq!(json(&again), json(&first));
    // The config without a seed continues it too.
    let (third, _) =
        run_with_database(Some(&c), &DbOptions::new(db, true), &|_, _| {}).unwrap();
    assert_eq!(json(&third), json(&first));
}
