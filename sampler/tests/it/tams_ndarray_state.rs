//! Large ndarray states work: an N-dimensional Ornstein-Uhlenbeck process stepped in place, with
//! its noise in a reused array buffer; TAMS estimate against brute-force Monte Carlo.

use ndarray::{Array1, ArrayView1};
use sampler::{GaussianNoise, Horizon, Model, MonteCarlo, NoiseKey, RunParams, Strategy, Tams};

/// dx = -x dt + sqrt(2 eps dt) xi in `dim` dimensions; score = mean of the components.
struct OuField {
    dim: usize,
    epsilon: f64,
}

impl Model for OuField {
    type State = Array1<f64>;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        self.dim
    }
    fn initial_state(&self) -> Array1<f64> {
        Array1::zeros(self.dim)
    }
    fn step(&self, x: &mut Array1<f64>, _t: f64, dt: f64, noise: &GaussianNoise) {
        let amp = (2.0 * self.epsilon * dt).sqrt();
        x.zip_mut_with(&ArrayView1::from(&noise[..]), |xi, &n| {
            *xi += -*xi * dt + amp * n
        });
    }
    fn score(&self, x: &Array1<f64>, _t: f64) -> f64 {
        x.mean().unwrap_or(0.0)
    }
}

#[test]
fn ndarray_state_tams_matches_monte_carlo() {
    // The mean of 256 independent OU components is OU with epsilon / 256.
    let model = OuField {
        dim: 256,
        epsilon: 0.5 * 256.0,
    };
    let h = Horizon::new(1.0, 0.02, 1.5);
    let p = |n| RunParams::new(n, 1, 10_000, h).expect("valid parameters");
    let runs: Vec<f64> = (0..8)
        .map(|r| {
            Tams::default()
                .run(&model, &p(50), NoiseKey::new(1, r), &|_, _| {})
                .unwrap()
                .estimate
        })
        .collect();
    let s = sampler::strategy::Summary::of(&runs).unwrap();
    let mc = MonteCarlo
        .run(&model, &p(4000), NoiseKey::new(2, 0), &|_, _| {})
        .unwrap();
    let joint = (s.std_error.powi(2) + mc.std_error.unwrap().powi(2)).sqrt();
    eprintln!(
        "TAMS {:.4e} +- {:.2e}, MC {:.4e}",
        s.mean, s.std_error, mc.estimate
    );
    assert!(mc.estimate > 0.0 && s.mean > 0.0);
    assert!((s.mean - mc.estimate).abs() < 4.0 * joint);
}
