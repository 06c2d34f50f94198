//! DiskStore behaviour: bitwise round trips, a random operation sequence against an in-memory
//! model, in-flight writes, prefetch, corruption reported with the path, cleanup, capacity errors.

use ndarray::{Array2, ShapeBuilder};
use proptest::prelude::*;
use revolve::storage::disk::checkpoint_file::{
    read_checkpoint, verify_checkpoint, write_checkpoint,
};
use revolve::storage::disk::{DiskStore, DiskStoreBuilder};
use revolve::{CheckpointStore, Error, Level};
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

type Mode = fn(DiskStoreBuilder) -> DiskStoreBuilder;

/// Every configuration a test should hold for: background with few/more buffers, synchronous.
const MODES: [(&str, Mode); 4] = [
    ("background", |b| b),
    ("background-1-buffer", |b| {
        b.write_buffers(1).prefetch_buffers(1)
    }),
    ("background-3-buffers", |b| {
        b.write_buffers(3).prefetch_buffers(2)
    }),
    ("sync", |b| b.background(false)),
];

fn builder(mode: usize, capacity: u64, dir: &Path) -> DiskStoreBuilder {
    (MODES[mode].1)(DiskStore::builder(capacity).temp_in(dir))
}

/// Awkward values: NaN payloads, signed zeros, subnormals, infinities.
fn awkward(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| match (i as u64 + seed) % 7 {
            0 => f64::from_bits(0x7ff8_0000_dead_beef ^ seed),
            1 => -0.0,
            2 => f64::from_bits(1 + i as u64),
            3 => f64::NEG_INFINITY,
            _ => (i as f64 + seed as f64).sin() * 1e300,
        })
        .collect()
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn vec_round_trip_is_bitwise_in_every_mode() {
    let root = temp();
    for (mode, (name, _)) in MODES.iter().enumerate() {
        let x = awkward(1001, 3);
        let mut s = builder(mode, 3, root.path()).build(&x).unwrap();
        s.store(10, &x).unwrap();
        s.store(20, &awkward(1001, 9)).unwrap();
        let mut y = vec![0.0; 1001];
        s.restore(10, &mut y).unwrap();
        assert_eq!(bits(&x), bits(&y), "{name}");
        s.take(20, &mut y).unwrap();
        assert_eq!(bits(&awkward(1001, 9)), bits(&y), "{name}");
        assert_eq!(s.len(), 1, "{name}");
        s.sync().unwrap();
    }
}

#[test]
fn ndarray_round_trip_is_bitwise() {
    let root = temp();
    let a = Array2::from_shape_fn((64, 33), |(i, j)| (i * 1000 + j) as f32 * 0.37 - 1.0);
    // Column-major (Fortran) layout goes through the memory-order path.
    let f = Array2::from_shape_fn((64, 33).f(), |(i, j)| -((i + 7 * j) as f32));
    for background in [true, false] {
        let mut s = DiskStore::builder(2)
            .temp_in(root.path())
            .background(background)
            .build(&a)
            .unwrap();
        s.store(1, &a).unwrap();
        s.store(2, &f).unwrap();
        let mut b = Array2::<f32>::zeros((64, 33));
        s.restore(1, &mut b).unwrap();
        assert_eq!(a.mapv(f32::to_bits), b.mapv(f32::to_bits));
        let mut g = Array2::<f32>::zeros((64, 33).f());
        s.prefetch(2).unwrap();
        s.restore(2, &mut g).unwrap();
        assert_eq!(f, g);
    }
}

#[derive(Clone, Debug)]
enum Op {
    Store(u64),
    Restore(u64),
    Take(u64),
    Free(u64),
    Prefetch(u64),
    View(u64),
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    let step = 0u64..8;
    prop_oneof![
        3 => step.clone().prop_map(Op::Store),
        3 => step.clone().prop_map(Op::Restore),
        1 => step.clone().prop_map(Op::Take),
        2 => step.clone().prop_map(Op::Free),
        2 => step.clone().prop_map(Op::Prefetch),
        1 => step.prop_map(Op::View),
        1 => Just(Op::Sync),
    ]
}

