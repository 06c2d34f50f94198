//! A model defined here (not built in) run through the full pipeline: a memory budget with
//! spill files and a run database; the process is SIGKILLed at seeded random iterations, restarted
//! each time, and the final report is bit-identical (apart from `seconds`) to an uninterrupted
//! run. A restart with a changed model parameter, or another model, is refused naming the key.
//!
//! The child is this test binary re-executed (`kill_restart::child`, ignored unless asked for)
//! with its settings in environment variables. It reports every committed iteration by
//! rewriting `DIR/progress` from the `on_progress` hook; the parent waits on that file, and
//! the child holds (blocked on its stdin) a few iterations after the parent's kill point, so
//! every kill lands in a running process whatever the machine's speed. No timing is assumed.

use sampler::{
    Database, DbError, Error, GaussianNoise, Horizon, Model, ModelInfo, Run, RunParams, StorePolicy,
};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A stochastic Ornstein-Uhlenbeck field on a periodic 1D grid (explicit Euler):
/// `du_i = (-theta u_i + diffusion (u_{i-1} - 2 u_i + u_{i+1})) dt + sigma sqrt(dt) xi_i`;
/// score: the mean of `u` (an OU process of its own).
#[derive(Debug, Clone, Serialize)]
struct OuField {
    n: usize,
    theta: f64,
    diffusion: f64,
    sigma: f64,
}

impl Model for OuField {
    type State = Vec<f64>;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        self.n
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0; self.n]
    }
    fn step(&self, u: &mut Vec<f64>, _t: f64, dt: f64, xi: &GaussianNoise) {
        let n = self.n;
        let (first, last) = (u[0], u[n - 1]);
        let mut prev = last;
        for i in 0..n {
            let here = u[i];
            let next = if i + 1 < n { u[i + 1] } else { first };
            let drift = -self.theta * here + self.diffusion * (prev - 2.0 * here + next);
            u[i] = here + drift * dt + self.sigma * dt.sqrt() * xi[i];
            prev = here;
        }
    }
    fn score(&self, u: &Vec<f64>, _t: f64) -> f64 {
        u.iter().sum::<f64>() / self.n as f64
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        ModelInfo::of("ou_field", self)
    }
}

/// Another model with the default description (its type name).
struct Other(OuField);

impl Model for Other {
    type State = Vec<f64>;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        self.0.noise_dim()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.0.initial_state()
    }
    fn step(&self, u: &mut Vec<f64>, t: f64, dt: f64, xi: &GaussianNoise) {
        self.0.step(u, t, dt, xi)
    }
    fn score(&self, u: &Vec<f64>, t: f64) -> f64 {
        self.0.score(u, t)
    }
}

fn model(sigma: f64) -> OuField {
    OuField {
        n: 32,
        theta: 1.0,
        diffusion: 4.0,
        sigma,
    }
}

fn params() -> RunParams {
    RunParams::new(32, 1, 5_000, Horizon::new(4.0, 0.02, 0.5)).expect("valid parameters")
}

/// 4 KiB of RAM for the checkpoints of 32 trajectories of 200 steps of 256-byte states (one
/// every 10 steps): most checkpoints go to spill files.
fn store(spill: &Path) -> StorePolicy {
    StorePolicy::Uniform {
        budget: 4096,
        interval: Some(10),
        spill_dir: Some(spill.to_path_buf()),
    }
}

/// The configured run (`save`: save states in the database, else replay on restart).
fn run<'a>(m: &'a OuField, spill: &Path, threads: usize) -> Run<'a, OuField> {
    Run::new(m, params())
        .seed(17)
        .store(store(spill))
        .threads(threads)
}

