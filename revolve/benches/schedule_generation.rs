//! Criterion: generating a whole binomial schedule (n = 10^6 steps, s = 10 and 100 slots).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use revolve::Binomial;
use std::hint::black_box;

/// Generate the whole schedule, folding the forward steps so nothing is optimised away.
fn generate(n: u64, s: u64) -> u64 {
    Binomial::new(n, s)
        .unwrap()
        .fold(0u64, |acc, a| acc + a.forward_steps())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("binomial_generation");
    group.sample_size(20);
    let n = 1_000_000u64;
    for s in [10u64, 100] {
        assert_eq!(
            generate(n, s),
            revolve::cost::optimal_forward(n, s).unwrap()
        );
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("steps_1e6", s), &s, |b, &s| {
            b.iter(|| generate(black_box(n), black_box(s)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