/// What the model says a call returns: the error kind, or success.
fn kind(r: &Result<(), Error>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(Error::StoreFull { .. }) => "full",
        Err(Error::NoCheckpoint { .. }) => "none",
        Err(Error::DuplicateCheckpoint { .. }) => "dup",
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn run_model(ops: &[Op], mode: usize, root: &Path) {
    const CAP: u64 = 3;
    const LEN: usize = 37;
    let proto = vec![0.0f64; LEN];
    let mut s = builder(mode, CAP, root).views(true).build(&proto).unwrap();
    let mut model: HashMap<u64, Vec<f64>> = HashMap::new();
    let mut version = 0u64;
    let mut out = vec![0.0f64; LEN];
    for (i, op) in ops.iter().enumerate() {
        let ctx = format!("mode {mode} op {i} {op:?}");
        match *op {
            Op::Store(k) => {
                version += 1;
                let x = awkward(LEN, version);
                let want = if model.contains_key(&k) {
                    "dup"
                } else if model.len() as u64 == CAP {
                    "full"
                } else {
                    model.insert(k, x.clone());
                    "ok"
                };
                assert_eq!(kind(&s.store(k, &x)), want, "{ctx}");
            }
            Op::Restore(k) | Op::Take(k) => {
                let take = matches!(op, Op::Take(_));
                let r = if take {
                    s.take(k, &mut out)
                } else {
                    s.restore(k, &mut out)
                };
                match model.get(&k) {
                    Some(x) => {
                        assert_eq!(kind(&r), "ok", "{ctx}");
                        assert_eq!(bits(x), bits(&out), "{ctx}");
                        if take {
                            model.remove(&k);
                        }
                    }
                    None => assert_eq!(kind(&r), "none", "{ctx}"),
                }
            }
            Op::Free(k) => {
                let want = if model.remove(&k).is_some() {
                    "ok"
                } else {
                    "none"
                };
                assert_eq!(kind(&s.free(k)), want, "{ctx}");
            }
            Op::Prefetch(k) => {
                // A hint, also for a checkpoint not (yet) held.
                assert_eq!(kind(&s.prefetch(k)), "ok", "{ctx}");
            }
            Op::View(k) => match (s.view(k), model.get(&k)) {
                (Ok(Some(v)), Some(x)) => assert_eq!(bits(x), bits(v), "{ctx}"),
                (Err(Error::NoCheckpoint { .. }), None) => {}
                (r, m) => panic!(
                    "{ctx}: view gave {:?}, model has {m:?}",
                    r.map(|v| v.is_some())
                ),
            },
            Op::Sync => s.sync().unwrap(),
        }
        assert_eq!(s.len(), model.len() as u64, "{ctx}");
    }
    s.sync().unwrap();
    for (k, x) in &model {
        s.restore(*k, &mut out).unwrap();
        assert_eq!(bits(x), bits(&out), "mode {mode} final restore {k}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn random_operations_match_an_in_memory_model(
        ops in proptest::collection::vec(op(), 1..80),
        mode in 0usize..4,
    ) {
        let root = temp();
        run_model(&ops, mode, root.path());
    }
}

#[test]
fn restore_right_after_store_sees_the_new_bytes() {
    // A 4 MiB state: the background write is very likely still running when restore is called.
    let root = temp();
    let n = 1 << 19;
    let mut s = DiskStore::builder(2)
        .temp_in(root.path())
        .write_buffers(2)
        .build(&vec![0.0f64; n])
        .unwrap();
    let mut y = vec![0.0f64; n];
    for round in 0..6u64 {
        let x: Vec<f64> = (0..n).map(|i| (i as u64 * 31 + round) as f64).collect();
        s.store(round, &x).unwrap();
        s.prefetch(round).unwrap(); // queued behind the write: must see the new bytes
        s.restore(round, &mut y).unwrap();
        assert!(x == y, "round {round}");
        s.store(100 + round, &x).unwrap();
        s.take(100 + round, &mut y).unwrap();
        assert!(x == y, "take round {round}");
        s.free(round).unwrap();
    }
    assert!(s.is_empty());
}

#[test]
fn prefetch_then_restore_is_served_from_the_prefetch_buffer() {
    let root = temp();
    let x = awkward(5000, 1);
    let mut s = DiskStore::builder(4)
        .temp_in(root.path())
        .build(&x)
        .unwrap();
    for k in 0..4 {
        s.store(k, &awkward(5000, k)).unwrap();
    }
    let mut y = vec![0.0; 5000];
    for k in (0..4).rev() {
        s.prefetch(k).unwrap();
        s.prefetch(k).unwrap(); // repeated hint: no second read
        s.take(k, &mut y).unwrap();
        assert_eq!(bits(&awkward(5000, k)), bits(&y));
    }
    let st = s.stats();
    assert_eq!(st.prefetches, 4);
    assert_eq!(st.prefetch_hits, 4);
    assert_eq!(st.direct_reads, 0);
    assert_eq!(st.stores, 4);
}

#[test]
fn prefetch_buffers_keep_the_most_recently_used_checkpoints() {
    // The Revolver's pattern: the next restore is hinted while the current one is pending,
    // and a checkpoint restored repeatedly is served from its buffer each time.
    let root = temp();
    let mut s = DiskStore::builder(3)
        .temp_in(root.path())
        .build(&vec![0u32; 1000])
        .unwrap();
    for k in 1..=3u32 {
        s.store(u64::from(k), &vec![k; 1000]).unwrap();
    }
    let mut y = vec![0u32; 1000];
    let mut check = |s: &mut DiskStore<Vec<u32>>, k: u32| {
        s.restore(u64::from(k), &mut y).unwrap();
        assert_eq!(y, vec![k; 1000]);
    };
    s.prefetch(1).unwrap();
    s.prefetch(2).unwrap(); // hinted before 1 is consumed: both buffered
    check(&mut s, 1);
    check(&mut s, 1);
    check(&mut s, 2);
    assert_eq!(s.stats().prefetch_hits, 3);
    s.prefetch(3).unwrap(); // replaces 1, the least recently used
    check(&mut s, 3);
    check(&mut s, 2);
    assert_eq!(s.stats().prefetch_hits, 5);
    check(&mut s, 1);
    assert_eq!(s.stats().direct_reads, 1);
}

#[test]
fn a_hint_for_a_checkpoint_stored_later_is_fetched_after_its_write() {
    // A driver looking ahead hints the next restore before the schedule has stored it.
    let root = temp();
    let mut s = DiskStore::builder(2)
        .temp_in(root.path())
        .build(&vec![0u32; 1000])
        .unwrap();
    s.prefetch(9).unwrap();
    assert_eq!(s.stats().prefetches, 0);
    s.store(9, &vec![9; 1000]).unwrap();
    assert_eq!(s.stats().prefetches, 1);
    let mut y = vec![0u32; 1000];
    s.take(9, &mut y).unwrap();
    assert_eq!(y, vec![9; 1000]);
    assert_eq!((s.stats().prefetch_hits, s.stats().direct_reads), (1, 0));
    // A hint is remembered once: a second store of 9 is not fetched again.
    s.store(9, &vec![1; 1000]).unwrap();
    assert_eq!(s.stats().prefetches, 1);
}

#[test]
fn a_stale_prefetch_is_never_served() {
    let root = temp();
    let mut s = DiskStore::builder(1)
        .temp_in(root.path())
        .build(&vec![0.0f64; 100])
        .unwrap();
    s.store(5, &vec![1.0; 100]).unwrap();
    s.prefetch(5).unwrap();
    s.free(5).unwrap();
    s.store(5, &vec![2.0; 100]).unwrap();
    let mut y = vec![0.0; 100];
    s.restore(5, &mut y).unwrap();
    assert_eq!(y, vec![2.0; 100]);
    assert_eq!(s.stats().prefetch_hits, 0);
}

#[test]
fn sync_mode_ignores_prefetch() {
    let root = temp();
    let mut s = DiskStore::builder(1)
        .temp_in(root.path())
        .background(false)
        .build(&vec![0u8; 10])
        .unwrap();
    assert!(!s.is_background());
    s.prefetch(3).unwrap(); // not held yet: ignored
    s.store(3, &vec![7u8; 10]).unwrap();
    s.prefetch(3).unwrap();
    let mut y = vec![0u8; 10];
    s.restore(3, &mut y).unwrap();
    assert_eq!(y, [7u8; 10]);
    assert_eq!(s.stats().direct_reads, 1);
}

// ---- corruption --------------------------------------------------------------------------

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

fn flip(path: &Path, at: u64) {
    let mut b = std::fs::read(path).unwrap();
    b[at as usize] ^= 0x01;
    patch(path, at, &b[at as usize..at as usize + 1]);
}

/// Store steps 3 and 5 with `background`, damage step 5's file with `damage`, and return what
/// restore (after a prefetch when `prefetch`) says, with the damaged path.
fn damaged(
    background: bool,
    prefetch: bool,
    damage: impl Fn(&Path, &Path),
) -> (Error, PathBuf, Vec<f64>) {
    let root = temp();
    let x = awkward(700, 5);
    let mut s = DiskStore::builder(2)
        .temp_in(root.path())
        .background(background)
        .build(&x)
        .unwrap();
    s.store(3, &awkward(700, 3)).unwrap();
    s.store(5, &x).unwrap();
    s.sync().unwrap();
    let p5 = s.path_of(5).unwrap().to_path_buf();
    let p3 = s.path_of(3).unwrap().to_path_buf();
    damage(&p5, &p3);
    if prefetch {
        s.prefetch(5).unwrap();
    }
    let mut y = vec![0.0; 700];
    let e = s.restore(5, &mut y).unwrap_err();
    // Nothing else was lost: step 3 still restores.
    let mut z = vec![0.0; 700];
    s.restore(3, &mut z).unwrap();
    (e, p5, z)
}

fn assert_corrupt(e: &Error, path: &Path, needle: &str) {
    match e {
        Error::Corrupt { path: p, reason } => {
            assert_eq!(p, path);
            assert!(
                reason.contains(needle),
                "reason {reason:?} lacks {needle:?}"
            );
            assert!(e.to_string().contains(&path.display().to_string()));
        }
        other => panic!("expected Corrupt, got {other}"),
    }
}

#[test]
fn corruption_is_reported_with_the_path_in_every_mode() {
    type Damage = fn(&Path, &Path);
    let cases: [(&str, Damage, &str); 7] = [
        (
            "payload byte",
            |p, _| flip(p, 4096 + 123),
            "payload checksum",
        ),
        (
            "last payload byte",
            |p, _| flip(p, 4096 + 700 * 8 - 1),
            "payload checksum",
        ),
        (
            "truncate",
            |p, _| {
                OpenOptions::new()
                    .write(true)
                    .open(p)
                    .unwrap()
                    .set_len(4096 + 100)
                    .unwrap()
            },
            "truncated",
        ),
        ("magic", |p, _| patch(p, 0, b"XXXX"), "magic"),
        (
            "version",
            |p, _| patch(p, 8, &9u32.to_le_bytes()),
            "version 9",
        ),
        ("step field", |p, _| flip(p, 16), "header checksum"),
        (
            "another step's file",
            |p5, p3| std::fs::copy(p3, p5).map(|_| ()).unwrap(),
            "holds step 3, expected step 5",
        ),
    ];
    for (name, damage, needle) in cases {
        for background in [true, false] {
            for prefetch in [false, true] {
                let (e, p, z) = damaged(background, prefetch, damage);
                assert_corrupt(&e, &p, needle);
                assert_eq!(bits(&z), bits(&awkward(700, 3)), "{name}");
            }
        }
    }
}

#[test]
fn a_failed_background_write_is_reported_by_the_next_call_and_loses_nothing_else() {
    let root = temp();
    let mut s = DiskStore::builder(2)
        .temp_in(root.path())
        .build(&vec![0.0f64; 512])
        .unwrap();
    s.store(1, &vec![1.0; 512]).unwrap();
    s.store(2, &vec![2.0; 512]).unwrap();
    let p2 = s.path_of(2).unwrap().to_path_buf();
    s.free(2).unwrap();
    // Break the free slot's file behind the store's back; the next write into it must fail.
    OpenOptions::new()
        .write(true)
        .open(&p2)
        .unwrap()
        .set_len(10)
        .unwrap();
    s.store(3, &vec![3.0; 512]).unwrap(); // queued; fails on the I/O thread
    let e = s.sync().unwrap_err();
    assert_corrupt(&e, &p2, "truncated");
    s.sync().unwrap(); // reported once
    let mut y = vec![0.0; 512];
    s.restore(1, &mut y).unwrap();
    assert_eq!(y, vec![1.0; 512]);
    assert!(matches!(s.restore(3, &mut y), Err(Error::Corrupt { .. })));
}

// ---- cleanup -----------------------------------------------------------------------------

fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn files_are_removed_on_drop_and_kept_on_request() {
    let root = temp();
    let dir = root.path().join("ckpt");
    {
        let mut s = DiskStore::new(&dir, 3, &vec![0.0f64; 64]).unwrap();
        s.store(0, &vec![1.0; 64]).unwrap();
        assert_eq!(files_in(&dir).len(), 3);
        assert_eq!(s.dir(), dir);
    }
    assert!(!dir.exists(), "the directory the store created is removed");

    let t = DiskStore::temp(2, &vec![0u16; 8]).unwrap();
    let tdir = t.dir().to_path_buf();
    assert!(tdir.exists());
    drop(t);
    assert!(!tdir.exists());

    // Kept files are valid checkpoint files.
    let dir = root.path().join("kept");
    let mut s = DiskStore::builder(2)
        .dir(&dir)
        .keep_files(true)
        .build(&vec![0.0f64; 64])
        .unwrap();
    s.store(42, &vec![4.2; 64]).unwrap();
    let p = s.path_of(42).unwrap().to_path_buf();
    s.close().unwrap();
    assert_eq!(verify_checkpoint(&p).unwrap().step, 42);
    let mut y = vec![0.0f64; 64];
    assert_eq!(read_checkpoint(&p, &mut y).unwrap(), 42);
    assert_eq!(y, vec![4.2; 64]);
    assert_eq!(files_in(&dir).len(), 2);
}

#[derive(Debug, thiserror::Error)]
#[error("the forward operator blew up")]
struct Boom;

/// A run that fails half way: the `?` drops the store on the way out.
fn failing_run(dir: &Path) -> Result<(), Error> {
    let mut s = DiskStore::new(dir, 4, &vec![0.0f64; 256])?;
    let mut x = vec![0.0f64; 256];
    for step in 0..10u64 {
        if step % 3 == 0 {
            s.store(step, &x)?;
        }
        if step == 7 {
            return Err(Error::Operator {
                operator: "forward",
                step,
                source: Box::new(Boom),
            });
        }
        x.iter_mut().for_each(|v| *v += 1.0);
    }
    Ok(())
}

#[test]
fn files_are_removed_after_a_failed_run_and_a_panic() {
    let root = temp();
    let dir = root.path().join("failed");
    let e = failing_run(&dir).unwrap_err();
    assert!(matches!(e, Error::Operator { step: 7, .. }));
    assert!(!dir.exists());

    let tdir = std::sync::Mutex::new(PathBuf::new());
    let r = std::panic::catch_unwind(|| {
        let mut s = DiskStore::builder(2)
            .temp_in(root.path())
            .build(&vec![0u8; 9])
            .unwrap();
        *tdir.lock().unwrap() = s.dir().to_path_buf();
        s.store(1, &vec![1u8; 9]).unwrap();
        panic!("operator panicked");
    });
    assert!(r.is_err());
    assert!(!tdir.lock().unwrap().exists());

    // A corrupt checkpoint error, then drop: still cleaned.
    let dir = root.path().join("corrupt");
    {
        let mut s = DiskStore::new(&dir, 1, &vec![0u8; 9]).unwrap();
        s.store(1, &vec![1u8; 9]).unwrap();
        s.sync().unwrap();
        flip(s.path_of(1).unwrap(), 4096 + 2);
        assert!(s.restore(1, &mut vec![0u8; 9]).is_err());
    }
    assert!(!dir.exists());
}

#[test]
fn existing_files_are_never_overwritten() {
    let root = temp();
    let dir = root.path().join("busy");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("slot-1.ckpt"), b"somebody's data").unwrap();
    let e = DiskStore::new(&dir, 3, &vec![0.0f64; 4]).unwrap_err();
    match e {
        Error::Io { path, source } => {
            assert_eq!(path, dir.join("slot-1.ckpt"));
            assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists);
        }
        other => panic!("expected Io, got {other}"),
    }
    // Our half-built slot-0 is gone, theirs is untouched, the directory stays.
    assert_eq!(files_in(&dir), vec![dir.join("slot-1.ckpt")]);
    assert_eq!(
        std::fs::read(dir.join("slot-1.ckpt")).unwrap(),
        b"somebody's data"
    );
}

