//! The `retrace` Python package's native module (`retrace._retrace`): schedules, validation,
//! planning, the Revolver on numpy arrays, TAMS on Python models, and reading run databases. The Python side (`python/retrace/`) arranges these
//! into the public modules.
#![deny(missing_docs)]

mod adjust;
mod convert;
mod db;
mod errors;
mod paths;
mod planning;
mod pymodel;
mod revolver;
mod schedule;
mod schedule_more;
mod state;
mod store;
mod tams;
mod workers;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _retrace(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ScheduleError", py.get_type::<errors::ScheduleError>())?;
    m.add("CheckpointError", py.get_type::<errors::CheckpointError>())?;
    m.add("ConfigError", py.get_type::<errors::ConfigError>())?;
    m.add("StalledError", py.get_type::<errors::StalledError>())?;
    m.add(
        "RunDatabaseError",
        py.get_type::<errors::RunDatabaseError>(),
    )?;
    m.add_class::<schedule::Schedule>()?;
    m.add_class::<schedule::Online>()?;
    m.add_class::<revolver::PyRevolver>()?;
    m.add_class::<store::ArrayStore>()?;
    m.add_class::<db::RunDatabase>()?;
    m.add_function(wrap_pyfunction!(adjust::adjust, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::binomial, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::multistage, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::mixed, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::mixed_forward, m)?)?;
    m.add_function(wrap_pyfunction!(planning::validate, m)?)?;
    m.add_class::<schedule_more::ActionTuples>()?;
    m.add_function(wrap_pyfunction!(schedule_more::tuples_of, m)?)?;
    m.add_function(wrap_pyfunction!(schedule_more::tuples_binomial, m)?)?;
    m.add_function(wrap_pyfunction!(schedule_more::tuples_multistage, m)?)?;
    m.add_function(wrap_pyfunction!(schedule_more::tuples_cost_aware, m)?)?;
    m.add_function(wrap_pyfunction!(planning::plan, m)?)?;
    m.add_function(wrap_pyfunction!(tams::tams, m)?)?;
    m.add_function(wrap_pyfunction!(tams::load_toml, m)?)?;
    m.add_function(wrap_pyfunction!(workers::_serve_worker, m)?)?;
    m.add_function(wrap_pyfunction!(paths::export_paths, m)?)?;
    Ok(())
}
