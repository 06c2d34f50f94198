//! `retrace.db` on the one Rust reader of a run database (`sampler::db::RunReader`): the same
//! rows, checksums and read-only opening (a killed run is read from a private copy) as
//! `retrace db` and restart, returned as Python dicts and numpy arrays.

use crate::errors::RunDatabaseError;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use sampler::db::{RunReader, TrajectoryRow};
use sampler::{DbError, Error};
use std::path::PathBuf;
use std::sync::Mutex;

/// The Python exception for an error reading a run database (its message names the file and,
/// for a damaged row, the table and row).
fn to_py(e: Error) -> PyErr {
    match &e {
        // The wording `retrace.db` has always used for a foreign version.
        Error::Database(DbError::Format {
            path,
            found,
            expected,
        }) => RunDatabaseError::new_err(format!(
            "{}: schema version {found}, this reader knows version {expected}",
            path.display()
        )),
        _ => RunDatabaseError::new_err(e.to_string()),
    }
}

/// A run directory opened read-only (nothing in it is created, written or deleted); every read
/// is one snapshot and checks the rows it returns.
#[pyclass(module = "retrace._retrace")]
pub(crate) struct RunDatabase {
    /// None once closed.
    reader: Option<Mutex<RunReader>>,
}

impl RunDatabase {
    /// `f` on one snapshot of the open reader, the GIL released.
    fn read<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&RunReader) -> sampler::Result<T> + Send,
    ) -> PyResult<T> {
        let reader = self
            .reader
            .as_ref()
            .ok_or_else(|| RunDatabaseError::new_err("the run database is closed"))?;
        py.detach(|| {
            let r = reader
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            r.snapshot(f)
        })
        .map_err(to_py)
    }
}

fn trajectory_columns<'py>(
    py: Python<'py>,
    rows: &[TrajectoryRow],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let int = |f: &dyn Fn(&TrajectoryRow) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    let opt = |v: Option<u64>| v.map_or(-1, |x| x as i64);
    d.set_item("id", int(&|t| t.id as i64).into_pyarray(py))?;
    d.set_item("slot", int(&|t| t.slot as i64).into_pyarray(py))?;
    d.set_item("parent", int(&|t| opt(t.parent)).into_pyarray(py))?;
    d.set_item("branch_step", int(&|t| opt(t.branch_step)).into_pyarray(py))?;
    d.set_item("born", int(&|t| t.born as i64).into_pyarray(py))?;
    d.set_item("died", int(&|t| opt(t.died)).into_pyarray(py))?;
    d.set_item(
        "last_step",
        int(&|t| t.scores.len() as i64 - 1).into_pyarray(py),
    )?;
    let max: Vec<f64> = rows.iter().map(|t| t.max_score).collect();
    d.set_item("max_score", max.into_pyarray(py))?;
    let reached: Vec<bool> = rows.iter().map(|t| t.reached).collect();
    d.set_item("reached", reached.into_pyarray(py))?;
    Ok(d)
}

#[pymethods]
impl RunDatabase {
    /// Open the run directory `dir` read-only (its format version checked).
    #[new]
    fn new(py: Python<'_>, dir: PathBuf) -> PyResult<Self> {
        let reader = py.detach(|| RunReader::open(&dir)).map_err(to_py)?;
        Ok(RunDatabase {
            reader: Some(Mutex::new(reader)),
        })
    }

    /// Release the database (and remove a private copy, if one was made).
    fn close(&mut self) {
        self.reader = None;
    }