// ---- capacity and misuse -----------------------------------------------------------------

#[test]
fn misuse_is_an_error_not_a_panic() {
    let root = temp();
    for background in [true, false] {
        let mut s = DiskStore::builder(2)
            .temp_in(root.path())
            .background(background)
            .build(&vec![0.0f64; 16])
            .unwrap();
        let x = vec![1.0f64; 16];
        let mut y = vec![0.0f64; 16];
        assert_eq!(s.capacity(), 2);
        s.store(1, &x).unwrap();
        assert!(matches!(
            s.store(1, &x),
            Err(Error::DuplicateCheckpoint {
                level: Level::Disk,
                step: 1
            })
        ));
        s.store(2, &x).unwrap();
        assert!(matches!(
            s.store(3, &x),
            Err(Error::StoreFull {
                level: Level::Disk,
                step: 3,
                capacity: 2
            })
        ));
        assert!(matches!(
            s.restore(9, &mut y),
            Err(Error::NoCheckpoint { step: 9, .. })
        ));
        assert!(matches!(
            s.take(9, &mut y),
            Err(Error::NoCheckpoint { step: 9, .. })
        ));
        assert!(matches!(
            s.free(9),
            Err(Error::NoCheckpoint { step: 9, .. })
        ));
        assert!(matches!(
            s.view(9),
            Err(Error::NoCheckpoint { step: 9, .. })
        ));
        assert!(matches!(s.view(1), Ok(None)), "views are off by default");
        assert!(matches!(
            s.store(4, &vec![0.0; 3]),
            Err(Error::StateSize {
                expected: 128,
                found: 24
            })
        ));
        assert!(matches!(
            s.restore(1, &mut vec![0.0; 17]),
            Err(Error::StateSize {
                expected: 128,
                found: 136
            })
        ));
        s.free(2).unwrap();
        s.store(3, &x).unwrap();
        assert_eq!(s.len(), 2);
        s.sync().unwrap();
    }
    let mut z = DiskStore::builder(0)
        .temp_in(root.path())
        .build(&vec![0u8; 4])
        .unwrap();
    assert!(matches!(
        z.store(0, &vec![0u8; 4]),
        Err(Error::StoreFull { capacity: 0, .. })
    ));
    assert!(matches!(
        DiskStore::builder(1).write_buffers(0).build(&vec![0u8; 4]),
        Err(Error::Usage(_))
    ));
}

