//! `validate` and `plan`: the validator's counts and the planner's table as Python dicts.

use crate::errors::schedule_error;
use crate::schedule::parse_action;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use revolve::planner::{self, Outcome, Problem};
use revolve::{Capacity, Machine, Stats};

/// The validator's counts as a dict (per-level counts as `*_ram` / `*_disk`).
pub(crate) fn stats_dict<'py>(py: Python<'py>, s: &Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("steps", s.steps)?;
    d.set_item("actions", s.actions)?;
    d.set_item("forward", s.forward)?;
    d.set_item("advanced", s.advanced)?;
    d.set_item("reverse", s.reverse)?;
    for (name, v) in [
        ("stores", s.stores),
        ("restores", s.restores),
        ("frees", s.frees),
        ("peak", s.peak),
        ("records", s.records),
    ] {
        d.set_item(format!("{name}_ram"), v[0])?;
        d.set_item(format!("{name}_disk"), v[1])?;
    }
    Ok(d)
}

/// Check `actions` (an iterable of actions in the text format) for `steps` steps with `ram` RAM
/// and `disk` disk slots. Returns the counts; raises `ScheduleError` with the broken rule and the
/// action's index, or `ValueError` for a line that is not an action.
#[pyfunction]
#[pyo3(signature = (actions, steps, ram, disk = 0))]
pub(crate) fn validate<'py>(
    py: Python<'py>,
    actions: &Bound<'py, PyAny>,
    steps: u64,
    ram: u64,
    disk: u64,
) -> PyResult<Bound<'py, PyDict>> {
    if steps == 0 {
        return Err(PyValueError::new_err("steps must be at least 1"));
    }
    let mut m = Machine::new(steps, Capacity { ram, disk });
    let mut count = 0u64;
    for (i, item) in actions.try_iter()?.enumerate() {
        let text: String = item?.str()?.extract()?;
        let action = parse_action(&text, i)?;
        m.execute(action).map_err(|rule| {
            schedule_error(py, i as u64, Some(action.to_string()), rule.to_string())
        })?;
        count += 1;
    }
    let stats = m
        .finish()
        .map_err(|rule| schedule_error(py, count, None, rule.to_string()))?;
    stats_dict(py, &stats)
}

/// Compare checkpointing strategies for `steps` steps of `state_bytes` bytes with `ram` and
/// `disk` bytes for checkpoints. Returns a list of row dicts (one per strategy, the planner's
/// table), or `(rows, svg_text)` with `svg=True`.
#[pyfunction]
#[pyo3(signature = (steps, state_bytes, ram, disk = 0, *, forward_cost = 1.0, reverse_cost = 2.0,
    write_bandwidth = 1e9, read_bandwidth = 1e9, latency = 0.0, run_limit = None, svg = false))]
#[allow(clippy::too_many_arguments)] // mirrors the CLI's options as keywords
pub(crate) fn plan<'py>(
    py: Python<'py>,
    steps: u64,
    state_bytes: u64,
    ram: u64,
    disk: u64,
    forward_cost: f64,
    reverse_cost: f64,
    write_bandwidth: f64,
    read_bandwidth: f64,
    latency: f64,
    run_limit: Option<u64>,
    svg: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut p = Problem::new(steps, state_bytes, ram, disk)
        .with_costs(
            forward_cost,
            reverse_cost,
            write_bandwidth,
            read_bandwidth,
            latency,
        )
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    if let Some(limit) = run_limit {
        p.run_limit = limit;
    }
    let plan = py
        .detach(|| planner::plan(&p))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let rows = PyList::empty(py);
    for r in &plan.rows {
        let d = PyDict::new(py);
        d.set_item("strategy", r.strategy.as_str())?;
        d.set_item("config", r.config.to_string())?;
        match &r.outcome {
            Outcome::Skipped(why) => {
                d.set_item("skipped", why.to_string())?;
            }
            Outcome::Planned(f) => {
                d.set_item("skipped", py.None())?;
                d.set_item("ram_slots", f.ram_slots)?;
                d.set_item("disk_slots", f.disk_slots)?;
                d.set_item("forward", f.forward)?;
                d.set_item("reverse", f.reverse)?;
                d.set_item("disk_writes", f.disk_writes)?;
                d.set_item("disk_reads", f.disk_reads)?;
                d.set_item("disk_bytes_written", f.disk_bytes_written)?;
                d.set_item("disk_bytes_read", f.disk_bytes_read)?;
                d.set_item("peak_ram_bytes", f.peak_ram_bytes)?;
                d.set_item("peak_disk_bytes", f.peak_disk_bytes)?;
                d.set_item("recompute_factor", f.recompute_factor)?;
                d.set_item("time", f.time)?;
                d.set_item("fits_ram", f.fits_ram)?;
                d.set_item("fits_disk", f.fits_disk)?;
                d.set_item("fits", f.fits)?;
                d.set_item("source", f.source.as_str())?;
            }
        }
        rows.append(d)?;
    }
    if svg {
        let text = retrace_plot::plan::svg(&plan);
        Ok((rows, text).into_pyobject(py)?.into_any())
    } else {
        Ok(rows.into_any())
    }
}
