//! TAMS edge cases: every trajectory reaching the target at once (no extra factor), stalling
//! (an error, or an estimate of 0 when asked), the iteration budget, and models that misbehave.

use sampler::models::{DoubleWell2d, RandomWalk};
use sampler::{
    Error, GaussianNoise, Horizon, InitialOnly, Model, ModelError, NoiseKey, OnStall, RunParams,
    StopReason, Strategy, Tams, normal_words,
};

fn params(n: u64, nsplititer: u64, horizon: Horizon) -> RunParams {
    RunParams::new(n, 1, nsplititer, horizon).expect("valid parameters")
}

fn run<M: Model>(model: &M, p: &RunParams, seed: u64) -> sampler::Result<sampler::RunOutcome> {
    Tams::default().run(model, p, NoiseKey::new(seed, 0), &|_, _| {})
}

#[test]
fn all_reach_target_at_once_gives_exactly_one() {
    // A walk that always goes up: every trajectory reaches 5 at the same step.
    let model = RandomWalk {
        up: 1.0,
        x0: 1,
        floor: 0,
    };
    let o = run(&model, &params(10, 100, Horizon::new(100.0, 1.0, 5.0)), 1).unwrap();
    assert_eq!(o.stop, StopReason::Converged);
    assert_eq!(o.iterations, 0);
    assert_eq!(o.reached, 10);
    assert_eq!(
        o.estimate, 1.0,
        "no (1 - K/N) factor for an iteration not performed"
    );
}

#[test]
fn final_iteration_adds_no_extra_factor() {
    // After splitting, all trajectories end above the target: the estimate is exactly the product
    // of the factors of the performed iterations times N / N.
    let model = RandomWalk::default();
    let n = 20;
    let o = run(&model, &params(n, 10_000, Horizon::new(1e6, 1.0, 4.0)), 2).unwrap();
    assert_eq!(o.stop, StopReason::Converged);
    assert_eq!(o.reached, n);
    assert_eq!(o.kills.len() as u64, o.iterations);
    assert!(o.iterations > 0);
    let w: f64 = o
        .kills
        .iter()
        .fold(1.0, |w, &k| w * ((n - k) as f64 / n as f64));
    assert_eq!(o.weight, w);
    assert_eq!(o.estimate, w * (n as f64 / n as f64));
    assert_eq!(o.estimate, w);
}

#[test]
fn stalling_is_an_error_naming_iteration_level_and_count() {
    // A walk that always goes down: every maximum is the initial score, nobody is above the level.
    let model = RandomWalk {
        up: 0.0,
        x0: 1,
        floor: 0,
    };
    let p = params(10, 100, Horizon::new(100.0, 1.0, 5.0));
    let err = run(&model, &p, 3).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Stalled {
                iteration: 1,
                count: 10,
                ntrajectories: 10,
                level,
            } if level == 1.0
        ),
        "{err:?}"
    );
    assert!(
        text.contains("iteration 1") && text.contains("level 1") && text.contains("10 of 10"),
        "{text}"
    );
}

#[test]
fn extinction_gives_zero_when_asked() {
    let model = RandomWalk {
        up: 0.0,
        x0: 1,
        floor: 0,
    };
    let mut p = params(10, 100, Horizon::new(100.0, 1.0, 5.0));
    p.on_stall = OnStall::Zero;
    let o = run(&model, &p, 3).unwrap();
    assert_eq!(o.stop, StopReason::Extinction);
    assert_eq!(o.estimate, 0.0);
    assert_eq!(o.iterations, 0);
    assert_eq!(o.std_error, None);
}

#[test]
fn iteration_budget_stops_with_partial_estimate() {
    let model = RandomWalk::default();
    let n = 50;
    let o = run(&model, &params(n, 3, Horizon::new(1e6, 1.0, 30.0)), 4).unwrap();
    assert_eq!(o.stop, StopReason::IterationBudget);
    assert_eq!(o.iterations, 3);
    assert_eq!(o.kills.len(), 3);
    assert_eq!(o.estimate, o.weight * (o.reached as f64 / n as f64));
}

