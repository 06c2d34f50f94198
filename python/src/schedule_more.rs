//! Schedules as streams of compact tuples for `retrace.compat.checkpoint_schedules`, which
//! translates them lazily into checkpoint_schedules actions: `(kind, a, b)` with kind 0
//! `advance a b`, 1 `store a LEVEL`, 2 `restore a LEVEL`, 3 `free a LEVEL`, 4 `reverse a`
//! (b = 0), 5 `record a LEVEL`, and LEVEL as b (0 RAM, 1 disk). Also the cost-aware schedule
//! ([`revolve::CostAware::best`]), which has no other Python binding.

use crate::errors::to_py;
use crate::schedule::{ActionStream, Schedule};
use pyo3::prelude::*;
use revolve::{Action, Binomial, CostAware, Costs, Multistage};

/// An iterator of `(kind, a, b)` tuples over a schedule's actions (see the module docs).
#[pyclass(module = "retrace._retrace", unsendable)]
pub struct ActionTuples {
    stream: Option<ActionStream>,
}

/// The tuple of one action.
fn tuple(a: Action) -> (u8, u64, u64) {
    match a {
        Action::Advance { from, to } => (0, from, to),
        Action::Store { step, level } => (1, step, level.index() as u64),
        Action::Restore { step, level } => (2, step, level.index() as u64),
        Action::Free { step, level } => (3, step, level.index() as u64),
        Action::Reverse { step } => (4, step, 0),
        Action::Record { step, level } => (5, step, level.index() as u64),
    }
}

#[pymethods]
impl ActionTuples {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> Option<(u8, u64, u64)> {
        let a = self.stream.as_mut()?.next();
        if a.is_none() {
            self.stream = None;
        }
        a.map(tuple)
    }
}

fn tuples(stream: ActionStream) -> ActionTuples {
    ActionTuples {
        stream: Some(stream),
    }
}

/// The actions of `schedule` (a `retrace.schedule` object, which is used up) as tuples.
#[pyfunction]
pub(crate) fn tuples_of(schedule: &Bound<'_, Schedule>) -> PyResult<ActionTuples> {
    Ok(tuples(schedule.borrow_mut().take_stream()?))
}

/// `retrace.schedule.binomial(steps, snaps)` as tuples.
#[pyfunction]
pub(crate) fn tuples_binomial(py: Python<'_>, steps: u64, snaps: u64) -> PyResult<ActionTuples> {
    let s = Binomial::new(steps, snaps).map_err(|e| to_py(py, e))?;
    Ok(tuples(Box::new(s)))
}

/// `retrace.schedule.multistage(steps, ram, disk)` as tuples.
#[pyfunction]
pub(crate) fn tuples_multistage(
    py: Python<'_>,
    steps: u64,
    ram: u64,
    disk: u64,
) -> PyResult<ActionTuples> {
    let s = Multistage::new(steps, ram, disk).map_err(|e| to_py(py, e))?;
    Ok(tuples(Box::new(s)))
}

/// The cost-aware schedule (`CostAware::best`): the least modelled makespan with `ram` RAM and
/// `disk` disk slots when a forward step costs `uf`, an adjoint step `ub`, a disk write `wd`
/// and a disk read `rd` (RAM free); as tuples, with its makespan.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tuples_cost_aware(
    py: Python<'_>,
    steps: u64,
    ram: u64,
    disk: u64,
    uf: f64,
    ub: f64,
    wd: f64,
    rd: f64,
) -> PyResult<(ActionTuples, f64)> {
    let costs = Costs::new(uf, ub)
        .and_then(|c| c.with_disk_seconds(wd, rd))
        .map_err(|e| to_py(py, e))?;
    let s = CostAware::best(steps, ram, disk, costs).map_err(|e| to_py(py, e))?;
    let makespan = s.makespan();
    Ok((tuples(Box::new(s)), makespan))
}
