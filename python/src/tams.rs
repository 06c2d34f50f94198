//! `retrace.tams`: TAMS (or Monte Carlo) on a Python model, or on a built-in one, through the
//! sampler's run pipeline (`sampler::Run`): store policies, memory budgets, the run database
//! and restarts work as they do from the CLI. The run goes on a background thread while this
//! thread waits without the GIL, checking for Ctrl-C.

use crate::convert::{table, to_python};
use crate::errors::{ConfigError, RunDatabaseError, StalledError};
use crate::pymodel::PyModel;
use crate::workers::{Workers, close, kill, worker_error};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use sampler::distributed::LocalTransport;
use sampler::runner::{DbOptions, RunOptions, run_config, run_with_database};
use sampler::{Config, Database, DbError, Error, ModelError, Report, Run};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The `[model]` a Python model's config is validated with: the sampler's config schema names a
/// built-in model, and no key of the other tables depends on which.
const PLACEHOLDER_MODEL: &str = "brownian";

/// Where a run is recorded, and the overrides of the config.
struct Db {
    db: Option<PathBuf>,
    restart: Option<PathBuf>,
    /// Replaces `tams.seed` (none in either: a fresh seed from the OS, or a restart's).
    seed: Option<u64>,
}

/// The config `config` (a TOML path or a dict) parsed and validated by the sampler; `builtin`:
/// its `[model]` names a built-in model, else it must have none (the model is the Python
/// object).
fn load_config(config: &Bound<'_, PyAny>, builtin: bool) -> PyResult<Config> {
    let (mut tbl, path) = if let Ok(d) = config.cast::<PyDict>() {
        (table(d, "")?, None)
    } else {
        let path: PathBuf = config.extract().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err("config: a TOML file path or a dict")
        })?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new_err(format!("{}: cannot read: {e}", path.display())))?;
        match text.parse::<toml::Table>() {
            Ok(t) => (t, Some(path)),
            Err(_) => return Err(config_error(Config::from_toml(&text).err(), &path)),
        }
    };
    if !builtin {
        if tbl.contains_key("model") {
            let msg = "model: a Python model is the object given to retrace.tams, so the config \
                       has no [model] table (its parameters are the object's)";
            return Err(ConfigError::new_err(with_path(msg, path.as_deref())));
        }
        let mut m = toml::Table::new();
        m.insert("name".into(), PLACEHOLDER_MODEL.into());
        tbl.insert("model".into(), toml::Value::Table(m));
    }
    let text = toml::to_string(&tbl).map_err(|e| ConfigError::new_err(e.to_string()))?;
    Config::from_toml(&text)
        .map_err(|e| ConfigError::new_err(with_path(&e.to_string(), path.as_deref())))
}

fn with_path(msg: &str, path: Option<&Path>) -> String {
    match path {
        Some(p) => format!("{}: {msg}", p.display()),
        None => msg.to_owned(),
    }
}

fn config_error(e: Option<Error>, path: &Path) -> PyErr {
    let msg = e.map_or_else(|| "invalid TOML".to_owned(), |e| e.to_string());
    ConfigError::new_err(with_path(&msg, Some(path)))
}

/// The run of `model` (a Python model) as the config and `db` ask; over `workers` (rank 0's
/// end) if given.
fn python_run(
    model: &PyModel,
    config: Option<&Config>,
    db: Db,
    threads: Option<usize>,
    workers: Option<&mut LocalTransport>,
) -> sampler::Result<Report> {
    let mut run = match config {
        None => match db.restart {
            Some(dir) => Run::from_database(model, dir)?,
            None => {
                return Err(Error::config(
                    "config",
                    "missing (only a restart may leave it out)",
                ));
            }
        },
        // The one mapping of config keys (`[database]` included); the arguments replace it.
        Some(c) => {
            let creates = match &db.restart {
                Some(_) => false,
                None => db.db.is_some() || c.database.as_ref().is_some_and(|d| !d.restart),
            };
            let run = match (db.restart, db.db) {
                (Some(dir), _) => Run::from_config(model, c)?.database(Database::Continue(dir)),
                (None, Some(dir)) => Run::from_config(model, c)?.database(Database::Create(dir)),
                (None, None) => Run::from_config(model, c)?,
            };
            // A Python model's steps cost more than saving its states: a new database saves
            // them unless the config says otherwise, so a restart (also during the initial
            // ensemble) recomputes nothing that was committed.
            // (Not over worker processes: their states stay where they were computed.)
            let configured = c.database.as_ref().and_then(|d| d.save_states);
            if creates && configured.is_none() && workers.is_none() {
                run.save_states(true)
            } else {
                run
            }
        }
    };
    if let Some(t) = threads {
        run = run.threads(t);
    }
    if let Some(s) = db.seed {
        run = run.seed(s);
    }
    if let Some(out) = config.and_then(|c| c.output.clone()) {
        run = run.output(Some(out));
    }
    match workers {
        // A dead worker is seen at once (its socket closes): no deadline.
        Some(w) => run
            .threads(threads.unwrap_or(1))
            .rank_timeout(Duration::MAX)
            .run_distributed(w)?
            .ok_or_else(|| Error::config("workers", "rank 0 got no report")),
        None => run.run(),
    }
}

