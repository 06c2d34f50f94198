//! The `retrace` Python package's native module (`retrace._retrace`): schedules, validation,
//! planning and the Revolver on numpy arrays. The Python side (`python/retrace/`) arranges these
//! into the public modules.
#![deny(missing_docs)]

mod errors;
mod planning;
mod revolver;
mod schedule;
mod state;
mod store;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _retrace(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ScheduleError", py.get_type::<errors::ScheduleError>())?;
    m.add("CheckpointError", py.get_type::<errors::CheckpointError>())?;
    m.add_class::<schedule::Schedule>()?;
    m.add_class::<schedule::Online>()?;
    m.add_class::<revolver::PyRevolver>()?;
    m.add_class::<store::ArrayStore>()?;
    m.add_function(wrap_pyfunction!(schedule::binomial, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::multistage, m)?)?;
    m.add_function(wrap_pyfunction!(planning::validate, m)?)?;
    m.add_function(wrap_pyfunction!(planning::plan, m)?)?;
    Ok(())
}