#[test]
fn empty_states_work() {
    let root = temp();
    let mut s = DiskStore::builder(1)
        .temp_in(root.path())
        .build(&Vec::<f64>::new())
        .unwrap();
    s.store(0, &Vec::new()).unwrap();
    s.prefetch(0).unwrap();
    let mut y: Vec<f64> = Vec::new();
    s.take(0, &mut y).unwrap();
}

// ---- single checkpoint files -------------------------------------------------------------

#[test]
fn checkpoint_files_round_trip_and_report_damage() {
    let root = temp();
    let p = root.path().join("c.ckpt");
    let x = awkward(333, 2);
    write_checkpoint(&p, 77, &x).unwrap();
    assert!(!root.path().join("c.ckpt.partial").exists());
    let mut y = vec![0.0; 333];
    assert_eq!(read_checkpoint(&p, &mut y).unwrap(), 77);
    assert_eq!(bits(&x), bits(&y));
    let info = verify_checkpoint(&p).unwrap();
    assert_eq!((info.step, info.payload_len), (77, 333 * 8));

    assert_corrupt(
        &read_checkpoint(&p, &mut vec![0.0; 3]).unwrap_err(),
        &p,
        "expected 24",
    );
    flip(&p, 4096 + 5);
    assert_corrupt(
        &read_checkpoint(&p, &mut y).unwrap_err(),
        &p,
        "payload checksum",
    );
    write_checkpoint(&p, 78, &x).unwrap(); // replaces
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(30)
        .unwrap();
    assert_corrupt(&verify_checkpoint(&p).unwrap_err(), &p, "truncated");
    std::fs::write(&p, b"").unwrap();
    assert_corrupt(&verify_checkpoint(&p).unwrap_err(), &p, "truncated");
    let missing = root.path().join("nope.ckpt");
    assert!(matches!(verify_checkpoint(&missing), Err(Error::Io { path, .. }) if path == missing));
    let bad_dir = root.path().join("no-such-dir").join("c.ckpt");
    assert!(matches!(
        write_checkpoint(&bad_dir, 1, &x),
        Err(Error::Io { .. })
    ));
}

