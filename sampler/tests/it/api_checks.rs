//! Bad values reaching the public API are typed errors, never panics: run parameters (made by
//! `RunParams::new`, or changed afterwards), an empty replay lineage, a `Config` built in Rust
//! with a bad walltime, a model whose parameters cannot be described.

use sampler::models::Brownian;
use sampler::{
    Config, ConfigError, Database, Error, GaussianNoise, Horizon, Model, ModelError, ModelInfo,
    MonteCarlo, NoiseKey, Run, RunParams, StoreError, Strategy, Tams,
};

fn h() -> Horizon {
    Horizon::new(1.0, 0.01, 3.0)
}

/// The config key a `ConfigError::Invalid` names.
fn invalid_key<T: std::fmt::Debug>(r: sampler::Result<T>) -> String {
    match r {
        Err(Error::Config(ConfigError::Invalid { key, .. })) => key,
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

#[test]
fn run_params_new_refuses_bad_values_naming_the_key() {
    assert!(RunParams::new(10, 1, 100, h()).is_ok());
    assert_eq!(
        invalid_key(RunParams::new(0, 1, 100, h())),
        "tams.ntrajectories"
    );
    assert_eq!(
        invalid_key(RunParams::new(1, 1, 100, h())),
        "tams.ntrajectories"
    );
    assert_eq!(invalid_key(RunParams::new(10, 0, 100, h())), "tams.l");
    assert_eq!(invalid_key(RunParams::new(10, 10, 100, h())), "tams.l");
    for dt in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let r = RunParams::new(10, 1, 100, Horizon::new(1.0, dt, 3.0));
        assert_eq!(invalid_key(r), "trajectory.step_size", "dt {dt}");
    }
    for end in [f64::NAN, -1.0, f64::INFINITY] {
        let r = RunParams::new(10, 1, 100, Horizon::new(end, 0.01, 3.0));
        assert_eq!(invalid_key(r), "trajectory.end_time", "end {end}");
    }
    let r = RunParams::new(10, 1, 100, Horizon::new(1.0, 0.01, f64::NAN));
    assert_eq!(invalid_key(r), "trajectory.targetscore");
    let mut odd = h();
    odd.nsteps = 7;
    assert_eq!(
        invalid_key(RunParams::new(10, 1, 100, odd)),
        "trajectory.end_time"
    );
}

#[test]
fn strategies_refuse_changed_params_instead_of_panicking() {
    let model = Brownian::default();
    let key = NoiseKey::new(1, 0);
    let good = RunParams::new(10, 1, 100, h()).unwrap();
    type Change = fn(&mut RunParams);
    let cases: [(&str, Change); 4] = [
        ("tams.ntrajectories", |p| p.ntrajectories = 0),
        ("tams.l", |p| p.l = 10),
        ("tams.l", |p| p.l = 0),
        ("trajectory.step_size", |p| p.horizon.dt = f64::NAN),
    ];
    for (expected, change) in cases {
        let mut p = good.clone();
        change(&mut p);
        let tams = Tams::default().run(&model, &p, key, &|_, _| {});
        assert_eq!(invalid_key(tams), expected);
        let mc = MonteCarlo.run(&model, &p, key, &|_, _| {});
        assert_eq!(invalid_key(mc), expected);
    }
}

#[test]
fn replay_of_an_empty_lineage_is_an_error() {
    let model = Brownian::default();
    let (mut state, mut noise) = (model.initial_state(), model.noise_buffer());
    let key = NoiseKey::new(1, 0);
    let r = sampler::simulate::replay(&model, &h(), key, &[], &mut state, &mut noise, 0, 3);
    assert!(
        matches!(r, Err(Error::Store(StoreError::EmptyLineage { step: 0 }))),
        "{r:?}"
    );
    // Nothing to replay needs no lineage.
    sampler::simulate::replay(&model, &h(), key, &[], &mut state, &mut noise, 2, 2).unwrap();
}

const CONFIG: &str = "[tams]\nntrajectories = 10\nnsplititer = 100\n[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

#[test]
fn a_bad_walltime_set_in_rust_is_an_error() {
    let mut c = Config::from_toml(CONFIG).unwrap();
    c.tams.walltime = Some(60.0);
    assert_eq!(
        c.params().unwrap().walltime,
        Some(std::time::Duration::from_secs(60))
    );
    for w in [-1.0, f64::NAN, f64::INFINITY, 0.0, 1e300] {
        c.tams.walltime = Some(w);
        assert_eq!(invalid_key(c.params()), "tams.walltime", "walltime {w}");
    }
    c.tams.walltime = None;
    c.tams.l = 10;
    assert_eq!(invalid_key(c.params()), "tams.l");
}

/// A model whose parameters are not a table (a bare number), so `ModelInfo::of` fails.
struct Undescribable(f64);

impl Model for Undescribable {
    type State = f64;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> f64 {
        0.0
    }
    fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) {
        *x += dt.sqrt() * xi[0];
    }
    fn score(&self, x: &f64, _t: f64) -> f64 {
        *x
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        ModelInfo::of("undescribable", &self.0)
    }
}

#[test]
fn a_model_that_cannot_be_described_is_an_error_not_a_description() {
    // Two models failing the same way used to get the same description (the error's text),
    // so a restart with the other one passed the identity check.
    let (a, b) = (Undescribable(1.0), Undescribable(2.0));
    for m in [&a, &b] {
        assert!(matches!(
            m.describe(),
            Err(Error::Model(ModelError::Describe { ref name, .. })) if name == "undescribable"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let params = RunParams::new(10, 1, 100, h()).unwrap();
    let r = Run::new(&a, params)
        .database(Database::Create(dir.path().join("run")))
        .run();
    assert!(
        matches!(r, Err(Error::Model(ModelError::Describe { .. }))),
        "{r:?}"
    );
    assert!(!dir.path().join("run").exists());
    // A database recorded by a describable model cannot be continued by an undescribable one.
    let params = RunParams::new(10, 1, 100, h()).unwrap();
    Run::new(&Brownian::default(), params)
        .seed(1)
        .database(Database::Create(dir.path().join("good")))
        .run()
        .unwrap();
    let r = Run::from_database(&b, dir.path().join("good")).and_then(|r| r.run());
    assert!(
        matches!(r, Err(Error::Model(ModelError::Describe { .. }))),
        "{r:?}"
    );
}
