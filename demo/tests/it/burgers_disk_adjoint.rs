//! The Burgers adjoint through a multistage schedule with disk checkpoints (a `DiskStore` in a
//! temporary directory, background I/O on and off, prefetch on and off): bitwise equal to the
//! RAM-only binomial run with `R + D` slots and to store-everything, with the validator's counts,
//! and no file left behind, also when an operator fails.

use retrace_demo::burgers::{
    Burgers, BurgersAdjoint, BurgersError, BurgersForward, checkpointed_gradient,
    gradient_store_all,
};
use retrace_demo::harness::disk::DiskMode;
use revolve::revolver::{ForwardOperator, ReverseOperator, RevolverStats};
use revolve::storage::disk::{Codec, DiskStats, DiskStore};
use revolve::{
    Binomial, Capacity, CheckpointStore, Error, Multistage, RamStore, Revolver, validate,
};
use std::path::Path;

const POINTS: usize = 10_000;

fn model() -> Burgers {
    Burgers::with_stable_dt(POINTS, 0.02, 2.0, 0.9).unwrap()
}

/// (n, R, D): mixed levels, all-disk (R = 0) and nearly all-disk (R = 1), more slots than steps.
const CASES: &[(u64, u64, u64)] = &[
    (1, 0, 1),
    (2, 0, 1),
    (40, 0, 1),
    (200, 0, 5),
    (200, 1, 4),
    (120, 2, 3),
    (200, 4, 16),
    (30, 1, 40),
];

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

struct DiskRun {
    objective: f64,
    gradient: Vec<f64>,
    stats: RevolverStats,
    disk: DiskStats,
}

/// `J` and `dJ/du_0` through `Multistage::best(n, r, d)` with a disk store of `mode` inside
/// `parent`; checks the slot files exist during the run and are gone after it.
fn disk_run(n: u64, r: u64, d: u64, mode: DiskMode, parent: &Path) -> DiskRun {
    let u0 = model().initial_condition();
    run_on(n, r, d, mode.build(d, parent, &u0).unwrap(), parent)
}

/// [`disk_run`] on a given store of `d` slots in a fresh directory inside `parent`.
fn run_on(n: u64, r: u64, d: u64, store: DiskStore<Vec<f64>>, parent: &Path) -> DiskRun {
    let m = model();
    let u0 = m.initial_condition();
    let dir = store.dir().to_path_buf();
    let mut rv = Revolver::new(
        Multistage::best(n, r, d).unwrap(),
        BurgersForward::<Vec<f64>>::new(m.clone()),
        BurgersAdjoint::<Vec<f64>>::new(m.clone()),
        RamStore::new(r as usize, &u0),
    )
    .unwrap()
    .with_disk(store);
    let mut u = u0.clone();
    rv.apply_forward(&mut u).unwrap();
    assert_eq!(entries(&dir), d as usize, "slot files during the run");
    let objective = Burgers::objective(&u);
    let mut lam = u;
    rv.apply_reverse(&mut lam).unwrap();
    let stats = rv.stats();
    let disk = rv.disk().stats();
    drop(rv);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert_eq!(entries(parent), 0);
    DiskRun {
        objective,
        gradient: lam,
        stats,
        disk,
    }
}

#[test]
fn disk_adjoint_is_bitwise_ram_and_store_all_with_the_validators_counts() {
    let m = model();
    let u0 = m.initial_condition();
    let parent = tempfile::tempdir().unwrap();
    for &(n, r, d) in CASES {
        let (j_all, g_all) = gradient_store_all(&m, &u0, n).unwrap();
        let s = r + d;
        let ram =
            checkpointed_gradient(&m, &u0, Binomial::new(n, s).unwrap(), s as usize, None).unwrap();
        assert_eq!(ram.objective.to_bits(), j_all.to_bits());
        assert!(same_bits(&ram.gradient, &g_all), "RAM run n={n} s={s}");
        let want = validate(
            n,
            Capacity { ram: r, disk: d },
            Multistage::best(n, r, d).unwrap(),
        )
        .unwrap();
        if r == 0 && n > 1 {
            assert!(want.stores[1] > 0, "n={n} R={r} D={d} uses the disk");
        }
        for mode in DiskMode::ALL {
            let case = format!("n={n} R={r} D={d} {mode:?}");
            let run = disk_run(n, r, d, mode, parent.path());
            assert_eq!(run.objective.to_bits(), j_all.to_bits(), "{case}");
            assert!(same_bits(&run.gradient, &g_all), "gradient of {case}");
            assert!(same_bits(&run.gradient, &ram.gradient), "{case}");
            // The Revolver's counts are the validator's; the disk store saw exactly the
            // schedule's disk traffic.
            assert_eq!(run.stats.schedule, want, "{case}");
            assert_eq!(run.stats.forward_steps, want.advanced + 1, "{case}");
            assert_eq!(run.stats.reverse_steps, n, "{case}");
            assert_eq!(run.disk.stores, want.stores[1], "{case}");
            assert_eq!(run.disk.restores, want.restores[1], "{case}");
            assert_eq!(
                run.disk.prefetch_hits + run.disk.direct_reads,
                run.disk.restores,
                "{case}"
            );
            // The same optimal number of forward steps as the RAM-only binomial run.
            assert_eq!(want.forward, ram.stats.schedule.forward, "{case}");
            match mode {
                // Every disk restore was hinted; at least some are served from the buffers.
                DiskMode::Prefetch if want.restores[1] > 0 => {
                    assert!(run.stats.prefetches > 0, "{case}");
                    assert!(run.disk.prefetch_hits > 0, "{case}: {:?}", run.disk);
                }
                DiskMode::NoPrefetch | DiskMode::Sync => {
                    assert_eq!(run.disk.prefetch_hits, 0, "{case}");
                    assert_eq!(run.disk.prefetches, 0, "{case}");
                }
                DiskMode::Prefetch => {}
            }
        }
    }
}

