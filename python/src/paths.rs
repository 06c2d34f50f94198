//! `retrace.db.Run.paths`: a run database's transition paths as a Zarr v3 group
//! (`sampler::output::export_paths`) for a Python model (float64 arrays) or the recorded
//! built-in one.

use crate::errors::{ConfigError, RunDatabaseError};
use crate::pymodel::PyModel;
use pyo3::exceptions::{PyFileExistsError, PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sampler::models::ModelVisitor;
use sampler::output::{PathsOptions, PathsSummary, Select, export_paths as export};
use sampler::{DbError, Error, Model, ModelError, OutputError};
use std::path::{Path, PathBuf};

/// The recorded built-in model's export.
struct Builtin<'a> {
    dir: &'a Path,
    out: &'a Path,
    opts: &'a PathsOptions,
}

impl ModelVisitor for Builtin<'_> {
    type Output = sampler::Result<PathsSummary>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: sampler::store::StateBytes + PartialEq + sampler::ArrayState,
    {
        export(model, self.dir, self.out, self.opts, &|_, _| {})
    }
}

fn to_py(e: Error, model: Option<&PyModel>) -> PyErr {
    match e {
        Error::Model(ModelError::NanScore { step, .. }) => {
            match model.and_then(|m| m.take_error(step)) {
                Some(err) => err,
                None => PyValueError::new_err(e.to_string()),
            }
        }
        Error::Output(OutputError::Exists { .. }) => PyFileExistsError::new_err(e.to_string()),
        Error::Output(OutputError::NoTrajectory { .. }) => PyKeyError::new_err(e.to_string()),
        Error::Output(OutputError::Replay { .. }) => RunDatabaseError::new_err(e.to_string()),
        Error::Output(OutputError::OtherModel { .. }) => ConfigError::new_err(e.to_string()),
        Error::Database(DbError::Incompatible { .. }) | Error::Config(_) => {
            ConfigError::new_err(e.to_string())
        }
        Error::Database(_) => RunDatabaseError::new_err(e.to_string()),
        e => PyRuntimeError::new_err(e.to_string()),
    }
}

/// Write the paths of the run in `dir` to the new Zarr group `out` (see `retrace.db`); returns
/// the summary as a dict.
#[pyfunction]
#[pyo3(signature = (dir, model, out, stride=1, select="reached", threads=None, compression="zstd"))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments
pub(crate) fn export_paths<'py>(
    py: Python<'py>,
    dir: PathBuf,
    model: Option<Bound<'py, PyAny>>,
    out: PathBuf,
    stride: u64,
    select: &str,
    threads: Option<usize>,
    compression: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let select: Select = select.parse().map_err(PyValueError::new_err)?;
    let compression = sampler::output::Codec::parse_lossless(compression)
        .map_err(|e| PyValueError::new_err(format!("compression: {e}")))?;
    let mut opts = PathsOptions {
        stride,
        select,
        state_shape: None,
        threads,
        compression,
    };
    let summary = match model {
        Some(obj) => {
            let m = PyModel::new(&obj)?;
            if m.is_object() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "paths: the model's states are not numeric arrays (retrace holds them as \
                     their pickles), so they cannot be written to Zarr",
                ));
            }
            opts.state_shape = Some(m.shape().to_vec());
            let r = py.detach(|| export(&m, &dir, &out, &opts, &|_, _| {}));
            r.map_err(|e| to_py(e, Some(&m)))?
        }
        None => {
            let r = py.detach(|| {
                let config = sampler::runner::recorded_config(&dir)?;
                config.model.visit(Builtin {
                    dir: &dir,
                    out: &out,
                    opts: &opts,
                })
            });
            r.map_err(|e| to_py(e, None))?
        }
    };
    let d = PyDict::new(py);
    d.set_item("paths", summary.paths)?;
    d.set_item("times", summary.times)?;
    d.set_item("states", summary.states)?;
    d.set_item("replayed_steps", summary.replayed_steps)?;
    Ok(d)
}