// ---- reopening kept files ----------------------------------------------------------------

#[test]
fn a_kept_store_reopens_with_its_checkpoints_and_refuses_damage() {
    let root = temp();
    let dir = root.path().join("kept");
    let x = awkward(300, 1);
    let mut s = DiskStore::builder(4)
        .dir(&dir)
        .keep_files(true)
        .build(&x)
        .unwrap();
    for k in [3u64, 8, 13] {
        s.store(k, &awkward(300, k)).unwrap();
    }
    s.free(8).unwrap(); // freed on disk too: not held after reopening
    let p13 = s.path_of(13).unwrap().to_path_buf();
    drop(s); // the run failed: nothing stored is lost

    let mut r = DiskStore::open_existing(&dir, &x).unwrap();
    assert_eq!((r.capacity(), r.len()), (4, 2));
    let mut y = vec![0.0; 300];
    for k in [3u64, 13] {
        r.restore(k, &mut y).unwrap();
        assert_eq!(bits(&awkward(300, k)), bits(&y));
    }
    assert!(matches!(
        r.restore(8, &mut y),
        Err(Error::NoCheckpoint { step: 8, .. })
    ));
    r.store(8, &x).unwrap();
    r.store(9, &x).unwrap();
    assert!(matches!(
        r.store(10, &x),
        Err(Error::StoreFull { capacity: 4, .. })
    ));
    r.free(8).unwrap();
    r.free(9).unwrap();
    drop(r);
    assert_eq!(
        files_in(&dir).len(),
        4,
        "a reopened store keeps its files by default"
    );

    // Wrong state size: refused, files untouched.
    let e = DiskStore::open_existing(&dir, &vec![0.0f64; 301]).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    // A damaged checkpoint is refused with its path, and the failed reopen removes nothing.
    flip(&p13, 4096 + 17);
    let e = DiskStore::builder(0)
        .reopen(&dir)
        .keep_files(false)
        .build(&x)
        .unwrap_err();
    assert_corrupt(&e, &p13, "payload checksum");
    assert_eq!(files_in(&dir).len(), 4);
    // Once repaired (rewritten in the same format), it reopens; keep_files(false) cleans up.
    write_checkpoint(&p13, 13, &awkward(300, 13)).unwrap();
    let mut r = DiskStore::builder(0)
        .reopen(&dir)
        .keep_files(false)
        .build(&x)
        .unwrap();
    r.restore(13, &mut y).unwrap();
    assert_eq!(bits(&awkward(300, 13)), bits(&y));
    drop(r);
    assert!(files_in(&dir).is_empty());
    assert!(matches!(
        DiskStore::open_existing(root.path().join("none"), &x),
        Err(Error::Io { .. })
    ));
}