/// Refuse `[output]` (the ensemble's states as Zarr arrays) for a model whose states are not
/// numeric arrays.
fn no_zarr_for_objects(model: &PyModel, config: Option<&Config>) -> PyResult<()> {
    if model.is_object() && config.is_some_and(|c| c.output.is_some()) {
        return Err(ConfigError::new_err(
            "output: the model's states are not numeric arrays (retrace holds them as their \
             pickles), so they cannot be written to Zarr; leave [output] out",
        ));
    }
    Ok(())
}

/// The run of the built-in model the config names.
fn builtin_run(config: Option<&Config>, db: Db, threads: Option<usize>) -> sampler::Result<Report> {
    let file_db = config.and_then(|c| c.database.as_ref());
    let target = match (db.restart, db.db, file_db) {
        (Some(dir), _, _) => Some((dir, true)),
        (None, Some(dir), _) => Some((dir, false)),
        (None, None, Some(d)) => Some((d.path.clone(), d.restart)),
        (None, None, None) => None,
    };
    match target {
        Some((dir, restart)) => {
            let mut opts = DbOptions::new(dir, restart);
            opts.threads = threads;
            opts.seed = db.seed;
            run_with_database(config, &opts, &|_, _| {}).map(|(r, _)| r)
        }
        None => {
            let c = config.ok_or_else(|| {
                Error::config("config", "missing (only a restart may leave it out)")
            })?;
            let opts = RunOptions {
                threads,
                seed: db.seed,
                ..RunOptions::default()
            };
            run_config(c, &opts, &|_, _| {})
        }
    }
}

/// Run `job` on a background thread; wait for it without the GIL, checking for Ctrl-C every
/// 50 ms and calling `interrupt` once when it comes (the job must then end soon). Returns the
/// job's result and the `KeyboardInterrupt`, if any.
fn run_in_background<T: Send>(
    py: Python<'_>,
    job: impl FnOnce() -> T + Send,
    interrupt: &(dyn Fn() + Sync),
) -> PyResult<(T, Option<PyErr>)> {
    let slot: (Mutex<Option<T>>, Condvar) = (Mutex::new(None), Condvar::new());
    std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let r = job();
            let mut g = slot.0.lock().unwrap_or_else(|p| p.into_inner());
            *g = Some(r);
            slot.1.notify_all();
        });
        let mut interrupted: Option<PyErr> = None;
        loop {
            let done = py.detach(|| {
                let g = slot.0.lock().unwrap_or_else(|p| p.into_inner());
                let (mut g, _) = slot
                    .1
                    .wait_timeout_while(g, Duration::from_millis(50), |r| r.is_none())
                    .unwrap_or_else(|p| p.into_inner());
                g.take()
            });
            // Joined without the GIL: the job's thread, ending, releases the Python thread
            // state it kept for the model's callbacks, which takes the GIL (joining while
            // attached deadlocked).
            if let Some(r) = done {
                let _ = py.detach(|| handle.join());
                return Ok((r, interrupted));
            }
            if handle.is_finished() && slot.0.lock().map_or(true, |g| g.is_none()) {
                // Finished without a result: it panicked (PyO3 raises it as a PanicException).
                if let Err(p) = py.detach(|| handle.join()) {
                    std::panic::resume_unwind(p);
                }
                return Err(PyRuntimeError::new_err("the run ended without a result"));
            }
            if interrupted.is_none()
                && let Err(e) = py.check_signals()
            {
                interrupt();
                interrupted = Some(e);
            }
        }
    })
}

/// The Python exception for a sampler error; a failing model step gives back the model's own
/// exception.
fn to_py(py: Python<'_>, e: Error, model: Option<&PyModel>) -> PyErr {
    match e {
        Error::Model(ModelError::NanScore { step, .. }) => {
            match model.and_then(|m| m.take_error(step)) {
                Some(err) => err,
                None => PyValueError::new_err(e.to_string()),
            }
        }
        Error::Config(_) => ConfigError::new_err(e.to_string()),
        Error::Stalled {
            iteration,
            level,
            count,
            ..
        } => {
            let err = StalledError::new_err(e.to_string());
            let v = err.value(py);
            let _ = v.setattr("iteration", iteration);
            let _ = v.setattr("level", level);
            let _ = v.setattr("count", count);
            err
        }
        Error::Database(DbError::Incompatible {
            ref key,
            ref stored,
            ref given,
            ..
        }) => {
            let err = ConfigError::new_err(e.to_string());
            let v = err.value(py);
            let _ = v.setattr("key", key.clone());
            let _ = v.setattr("stored", stored.clone());
            let _ = v.setattr("given", given.clone());
            err
        }
        Error::Database(_) => RunDatabaseError::new_err(e.to_string()),
        // A worker process's failure (its model's traceback) or loss.
        Error::Rank { .. } | Error::RankTimeout { .. } | Error::Worker { .. } => {
            worker_error(py, e.to_string())
        }
        e => PyRuntimeError::new_err(e.to_string()),
    }
}

