//! Random initial conditions (`Model::initial_state_from`): an Ornstein-Uhlenbeck chain started
//! from its stationary law gives the exact probability (numerical quadrature), the start values
//! have that law (Kolmogorov-Smirnov), and replay (memory budgets), restarts and thread counts
//! reproduce the run bit for bit.

use rayon::prelude::*;
use sampler::strategy::Summary;
use sampler::{
    Database, Ensemble, GaussianNoise, Horizon, IterationRecord, Journal, LoopState, Model,
    ModelInfo, NoiseKey, NoiseRng, Run, RunOutcome, RunParams, StopReason, StoreAll, StorePolicy,
    Strategy, Tams, Trajectory,
};
use serde::Serialize;

/// `x <- a x + b xi` with `a = 1 - theta dt`, `b = sqrt(2 epsilon dt)` (the built-in `ou`
/// model's step), started at `x0`, or from the chain's stationary law `N(0, b^2 / (1 - a^2))`
/// when `x0` is `None`.
#[derive(Debug, Clone, Serialize)]
struct Ou {
    theta: f64,
    epsilon: f64,
    dt: f64,
    x0: Option<f64>,
}

impl Ou {
    fn a(&self) -> f64 {
        1.0 - self.theta * self.dt
    }
    fn b(&self) -> f64 {
        (2.0 * self.epsilon * self.dt).sqrt()
    }
    fn stationary_sd(&self) -> f64 {
        (self.b().powi(2) / (1.0 - self.a().powi(2))).sqrt()
    }
}

impl Model for Ou {
    type State = f64;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> f64 {
        self.x0.unwrap_or(0.0)
    }
    fn initial_state_from(&self, rng: &mut NoiseRng) -> f64 {
        match self.x0 {
            Some(x) => x,
            None => rng.normal_pair().0 * self.stationary_sd(),
        }
    }
    fn step(&self, x: &mut f64, _t: f64, _dt: f64, xi: &GaussianNoise) {
        *x = self.a() * *x + self.b() * xi[0];
    }
    fn score(&self, x: &f64, _t: f64) -> f64 {
        *x
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        ModelInfo::of("ou_stationary", self)
    }
}

const DT: f64 = 0.05;
const END: f64 = 1.0;
const LEVEL: f64 = 2.0;

fn stationary() -> Ou {
    Ou {
        theta: 1.0,
        epsilon: 0.5,
        dt: DT,
        x0: None,
    }
}

/// `P(max_{n = 0..=K} X_n >= level)` for the chain started from its stationary law, `K` steps:
/// the density of the paths not yet at the level, propagated on a grid (trapezoidal rule).
fn exact(m: &Ou, steps: usize, level: f64, n: usize) -> f64 {
    let (a, b, sd) = (m.a(), m.b(), m.stationary_sd());
    let lo = -10.0 * sd;
    let h = (level - lo) / (n - 1) as f64;
    let x: Vec<f64> = (0..n).map(|i| lo + i as f64 * h).collect();
    let w = |i: usize| if i == 0 || i == n - 1 { 0.5 * h } else { h };
    let gauss = |z: f64, s: f64| (-0.5 * (z / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt());
    let mut q: Vec<f64> = x.iter().map(|&x| gauss(x, sd)).collect();
    for _ in 0..steps {
        q = x
            .par_iter()
            .map(|&y| (0..n).map(|i| w(i) * q[i] * gauss(y - a * x[i], b)).sum())
            .collect();
    }
    1.0 - (0..n).map(|i| w(i) * q[i]).sum::<f64>()
}

fn params(n: u64) -> RunParams {
    RunParams::new(n, 1, 100_000, Horizon::new(END, DT, LEVEL)).expect("valid parameters")
}

fn repeats<M: Model>(m: &M, p: &RunParams, seed: u64, k: u64) -> Summary {
    let runs: Vec<f64> = (0..k)
        .into_par_iter()
        .map(|r| {
            let o = Tams::default()
                .run(m, p, NoiseKey::new(seed, r), &|_, _| {})
                .unwrap();
            assert_eq!(o.stop, StopReason::Converged, "run {r}");
            o.estimate
        })
        .collect();
    Summary::of(&runs).unwrap()
}

#[test]
fn stationary_start_gives_the_exact_probability() {
    let m = stationary();
    let steps = Horizon::new(END, DT, LEVEL).nsteps as usize;
    let p = exact(&m, steps, LEVEL, 2400);
    // The quadrature is converged: a grid twice as coarse gives nearly the same answer.
    let coarse = exact(&m, steps, LEVEL, 1200);
    assert!((coarse - p).abs() < 1e-3 * p, "{coarse} vs {p}");
    assert!(p > 1e-3 && p < 0.05, "{p}");
    let s = repeats(&m, &params(100), 41, 60);
    let dev = (s.mean - p).abs() / s.std_error;
    eprintln!(
        "stationary start: mean {:.6e}, exact {p:.6e}, se {:.2e}, {dev:.2} se",
        s.mean, s.std_error
    );
    assert!(dev < 4.0, "{:.6e} vs exact {p:.6e}: {dev:.2} se", s.mean);
    assert!(s.std_error < 0.1 * p, "error bar too wide: {:.3e}", s.std_error);
    // A constant start (the stationary mean) is told apart by the same criterion.
    let fixed = Ou {
        x0: Some(0.0),
        ..stationary()
    };
    let f = repeats(&fixed, &params(100), 41, 60);
    let dev = (f.mean - p).abs() / f.std_error.max(s.std_error);
    eprintln!("start at 0: mean {:.6e}, {dev:.1} se from the stationary answer", f.mean);
    assert!(dev > 8.0, "a constant start is not told apart: {dev:.2} se");
}

/// The initial ensemble, as the journal sees it.
#[derive(Default)]
struct Starts(Vec<f64>);

impl Journal<Vec<f64>> for Starts {
    fn on_initial(&mut self, e: &Ensemble<Vec<f64>>, _: &LoopState) -> sampler::Result<()> {
        self.0 = e.trajectories.iter().map(|t| t.scores()[0]).collect();
        assert!(e.trajectories.iter().zip(0..).all(|(t, i)| t.id() == i));
        Ok(())
    }
    fn on_iteration(&mut self, _: &IterationRecord<'_, Vec<f64>>) -> sampler::Result<()> {
        Ok(())
    }
    fn on_stop(&mut self, _: &RunOutcome) -> sampler::Result<()> {
        Ok(())
    }
}

/// Largest distance between the empirical CDF of `xs` and the `N(0, sd^2)` CDF.
fn ks_normal(xs: &mut [f64], sd: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    let cdf = |x: f64| 0.5 * erfc(-x / (sd * std::f64::consts::SQRT_2));
    xs.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
        })
        .fold(0.0, f64::max)
}

/// Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t * (-z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
        .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

fn starts(m: &Ou, n: u64, seed: u64) -> Vec<f64> {
    let mut p = params(n);
    p.nsplititer = 0;
    let mut j = Starts::default();
    Tams::new(StoreAll)
        .run_journaled(m, &p, NoiseKey::new(seed, 0), &|_, _| {}, &mut j, None)
        .unwrap();
    j.0
}

#[test]
fn start_values_have_the_stationary_law() {
    let m = stationary();
    let n = 4000;
    let mut xs = starts(&m, n, 5);
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = m.stationary_sd();
    // 5 standard errors of the mean and of the variance of a normal sample.
    assert!(mean.abs() < 5.0 * sd / (n as f64).sqrt(), "mean {mean}");
    let se_var = sd * sd * (2.0 / (n - 1) as f64).sqrt();
    assert!((var - sd * sd).abs() < 5.0 * se_var, "variance {var} vs {}", sd * sd);
    // Kolmogorov-Smirnov at level 0.001: D < 1.95 / sqrt(n).
    let d = ks_normal(&mut xs, sd);
    assert!(d < 1.95 / (n as f64).sqrt(), "KS distance {d}");
    // The test tells a wrong law apart: a constant start, or the right law scaled by 1.3.
    let mut fixed = starts(&Ou { x0: Some(0.0), ..m.clone() }, n, 5);
    assert!(ks_normal(&mut fixed, sd) > 0.4);
    let mut wide: Vec<f64> = starts(&m, n, 5).iter().map(|x| 1.3 * x).collect();
    assert!(ks_normal(&mut wide, sd) > 1.95 / (n as f64).sqrt());
    // Another seed draws other starts; the same seed the same ones.
    assert_ne!(starts(&m, 8, 6), starts(&m, 8, 5));
    assert_eq!(starts(&m, 8, 5), starts(&m, 8, 5));
}

fn without_seconds(r: &sampler::Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

/// The fields of a report that do not depend on where states were kept.
fn result(r: &sampler::Report) -> (u64, u64, u64, u64, Vec<u64>) {
    let d = &r.details[0];
    (
        r.estimate.to_bits(),
        d.iterations,
        d.model_steps,
        d.reached,
        d.kills.clone(),
    )
}

#[test]
fn replay_restart_and_budgets_reproduce_random_starts() {
    let m = stationary();
    let p = params(64);
    let base = Run::new(&m, p.clone()).seed(9).threads(2).run().unwrap();
    assert!(base.iterations > 50, "{} iterations", base.iterations);
    // Some child was branched at step 0 (its parent started above the level): its lineage
    // keeps the root's segment and its own, both from step 0.
    let (_, ens) = Tams::new(StoreAll)
        .run_ensemble(&m, &p, NoiseKey::new(9, 0), &|_, _| {})
        .unwrap();
    let at_zero = |t: &Trajectory<Vec<f64>>| t.lineage().iter().filter(|s| s.start_step == 0).count();
    assert!(
        ens.trajectories.iter().any(|t| at_zero(t) == 2),
        "no trajectory branched at step 0"
    );
    // Thread counts.
    let one = Run::new(&m, p.clone()).seed(9).threads(1).run().unwrap();
    assert_eq!(without_seconds(&one), without_seconds(&base));
    // Memory budgets: states replayed from each trajectory's root initial state.
    let spill = tempfile::tempdir().unwrap();
    for store in [
        StorePolicy::Uniform {
            budget: 64,
            interval: Some(7),
            spill_dir: Some(spill.path().to_path_buf()),
        },
        StorePolicy::Schedule {
            budget: 256,
            slots: Some(2),
            spill_dir: None,
        },
    ] {
        let r = Run::new(&m, p.clone())
            .seed(9)
            .store(store.clone())
            .threads(2)
            .run()
            .unwrap();
        assert_eq!(result(&r), result(&base), "{store:?}");
        assert!(r.replay_steps > 0, "{store:?}: nothing replayed");
    }
    // Restarts: replayed from step 0, or from saved states.
    for save in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("run");
        let first = Run::new(&m, p.clone())
            .seed(9)
            .iterations(base.iterations / 2)
            .database(Database::Create(db.clone()))
            .save_states(save)
            .run()
            .unwrap();
        assert_eq!(first.details[0].stop, StopReason::IterationBudget);
        let rest = Run::from_database(&m, &db)
            .unwrap()
            .iterations(p.nsplititer)
            .run()
            .unwrap();
        assert_eq!(without_seconds(&rest), without_seconds(&base), "save {save}");
    }
}