// ---- no allocation per step ----------------------------------------------------------------

use crate::counting;

const PROBE_ENV: &str = "REVOLVE_DISK_ALLOC_PROBE";

/// Runs [`alloc_probe`] alone in a child process, where no other test allocates meanwhile.
#[test]
fn hot_paths_allocate_nothing() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "disk_store::alloc_probe",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(PROBE_ENV, "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "run in its own process by hot_paths_allocate_nothing"]
fn alloc_probe() {
    use std::sync::atomic::Ordering;
    if std::env::var_os(PROBE_ENV).is_none() {
        return;
    }
    counting::count_this_thread();
    let root = temp();
    for (mode, (name, _)) in MODES.iter().enumerate() {
        let x = awkward(4096, 1);
        let mut y = vec![0.0; 4096];
        let mut s = builder(mode, 3, root.path()).views(true).build(&x).unwrap();
        let mut cycle = |s: &mut DiskStore<Vec<f64>>, round: u64| {
            let base = round * 10;
            s.store(base, &x).unwrap();
            s.store(base + 1, &x).unwrap();
            s.prefetch(base + 1).unwrap();
            s.restore(base + 1, &mut y).unwrap();
            s.view(base).unwrap();
            s.prefetch(base).unwrap();
            s.take(base, &mut y).unwrap();
            s.take(base + 1, &mut y).unwrap();
            s.store(base + 2, &x).unwrap();
            s.free(base + 2).unwrap();
            s.sync().unwrap();
        };
        cycle(&mut s, 1000); // warm up
        // Let the I/O thread park: a thread's first blocking wait on a channel allocates its
        // wait context once (std), which is not a per-step cost.
        std::thread::sleep(std::time::Duration::from_millis(20));
        counting::COUNT.store(0, Ordering::SeqCst);
        counting::ON.store(true, Ordering::SeqCst);
        for round in 1..50 {
            cycle(&mut s, round);
        }
        counting::ON.store(false, Ordering::SeqCst);
        let n = counting::COUNT.load(Ordering::SeqCst);
        // One allocation per cycle would give 49 or more; a handful can only be the one-time
        // wait contexts above, if a thread first blocked during the counted cycles.
        assert!(n <= 4, "{name}: {n} allocations in 49 cycles");
    }
}

// ---- end to end under the Revolver -----------------------------------------------------------

mod end_to_end {
    use super::*;
    use revolve::{Action, Binomial, Capacity, Custom, RamStore, Revolver};
    use std::convert::Infallible;

    #[allow(clippy::ptr_arg)] // the operator traits take `&mut S`
    fn forward(u: &mut Vec<f64>, from: u64, to: u64) -> Result<(), Infallible> {
        for _ in from..to {
            u.iter_mut().for_each(|x| *x = x.sin() * 1.01 + 0.1);
        }
        Ok(())
    }

    #[allow(clippy::ptr_arg)] // the operator traits take `&S, &mut A`
    fn reverse(u: &Vec<f64>, lam: &mut Vec<f64>, _k: u64) -> Result<(), Infallible> {
        lam.iter_mut()
            .zip(u)
            .for_each(|(l, x)| *l *= x.cos() * 1.01);
        Ok(())
    }

    /// The adjoint from storing every state.
    fn reference(n: u64, u0: &[f64]) -> Vec<f64> {
        let mut states = vec![u0.to_vec()];
        for k in 0..n {
            let mut u = states[k as usize].clone();
            forward(&mut u, k, k + 1).unwrap();
            states.push(u);
        }
        let mut lam = vec![1.0; u0.len()];
        for k in (0..n).rev() {
            reverse(&states[k as usize], &mut lam, k).unwrap();
        }
        lam
    }

    fn on_disk(a: Action, disk: impl Fn(u64) -> bool) -> Action {
        let level = |step| if disk(step) { Level::Disk } else { Level::Ram };
        match a {
            Action::Store { step, .. } => Action::Store {
                step,
                level: level(step),
            },
            Action::Restore { step, .. } => Action::Restore {
                step,
                level: level(step),
            },
            Action::Free { step, .. } => Action::Free {
                step,
                level: level(step),
            },
            other => other,
        }
    }

    #[test]
    fn a_binomial_reversal_through_disk_checkpoints_is_bitwise_right() {
        let (n, snaps, len) = (60u64, 5u64, 2000usize);
        let u0: Vec<f64> = (0..len).map(|i| (i as f64 * 0.01).cos()).collect();
        let want = reference(n, &u0);
        // All checkpoints on disk, then the even steps on disk and the odd ones in RAM.
        for (name, split) in [
            ("all disk", (|_| true) as fn(u64) -> bool),
            ("even on disk", |k| k % 2 == 0),
        ] {
            for background in [true, false] {
                let root = temp();
                let disk = DiskStore::builder(snaps)
                    .temp_in(root.path())
                    .background(background)
                    .build(&u0)
                    .unwrap();
                let plan = Binomial::new(n, snaps)
                    .unwrap()
                    .map(move |a| on_disk(a, split));
                let cap = Capacity {
                    ram: snaps,
                    disk: snaps,
                };
                let ram = RamStore::new(snaps as usize, &u0);
                let mut rv = Revolver::new(Custom::new(n, cap, plan), forward, reverse, ram)
                    .unwrap()
                    .with_disk(disk);
                let mut u = u0.clone();
                rv.apply_forward(&mut u).unwrap();
                let mut lam = vec![1.0; len];
                rv.apply_reverse(&mut lam).unwrap();
                assert_eq!(bits(&want), bits(&lam), "{name}, background {background}");
                // The Revolver hands the typed store back.
                let st = rv.disk().stats();
                let sched = rv.stats().schedule;
                assert_eq!(st.stores, sched.stores[Level::Disk.index()], "{name}");
                assert_eq!(st.restores, sched.restores[Level::Disk.index()], "{name}");
                assert!(rv.disk().is_empty());
                if background {
                    // Every disk restore was hinted in time (some before the checkpoint existed).
                    assert!(st.prefetch_hits > 0, "{name}: {st:?}");
                    assert_eq!(st.direct_reads, 0, "{name}: {st:?}");
                }
            }
        }
    }
}

#[test]
fn a_store_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<DiskStore<Vec<f64>>>();
    assert_send::<DiskStore<Array2<f32>>>();
    let root = temp();
    let mut s = DiskStore::builder(1)
        .temp_in(root.path())
        .build(&vec![0u8; 16])
        .unwrap();
    s.store(1, &vec![5u8; 16]).unwrap();
    let y = std::thread::spawn(move || {
        let mut y = vec![0u8; 16];
        s.take(1, &mut y).unwrap();
        y
    })
    .join()
    .unwrap();
    assert_eq!(y, vec![5u8; 16]);
}