/// The Burgers forward operator failing on any step at or past `fail_at`.
struct FailingForward {
    inner: BurgersForward<Vec<f64>>,
    fail_at: u64,
}

impl FailingForward {
    fn check(&self, from: u64, to: u64) -> Result<(), BurgersError> {
        if to > self.fail_at {
            // A step past fail_at: report it as a blow-up there.
            return Err(BurgersError::NonFinite {
                step: self.fail_at.max(from),
            });
        }
        Ok(())
    }
}

impl ForwardOperator<Vec<f64>> for FailingForward {
    type Error = BurgersError;
    fn advance(&mut self, u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), BurgersError> {
        self.check(from, to)?;
        self.inner.advance(u, from, to)
    }
    fn out_of_place(&self) -> bool {
        self.inner.out_of_place()
    }
    fn advance_from(
        &mut self,
        src: &Vec<f64>,
        dst: &mut Vec<f64>,
        from: u64,
        to: u64,
    ) -> Result<(), BurgersError> {
        self.check(from, to)?;
        self.inner.advance_from(src, dst, from, to)
    }
}

/// The Burgers adjoint failing at step `fail_at`.
struct FailingAdjoint {
    inner: BurgersAdjoint<Vec<f64>>,
    fail_at: u64,
}

impl ReverseOperator<Vec<f64>, Vec<f64>> for FailingAdjoint {
    type Error = BurgersError;
    fn reverse(&mut self, u: &Vec<f64>, lam: &mut Vec<f64>, k: u64) -> Result<(), BurgersError> {
        if k == self.fail_at {
            return Err(BurgersError::NonFinite { step: k });
        }
        self.inner.reverse(u, lam, k)
    }
}

#[test]
fn failing_operators_propagate_and_leave_no_files() {
    let m = model();
    let u0 = m.initial_condition();
    let parent = tempfile::tempdir().unwrap();
    let (n, r, d) = (200u64, 1u64, 4u64);
    for mode in DiskMode::ALL {
        // (forward fails at, reverse fails at): forward after some disk stores; reverse early
        // (disk checkpoints still held) and late.
        for (f_at, r_at) in [(150, n), (n + 1, 170), (n + 1, 3)] {
            let case = format!("{mode:?} forward fails at {f_at}, reverse at {r_at}");
            let store = mode.build(d, parent.path(), &u0).unwrap();
            let dir = store.dir().to_path_buf();
            let mut rv = Revolver::new(
                Multistage::best(n, r, d).unwrap(),
                FailingForward {
                    inner: BurgersForward::new(m.clone()),
                    fail_at: f_at,
                },
                FailingAdjoint {
                    inner: BurgersAdjoint::new(m.clone()),
                    fail_at: r_at,
                },
                RamStore::new(r as usize, &u0),
            )
            .unwrap()
            .with_disk(store);
            let mut u = u0.clone();
            let e = match rv.apply_forward(&mut u) {
                Err(e) => e,
                Ok(()) => {
                    assert!(f_at > n, "{case}: the forward sweep should have failed");
                    let mut lam = u.clone();
                    rv.apply_reverse(&mut lam).unwrap_err()
                }
            };
            let (op, at) = if f_at <= n {
                ("forward", f_at)
            } else {
                ("reverse", r_at)
            };
            match &e {
                Error::Operator {
                    operator, source, ..
                } => {
                    assert_eq!(*operator, op, "{case}: {e}");
                    assert!(
                        source.to_string().contains(&format!("step {at} ")),
                        "{case}: {e}: {source}"
                    );
                }
                other => panic!("{case}: expected an operator error, got {other}"),
            }
            // The disk checkpoints were live when it failed.
            assert!(!rv.disk().is_empty(), "{case}");
            assert!(dir.exists(), "{case}");
            assert!(matches!(rv.apply_reverse(&mut u), Err(Error::Usage(_))));
            drop(rv);
            assert!(!dir.exists(), "{case}: {} left behind", dir.display());
            assert_eq!(entries(parent.path()), 0, "{case}");
        }
    }
}

