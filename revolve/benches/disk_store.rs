//! DiskStore throughput for an 8 MiB state: background I/O thread vs synchronous, and how much
//! of the disk time a reverse sweep with prefetch hides behind computation.
//!
//! `cargo bench --bench disk_store`. Files go to the system temp directory; throughput is what
//! the page cache absorbs unless the `flush` variant (msync per checkpoint) is measured.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use revolve::CheckpointStore;
use revolve::storage::disk::{DiskStore, DiskStoreBuilder};
use std::hint::black_box;
use std::time::Duration;

const LEN: usize = 1 << 20; // f64s: 8 MiB
const CKPTS: u64 = 8;

fn state(seed: u64) -> Vec<f64> {
    (0..LEN).map(|i| (i as u64 ^ seed) as f64 * 1e-3).collect()
}

/// Stand-in for the time steps between two checkpoints: a few passes of arithmetic over the
/// state (about 4 x the cost of copying it), so there is computation for the I/O to hide behind.
fn compute(x: &mut [f64]) {
    for _ in 0..4 {
        for v in x.iter_mut() {
            *v = (*v * 0.999_9 + 1e-6).abs().sqrt();
        }
    }
}

fn modes() -> [(&'static str, DiskStoreBuilder); 3] {
    [
        ("background", DiskStore::builder(CKPTS)),
        ("sync", DiskStore::builder(CKPTS).background(false)),
        ("background_flush", DiskStore::builder(CKPTS).flush(true)),
    ]
}

fn store(c: &mut Criterion) {
    let mut g = c.benchmark_group("disk_store/store_8MiB");
    g.throughput(Throughput::Bytes(CKPTS * (LEN as u64) * 8));
    let x = state(1);
    for (name, b) in modes() {
        let mut s = b.build(&x).unwrap();
        g.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter(|| {
                for k in 0..CKPTS {
                    s.store(k, &x).unwrap();
                }
                s.sync().unwrap();
                for k in 0..CKPTS {
                    s.free(k).unwrap();
                }
            })
        });
    }
    g.finish();
}

/// What the caller of one `store` waits for when the I/O thread is idle (the usual case when
/// time steps separate checkpoints): background copies into a staging buffer and returns; sync
/// writes the file and checksums it. The write-back finishes outside the timing.
fn store_latency(c: &mut Criterion) {
    let mut g = c.benchmark_group("disk_store/store_latency_8MiB");
    g.throughput(Throughput::Bytes((LEN as u64) * 8));
    let x = state(1);
    for (name, b) in [
        ("background", DiskStore::builder(1)),
        ("sync", DiskStore::builder(1).background(false)),
    ] {
        let mut s = b.build(&x).unwrap();
        g.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = std::time::Instant::now();
                    s.store(0, &x).unwrap();
                    total += t.elapsed();
                    s.sync().unwrap();
                    s.free(0).unwrap();
                }
                total
            })
        });
    }
    g.finish();
}

fn restore(c: &mut Criterion) {
    let mut g = c.benchmark_group("disk_store/restore_8MiB");
    g.throughput(Throughput::Bytes(CKPTS * (LEN as u64) * 8));
    let mut y = state(0);
    for (name, b, prefetch) in [
        ("background_prefetch", DiskStore::builder(CKPTS), true),
        ("background_no_prefetch", DiskStore::builder(CKPTS), false),
        ("sync", DiskStore::builder(CKPTS).background(false), false),
    ] {
        let mut s = b.build(&y).unwrap();
        for k in 0..CKPTS {
            s.store(k, &state(k)).unwrap();
        }
        s.sync().unwrap();
        g.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter(|| {
                if prefetch {
                    s.prefetch(CKPTS - 1).unwrap();
                }
                for k in (0..CKPTS).rev() {
                    s.restore(k, &mut y).unwrap();
                    if prefetch && k > 0 {
                        s.prefetch(k - 1).unwrap();
                    }
                }
                black_box(&y);
            })
        });
    }
    g.finish();
}

/// What the caller of one `restore` waits for when the prefetch had time to finish, against
/// a synchronous read (checksum and copy from the mapped file).
fn restore_latency(c: &mut Criterion) {
    let mut g = c.benchmark_group("disk_store/restore_latency_8MiB");
    g.throughput(Throughput::Bytes((LEN as u64) * 8));
    let mut y = state(0);
    for (name, b, prefetch) in [
        (
            "background_prefetched",
            DiskStore::builder(2).prefetch_buffers(1),
            true,
        ),
        ("sync", DiskStore::builder(2).background(false), false),
    ] {
        let mut s = b.build(&y).unwrap();
        s.store(0, &state(1)).unwrap();
        s.store(1, &state(2)).unwrap();
        s.sync().unwrap();
        g.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    // Alternate the steps so each restore needs a fresh read.
                    let k = i % 2;
                    if prefetch {
                        s.prefetch(k).unwrap();
                        s.sync().unwrap();
                    }
                    let t = std::time::Instant::now();
                    s.restore(k, &mut y).unwrap();
                    total += t.elapsed();
                }
                black_box(&y);
                total
            })
        });
    }
    g.finish();
}

/// A forward sweep storing every step and a reverse sweep taking them back, with a time step
/// between checkpoints: the overlap the background thread and prefetch buy.
fn sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("disk_store/sweep_8MiB_with_compute");
    let mut x = state(3);
    g.bench_function(BenchmarkId::from_parameter("compute_only"), |bench| {
        bench.iter(|| {
            for _ in 0..2 * CKPTS {
                compute(&mut x);
            }
        })
    });
    for (name, b) in [
        ("background_prefetch", DiskStore::builder(CKPTS)),
        ("sync", DiskStore::builder(CKPTS).background(false)),
    ] {
        let mut s = b.build(&x).unwrap();
        g.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter(|| {
                for k in 0..CKPTS {
                    s.store(k, &x).unwrap();
                    compute(&mut x);
                }
                s.prefetch(CKPTS - 1).unwrap();
                for k in (0..CKPTS).rev() {
                    s.take(k, &mut x).unwrap();
                    if k > 0 {
                        s.prefetch(k - 1).unwrap();
                    }
                    compute(&mut x);
                }
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = store, store_latency, restore, restore_latency, sweep
}
criterion_main!(benches);
