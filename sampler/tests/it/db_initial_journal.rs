//! The initial ensemble is journaled per trajectory: a process SIGKILLed during it restarts
//! without computing the committed trajectories again, and ends with the report of a run never
//! interrupted. `init_ensemble_only` stops after the ensemble; continuing goes on splitting.
//!
//! The child is this test binary re-executed (`db_initial_journal::child`, ignored unless asked
//! for). Its model blocks (on its stdin, until killed) when asked for the initial state of more
//! than `$HOLD` trajectories; the parent waits for `$HOLD` trajectory rows in the database, so
//! the kill lands after exactly those were committed, whatever the machine's speed.

use sampler::{
    Database, GaussianNoise, Horizon, Model, ModelInfo, NoiseRng, Run, RunParams, StopReason,
};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// A field of `n` independent Ornstein-Uhlenbeck values started from their stationary law;
/// score: their mean. Counts the initial states drawn and the steps taken, and blocks when
/// asked for initial state number `hold` (0-based) or later.
#[derive(Serialize)]
struct Field {
    n: usize,
    #[serde(skip)]
    hold: u64,
    #[serde(skip)]
    starts: AtomicU64,
    #[serde(skip)]
    steps: AtomicU64,
}

impl Field {
    fn new(hold: u64) -> Self {
        Field {
            n: 8,
            hold,
            starts: AtomicU64::new(0),
            steps: AtomicU64::new(0),
        }
    }
}

impl Model for Field {
    type State = Vec<f64>;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        self.n
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0; self.n]
    }
    fn initial_state_from(&self, rng: &mut NoiseRng) -> Vec<f64> {
        if self.starts.fetch_add(1, Ordering::SeqCst) >= self.hold {
            // Held until killed (or the parent goes away and stdin closes).
            let _ = std::io::stdin().read(&mut [0u8; 1]);
            std::process::exit(3);
        }
        let mut x = vec![0.0; self.n];
        rng.fill_standard_normal(&mut x);
        x.iter_mut().for_each(|v| *v *= 0.5f64.sqrt());
        x
    }
    fn step(&self, u: &mut Vec<f64>, _t: f64, dt: f64, xi: &GaussianNoise) {
        self.steps.fetch_add(1, Ordering::Relaxed);
        for (u, xi) in u.iter_mut().zip(xi.iter()) {
            *u += -*u * dt + dt.sqrt() * xi;
        }
    }
    fn score(&self, u: &Vec<f64>, _t: f64) -> f64 {
        u.iter().sum::<f64>() / self.n as f64
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        ModelInfo::of("field", self)
    }
}

fn params() -> RunParams {
    RunParams::new(40, 1, 10_000, Horizon::new(3.0, 0.01, 0.9)).expect("valid parameters")
}

fn run(m: &Field, save: bool) -> Run<'_, Field> {
    Run::new(m, params()).seed(23).threads(2).save_states(save)
}

fn without_seconds(r: &sampler::Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

const DIR: &str = "SAMPLER_INITIAL_JOURNAL_DIR";
const HOLD: &str = "SAMPLER_INITIAL_JOURNAL_HOLD";
const SAVE: &str = "SAMPLER_INITIAL_JOURNAL_SAVE";

/// The child process: run (or continue) the run in `$DIR/run` with a model that blocks at
/// initial state `$HOLD`; at the end, write the report and the steps taken to `$DIR`.
#[test]
#[ignore = "child process of the initial-ensemble kill test"]
fn child() {
    let dir = PathBuf::from(std::env::var(DIR).expect("run by the kill test only"));
    let hold: u64 = std::env::var(HOLD).unwrap().parse().unwrap();
    let save = std::env::var(SAVE).unwrap() == "1";
    let m = Field::new(hold);
    let db = dir.join("run");
    let builder = if db.join("run.sqlite").exists() {
        Run::from_database(&m, &db).unwrap()
    } else {
        run(&m, save).database(Database::Create(db.clone()))
    };
    let report = builder.run().unwrap();
    let text = serde_json::to_string(&without_seconds(&report)).unwrap();
    std::fs::write(dir.join("steps"), m.steps.load(Ordering::SeqCst).to_string()).unwrap();
    std::fs::write(dir.join("report.json"), text).unwrap();
}

/// Rows of initial trajectories in the database of `dir` and the sum of their last steps.
fn committed(dir: &Path) -> (u64, u64) {
    let path = dir.join("run").join("run.sqlite");
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return (0, 0);
    };
    conn.query_row(
        "SELECT count(*), coalesce(sum(last_step), 0) FROM trajectories WHERE born = 0",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )
    .unwrap_or((0, 0))
}

fn kill_during_the_ensemble(save: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let m = Field::new(u64::MAX);
    let whole = run(&m, save).run().unwrap();
    let total_steps = m.steps.load(Ordering::SeqCst);
    assert_eq!(total_steps, whole.model_steps + whole.replay_steps);
    assert!(whole.iterations > 20, "{} iterations", whole.iterations);

    let dir = tmp.path().join("killed");
    std::fs::create_dir_all(&dir).unwrap();
    let hold = 25;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "db_initial_journal::child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(DIR, &dir)
        .env(HOLD, hold.to_string())
        .env(SAVE, if save { "1" } else { "0" })
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while committed(&dir).0 < hold {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("child exited ({status}) before {hold} trajectories were committed: {err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (rows, done_steps) = committed(&dir);
    assert_eq!(rows, hold, "only the trajectories that finished are committed");
    assert!(!dir.join("report.json").exists());

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "db_initial_journal::child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(DIR, &dir)
        .env(HOLD, u64::MAX.to_string())
        .env(SAVE, if save { "1" } else { "0" })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    // Compared as the child wrote it: through JSON text.
    let expected: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&without_seconds(&whole)).unwrap()).unwrap();
    assert_eq!(got, expected);
    let steps: u64 = std::fs::read_to_string(dir.join("steps"))
        .unwrap()
        .parse()
        .unwrap();
    if save {
        // The committed trajectories were loaded from their saved states, not computed again.
        assert_eq!(steps, total_steps - done_steps);
    } else {
        // Without saved states they are rebuilt by replay: as many steps as computing them.
        assert_eq!(steps, total_steps);
    }
}

#[test]
fn sigkill_during_the_initial_ensemble_keeps_finished_trajectories() {
    kill_during_the_ensemble(true);
}

#[test]
fn sigkill_during_the_initial_ensemble_replaying() {
    kill_during_the_ensemble(false);
}

#[test]
fn init_ensemble_only_stops_after_the_ensemble_and_a_restart_goes_on() {
    let m = Field::new(u64::MAX);
    let whole = run(&m, false).run().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run");
    let first = run(&m, false)
        .init_ensemble_only()
        .database(Database::Create(db.clone()))
        .run()
        .unwrap();
    assert_eq!(first.details[0].stop, StopReason::InitEnsembleOnly);
    assert_eq!(first.iterations, 0);
    let reached = first.details[0].reached;
    assert_eq!(first.estimate, reached as f64 / 40.0);
    let rest = Run::from_database(&m, &db).unwrap().run().unwrap();
    assert_eq!(without_seconds(&rest), without_seconds(&whole));
}