/// Run TAMS (or Monte Carlo, per `[sampler] strategy`) and return the report as a dict (the
/// fields of `retrace tams --json`).
///
/// `model`: an object with `initial_state()` (or `initial_state(rng)`: a random initial
/// condition drawn with the `numpy.random.Generator` given, one per trajectory, reproducible),
/// `step(state, t, dt, noise)` (in place), `score(state, t)` and `noise_size`; `None` runs the
/// built-in model the config's `[model]` names. A state that is not a numeric array (a
/// dataclass, a path to a file the model writes; or any state of a model with
/// `state = "object"`) is held as its pickle, and `step` returns the new state (docs/python.md,
/// "States that are not arrays"). `config`: a TOML path or a dict with the CLI's
/// keys (no `[model]` for a Python model). `db`: record the run in this new run directory;
/// `restart`: continue the run recorded there (`config` may then be left out); `threads`:
/// worker threads (the result does not depend on it); `workers`: processes computing a Python
/// model (this one and `workers - 1` children: no shared GIL; the model must be picklable; the
/// result does not depend on it); `seed`: replaces `tams.seed` (with neither, a fresh seed from
/// the OS, given back as the report's `seed`; a restart keeps the recorded one).
#[pyfunction]
#[pyo3(signature = (model, config=None, db=None, restart=None, threads=None, workers=None, seed=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tams<'py>(
    py: Python<'py>,
    model: Option<Bound<'py, PyAny>>,
    config: Option<Bound<'py, PyAny>>,
    db: Option<PathBuf>,
    restart: Option<PathBuf>,
    threads: Option<usize>,
    workers: Option<usize>,
    seed: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    if db.is_some() && restart.is_some() {
        return Err(ConfigError::new_err(
            "db, restart: give one (a new run directory, or the one to continue)",
        ));
    }
    if threads == Some(0) {
        return Err(ConfigError::new_err("threads: must be >= 1, got 0"));
    }
    if let Some(m) = &model
        && m.is_instance_of::<PyString>()
    {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "model: a model object (None: the built-in model the config names)",
        ));
    }
    if workers == Some(0) {
        return Err(ConfigError::new_err("workers: must be >= 1, got 0"));
    }
    let builtin = model.is_none();
    if builtin && workers.is_some_and(|w| w > 1) {
        return Err(ConfigError::new_err(
            "workers: for Python models (a built-in model runs on `threads`)",
        ));
    }
    let config = config.map(|c| load_config(&c, builtin)).transpose()?;
    let db = Db { db, restart, seed };
    let (result, interrupted) = match &model {
        Some(obj) if workers.is_some_and(|w| w > 1) => {
            let m = PyModel::new(obj)?;
            no_zarr_for_objects(&m, config.as_ref())?;
            let mut w = Workers::start(py, m.target().bind(py), workers.unwrap_or(1) - 1)?;
            let (pool, transport) = (&w.pool, &mut w.transport);
            let (r, i) = run_in_background(
                py,
                || python_run(&m, config.as_ref(), db, threads, Some(transport)),
                &|| {
                    m.interrupt();
                    Python::attach(|py| kill(py, pool));
                },
            )?;
            close(py, w, r.is_ok() && i.is_none())?;
            (r.map_err(|e| to_py(py, e, Some(&m))), i)
        }
        Some(obj) => {
            let m = PyModel::new(obj)?;
            no_zarr_for_objects(&m, config.as_ref())?;
            let (r, i) = run_in_background(
                py,
                || python_run(&m, config.as_ref(), db, threads, None),
                &|| m.interrupt(),
            )?;
            (r.map_err(|e| to_py(py, e, Some(&m))), i)
        }
        None => {
            let (r, i) =
                run_in_background(py, || builtin_run(config.as_ref(), db, threads), &|| {})?;
            (r.map_err(|e| to_py(py, e, None)), i)
        }
    };
    if let Some(e) = interrupted {
        return Err(e);
    }
    to_python(py, &result?)
}

/// The TOML file `path` as a dict (for `retrace.compat.pytams`, on any Python version).
#[pyfunction]
pub(crate) fn load_toml<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::new_err(format!("{}: cannot read: {e}", path.display())))?;
    let t = text
        .parse::<toml::Table>()
        .map_err(|_| config_error(Config::from_toml(&text).err(), &path))?;
    to_python(py, &t)
}