#[test]
fn level_ties_kill_every_tied_trajectory() {
    // From 1, about 2/3 of walks go straight to 0: their maxima tie at 1, and all are killed.
    let model = RandomWalk::default();
    let o = run(&model, &params(100, 1, Horizon::new(1e6, 1.0, 10.0)), 5).unwrap();
    assert_eq!(o.iterations, 1);
    assert!(
        o.kills[0] > 40,
        "K = {} should include all ties",
        o.kills[0]
    );
}

#[test]
fn replay_store_gives_the_same_run() {
    // Keeping only initial states and replaying branch points from the noise streams must be
    // bit-identical to keeping every state.
    let model = DoubleWell2d { epsilon: 0.05 };
    let p = params(30, 200, Horizon::new(5.0, 0.01, 0.95));
    let key = NoiseKey::new(6, 0);
    let (a, ea) = Tams::default()
        .run_ensemble(&model, &p, key, &|_, _| {})
        .unwrap();
    let (b, eb) = Tams::new(InitialOnly)
        .run_ensemble(&model, &p, key, &|_, _| {})
        .unwrap();
    assert_eq!(a.replay_steps, 0);
    assert!(b.replay_steps > 0);
    assert!(a.peak_states_held > 30 * 100, "{}", a.peak_states_held);
    assert_eq!(b.peak_states_held, 30 + b.kills.iter().max().unwrap());
    assert_eq!(a.estimate.to_bits(), b.estimate.to_bits());
    assert_eq!((a.iterations, a.model_steps), (b.iterations, b.model_steps));
    for (x, y) in ea.trajectories.iter().zip(&eb.trajectories) {
        assert_eq!(x.scores(), y.scores());
        assert_eq!(x.lineage(), y.lineage());
    }
}

#[test]
fn every_stored_state_is_regenerated_by_replay() {
    let model = DoubleWell2d { epsilon: 0.05 };
    let p = params(20, 100, Horizon::new(5.0, 0.01, 0.95));
    let key = NoiseKey::new(7, 0);
    let (o, ens) = Tams::default()
        .run_ensemble(&model, &p, key, &|_, _| {})
        .unwrap();
    assert!(o.iterations > 0);
    let branched = ens
        .trajectories
        .iter()
        .filter(|t| t.lineage().len() > 1)
        .count();
    assert!(branched > 0);
    for t in &ens.trajectories {
        let states = t.record();
        let mut state = model.initial_state();
        let mut noise = model.noise_buffer();
        sampler::simulate::replay(
            &model,
            &p.horizon,
            key,
            t.lineage(),
            &mut state,
            &mut noise,
            0,
            t.last_step(),
        )
        .unwrap();
        assert_eq!(
            state,
            states[t.last_step() as usize],
            "trajectory {}",
            t.id()
        );
        assert_eq!(model.score(&state, 0.0), *t.scores().last().unwrap());
    }
}

/// A model that returns NaN after a few steps.
struct NanAfter(u32);
impl Model for NanAfter {
    type State = u32;
    type Noise = ();
    fn noise_dim(&self) -> usize {
        0
    }
    fn initial_state(&self) -> u32 {
        0
    }
    fn step(&self, s: &mut u32, _: f64, _: f64, _: &()) {
        *s += 1;
    }
    fn score(&self, s: &u32, _: f64) -> f64 {
        if *s >= self.0 {
            f64::NAN
        } else {
            f64::from(*s)
        }
    }
}

#[test]
fn nan_score_is_an_error() {
    // Every trajectory fails at step 3: the error reported is the lowest id's, for any thread
    // count and any scheduling (repeated to give other schedules a chance to show up).
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for _ in 0..20 {
            let e = pool
                .install(|| {
                    run(
                        &NanAfter(3),
                        &params(64, 10, Horizon::new(10.0, 1.0, 100.0)),
                        0,
                    )
                })
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Model(ModelError::NanScore {
                        trajectory: 0,
                        step: 3
                    })
                ),
                "{threads} threads: {e:?}"
            );
        }
    }
}

