//! Memory-bounded TAMS: compact stores give bit-identical results to store-all, keep RAM
//! checkpoints within the budget, detect corrupted spill files and remove them at the end;
//! compressed spill files give the same bits.

use revolve::State as _;
use revolve::storage::disk::Codec;
use revolve::storage::disk::checkpoint_file::verify_checkpoint;
use sampler::models::{AllenCahn, AllenCahnNoise, Brownian};
use sampler::store::{CompactStore, Placement, TrajectoryStore};
use sampler::{Ensemble, Horizon, Model, NoiseKey, NoiseRng, RunParams, StopReason, Tams};
use std::path::Path;

fn model() -> AllenCahn {
    let mut m = AllenCahn::default();
    (m.n, m.sigma) = (16, 0.5);
    m
}

fn params() -> RunParams {
    RunParams::new(20, 2, 300, Horizon::new(2.0, 0.01, 0.9)).expect("valid parameters")
}

fn same_ensembles<A, B>(a: &Ensemble<A>, b: &Ensemble<B>) {
    assert_eq!(a.next_id, b.next_id);
    for (x, y) in a.trajectories.iter().zip(&b.trajectories) {
        assert_eq!(x.id(), y.id());
        assert_eq!(x.lineage(), y.lineage());
        let bits = |s: &[f64]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(x.scores()), bits(y.scores()));
    }
}

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    walk(dir)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn compact_stores_are_bit_identical_to_store_all() {
    let m = model();
    let p = params();
    let key = NoiseKey::new(11, 0);
    let (all, ens_all) = Tams::default()
        .run_ensemble(&m, &p, key, &|_, _| {})
        .unwrap();
    assert!(all.iterations >= 20, "{all:?}");
    let state = m.initial_state().byte_len() as u64;
    let store_all_bytes = p.ntrajectories * (p.horizon.nsteps + 1) * state;
    let budget = store_all_bytes / 100;
    let dir = tempfile::tempdir().unwrap();
    let placements = [
        Placement::uniform_for(budget, state, p.ntrajectories, p.horizon.nsteps),
        Placement::schedule_for(budget, state, p.ntrajectories),
        Placement::Uniform { interval: 7 },
        Placement::Schedule { slots: 6 },
    ];
    for placement in placements {
        // RAM-only (budget 100x smaller than store-all needs) and everything spilled (budget 0).
        for b in [budget, 0] {
            let tams = Tams::new(CompactStore::new(placement, b, dir.path()));
            let (run, ens) = tams.run_ensemble(&m, &p, key, &|_, _| {}).unwrap();
            let label = format!("{placement:?} budget {b}");
            assert_eq!(run.estimate.to_bits(), all.estimate.to_bits(), "{label}");
            assert_eq!(run.kills, all.kills, "{label}");
            assert_eq!(run.model_steps, all.model_steps, "{label}");
            assert!(run.replay_steps > 0, "{label}");
            same_ensembles(&ens_all, &ens);
            let st = tams.store.stats();
            assert!(st.ram_peak <= b, "{label}: {st:?}");
            if b == 0 {
                assert!(st.spills > 0 && st.disk_reads > 0, "{label}: {st:?}");
                assert!(!files_in(dir.path()).is_empty());
            }
            drop(ens);
            // Only the shared initial checkpoint (held by the store) is left.
            assert!(tams.store.stats().live <= 1, "{label}");
            assert!(files_in(dir.path()).len() <= 1, "{label}");
            drop(tams);
            assert!(files_in(dir.path()).is_empty(), "{label}: spill files left");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }
}

#[test]
fn corrupted_spill_files_are_detected_and_named() {
    let m = model();
    let dir = tempfile::tempdir().unwrap();
    let store = CompactStore::new(Placement::Uniform { interval: 5 }, 0, dir.path());
    let mut state = m.initial_state();
    let mut rec = store.begin(&state);
    let mut noise = m.noise_buffer();
    let mut rng: NoiseRng = NoiseKey::new(1, 0).stream(0, m.noise_words());
    for step in 1..=20u64 {
        m.sample_noise(&mut rng, &mut noise);
        m.step(&mut state, 0.0, 0.01, &noise);
        store.try_record(&mut rec, step, &state).unwrap();
    }
    assert_eq!(rec.spilled_steps(), vec![0, 5, 10, 15, 20]);
    let mut out = m.initial_state();
    assert_eq!(store.restore(&rec, 20, &mut out).unwrap(), 20);
    assert_eq!(out, state);
    let files = rec.spill_files();
    let victim = &files[2];
    let mut bytes = std::fs::read(victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(victim, &bytes).unwrap();
    let err = store.restore(&rec, 12, &mut out).unwrap_err().to_string();
    assert!(err.contains(&victim.display().to_string()), "{err}");
    assert!(err.contains("checksum"), "{err}");
    // Truncated and foreign files too.
    std::fs::write(&files[1], b"not a checkpoint").unwrap();
    let err = store.restore(&rec, 7, &mut out).unwrap_err().to_string();
    assert!(err.contains(&files[1].display().to_string()), "{err}");
    // Untouched ones still read.
    assert_eq!(store.restore(&rec, 19, &mut out).unwrap(), 15);
    drop(rec);
    drop(store);
    assert!(files_in(dir.path()).is_empty());
}

/// Allen-Cahn whose score turns NaN above a threshold: the run fails midway.
struct Failing(AllenCahn);

impl Model for Failing {
    type State = Vec<f64>;
    type Noise = AllenCahnNoise;
    fn initial_state(&self) -> Vec<f64> {
        self.0.initial_state()
    }
    fn noise_dim(&self) -> usize {
        self.0.noise_dim()
    }
    fn noise_words(&self) -> u64 {
        self.0.noise_words()
    }
    fn sample_noise(&self, rng: &mut NoiseRng, noise: &mut AllenCahnNoise) {
        self.0.sample_noise(rng, noise)
    }
    fn step(&self, s: &mut Vec<f64>, t: f64, dt: f64, noise: &AllenCahnNoise) {
        self.0.step(s, t, dt, noise)
    }
    fn score(&self, s: &Vec<f64>, t: f64) -> f64 {
        let x = self.0.score(s, t);
        if x > 0.45 { f64::NAN } else { x }
    }
}

#[test]
fn spill_files_are_removed_after_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let tams = Tams::new(CompactStore::new(
        Placement::Uniform { interval: 3 },
        0,
        dir.path(),
    ));
    let err = tams
        .run_ensemble(
            &Failing(model()),
            &params(),
            NoiseKey::new(2, 0),
            &|_, _| {},
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            sampler::Error::Model(sampler::ModelError::NanScore { .. })
        ),
        "{err}"
    );
    assert!(tams.store.stats().spills > 0);
    assert!(files_in(dir.path()).len() <= 1);
    drop(tams);
    assert!(files_in(dir.path()).is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn shared_prefixes_keep_memory_bounded_over_thousands_of_iterations() {
    let m = Brownian::default();
    let (n, k) = (200u64, 1u64);
    // Far beyond reach: the levels keep rising until the iteration budget.
    let p = RunParams::new(n, k, 3000, Horizon::new(20.0, 0.01, 1e9)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let nsteps = p.horizon.nsteps;
    for (placement, per_record) in [
        (Placement::Uniform { interval: 200 }, nsteps / 200 + 1),
        (Placement::Schedule { slots: 8 }, 8 + 3),
    ] {
        let budget = 1 << 16;
        let tams = Tams::new(CompactStore::new(placement, budget, dir.path()));
        let (run, _ens) = tams
            .run_ensemble(&m, &p, NoiseKey::new(5, 0), &|_, _| {})
            .unwrap();
        assert_eq!(run.stop, StopReason::IterationBudget, "{run:?}");
        assert_eq!(run.iterations, 3000);
        let st = tams.store.stats();
        // Live checkpoints never exceed what N + K records can hold, however many
        // trajectories were discarded.
        assert!(
            st.live_peak <= (n + k) * per_record + 1,
            "{placement:?}: {st:?}"
        );
        assert!(st.ram_peak <= budget, "{st:?}");
        assert!(run.branches >= 3000);
    }
}

#[test]
fn config_policies_give_the_store_all_estimate() {
    use sampler::Config;
    use sampler::runner::{RunOptions, run_config};
    let dir = tempfile::tempdir().unwrap();
    let base = "[tams]\nntrajectories = 16\nnsplititer = 200\nl = 2\nseed = 3\n[trajectory]\nend_time = 2.0\nstep_size = 0.01\ntargetscore = 0.9\n";
    let model = "[model]\nname = \"allen_cahn\"\nn = 8\nsigma = 0.5\n";
    let run = |extra: &str| {
        let text = format!("{base}{extra}{model}");
        let c = Config::from_toml(&text).unwrap();
        let opts = RunOptions {
            repeats: Some(2),
            threads: Some(2),
            ..RunOptions::default()
        };
        run_config(&c, &opts, &|_, _| {}).unwrap()
    };
    let all = run("");
    let d = dir.path().display();
    for extra in [
        format!("policy = \"uniform\"\nmemory_budget = \"1KiB\"\ncheckpoint_dir = \"{d}\"\n"),
        format!("policy = \"schedule\"\nmemory_budget = 512\ncheckpoint_dir = \"{d}\"\n"),
        format!(
            "policy = \"uniform\"\nmemory_budget = 64\ncheckpoint_interval = 9\ncheckpoint_dir = \"{d}\"\n"
        ),
    ] {
        let r = run(&extra);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&r.runs), bits(&all.runs), "{extra}");
        assert_eq!(r.model_steps, all.model_steps);
        assert!(r.replay_steps > 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{extra}");
    }
}

#[test]
fn compressed_spill_files_give_bit_identical_results() {
    let mut m = AllenCahn::default();
    (m.n, m.sigma) = (512, 0.5);
    let p = RunParams::new(10, 1, 30, Horizon::new(1.0, 0.01, 0.9)).unwrap();
    let key = NoiseKey::new(3, 0);
    let (all, ens_all) = Tams::default()
        .run_ensemble(&m, &p, key, &|_, _| {})
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let codecs = [
        Codec::zstd(),
        Codec::ShuffleZstd {
            typesize: 1,
            level: 3,
        },
    ];
    for codec in codecs {
        let store = CompactStore::new(Placement::Uniform { interval: 7 }, 0, dir.path())
            .with_spill_codec(codec);
        assert_eq!(store.spill_codec(), codec);
        let tams = Tams::new(store);
        let (run, ens) = tams.run_ensemble(&m, &p, key, &|_, _| {}).unwrap();
        assert_eq!(run.estimate.to_bits(), all.estimate.to_bits(), "{codec}");
        assert_eq!(run.model_steps, all.model_steps, "{codec}");
        same_ensembles(&ens_all, &ens);
        let st = tams.store.stats();
        assert!(st.spills > 0 && st.disk_reads > 0, "{codec}: {st:?}");
        // Every spill file records its codec and stored fewer bytes than the state has.
        let files = files_in(dir.path());
        assert!(!files.is_empty());
        for f in &files {
            let info = verify_checkpoint(f).unwrap();
            assert_eq!(info.payload_len, 512 * 8);
            assert!(info.stored_len < info.payload_len, "{codec}: {info:?}");
        }
        drop(ens);
        drop(tams);
        assert!(files_in(dir.path()).is_empty(), "{codec}: spill files left");
    }
}
