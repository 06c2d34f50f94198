//! Criterion: the Revolver on pyrevolve's overhead shape (8 MB state, n = 1000, s = 20) next to
//! the single steps that price its ideal `T(n, s) x forward + n x reverse`. The table with the
//! ratio: `cargo run --release --example revolver_overhead`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use retrace_demo::harness::overhead::{adjoint_kernel, forward_in_place, revolver};
use std::hint::black_box;
use std::time::Duration;

const LEN: usize = 1_000_000;
const N: u64 = 1000;
const S: u64 = 20;

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("step_8MB");
    let mut u = vec![0.5; LEN];
    let src = vec![0.25; LEN];
    let mut lam = vec![1.0; LEN];
    g.bench_function("forward", |b| {
        b.iter(|| forward_in_place(black_box(&mut u)))
    });
    g.bench_function("reverse", |b| {
        b.iter(|| adjoint_kernel(black_box(&src), black_box(&mut lam)))
    });
    g.bench_function("copy", |b| b.iter(|| u.copy_from_slice(black_box(&src))));
    g.finish();
}

fn revolver_runs(c: &mut Criterion) {
    let mut g = c.benchmark_group("revolver_8MB_n1000_s20");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for (name, out_of_place) in [("out_of_place", true), ("in_place", false)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || (revolver(LEN, N, S, out_of_place), vec![1.0; LEN]),
                |((mut rv, mut u), mut lam)| {
                    rv.apply_forward(&mut u).expect("forward sweep");
                    rv.apply_reverse(&mut lam).expect("reverse sweep");
                    black_box(lam)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, steps, revolver_runs);
criterion_main!(benches);