/// A model that draws more noise than it declares (its own sampling, declaring 2 values).
struct Greedy;
impl Model for Greedy {
    type State = f64;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        4
    }
    fn noise_words(&self) -> u64 {
        normal_words(2)
    }
    fn initial_state(&self) -> f64 {
        0.0
    }
    fn step(&self, s: &mut f64, _: f64, _: f64, n: &GaussianNoise) {
        *s += n[0];
    }
    fn score(&self, s: &f64, _: f64) -> f64 {
        *s
    }
}

#[test]
fn noise_overdraw_is_an_error() {
    let e = run(&Greedy, &params(4, 10, Horizon::new(10.0, 1.0, 100.0)), 0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Model(ModelError::NoiseOverdraw {
                declared: 4,
                used: 8
            })
        ),
        "{e:?}"
    );
}

#[test]
fn walltime_stops_splitting() {
    let model = RandomWalk::default();
    let mut p = params(50, 1_000_000, Horizon::new(1e6, 1.0, 40.0));
    p.walltime = Some(std::time::Duration::from_nanos(1));
    let o = run(&model, &p, 8).unwrap();
    assert_eq!(o.stop, StopReason::Walltime);
    assert_eq!(o.estimate, o.weight * (o.reached as f64 / 50.0));
}

#[test]
fn snapshots_expose_time_score_and_state() {
    let model = DoubleWell2d { epsilon: 0.05 };
    let p = params(10, 20, Horizon::new(2.0, 0.01, 0.95));
    let store = sampler::StoreAll;
    let (_, ens) = Tams::new(store)
        .run_ensemble(&model, &p, NoiseKey::new(9, 0), &|_, _| {})
        .unwrap();
    let t = &ens.trajectories[0];
    let snap = t.snapshot(&store, 0.01, 7).unwrap();
    assert_eq!(snap.step, 7);
    assert!((snap.time - 0.07).abs() < 1e-15);
    assert_eq!(snap.score, t.scores()[7]);
    assert_eq!(model.score(snap.state.unwrap(), snap.time), snap.score);
    assert!(t.snapshot(&store, 0.01, t.last_step() + 1).is_none());
    let (_, lean) = Tams::new(InitialOnly)
        .run_ensemble(&model, &p, NoiseKey::new(9, 0), &|_, _| {})
        .unwrap();
    assert!(
        lean.trajectories[0]
            .snapshot(&InitialOnly, 0.01, 7)
            .unwrap()
            .state
            .is_none()
    );
}

#[test]
fn every_child_draws_fresh_noise() {
    // pyTAMS' "deterministic" mode reused one stream for all children; here every child has a new
    // id and its own stream from its branch point on.
    let model = DoubleWell2d { epsilon: 0.05 };
    let n = 30;
    let p = params(n, 300, Horizon::new(5.0, 0.01, 0.95));
    let (o, ens) = Tams::default()
        .run_ensemble(&model, &p, NoiseKey::new(10, 0), &|_, _| {})
        .unwrap();
    assert!(o.iterations > 50);
    let mut ids: Vec<u64> = ens.trajectories.iter().map(|t| t.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as u64, n);
    for t in &ens.trajectories {
        let last = t.lineage().last().unwrap();
        assert_eq!(last.stream, t.id());
        assert_eq!(t.stream_at(t.last_step()), t.id());
    }
    // Siblings that branched from the same point diverge right after it.
    for (i, a) in ens.trajectories.iter().enumerate() {
        for b in &ens.trajectories[i + 1..] {
            let (la, lb) = (a.lineage(), b.lineage());
            if la.len() == lb.len() && la[..la.len() - 1] == lb[..lb.len() - 1] {
                let j = la.last().unwrap().start_step as usize;
                if la.last().unwrap().start_step == lb.last().unwrap().start_step
                    && a.scores().len() > j + 1
                    && b.scores().len() > j + 1
                {
                    assert_ne!(a.scores()[j + 1], b.scores()[j + 1]);
                }
            }
        }
    }
}
