//! Schedules as Python iterators of actions in the CLI's text format (`"advance 0 4"`,
//! `"store 0 ram"`, ...), and the online schedule fed step by step.

use crate::errors::to_py;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use revolve::schedule::online::{Online as RustOnline, Reversal};
use revolve::{Action, Binomial, Level, Mixed, Multistage};

/// A stream of actions.
pub(crate) type ActionStream = Box<dyn Iterator<Item = Action> + Send>;

/// An iterator over a schedule's actions, as strings in the text format. The Revolver takes the
/// stream itself (without going through strings) when given one of these.
#[pyclass(module = "retrace._retrace", unsendable)]
pub struct Schedule {
    stream: Option<ActionStream>,
    /// Steps the schedule reverses.
    #[pyo3(get)]
    steps: u64,
    /// RAM slots it was built for.
    #[pyo3(get)]
    ram: u64,
    /// Disk slots it was built for.
    #[pyo3(get)]
    disk: u64,
    /// `"binomial"`, `"multistage"`, `"mixed"` or `"online"`.
    #[pyo3(get)]
    kind: &'static str,
}

impl Schedule {
    /// Steps, RAM slots and disk slots.
    pub fn sizes(&self) -> (u64, u64, u64) {
        (self.steps, self.ram, self.disk)
    }

    /// Take the stream (the object is then exhausted).
    pub fn take_stream(&mut self) -> PyResult<ActionStream> {
        self.stream
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this schedule was already used"))
    }
}

#[pymethods]
impl Schedule {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> Option<String> {
        let a = self.stream.as_mut()?.next();
        if a.is_none() {
            self.stream = None;
        }
        a.map(|a| a.to_string())
    }

    fn __repr__(&self) -> String {
        format!(
            "<retrace schedule {} steps={} ram={} disk={}>",
            self.kind, self.steps, self.ram, self.disk
        )
    }
}

/// The optimal offline binomial schedule (Revolve) for `steps` steps and `snaps` RAM slots
/// (the slot holding the initial state counts).
#[pyfunction]
pub(crate) fn binomial(py: Python<'_>, steps: u64, snaps: u64) -> PyResult<Schedule> {
    let s = Binomial::new(steps, snaps).map_err(|e| to_py(py, e))?;
    Ok(Schedule {
        stream: Some(Box::new(s)),
        steps,
        ram: snaps,
        disk: 0,
        kind: "binomial",
    })
}

/// The optimal mixed schedule (Maddison 2024) for `steps` steps and `units` checkpoint units
/// at `level` (`"ram"` or `"disk"`): a unit holds a state (`store`) or the adjoint data of one
/// recorded step (`record K LEVEL`, whose `reverse K` takes no forward step). Its forward steps
/// are `mixed_forward(steps, units)`. Memory and time to build: a table of `8 steps (units - 1)`
/// bytes.
#[pyfunction]
#[pyo3(signature = (steps, units, level = "ram"))]
pub(crate) fn mixed(py: Python<'_>, steps: u64, units: u64, level: &str) -> PyResult<Schedule> {
    let level: Level = level
        .parse()
        .map_err(|e| PyValueError::new_err(format!("level: {e}")))?;
    let s = Mixed::new(steps, units)
        .map_err(|e| to_py(py, e))?
        .at_level(level);
    let (ram, disk) = match level {
        Level::Ram => (s.units(), 0),
        Level::Disk => (0, s.units()),
    };
    Ok(Schedule {
        stream: Some(Box::new(s)),
        steps,
        ram,
        disk,
        kind: "mixed",
    })
}

/// The fewest forward steps of a mixed schedule of `steps` steps and `units` units, counted as
/// checkpoint_schedules' `optimal_steps_mixed(steps, units)` (advances, records, and the step
/// run before each reverse of a step that was not recorded).
#[pyfunction]
pub(crate) fn mixed_forward(py: Python<'_>, steps: u64, units: u64) -> PyResult<u64> {
    Mixed::optimal_forward(steps, units).map_err(|e| to_py(py, e))
}

