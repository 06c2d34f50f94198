//! The journal hook sees everything needed to continue: resuming from the state recorded after
//! ANY iteration gives the uninterrupted outcome bit for bit, and a journal error stops the run.

use sampler::models::{Brownian, RandomWalk};
use sampler::strategy::RunOutcome;
use sampler::{
    DbError, Ensemble, Error, Horizon, IterationRecord, Journal, LoopState, Model, NoJournal,
    NoiseKey, Resume, RunParams, StoreAll, Tams,
};

/// Keeps a resume point after the initial ensemble and after every iteration.
struct Capture<S> {
    points: Vec<Resume<Vec<S>>>,
    kills: Vec<u64>,
}

impl<S: Clone> Journal<Vec<S>> for Capture<S> {
    fn on_initial(&mut self, e: &Ensemble<Vec<S>>, s: &LoopState) -> sampler::Result<()> {
        self.points.push(Resume {
            ensemble: e.clone(),
            state: *s,
            kills: Vec::new(),
            partial: false,
        });
        Ok(())
    }
    fn on_iteration(&mut self, r: &IterationRecord<'_, Vec<S>>) -> sampler::Result<()> {
        assert_eq!(r.tasks.len(), r.killed_ids.len());
        self.kills.push(r.tasks.len() as u64);
        self.points.push(Resume {
            ensemble: r.ensemble.clone(),
            state: r.state,
            kills: self.kills.clone(),
            partial: false,
        });
        Ok(())
    }
    fn on_stop(&mut self, _: &RunOutcome) -> sampler::Result<()> {
        Ok(())
    }
}

fn check<M: Model>(model: &M, params: &RunParams, seed: u64) {
    let tams = Tams::new(StoreAll);
    let key = NoiseKey::new(seed, 0);
    let (plain, _) = tams.run_ensemble(model, params, key, &|_, _| {}).unwrap();
    let mut cap = Capture {
        points: Vec::new(),
        kills: Vec::new(),
    };
    let (journaled, _) = tams
        .run_journaled(model, params, key, &|_, _| {}, &mut cap, None)
        .unwrap();
    assert_eq!(journaled, plain);
    assert!(plain.iterations >= 10, "{}", plain.iterations);
    assert_eq!(cap.points.len() as u64, plain.iterations + 1);
    for (q, point) in cap.points.into_iter().enumerate() {
        let (resumed, _) = tams
            .run_journaled(model, params, key, &|_, _| {}, &mut NoJournal, Some(point))
            .unwrap();
        assert_eq!(resumed, plain, "resumed after iteration {q}");
        assert_eq!(resumed.weight.to_bits(), plain.weight.to_bits());
    }
}

#[test]
fn resume_after_any_iteration_is_bit_identical() {
    let params = |n, target, end, dt| {
        RunParams::new(n, 1, 100_000, Horizon::new(end, dt, target)).expect("valid parameters")
    };
    check(&Brownian::default(), &params(20, 3.0, 1.0, 0.01), 4);
    // Integer scores: ties, K > 1.
    let walk = RandomWalk::default();
    let mut p = params(50, 12.0, 1000.0, 1.0);
    p.l = 2;
    check(&walk, &p, 2);
}

/// Fails at iteration 5.
struct Failing;

impl<R> Journal<R> for Failing {
    fn on_initial(&mut self, _: &Ensemble<R>, _: &LoopState) -> sampler::Result<()> {
        Ok(())
    }
    fn on_iteration(&mut self, r: &IterationRecord<'_, R>) -> sampler::Result<()> {
        if r.state.iterations == 5 {
            return Err(Error::Database(DbError::Io {
                path: "x".into(),
                action: "write",
                source: std::io::Error::other("disk full"),
            }));
        }
        Ok(())
    }
    fn on_stop(&mut self, _: &RunOutcome) -> sampler::Result<()> {
        panic!("a failed run must not report a stop");
    }
}

#[test]
fn journal_errors_stop_the_run() {
    let params =
        RunParams::new(20, 1, 100, Horizon::new(1.0, 0.01, 3.0)).expect("valid parameters");
    let err = Tams::new(StoreAll)
        .run_journaled(
            &Brownian::default(),
            &params,
            NoiseKey::new(1, 0),
            &|_, _| {},
            &mut Failing,
            None,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "run database x: cannot write: disk full");
}
