//! Distributed TAMS and Monte Carlo against the single-process run, under `mpirun -n 1, 2, 4`.
//!
//! `cargo test --features mpi --test mpi_tams` runs `retrace tams` under
//! `mpirun --oversubscribe -n P` (OpenMPI's `mpirun` on the PATH) and compares the `--json`
//! report, minus `seconds`, with the single-process one: TAMS keeping every state, TAMS under a
//! memory budget with spill files, Monte Carlo, and Monte Carlo writing its ensemble output
//! (the Zarr group byte for byte, its arrays read back with zarrs). Then faults: a config error is printed once with
//! exit 2; a rank killed (SIGKILL) after iteration q ends the job with the database holding
//! exactly q iterations, and a restart on another rank count gives the uninterrupted report; a
//! rank that stops answering ends the job with one line naming it. The killed and stopped runs
//! are this binary started again under `mpirun` (env `RETRACE_MPI_CHILD`), whose rank 0 waits in
//! the progress callback after committing iteration q until this process has acted: every
//! step is synchronised on files and process exits, never on sleeps.

use mpi::traits::*;
use sampler::mpi::{abort_on_panic, initialize};
use sampler::runner::{DbOptions, RunOptions};
use sampler::{Config, GaussianNoise, Horizon, Model, Run, RunParams, StorePolicy, StrategyKind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

const CHILD: &str = "RETRACE_MPI_CHILD";
const DIR: &str = "RETRACE_MPI_DIR";
const TAG: &str = "RETRACE_MPI_TAG";
/// The iteration after which the child run waits.
const Q: u64 = 3;

const DOUBLEWELL: &str = r#"
[tams]
ntrajectories = 40
nsplititer = 400
l = 5
seed = 3
[trajectory]
end_time = 4.0
step_size = 0.01
targetscore = 0.9
[sampler]
strategy = "tams"
[model]
name = "doublewell2d"
epsilon = 0.05
"#;

fn main() {
    if let Some(mode) = std::env::var_os(CHILD) {
        std::process::exit(child(&mode.to_string_lossy()));
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path();
    let store_all = write(dir, "store_all.toml", DOUBLEWELL);
    let spill = dir.join("spill");
    std::fs::create_dir(&spill).expect("the spill directory"); // checkpoint_dir must exist
    let bounded = DOUBLEWELL.replace(
        "[trajectory]\n",
        &format!(
            "[trajectory]\npolicy = \"uniform\"\nmemory_budget = \"2KiB\"\ncheckpoint_dir = \"{}\"\n",
            spill.display()
        ),
    );
    let bounded = write(dir, "bounded.toml", &bounded);
    let mc_text = DOUBLEWELL
        .replace("strategy = \"tams\"", "strategy = \"montecarlo\"")
        .replace("ntrajectories = 40", "ntrajectories = 3000")
        .replace("targetscore = 0.9", "targetscore = 0.2");
    let mc = write(dir, "montecarlo.toml", &mc_text);
    for (name, cfg) in [
        ("store-all", &store_all),
        ("memory-bounded", &bounded),
        ("montecarlo", &mc),
    ] {
        let reference = single(dir, cfg, name);
        for ranks in [1, 2, 4] {
            let json = dir.join(format!("{name}-{ranks}.json"));
            let out = mpirun(ranks, &[], &tams(cfg, &["--json", path(&json)]));
            assert_ok(&out, name);
            assert_eq!(report(&json), reference, "{name}, mpirun -n {ranks}");
            println!("mpirun -n {ranks}: {name} report equals the single-process one");
        }
    }
    let mc_report = report(&dir.join("montecarlo-4.json"));
    assert!(
        mc_report["details"][0]["reached"].as_u64().unwrap() > 0,
        "{mc_report}"
    );
    let bounded_report = report(&dir.join("memory-bounded-4.json"));
    assert!(
        bounded_report["replay_steps"].as_u64().unwrap() > 0,
        "the budget forces replays"
    );
    assert!(
        std::fs::read_dir(&spill).map_or(0, |d| d.count()) == 0,
        "spill directories are removed at the end"
    );
    ensemble_output_is_the_single_process_one(dir, &mc_text);
    config_error_is_reported_once(dir);
    for ranks in [1, 2, 4] {
        let out = mpirun_command(ranks, &[(CHILD, "nan".into())])
            .arg(std::env::current_exe().unwrap())
            .output()
            .unwrap();
        assert_ok(&out, &format!("NaN errors, mpirun -n {ranks}"));
        print!(
            "mpirun -n {ranks}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    for ranks in [2, 4] {
        let out = mpirun_command(ranks, &[(CHILD, "moves".into())])
            .arg(std::env::current_exe().unwrap())
            .output()
            .unwrap();
        assert_ok(&out, &format!("balanced iterations, mpirun -n {ranks}"));
        print!(
            "mpirun -n {ranks}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    killed_rank_then_restart(dir, &store_all);
    stopped_rank_ends_the_job(dir, &store_all);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn tams(cfg: &Path, more: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["tams", "--config", path(cfg), "--threads", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(more.iter().map(|s| s.to_string()));
    v
}

/// The JSON report without the timing-dependent `seconds`.
fn report(json: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(json).unwrap_or_else(|e| panic!("{}: {e}", json.display()));
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

fn assert_ok(out: &Output, context: &str) {
    assert!(
        out.status.success(),
        "{context}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The single-process report (2 threads).
fn single(dir: &Path, cfg: &Path, name: &str) -> serde_json::Value {
    let json = dir.join(format!("{name}-single.json"));
    let mut args = tams(cfg, &["--json", path(&json)]);
    args[4] = "2".into();
    let out = Command::new(env!("CARGO_BIN_EXE_retrace"))
        .args(&args)
        .output()
        .unwrap();
    assert_ok(&out, name);
    report(&json)
}

fn mpirun_command(ranks: u32, env: &[(&str, String)]) -> Command {
    let mut c = Command::new("mpirun");
    c.args(["--oversubscribe", "--mca", "mpi_yield_when_idle", "1"])
        .args(["-n", &ranks.to_string()])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    for (k, v) in env {
        c.args(["-x", &format!("{k}={v}")]);
    }
    c
}

/// `mpirun -n ranks retrace ARGS`.
fn mpirun(ranks: u32, env: &[(&str, String)], args: &[String]) -> Output {
    mpirun_command(ranks, env)
        .arg(env!("CARGO_BIN_EXE_retrace"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start mpirun (install openmpi-bin): {e}"))
}

/// Every file under `dir` (relative path, bytes), path order.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Array `name` of the Zarr group `group` read back with zarrs: its shape and elements' bits.
fn zarr_bits(group: &Path, name: &str) -> (Vec<u64>, Vec<u64>) {
    use zarrs::array::Array;
    let store = std::sync::Arc::new(zarrs::filesystem::FilesystemStore::new(group).unwrap());
    let a = Array::open(store, &format!("/{name}")).unwrap();
    let v: Vec<f64> = a.retrieve_array_subset(&a.subset_all()).unwrap();
    (a.shape().to_vec(), v.iter().map(|x| x.to_bits()).collect())
}

/// `[output]` of the Monte Carlo run: the group `mpirun -n 1, 2, 4` writes is the
/// single-process one byte for byte (every file), its arrays read back equal bit for bit.
fn ensemble_output_is_the_single_process_one(dir: &Path, mc: &str) {
    let with = |out: &Path| {
        format!(
            "{mc}[output]\npath = {:?}\nstride = 7\nchunk = 9\n",
            out.display().to_string()
        )
    };
    let one = dir.join("ensemble-single.zarr");
    let cfg = write(dir, "ensemble-single.toml", &with(&one));
    // The reports differ only in the configured output path.
    let unpathed = |mut v: serde_json::Value| {
        v["config"]["output"]["path"] = serde_json::Value::Null;
        v
    };
    let reference = unpathed(single(dir, &cfg, "ensemble"));
    let (shape, data) = zarr_bits(&one, "data");
    assert_eq!(shape, vec![2, 3000, 58]);
    let time = zarr_bits(&one, "time");
    let want = files(&one);
    for ranks in [1, 2, 4] {
        let out = dir.join(format!("ensemble-{ranks}.zarr"));
        let cfg = write(dir, &format!("ensemble-{ranks}.toml"), &with(&out));
        let json = dir.join(format!("ensemble-{ranks}.json"));
        let o = mpirun(ranks, &[], &tams(&cfg, &["--json", path(&json)]));
        assert_ok(&o, "ensemble output");
        assert_eq!(
            unpathed(report(&json)),
            reference,
            "ensemble, mpirun -n {ranks}"
        );
        assert_eq!(zarr_bits(&out, "data"), (shape.clone(), data.clone()));
        assert_eq!(zarr_bits(&out, "time"), time);
        let got = files(&out);
        let names = |f: &[(PathBuf, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want), "mpirun -n {ranks}: other files");
        for ((name, a), (_, b)) in got.iter().zip(&want) {
            assert!(a == b, "mpirun -n {ranks}: {} differs", name.display());
        }
        println!(
            "mpirun -n {ranks}: the ensemble output equals the single-process one byte for byte"
        );
    }
}

fn config_error_is_reported_once(dir: &Path) {
    let bad = write(dir, "bad.toml", &DOUBLEWELL.replace("l = 5", "l = 40"));
    let out = mpirun(2, &[], &tams(&bad, &[]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("tams.l"), "{err}");
    println!("mpirun -n 2: a config error is printed once, exit 2");
}

/// Start this binary as the child run `mode` on `ranks` ranks, recording into `dir/run`.
fn start_child(dir: &Path, mode: &str, ranks: u32, cfg: &Path) -> Child {
    let tag = format!("{}-{mode}", dir.display());
    let env = [
        (CHILD, mode.to_string()),
        (DIR, dir.display().to_string()),
        (TAG, tag),
        ("RETRACE_MPI_CONFIG", cfg.display().to_string()),
    ];
    mpirun_command(ranks, &env)
        .arg(std::env::current_exe().unwrap())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start mpirun")
}

/// Wait until `file` exists, or panic if `child` exits first.
fn wait_for(file: &Path, child: &mut Child) {
    while !file.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = std::mem::replace(child, Command::new("true").spawn().unwrap());
            let o = out.wait_with_output().unwrap();
            panic!(
                "the child run ended ({status}) before {}: {}",
                file.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The PID of rank `rank` of the child run tagged `tag` (from /proc/PID/environ).
fn rank_pid(tag: &str, rank: u32) -> i32 {
    let want_tag = format!("{TAG}={tag}");
    let want_rank = format!("OMPI_COMM_WORLD_RANK={rank}");
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let vars: Vec<&[u8]> = env.split(|&b| b == 0).collect();
        let has = |s: &str| vars.contains(&s.as_bytes());
        if has(&want_tag) && has(&want_rank) {
            return pid;
        }
    }
    panic!("no process of rank {rank} tagged {tag}");
}

fn signal(pid: i32, sig: &str) {
    let s = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(s.success(), "kill {sig} {pid}");
}

fn iterations_in(db_dir: &Path) -> u64 {
    let conn = rusqlite::Connection::open_with_flags(
        sampler::db::db_path(db_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let q: i64 = conn
        .query_row("SELECT MAX(iteration) FROM iterations", [], |r| r.get(0))
        .unwrap();
    q as u64
}

fn killed_rank_then_restart(dir: &Path, cfg: &Path) {
    let reference = report(&dir.join("store-all-single.json"));
    let run_dir = dir.join("kill");
    std::fs::create_dir_all(&run_dir).unwrap();
    let mut child = start_child(&run_dir, "kill", 3, cfg);
    wait_for(&run_dir.join("committed"), &mut child);
    let tag = format!("{}-kill", run_dir.display());
    signal(rank_pid(&tag, 1), "-KILL");
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "the job ends when a rank is killed");
    let db = run_dir.join("run");
    assert_eq!(iterations_in(&db), Q, "every committed iteration is kept");
    let json = dir.join("restarted.json");
    let out = mpirun(
        2,
        &[],
        &tams(cfg, &["--restart", path(&db), "--json", path(&json)]),
    );
    assert_ok(&out, "restart on 2 ranks");
    assert_eq!(report(&json), reference, "restart after a killed rank");
    println!("mpirun -n 3, rank 1 killed after iteration {Q}; restart on -n 2: same report");
}

fn stopped_rank_ends_the_job(dir: &Path, cfg: &Path) {
    let run_dir = dir.join("hang");
    std::fs::create_dir_all(&run_dir).unwrap();
    let mut child = start_child(&run_dir, "hang", 2, cfg);
    wait_for(&run_dir.join("committed"), &mut child);
    let tag = format!("{}-hang", run_dir.display());
    let pid = rank_pid(&tag, 1);
    signal(pid, "-STOP");
    std::fs::write(run_dir.join("go"), b"").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("did not answer"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("rank 1 did not answer within 1 s while computing iteration "),
        "{err}"
    );
    assert!(lines[0].ends_with("branch tasks)"), "{err}");
    println!("mpirun -n 2, rank 1 stopped: {}", lines[0]);
}

/// A random walk `x += sqrt(dt) xi / 2` scored by `x`, NaN above `nan_above`. With 1.5 (the
/// target is 3): the fresh trajectories stay below, branches pushed up by the levels fail,
/// several in one iteration, on several ranks.
struct Walk {
    nan_above: f64,
}

impl Model for Walk {
    type State = f64;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> f64 {
        0.0
    }
    fn step(&self, x: &mut f64, _t: f64, dt: f64, noise: &GaussianNoise) {
        *x += 0.5 * dt.sqrt() * noise[0]
    }
    fn score(&self, x: &f64, _t: f64) -> f64 {
        if *x > self.nan_above { f64::NAN } else { *x }
    }
}

/// Rank 0 of the "nan" child: the MPI run's error equals the single-process run's (TAMS with
/// l = 6 of 20, failing in a branch; Monte Carlo on 4000), printed as one line.
fn nan_errors_agree<C: Communicator>(world: &C) -> Result<(), String> {
    let params =
        RunParams::new(20, 6, 1000, Horizon::new(1.0, 0.01, 3.0)).map_err(|e| e.to_string())?;
    for strategy in [StrategyKind::Tams, StrategyKind::MonteCarlo] {
        let mut p = params.clone();
        if strategy == StrategyKind::MonteCarlo {
            p.ntrajectories = 4000; // about 11 failures, spread over the ranks' blocks
        }
        let run = || {
            Run::new(&Walk { nan_above: 1.5 }, p.clone())
                .seed(5)
                .strategy(strategy)
        };
        let single = match world.rank() {
            0 => Some(
                run()
                    .threads(2)
                    .run()
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            ),
            _ => None,
        };
        let mpi = run()
            .threads(1)
            .run_mpi(world)
            .map(|_| ())
            .map_err(|e| e.to_string());
        if let Some(single) = single {
            let Err(e) = &single else {
                return Err(format!("{strategy:?}: the single-process run did not fail"));
            };
            if single != mpi {
                return Err(format!("{strategy:?}: single {single:?}, MPI {mpi:?}"));
            }
            let id: u64 = e
                .split("trajectory ")
                .nth(1)
                .and_then(|t| t.split(',').next())
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("no trajectory in {e:?}"))?;
            if strategy == StrategyKind::Tams && id < params.ntrajectories {
                return Err(format!("the TAMS run failed before branching: {e}"));
            }
            println!("{strategy:?} error on every rank count: {e}");
        }
    }
    Ok(())
}

/// Rank 0 of the "moves" child: runs whose iterations were balanced (branch tasks computed
/// away from their parent's rank, from its states sent there) equal the single-process run
/// bit for bit, keeping every state and under a memory budget with a fixed interval.
fn moves_change_no_bit<C: Communicator>(world: &C) -> Result<(), String> {
    let params =
        RunParams::new(24, 6, 60, Horizon::new(1.0, 0.01, 1.2)).map_err(|e| e.to_string())?;
    let policies = [
        ("store-all", StorePolicy::StoreAll),
        (
            "memory-bounded",
            StorePolicy::Uniform {
                budget: 4096,
                interval: Some(7),
                spill_dir: None,
            },
        ),
    ];
    let walk = Walk {
        nan_above: f64::INFINITY,
    };
    for (name, policy) in policies {
        let run = || {
            Run::new(&walk, params.clone())
                .seed(9)
                .store(policy.clone())
        };
        let strip = |r: &sampler::Report| {
            let mut v = serde_json::to_value(r).unwrap();
            v.as_object_mut().unwrap().remove("seconds");
            v
        };
        let single = match world.rank() {
            0 => Some(run().threads(2).run().map_err(|e| e.to_string())?),
            _ => None,
        };
        let moved = std::sync::Mutex::new((0u64, 0u64));
        let mpi = run()
            .threads(1)
            .on_traffic(|t| *moved.lock().unwrap() = (t.moved, t.moved_bytes))
            .run_mpi(world)
            .map_err(|e| e.to_string())?;
        if let (Some(single), Some(mpi)) = (single, mpi) {
            if strip(&single) != strip(&mpi) {
                return Err(format!("{name}: single {single:?}, MPI {mpi:?}"));
            }
            let (tasks, bytes) = *moved.lock().unwrap();
            if tasks == 0 || bytes == 0 {
                return Err(format!(
                    "{name}: no task was moved ({tasks} tasks, {bytes} bytes)"
                ));
            }
            println!("{name}: {tasks} tasks moved ({bytes} bytes of states), same report");
        }
    }
    Ok(())
}

/// One rank of a child run: TAMS with a database in `$DIR/run`; rank 0 writes `$DIR/committed`
/// after committing iteration Q and waits for `$DIR/go`.
fn child(mode: &str) -> i32 {
    abort_on_panic();
    let universe = match initialize() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let world = universe.world();
    if mode == "nan" || mode == "moves" {
        let r = if mode == "nan" {
            nan_errors_agree(&world)
        } else {
            moves_change_no_bit(&world)
        };
        if let Err(e) = &r {
            eprintln!("{e}");
        }
        drop(universe);
        return i32::from(r.is_err());
    }
    let dir = PathBuf::from(std::env::var_os(DIR).expect("RETRACE_MPI_DIR"));
    let cfg = PathBuf::from(std::env::var_os("RETRACE_MPI_CONFIG").expect("config"));
    let config = Config::from_file(&cfg).expect("config");
    let (committed, go) = (dir.join("committed"), dir.join("go"));
    let progress = |done: u64, _: u64| {
        if done == Q {
            std::fs::write(&committed, b"").unwrap();
            while !go.exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    let opts = RunOptions {
        threads: Some(1),
        ..Default::default()
    };
    let db = DbOptions {
        threads: Some(1),
        ..DbOptions::new(dir.join("run"), false)
    };
    let timeout = if mode == "hang" { 1.0 } else { 600.0 };
    let r = sampler::runner::run_config_mpi(
        &config,
        &opts,
        Some(&db),
        &world,
        Duration::from_secs_f64(timeout),
        &progress,
    );
    let code = match r {
        Ok(_) => 0,
        // A rank that does not answer comes back as an error; ending the job is ours to do.
        Err(e) if e.ends_job() => {
            eprintln!("{e}");
            world.abort(3)
        }
        Err(e) => {
            eprintln!("rank {}: {e}", world.rank());
            1
        }
    };
    drop(universe);
    code
}
