//! Plug your own model into TAMS: a particle in a tilted periodic potential, position `x`,
//! `x <- x + (F - sin x) dt + sqrt(2 T dt) xi`; how likely is it to move 2 periods before t = 20?
//!
//! `cargo run --release --example tams_custom_model`

use sampler::strategy::Summary;
use sampler::{
    Horizon, Model, MonteCarlo, NoiseKey, NoiseRng, RunParams, Strategy, Tams, normal_words,
};

struct TiltedWashboard {
    force: f64,
    temperature: f64,
}

impl Model for TiltedWashboard {
    type State = f64;
    type Noise = [f64; 1];
    fn initial_state(&self) -> f64 {
        0.0
    }
    fn noise_buffer(&self) -> [f64; 1] {
        [0.0]
    }
    fn noise_words(&self) -> u64 {
        normal_words(1)
    }
    fn sample_noise(&self, rng: &mut NoiseRng, noise: &mut [f64; 1]) {
        rng.fill_standard_normal(noise);
    }
    fn step(&self, x: &mut f64, _t: f64, dt: f64, noise: &[f64; 1]) {
        *x += (self.force - x.sin()) * dt + (2.0 * self.temperature * dt).sqrt() * noise[0];
    }
    fn score(&self, x: &f64, _t: f64) -> f64 {
        *x / (2.0 * std::f64::consts::TAU)
    }
}

fn main() -> sampler::Result<()> {
    let model = TiltedWashboard {
        force: 0.3,
        temperature: 0.4,
    };
    let params = |n| RunParams {
        ntrajectories: n,
        nsplititer: 10_000,
        k: 1,
        walltime: None,
        horizon: Horizon::new(20.0, 0.01, 1.0),
    };
    let runs = (0..20)
        .map(|r| {
            Ok(Tams::default()
                .run(&model, &params(100), NoiseKey::new(1, r), &|_, _| {})?
                .estimate)
        })
        .collect::<sampler::Result<Vec<f64>>>()?;
    let s = Summary::of(&runs).expect("runs");
    println!(
        "TAMS (20 x N = 100): {:.4e} +- {:.2e} (IQR {:.2e})",
        s.mean,
        s.std_error,
        s.iqr()
    );
    let mc = MonteCarlo.run(&model, &params(100_000), NoiseKey::new(2, 0), &|_, _| {})?;
    println!(
        "Monte Carlo (N = 100000): {:.4e} +- {:.2e}",
        mc.estimate,
        mc.std_error.unwrap_or(f64::NAN)
    );
    Ok(())
}
