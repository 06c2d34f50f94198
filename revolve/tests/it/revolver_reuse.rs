//! One Revolver for several gradients: `for_schedule` sizes the stores from the schedule (a
//! store too small is an error at construction), and `restart` runs the next gradient with the
//! same buffers, giving the bits of a fresh Revolver.

use crate::counting::thread_allocs;
use revolve::{
    Action, Binomial, Capacity, CheckpointStore, Custom, DiskStore, Error, Level, Multistage,
    Revolver,
};
use std::convert::Infallible;

type Fwd = fn(&mut Vec<f64>, u64, u64) -> Result<(), Infallible>;
type Rev = fn(&Vec<f64>, &mut Vec<f64>, u64) -> Result<(), Infallible>;

#[allow(clippy::ptr_arg)] // the closure signature over Vec<f64> states
fn fwd(u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
    for k in from..to {
        u.iter_mut()
            .for_each(|x| *x = x.sin() * 1.01 + 0.1 + k as f64 * 1e-3);
    }
    Ok(())
}

#[allow(clippy::ptr_arg)]
fn rev(u: &Vec<f64>, lam: &mut Vec<f64>, _k: u64) -> Result<(), Infallible> {
    lam.iter_mut()
        .zip(u)
        .for_each(|(l, x)| *l *= x.cos() * 1.01);
    Ok(())
}

fn initial(seed: f64) -> Vec<f64> {
    (0..64).map(|i| f64::from(i) * 0.01 + seed).collect()
}

/// `(u_n, dJ/du_0)` of one gradient through `rv`.
fn gradient(rv: &mut Revolver<Vec<f64>, Fwd, Rev, Binomial>, seed: f64) -> (Vec<f64>, Vec<f64>) {
    let mut u = initial(seed);
    let mut lam = vec![1.0; u.len()];
    rv.apply_forward(&mut u).unwrap();
    rv.apply_reverse(&mut lam).unwrap();
    (u, lam)
}

fn fresh(n: u64, s: u64) -> Revolver<Vec<f64>, Fwd, Rev, Binomial> {
    let schedule = Binomial::new(n, s).unwrap();
    Revolver::for_schedule(schedule, fwd as Fwd, rev as Rev, &initial(0.0)).unwrap()
}

#[test]
fn restarted_gradients_equal_fresh_ones_and_allocate_nothing() {
    let (n, s) = (200, 7);
    let want1 = gradient(&mut fresh(n, s), 0.3);
    let want2 = gradient(&mut fresh(n, s), -0.2);
    let mut rv = fresh(n, s);
    assert_eq!(rv.ram().capacity(), s, "RAM store sized from the schedule");
    let got1 = gradient(&mut rv, 0.3);
    let next = Binomial::new(n, s).unwrap();
    let (mut u, mut lam) = (initial(-0.2), vec![1.0; 64]);
    let before = thread_allocs();
    rv.restart(next).unwrap();
    rv.apply_forward(&mut u).unwrap();
    rv.apply_reverse(&mut lam).unwrap();
    let allocs = thread_allocs() - before;
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        (bits(&got1.0), bits(&got1.1)),
        (bits(&want1.0), bits(&want1.1))
    );
    assert_eq!((bits(&u), bits(&lam)), (bits(&want2.0), bits(&want2.1)));
    assert_eq!(allocs, 0, "the second gradient allocated {allocs} times");
    assert_eq!(rv.stats().reverse_steps, n, "stats start over");
}

#[test]
fn restart_takes_a_schedule_of_another_length_within_the_slots() {
    let mut rv = fresh(50, 5);
    gradient(&mut rv, 0.1);
    rv.restart(Binomial::new(80, 4).unwrap()).unwrap();
    let got = gradient(&mut rv, 0.1);
    assert_eq!(got, gradient(&mut fresh(80, 4), 0.1));
    // More slots than the store has: refused, and the Revolver still works.
    let e = rv.restart(Binomial::new(80, 6).unwrap()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::StoreTooSmall {
                level: Level::Ram,
                needed: 6,
                available: 5
            }
        ),
        "{e}"
    );
    rv.restart(Binomial::new(80, 4).unwrap()).unwrap();
    assert_eq!(gradient(&mut rv, 0.1), got);
}

#[test]
fn restart_mid_reversal_is_a_usage_error() {
    let mut rv = fresh(20, 3);
    let mut u = initial(0.0);
    rv.apply_forward(&mut u).unwrap();
    let e = rv.restart(Binomial::new(20, 3).unwrap()).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    rv.apply_reverse(&mut vec![1.0; 64]).unwrap();
    rv.restart(Binomial::new(20, 3).unwrap()).unwrap();
}

#[test]
fn a_disk_store_too_small_is_an_error_at_construction() {
    let u = initial(0.0);
    let dir = tempfile::tempdir().unwrap();
    let disk: DiskStore<Vec<f64>> = DiskStore::builder(1).dir(dir.path()).build(&u).unwrap();
    let schedule = Multistage::new(100, 2, 3).unwrap();
    let e = Revolver::for_schedule_with_disk(schedule, fwd as Fwd, rev as Rev, &u, disk)
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            Error::StoreTooSmall {
                level: Level::Disk,
                needed: 3,
                available: 1
            }
        ),
        "{e}"
    );
    // A schedule with disk slots and no disk store at all.
    let schedule = Multistage::new(100, 2, 3).unwrap();
    let e = Revolver::for_schedule(schedule, fwd as Fwd, rev as Rev, &u)
        .err()
        .unwrap();
    assert!(
        matches!(e, Error::StoreTooSmall { available: 0, .. }),
        "{e}"
    );
    // Big enough: runs, and gives the gradient of the multistage schedule.
    let disk: DiskStore<Vec<f64>> = DiskStore::builder(3).dir(dir.path()).build(&u).unwrap();
    let schedule = Multistage::new(100, 2, 3).unwrap();
    let mut rv =
        Revolver::for_schedule_with_disk(schedule, fwd as Fwd, rev as Rev, &u, disk).unwrap();
    let (mut x, mut lam) = (u.clone(), vec![1.0; 64]);
    rv.apply_forward(&mut x).unwrap();
    rv.apply_reverse(&mut lam).unwrap();
    assert_eq!(rv.ram().capacity(), 2);
}

#[test]
fn a_custom_schedule_declaring_no_limit_gets_one_slot_per_step() {
    let text = "store 0 ram, advance 0 1, reverse 1, restore 0 ram, free 0 ram, reverse 0";
    let plan = text.split(", ").map(|a| a.parse::<Action>().unwrap());
    let schedule = Custom::new(2, Capacity::ram(u64::MAX), plan);
    let rv = Revolver::for_schedule(schedule, fwd as Fwd, rev as Rev, &initial(0.0)).unwrap();
    assert_eq!(rv.ram().capacity(), 2);
}
