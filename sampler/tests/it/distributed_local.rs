//! The distributed protocol over `LocalTransport` (worker ranks on threads of this process,
//! connected by Unix socket pairs, as the Python package's worker processes are): reports
//! bit-identical to `Run::run` for 1 to 4 ranks (TAMS keeping every state, TAMS under a memory
//! budget that moves states between ranks, Monte Carlo), a restart on another rank count, the
//! error of the first failing trajectory as in one process, a worker that ends named by rank,
//! and the transport itself: whole messages, per-rank order, deadlines, lost connections.

use sampler::distributed::{LocalTransport, Transport, serve};
use sampler::models::DoubleWell2d;
use sampler::store::StateBytes;
use sampler::{
    Database, Error, GaussianNoise, Horizon, Model, ModelError, Report, Run, RunParams,
    StorePolicy, StrategyKind,
};
use std::os::unix::net::UnixStream;
use std::time::Instant;

fn params(n: u64, target: f64) -> RunParams {
    RunParams::new(n, 5, 400, Horizon::new(4.0, 0.01, target)).expect("valid parameters")
}

/// `run` as rank 0 of `ranks`, the other ranks serving `model` on threads.
pub(crate) fn distributed<M: Model>(
    model: &M,
    ranks: usize,
    run: impl FnOnce(&mut LocalTransport) -> sampler::Result<Option<Report>>,
) -> sampler::Result<Report>
where
    M::State: StateBytes + PartialEq,
{
    let (mut zero, mut others) = (Vec::new(), Vec::new());
    for _ in 1..ranks {
        let (a, b) = UnixStream::pair().expect("a socket pair");
        zero.push(a);
        others.push(b);
    }
    std::thread::scope(|s| {
        let workers: Vec<_> = others
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                s.spawn(move || {
                    let mut t = LocalTransport::worker(b, i as i32 + 1, ranks as i32)?;
                    serve(model, &mut t, Some(1), None)
                })
            })
            .collect();
        let mut t = LocalTransport::coordinator(zero).expect("rank 0's transport");
        let report = run(&mut t);
        drop(t);
        for w in workers {
            w.join()
                .expect("a worker thread")
                .expect("a worker told to stop");
        }
        report.map(|r| r.expect("rank 0 has the report"))
    })
}

/// The report as JSON without its timing.
fn json(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).expect("a report as JSON");
    v.as_object_mut().expect("an object").remove("seconds");
    v
}

#[test]
fn reports_equal_the_single_process_run_for_one_to_four_ranks() {
    let model = DoubleWell2d { epsilon: 0.05 };
    let spill = tempfile::tempdir().expect("a spill directory");
    let budget = StorePolicy::Uniform {
        budget: 2048,
        interval: None,
        spill_dir: Some(spill.path().to_path_buf()),
    };
    let cases = [
        (StrategyKind::Tams, StorePolicy::StoreAll, params(40, 0.9)),
        (StrategyKind::Tams, budget, params(40, 0.9)),
        (
            StrategyKind::MonteCarlo,
            StorePolicy::StoreAll,
            params(2000, 0.2),
        ),
    ];
    for (strategy, store, p) in cases {
        let make = || {
            Run::new(&model, p.clone())
                .seed(3)
                .strategy(strategy)
                .store(store.clone())
                .threads(2)
        };
        let one = make().run().expect("the single-process run");
        if strategy == StrategyKind::Tams {
            assert!(one.iterations > 10, "{}", one.iterations);
        }
        for ranks in 1..=4 {
            let moved = std::sync::Mutex::new(0);
            let r = distributed(&model, ranks, |t| {
                make()
                    .on_traffic(|traffic| *moved.lock().unwrap() = traffic.moved)
                    .run_distributed(t)
            })
            .expect("the distributed run");
            assert_eq!(
                json(&r),
                json(&one),
                "{strategy} {store:?} on {ranks} ranks"
            );
            if strategy == StrategyKind::Tams && ranks == 4 {
                // Balancing moved parents' states between ranks.
                assert!(*moved.lock().unwrap() > 0);
            }
        }
    }
}

#[test]
fn a_restart_on_another_rank_count_continues_bit_identically() {
    let model = DoubleWell2d { epsilon: 0.05 };
    let full = Run::new(&model, params(40, 0.9))
        .seed(3)
        .run()
        .expect("a run");
    let dir = tempfile::tempdir().expect("a run directory");
    let run = dir.path().join("run");
    let mut p = params(40, 0.9);
    p.nsplititer = 4;
    let part = distributed(&model, 3, |t| {
        Run::new(&model, p)
            .seed(3)
            .database(Database::Create(run.clone()))
            .run_distributed(t)
    })
    .expect("the first part");
    assert_eq!(part.iterations, 4);
    let rest = distributed(&model, 2, |t| {
        Run::new(&model, params(40, 0.9))
            .seed(3)
            .database(Database::Continue(run.clone()))
            .run_distributed(t)
    })
    .expect("the rest");
    assert_eq!(rest.estimate.to_bits(), full.estimate.to_bits());
    assert_eq!(rest.iterations, full.iterations);
}

