//! Python exceptions for retrace's errors, and the carrier of a callback's own exception.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use revolve::Error;

pyo3::create_exception!(
    retrace,
    ScheduleError,
    PyValueError,
    "A schedule broke a rule: attributes `index` (the action's position), `action` (its text, \
     None at the end of the sequence) and `rule` (what was broken)."
);
pyo3::create_exception!(
    retrace,
    CheckpointError,
    PyOSError,
    "A checkpoint file could not be read or written, or is corrupt (attribute `path`)."
);

pyo3::create_exception!(
    retrace,
    ConfigError,
    PyValueError,
    "A run configuration is invalid, or a restart was refused (the message names the key; a \
     refused restart sets `key`, `stored` and `given`)."
);
pyo3::create_exception!(
    retrace,
    RunDatabaseError,
    PyOSError,
    "A run database could not be read or written, or is damaged (the message names the path)."
);

pyo3::create_exception!(
    retrace,
    StalledError,
    PyRuntimeError,
    "TAMS stalled: no trajectory is above the level (attributes `iteration`, `level`, `count`: \
     how many trajectories share it). `[tams] on_stall = \"zero\"` reports an estimate of 0 \
     instead."
);

/// A Python exception raised by a user callback, carried through the Revolver unchanged.
#[derive(Debug)]
pub(crate) struct CallbackError(pub PyErr);

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for CallbackError {}

/// A `ScheduleError` with its attributes set.
pub(crate) fn schedule_error(
    py: Python<'_>,
    index: u64,
    action: Option<String>,
    rule: String,
) -> PyErr {
    let msg = match &action {
        Some(a) => format!("action {index} (`{a}`): {rule}"),
        None => format!("at end after {index} actions: {rule}"),
    };
    let err = ScheduleError::new_err(msg);
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail.
    let _ = value.setattr("index", index);
    let _ = value.setattr("action", action);
    let _ = value.setattr("rule", rule);
    err
}

/// Attach `operator` and `step` to a callback's exception: as attributes, and as a note where
/// Python has notes (3.11+).
fn with_step(py: Python<'_>, err: PyErr, operator: &str, step: u64) -> PyErr {
    let value = err.value(py);
    let _ = value.setattr("retrace_operator", operator);
    let _ = value.setattr("retrace_step", step);
    if value.hasattr("add_note").unwrap_or(false) {
        let _ = value.call_method1(
            "add_note",
            (format!("in the {operator} callback at step {step}"),),
        );
    }
    err
}

/// The Python exception for a revolve error.
pub(crate) fn to_py(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::Operator {
            operator,
            step,
            source,
        } => match source.downcast::<CallbackError>() {
            Ok(cb) => with_step(py, cb.0, operator, step),
            Err(other) => PyRuntimeError::new_err(format!(
                "{operator} operator failed at step {step}: {other}"
            )),
        },
        Error::BadSchedule {
            index,
            action,
            rule,
        } => schedule_error(py, index, Some(action.to_string()), rule.to_string()),
        Error::ScheduleEnded { index, rule } => schedule_error(py, index, None, rule.to_string()),
        Error::Io { ref path, .. }
        | Error::Corrupt { ref path, .. }
        | Error::MissingFeature { ref path, .. } => {
            let err = CheckpointError::new_err(e.to_string());
            let _ = err.value(py).setattr("path", path.clone());
            err
        }
        Error::Usage(_) => PyRuntimeError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}
