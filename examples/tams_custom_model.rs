//! Your own model through the whole pipeline: a stochastic PDE with a large state, a memory
//! budget with spill files, a crash-safe run database, a stop and a restart, the report.
//!
//! The model: a damped stochastic heat equation on a periodic grid of 4096 points (32 KiB per
//! state), `du = (-theta u + D u_xx) dt + sigma dW`; how likely is the mean of `u` to reach 0.5
//! before t = 4? The run is stopped after 40 iterations (as a kill or a walltime would stop it),
//! continued from its database, and compared with an uninterrupted run: same result, bit for bit.
//!
//! `cargo run --release --example tams_custom_model`

use sampler::{
    Database, GaussianNoise, Horizon, Model, ModelInfo, Run, RunParams, StopReason, StorePolicy,
};
use serde::Serialize;

/// The model's parameters; `describe` records them in the run database, so a restart with
/// other values is refused.
#[derive(Debug, Clone, Serialize)]
struct DampedHeat {
    /// Grid points.
    n: usize,
    /// Damping.
    theta: f64,
    /// Diffusion (grid units).
    diffusion: f64,
    /// Noise amplitude per point.
    sigma: f64,
}

impl Model for DampedHeat {
    type State = Vec<f64>;
    /// One standard normal increment per grid point.
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        self.n
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0; self.n]
    }
    /// Explicit Euler in place (no allocation per step).
    fn step(&self, u: &mut Vec<f64>, _t: f64, dt: f64, xi: &GaussianNoise) {
        let n = self.n;
        let (first, mut prev) = (u[0], u[n - 1]);
        let amp = self.sigma * dt.sqrt();
        for i in 0..n {
            let here = u[i];
            let next = if i + 1 < n { u[i + 1] } else { first };
            let drift = -self.theta * here + self.diffusion * (prev - 2.0 * here + next);
            u[i] = here + drift * dt + amp * xi[i];
            prev = here;
        }
    }
    fn score(&self, u: &Vec<f64>, _t: f64) -> f64 {
        u.iter().sum::<f64>() / self.n as f64
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        ModelInfo::of("damped_heat", self)
    }
}

/// The run of `model`: TAMS, seed 7, states kept by `store`.
fn configured<'a>(
    model: &'a DampedHeat,
    params: &RunParams,
    store: &StorePolicy,
) -> Run<'a, DampedHeat> {
    Run::new(model, params.clone()).seed(7).store(store.clone())
}

fn main() -> sampler::Result<()> {
    // sigma = sqrt(n / 32): the mean of u has a stationary standard deviation of 1/8.
    let model = DampedHeat {
        n: 4096,
        theta: 1.0,
        diffusion: 4.0,
        sigma: (4096.0f64 / 32.0).sqrt(),
    };
    let params = RunParams::new(32, 1, 5_000, Horizon::new(4.0, 0.02, 0.5))?;
    let tmp = tempfile::tempdir().expect("a temporary directory");
    // The spill directory must exist: a run creates only its own `retrace-spill-*` inside it.
    let spill = tmp.path().join("spill");
    std::fs::create_dir(&spill).expect("create the spill directory");
    // 2 MiB of RAM for the checkpoints of the whole ensemble (a checkpoint every 10 steps would
    // need 20 MiB): the rest goes to checksummed spill files, removed at the end.
    let store = StorePolicy::Uniform {
        budget: 2 << 20,
        interval: Some(10),
        spill_dir: Some(spill.clone()),
    };
    // The reference: one uninterrupted run, no database.
    let whole = configured(&model, &params, &store).run()?;

    // The same run recorded in a database (saving the states the store holds, so that a
    // restart needs no replay) and stopped after 40 iterations ...
    let db = tmp.path().join("run");
    let first = configured(&model, &params, &store)
        .iterations(40)
        .database(Database::Create(db.clone()))
        .save_states(true)
        .run()?;
    assert_eq!(first.details[0].stop, StopReason::IterationBudget);
    println!("stopped after {} iterations", first.iterations);

    // ... a restart with a changed parameter is refused, naming it ...
    let other = DampedHeat {
        sigma: 12.0,
        ..model.clone()
    };
    let refused = Run::from_database(&other, &db)?.iterations(5_000).run();
    println!("changed model: {}", refused.expect_err("refused"));

    // ... and the same model continues it to the end, with progress reports.
    let report = Run::from_database(&model, &db)?
        .iterations(5_000)
        .on_progress(|done, _| {
            if done % 50 == 0 {
                println!("  iteration {done}");
            }
        })
        .run()?;
    assert_eq!(report.estimate.to_bits(), whole.estimate.to_bits());
    assert_eq!(report.iterations, whole.iterations);
    println!(
        "P(mean(u) >= 0.5 before t = 4) = {:.4e} (std error {:.1e}), {} iterations, {} model \
         steps, {} replay steps; identical to the uninterrupted run",
        report.estimate,
        report.std_error.unwrap_or(f64::NAN),
        report.iterations,
        report.model_steps,
        report.replay_steps
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("the report serializes")
    );
    Ok(())
}