/// RAM and disk checkpoints: the optimal forward count T(n, R + D) with few disk accesses;
/// `exact=True` places them by the exact dynamic programme (up to 10^4 steps).
#[pyfunction]
#[pyo3(signature = (steps, ram, disk, exact = false))]
pub(crate) fn multistage(
    py: Python<'_>,
    steps: u64,
    ram: u64,
    disk: u64,
    exact: bool,
) -> PyResult<Schedule> {
    let s = if exact {
        Multistage::exact(steps, ram, disk)
    } else {
        Multistage::new(steps, ram, disk)
    }
    .map_err(|e| to_py(py, e))?;
    Ok(Schedule {
        stream: Some(Box::new(s)),
        steps,
        ram,
        disk,
        kind: "multistage",
    })
}

/// The online schedule, fed step by step: call `advance()` before each forward step that is not
/// the last (it returns what to do: at most a `free` and a `store`, then `advance k k+1`), and
/// `finish()` when the current step is the last one (`n = current + 1`): it returns the
/// reversal, starting with `reverse n-1`.
#[pyclass(module = "retrace._retrace")]
pub struct Online {
    inner: Option<RustOnline>,
}

impl Online {
    fn live(&mut self) -> PyResult<&mut RustOnline> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("finish() was already called"))
    }
}

#[pymethods]
impl Online {
    /// An online schedule with `snaps` RAM slots (the one holding the initial state counts).
    #[new]
    fn new(py: Python<'_>, snaps: u64) -> PyResult<Self> {
        let inner = RustOnline::new(snaps).map_err(|e| to_py(py, e))?;
        Ok(Online { inner: Some(inner) })
    }

    /// The current step is not the last: the actions before and for taking it.
    fn advance(&mut self, py: Python<'_>) -> PyResult<Vec<String>> {
        let acts = self.live()?.advance().map_err(|e| to_py(py, e))?;
        Ok(acts.map(|a| a.to_string()).collect())
    }

    /// Steps taken so far.
    #[getter]
    fn current(&mut self) -> PyResult<u64> {
        Ok(self.live()?.current())
    }

    /// Steps held as checkpoints now.
    #[getter]
    fn checkpoints(&mut self) -> PyResult<Vec<u64>> {
        Ok(self.live()?.checkpoints().to_vec())
    }

    /// RAM slots.
    #[getter]
    fn snaps(&mut self) -> PyResult<u64> {
        Ok(self.live()?.snaps())
    }

    /// The current step is the last: an iterator over the reversal's actions.
    fn finish(&mut self) -> PyResult<Schedule> {
        let online = self
            .inner
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("finish() was already called"))?;
        // The current step is the last: n = current + 1 (no overflow: `advance` checked it).
        let (steps, snaps) = (online.current() + 1, online.snaps());
        let reversal: Reversal = online.finish();
        Ok(Schedule {
            stream: Some(Box::new(reversal)),
            steps,
            ram: snaps,
            disk: 0,
            kind: "online",
        })
    }
}

/// Parse one action of the text format.
pub(crate) fn parse_action(text: &str, index: usize) -> PyResult<Action> {
    text.trim()
        .parse()
        .map_err(|e| PyValueError::new_err(format!("action {index} (`{}`): {e}", text.trim())))
}

/// Collect a Python iterable of actions (strings, or a [`Schedule`]) into a stream.
pub(crate) fn stream_from(obj: &Bound<'_, PyAny>) -> PyResult<ActionStream> {
    if let Ok(s) = obj.cast::<Schedule>() {
        return s.borrow_mut().take_stream();
    }
    if obj.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyValueError::new_err(
            "a schedule is an iterable of actions, not one string (split it into lines)",
        ));
    }
    let mut out = Vec::new();
    for (i, item) in obj.try_iter()?.enumerate() {
        let item = item?;
        let text: String = item.str()?.extract()?;
        out.push(parse_action(&text, i)?);
    }
    Ok(Box::new(out.into_iter()))
}
