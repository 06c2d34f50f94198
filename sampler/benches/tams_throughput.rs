//! Criterion: one TAMS run on the 2D double well (N = 100), the same number of bare model steps,
//! and plain Monte Carlo throughput.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sampler::models::DoubleWell2d;
use sampler::{Horizon, Model, MonteCarlo, NoiseKey, RunParams, Strategy, Tams};
use std::hint::black_box;

fn params(n: u64) -> RunParams {
    RunParams::new(n, 1, 100_000, Horizon::new(10.0, 0.01, 0.95)).expect("valid parameters")
}

fn tams(c: &mut Criterion) {
    let model = DoubleWell2d { epsilon: 0.05 };
    let p = params(100);
    let one = pool(1);
    let steps = one
        .install(|| Tams::default().run(&model, &p, NoiseKey::new(0, 0), &|_, _| {}))
        .unwrap()
        .model_steps;
    let mut g = c.benchmark_group("doublewell2d_n100");
    g.sample_size(10);
    g.throughput(Throughput::Elements(steps));
    g.bench_function("tams_1_thread", |b| {
        b.iter(|| {
            one.install(|| Tams::default().run(&model, &p, NoiseKey::new(0, 0), &|_, _| {}))
                .unwrap()
        })
    });
    let two = pool(2);
    g.bench_function("tams_2_threads", |b| {
        b.iter(|| {
            two.install(|| Tams::default().run(&model, &p, NoiseKey::new(0, 0), &|_, _| {}))
                .unwrap()
        })
    });
    g.bench_function("bare_steps", |b| {
        b.iter(|| {
            let mut rng = NoiseKey::new(1, 0).stream(0, model.noise_words());
            let mut state = model.initial_state();
            let mut noise = model.noise_buffer();
            let mut max = f64::NEG_INFINITY;
            for n in 0..steps {
                model.sample_noise(&mut rng, &mut noise);
                model.step(&mut state, n as f64 * 0.01, 0.01, &noise);
                max = max.max(model.score(&state, 0.0));
                if n % 1000 == 999 {
                    state = model.initial_state();
                }
            }
            black_box(max)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("montecarlo_doublewell2d");
    g.sample_size(10);
    let mc = params(2000);
    g.throughput(Throughput::Elements(2000 * 1000));
    g.bench_function("2000_trajectories_1_thread", |b| {
        b.iter(|| {
            one.install(|| MonteCarlo.run(&model, &mc, NoiseKey::new(0, 0), &|_, _| {}))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, tams);
criterion_main!(benches);

/// A rayon pool of `threads` workers.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}