    /// The `meta` entries as a dict.
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let entries = self.read(py, |r| r.meta_entries())?;
        let d = PyDict::new(py);
        for (k, v) in entries {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// The summary as a dict: `meta`, `config` (the config row), `sessions` (a list of dicts),
    /// `status` (the last session's stop), `iterations`, `weight`, `reached`, `estimate` (0 and
    /// None before the initial ensemble is committed).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (meta, c, s) = self.read(py, |r| Ok((r.meta_entries()?, r.config()?, r.summary()?)))?;
        let config = PyDict::new(py);
        config.set_item("toml", c.toml)?;
        config.set_item("model", c.model)?;
        config.set_item("ntrajectories", c.ntrajectories)?;
        config.set_item("l", c.l)?;
        config.set_item("seed", c.seed)?;
        config.set_item("nsplititer", c.nsplititer)?;
        config.set_item("walltime", c.walltime)?;
        let sessions = PyList::empty(py);
        for x in &s.sessions {
            let d = PyDict::new(py);
            d.set_item("id", x.id)?;
            d.set_item("kind", &x.kind)?;
            d.set_item("started_at", x.started_at)?;
            d.set_item("start_iteration", x.start_iteration)?;
            d.set_item("stopped_at", x.stopped_at)?;
            d.set_item("stop", &x.stop)?;
            d.set_item("iterations", x.iterations)?;
            d.set_item("retrace_version", &x.retrace_version)?;
            d.set_item("warnings", &x.warnings)?;
            sessions.append(d)?;
        }
        let m = PyDict::new(py);
        for (k, v) in meta {
            m.set_item(k, v)?;
        }
        let out = PyDict::new(py);
        out.set_item("meta", m)?;
        out.set_item("config", config)?;
        out.set_item("status", s.sessions.last().and_then(|x| x.stop.clone()))?;
        out.set_item("sessions", sessions)?;
        match s.iterations {
            Some(q) => {
                out.set_item("iterations", q)?;
                out.set_item("weight", s.weight)?;
                out.set_item("reached", s.reached)?;
                out.set_item("estimate", s.estimate)?;
            }
            None => {
                out.set_item("iterations", 0)?;
                out.set_item("weight", py.None())?;
                out.set_item("reached", py.None())?;
                out.set_item("estimate", py.None())?;
            }
        }
        Ok(out)
    }

    /// The iteration table: one numpy array per column (level NaN for iteration 0), and
    /// `killed`, `parents`, `children` as lists of int64 arrays.
    fn iterations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = self.read(py, |r| r.iterations())?;
        let d = PyDict::new(py);
        let int = |name: &str, f: &dyn Fn(&sampler::db::IterationRow) -> u64| {
            let v: Vec<i64> = rows.iter().map(|r| f(r) as i64).collect();
            d.set_item(name, v.into_pyarray(py))
        };
        int("iteration", &|r| r.iteration)?;
        int("k", &|r| r.k)?;
        int("reached", &|r| r.reached)?;
        int("next_id", &|r| r.next_id)?;
        int("branches", &|r| r.branches)?;
        int("model_steps", &|r| r.model_steps)?;
        int("replay_steps", &|r| r.replay_steps)?;
        int("held", &|r| r.held)?;
        int("peak_held", &|r| r.peak_held)?;
        let real = |name: &str, f: &dyn Fn(&sampler::db::IterationRow) -> f64| {
            let v: Vec<f64> = rows.iter().map(f).collect();
            d.set_item(name, v.into_pyarray(py))
        };
        real("level", &|r| r.level.unwrap_or(f64::NAN))?;
        real("weight", &|r| r.weight)?;
        real("committed_at", &|r| r.committed_at)?;
        let lists = |name: &str, f: &dyn Fn(&sampler::db::IterationRow) -> &Vec<u64>| {
            let l = PyList::empty(py);
            for r in &rows {
                let ids: Vec<i64> = f(r).iter().map(|&x| x as i64).collect();
                l.append(ids.into_pyarray(py))?;
            }
            d.set_item(name, l)
        };
        lists("killed", &|r| &r.killed)?;
        lists("parents", &|r| &r.parents)?;
        lists("children", &|r| &r.children)?;
        Ok(d)
    }

    /// The trajectory table (every trajectory ever made, by id; scores checked, not returned):
    /// one numpy array per column, -1 for NULL.
    fn trajectories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = self.read(py, |r| r.trajectories())?;
        trajectory_columns(py, &rows)
    }

    /// Trajectory `id`'s scores (float64), or None if there is no such trajectory.
    fn scores<'py>(&self, py: Python<'py>, id: u64) -> PyResult<Option<Bound<'py, PyAny>>> {
        let row = self.read(py, move |r| r.trajectory(id))?;
        Ok(row.map(|t| t.scores.into_pyarray(py).into_any()))
    }

    /// `[(id, scores)]` of the current ensemble, in slot order.
    fn ensemble_scores<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self.read(py, |r| r.ensemble())?;
        let out = PyList::empty(py);
        for t in rows {
            out.append((t.id, t.scores.into_pyarray(py)))?;
        }
        Ok(out)
    }
}
