//! Runs that cannot fit are refused before anything is allocated or a thread is started.

use sampler::models::{AllenCahn, Brownian};
use sampler::{ConfigError, Error, Horizon, Run, RunParams, StorePolicy};

fn params(n: u64) -> RunParams {
    RunParams::new(n, 1, 100, Horizon::new(1.0, 0.01, 0.5)).expect("valid parameters")
}

fn too_large(r: sampler::Result<sampler::Report>) -> u64 {
    match r {
        Err(Error::Config(ConfigError::TooLarge { needed, .. })) => needed,
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn a_state_of_16_gib_per_step_is_refused_before_it_is_allocated() {
    // 2^31 grid points: one state is 16 GiB; store-all keeps 10 x 101 of them (16 TiB).
    let mut model = AllenCahn::default();
    model.n = 1 << 31;
    let needed = too_large(Run::new(&model, params(10)).threads(1).run());
    assert!(needed >= 10 * 101 * (16 << 30), "{needed}");
    // A budget policy keeps at most the budget, but two 16 GiB worker buffers per thread remain
    // (here 1000 threads: 32 TiB, more than any machine).
    let budget = StorePolicy::Uniform {
        budget: 1 << 20,
        interval: None,
        spill_dir: None,
    };
    let needed = too_large(
        Run::new(&model, params(10))
            .store(budget)
            .threads(1000)
            .run(),
    );
    assert!(needed >= 1000 * 2 * (16 << 30), "{needed}");
}

#[test]
fn an_ensemble_whose_scores_cannot_fit_is_refused() {
    // 1e11 trajectories x 101 scores x 8 bytes: 80 TB of scores.
    let needed = too_large(Run::new(&Brownian::default(), params(100_000_000_000)).run());
    assert!(needed >= 100_000_000_000 * 101 * 8, "{needed}");
    // Monte Carlo keeps no scores: the same ensemble is not refused for memory (it is not run
    // here; the estimate alone is checked).
    let need = sampler::pipeline::MemoryNeed::estimate(
        &params(100_000_000_000),
        8,
        2,
        false,
        &StorePolicy::StoreAll,
    );
    assert_eq!(need.total(), 2 * 2 * 8);
}

#[test]
fn a_million_threads_are_refused_before_any_is_started() {
    let r = Run::new(&Brownian::default(), params(10))
        .threads(1_000_000)
        .run();
    let e = r.unwrap_err().to_string();
    assert!(e.starts_with("threads: must be at most"), "{e}");
    assert!(e.ends_with("got 1000000"), "{e}");
}