fn without_seconds(r: &sampler::Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

const DIR: &str = "SAMPLER_KILL_RESTART_DIR";
const HOLD: &str = "SAMPLER_KILL_RESTART_HOLD";
const SAVE: &str = "SAMPLER_KILL_RESTART_SAVE";

/// The child process: run (or continue) the recorded run in `$DIR/run`, rewriting
/// `$DIR/progress` after every committed iteration and blocking on stdin once iteration `$HOLD`
/// is committed; at the end, write the report to `$DIR/report.json`.
#[test]
#[ignore = "child process of the kill-and-restart tests"]
fn child() {
    let dir = PathBuf::from(std::env::var(DIR).expect("run by sigkill_* only"));
    let hold: u64 = std::env::var(HOLD).unwrap().parse().unwrap();
    let save = std::env::var(SAVE).unwrap() == "1";
    let m = model(1.0);
    let spill = dir.join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let db = dir.join("run");
    let progress = |done: u64, _total: u64| {
        let tmp = dir.join("progress.new");
        std::fs::write(&tmp, done.to_string()).unwrap();
        std::fs::rename(&tmp, dir.join("progress")).unwrap();
        if done >= hold {
            // Held until killed (or the parent goes away and stdin closes).
            let _ = std::io::stdin().read(&mut [0u8; 1]);
            std::process::exit(3);
        }
    };
    let builder = if db.join("run.sqlite").exists() {
        Run::from_database(&m, &db).unwrap()
    } else {
        run(&m, &spill, 2)
            .database(Database::Create(db.clone()))
            .save_states(save)
    };
    let report = builder.on_progress(progress).run().unwrap();
    let text = serde_json::to_string(&without_seconds(&report)).unwrap();
    std::fs::write(dir.join("report.json"), text).unwrap();
}

fn spawn(dir: &Path, hold: u64, save: bool) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "kill_restart::child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(DIR, dir)
        .env(HOLD, hold.to_string())
        .env(SAVE, if save { "1" } else { "0" })
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn progress(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("progress"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// splitmix64: the test's own seeded choices.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn kill_and_restart(save: bool, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let spill = tmp.path().join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let m = model(1.0);

    // Uninterrupted: without a database, and with one.
    let plain = run(&m, &spill, 1).run().unwrap();
    let whole = run(&m, &spill, 2)
        .database(Database::Create(tmp.path().join("whole")))
        .save_states(save)
        .run()
        .unwrap();
    let reference = without_seconds(&plain);
    assert_eq!(without_seconds(&whole), reference);
    let total = plain.iterations;
    assert!(total >= 60, "{total} iterations: too few to kill in");
    assert!(plain.details[0].peak_states_held > 0);

    // Kill points: one seeded random iteration in each sixth of the first 80% of the run;
    // the child holds 0..=3 iterations after its kill point.
    let dir = tmp.path().join("killed");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = seed;
    let span = total * 8 / 10 / 6;
    let mut kills = 0;
    for i in 0..6 {
        let point = 1 + i * span + next(&mut rng) % span;
        let hold = point + next(&mut rng) % 4;
        let mut child = spawn(&dir, hold, save);
        while progress(&dir) < point {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("child exited ({status}) before iteration {point}: {err}");
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        assert!(!dir.join("report.json").exists());
    }
    let last = spawn(&dir, u64::MAX, save);
    let out = last.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(kills >= 5);
    eprintln!("{kills} kills in a run of {total} iterations");
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(got, reference, "after {kills} kills");
    let sessions = sampler::db::RunReader::open(&dir.join("run"))
        .unwrap()
        .summary()
        .unwrap()
        .sessions;
    assert_eq!(sessions.len(), kills + 1, "one session per process");

    // A changed parameter of the custom model is refused, naming it and both values.
    let changed = model(1.25);
    for attempt in [
        Run::from_database(&changed, dir.join("run")).unwrap().run(),
        run(&changed, &spill, 2)
            .database(Database::Continue(dir.join("run")))
            .run(),
    ] {
        match attempt {
            Err(Error::Database(DbError::Incompatible {
                key, stored, given, ..
            })) => assert_eq!(
                (key.as_str(), stored.as_str(), given.as_str()),
                ("model.sigma", "1.0", "1.25")
            ),
            other => panic!("changed sigma accepted: {other:?}"),
        }
    }
    // So is another model (described by its type name).
    let other = Other(model(1.0));
    let err = Run::from_database(&other, dir.join("run"))
        .unwrap()
        .run()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, Error::Database(DbError::Incompatible { key, .. }) if key == "model.name")
            && text.contains("ou_field")
            && text.contains("Other"),
        "{text}"
    );
    // The unchanged model continues (nothing left to do) with the same result.
    let again = Run::from_database(&m, dir.join("run"))
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(without_seconds(&again), reference);
}

#[test]
fn sigkill_and_restart_custom_model_replaying() {
    kill_and_restart(false, 0x5eed);
}

#[test]
fn sigkill_and_restart_custom_model_with_saved_states() {
    kill_and_restart(true, 0xfeed);
}