/// The 2D double well whose score is NaN once it passes `at`.
struct NanPast(DoubleWell2d, f64);

impl Model for NanPast {
    type State = [f64; 2];
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        2
    }
    fn initial_state(&self) -> [f64; 2] {
        self.0.initial_state()
    }
    fn step(&self, s: &mut [f64; 2], t: f64, dt: f64, noise: &GaussianNoise) {
        self.0.step(s, t, dt, noise)
    }
    fn score(&self, s: &[f64; 2], t: f64) -> f64 {
        let v = self.0.score(s, t);
        if v > self.1 { f64::NAN } else { v }
    }
}

#[test]
fn the_error_is_the_first_failing_trajectorys_as_in_one_process() {
    // Some trajectories of the ensemble pass 0.3, others only in later iterations.
    for at in [0.3, 0.6] {
        let model = NanPast(DoubleWell2d { epsilon: 0.05 }, at);
        let run = || Run::new(&model, params(40, 0.9)).seed(3).threads(2);
        let one = run().run().expect_err("a NaN score");
        assert!(
            matches!(one, Error::Model(ModelError::NanScore { .. })),
            "{one}"
        );
        for ranks in 2..=4 {
            let e =
                distributed(&model, ranks, |t| run().run_distributed(t)).expect_err("a NaN score");
            assert_eq!(
                format!("{e:?}"),
                format!("{one:?}"),
                "{ranks} ranks, past {at}"
            );
        }
    }
}

#[test]
fn a_worker_that_ends_is_named() {
    let model = DoubleWell2d { epsilon: 0.05 };
    let (a1, b1) = UnixStream::pair().expect("a socket pair");
    let (a2, b2) = UnixStream::pair().expect("a socket pair");
    drop(b2); // rank 2 is gone before the run starts
    std::thread::scope(|s| {
        let one = s.spawn(|| {
            let mut t = LocalTransport::worker(b1, 1, 3)?;
            serve(&model, &mut t, Some(1), None)
        });
        let mut t = LocalTransport::coordinator(vec![a1, a2]).expect("rank 0's transport");
        let e = Run::new(&model, params(40, 0.9))
            .run_distributed(&mut t)
            .expect_err("rank 2 is gone");
        assert!(matches!(e, Error::Rank { rank: 2, .. }), "{e:?}");
        assert!(e.to_string().contains("rank 2: its process ended"), "{e}");
        drop(t);
        // Rank 1 was told to stop, or saw rank 0's end.
        let _ = one.join().expect("rank 1's thread");
    });
}

#[test]
fn the_transport_delivers_whole_messages_in_order_and_reports_lost_ranks() {
    let (a1, b1) = UnixStream::pair().expect("a socket pair");
    let (a2, b2) = UnixStream::pair().expect("a socket pair");
    let mut zero = LocalTransport::coordinator(vec![a1, a2]).expect("rank 0");
    let mut one = LocalTransport::worker(b1, 1, 3).expect("rank 1");
    let mut two = LocalTransport::worker(b2, 2, 3).expect("rank 2");
    assert_eq!(
        (zero.rank(), zero.size(), two.rank(), two.size()),
        (0, 3, 2, 3)
    );
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    // Sent from another thread: a message larger than the socket's buffer.
    std::thread::scope(|s| {
        s.spawn(|| {
            one.send(0, b"first").expect("a send");
            one.send(0, &big).expect("a send");
            one.send(0, b"").expect("an empty message");
        });
        two.send(0, b"two").expect("a send");
        let mut from_one = Vec::new();
        let mut from_two = Vec::new();
        for _ in 0..4 {
            match zero.receive(None).expect("a message") {
                Some((1, m)) => from_one.push(m),
                Some((2, m)) => from_two.push(m),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(from_one, vec![b"first".to_vec(), big.clone(), Vec::new()]);
        assert_eq!(from_two, vec![b"two".to_vec()]);
    });
    // Nothing more has been sent: a deadline already passed gives nothing.
    assert_eq!(zero.receive(Some(Instant::now())).expect("no error"), None);
    zero.send(2, b"to two").expect("a send");
    assert_eq!(
        two.receive(None).expect("a message"),
        Some((0, b"to two".to_vec()))
    );
    assert!(matches!(
        zero.send(5, b"x"),
        Err(Error::Rank { rank: 5, .. })
    ));
    drop(two);
    let lost = zero.receive(None).expect_err("rank 2 is gone");
    assert!(matches!(lost, Error::Rank { rank: 2, .. }), "{lost:?}");
    drop(zero);
    let lost = one.receive(None).expect_err("rank 0 is gone");
    assert!(matches!(lost, Error::Rank { rank: 0, .. }), "{lost:?}");
    let (c, _d) = UnixStream::pair().expect("a socket pair");
    assert!(LocalTransport::worker(c, 0, 2).is_err());
}
