//! Same seed, same result bit for bit, for any thread count (TAMS and Monte Carlo); different
//! seeds or repeats give different results.

use sampler::models::DoubleWell2d;
use sampler::{Horizon, MonteCarlo, NoiseKey, RunParams, Strategy, Tams};

fn params(n: u64) -> RunParams {
    RunParams::new(n, 3, 300, Horizon::new(5.0, 0.01, 0.95)).expect("valid parameters")
}

#[test]
fn tams_is_bit_identical_on_one_and_two_threads() {
    let model = DoubleWell2d { epsilon: 0.05 };
    let p = params(40);
    let key = NoiseKey::new(42, 0);
    let run = |threads| {
        pool(threads).install(|| {
            Tams::default()
                .run_ensemble(&model, &p, key, &|_, _| {})
                .unwrap()
        })
    };
    let (a, ea) = run(1);
    let (b, eb) = run(2);
    assert!(a.iterations > 10);
    assert_eq!(a, b);
    assert_eq!(a.estimate.to_bits(), b.estimate.to_bits());
    for (x, y) in ea.trajectories.iter().zip(&eb.trajectories) {
        assert_eq!(x.id(), y.id());
        assert_eq!(x.scores(), y.scores());
        assert_eq!(x.record(), y.record());
    }
    let other = pool(2).install(|| {
        Tams::default()
            .run(&model, &p, NoiseKey::new(42, 1), &|_, _| {})
            .unwrap()
    });
    assert_ne!(other.model_steps, a.model_steps);
}

#[test]
fn montecarlo_is_bit_identical_on_one_and_two_threads() {
    let model = DoubleWell2d { epsilon: 0.2 };
    let p = params(5000);
    let run = |threads| {
        pool(threads).install(|| {
            MonteCarlo
                .run(&model, &p, NoiseKey::new(9, 0), &|_, _| {})
                .unwrap()
        })
    };
    let (a, b) = (run(1), run(2));
    assert!(a.reached > 0 && a.reached < 5000);
    assert_eq!(a, b);
}

/// A rayon pool of `threads` workers.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}