#[test]
fn compressed_disk_adjoint_gives_the_bitwise_same_gradient() {
    let m = model();
    let u0 = m.initial_condition();
    let parent = tempfile::tempdir().unwrap();
    let (n, r, d) = (200u64, 1u64, 8u64);
    let plain = disk_run(n, r, d, DiskMode::Sync, parent.path());
    let raw_bytes = plain.disk.stores * (POINTS as u64 * 8);
    assert_eq!(plain.disk.bytes_written, raw_bytes);
    let codecs = [
        Codec::zstd(),
        Codec::ShuffleZstd {
            typesize: 1,
            level: 3,
        },
    ];
    for codec in codecs {
        for mode in DiskMode::ALL {
            let case = format!("{codec} {mode:?}");
            let b = mode.builder(d, parent.path()).codec(codec);
            let run = run_on(n, r, d, b.build(&u0).unwrap(), parent.path());
            assert_eq!(run.objective.to_bits(), plain.objective.to_bits(), "{case}");
            assert!(same_bits(&run.gradient, &plain.gradient), "{case}");
            assert_eq!(run.disk.stores, plain.disk.stores, "{case}");
            // The Burgers states do shrink: the codec was used.
            assert!(
                run.disk.bytes_written < raw_bytes,
                "{case}: {} of {raw_bytes} bytes",
                run.disk.bytes_written
            );
        }
    }
}

/// Lossy zfp disk checkpoints (feature `zfp`): the forward sweep reads no checkpoint, so `J` is
/// bitwise the uncompressed one; the gradient is not, and its error against the uncompressed
/// gradient is printed and bounded (see the comment at the bound).
#[cfg(feature = "zfp")]
#[test]
fn zfp_disk_adjoint_gradient_error_follows_the_tolerance() {
    let m = model();
    let u0 = m.initial_condition();
    let parent = tempfile::tempdir().unwrap();
    let (n, r, d) = (200u64, 1u64, 8u64);
    let plain = disk_run(n, r, d, DiskMode::Sync, parent.path());
    let gmax = plain.gradient.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let raw_bytes = plain.disk.stores * (POINTS as u64 * 8);
    let mut errors = Vec::new();
    for tol in [1e-10, 1e-6] {
        let codec = Codec::zfp(tol).unwrap();
        let mut first: Option<Vec<f64>> = None;
        for mode in DiskMode::ALL {
            let case = format!("{codec} {mode:?}");
            let b = mode.builder(d, parent.path()).codec(codec);
            let run = run_on(n, r, d, b.build(&u0).unwrap(), parent.path());
            assert_eq!(run.objective.to_bits(), plain.objective.to_bits(), "{case}");
            assert_eq!(run.disk.stores, plain.disk.stores, "{case}");
            assert_eq!(run.disk.restores, plain.disk.restores, "{case}");
            assert!(run.disk.bytes_written < raw_bytes, "{case}: not compressed");
            // Deterministic: every mode restores the same values, so the same gradient.
            let g = first.get_or_insert_with(|| run.gradient.clone());
            assert!(same_bits(g, &run.gradient), "{case}");
        }
        let g = first.unwrap();
        let max_abs = g
            .iter()
            .zip(&plain.gradient)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        let rel = max_abs / gmax;
        let restores = plain.disk.restores;
        println!(
            "zfp tol {tol:e}: gradient max abs error {max_abs:.3e}, relative {rel:.3e} \
             (max |g| {gmax:.3e}, {restores} disk restores)"
        );
        assert!(
            max_abs > 0.0,
            "{codec}: bitwise the uncompressed gradient: zfp not used?"
        );
        errors.push((tol, max_abs, restores));
    }
    for &(tol, max_abs, _) in &errors {
        // Each disk restore hands the adjoint a state within `tol` of the exact one, and the
        // adjoint depends on the state only through the flux Jacobian, so the gradient moves
        // by O(tol). The observed factor is small (max abs error / max|g| = 2.3e-4 tol at
        // 1e-10, 3.4e-4 tol at 1e-6, 144 disk restores; zfp and the model are deterministic,
        // so a platform gives the same numbers every run): the bound 1e-2 tol leaves a margin
        // of 30x and still fails if zfp worked at a 100x looser accuracy than asked.
        let bound = 1e-2 * tol * gmax;
        assert!(
            max_abs <= bound,
            "tol {tol:e}: error {max_abs:e} above {bound:e}"
        );
    }
    // The error follows the tolerance (observed: 1.5e4x for 1e4x the tolerance); a tolerance
    // ignored would give about the same error at both.
    assert!(errors[1].1 > 100.0 * errors[0].1, "{errors:?}");
}
