//! `retrace.Revolver`: revolve's Revolver driving Python callbacks on numpy arrays, with its
//! checkpoints in revolve's RAM store (numpy buffers) and disk store (memory-mapped files).

use crate::errors::{CallbackError, to_py};
use crate::planning::stats_dict;
use crate::schedule::{ActionStream, Schedule, stream_from};
use crate::state::{ArrayState, check_state_array, nbytes, read_array, write_array};
use numpy::PyUntypedArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use revolve::storage::disk::DiskStore;
use revolve::{
    Action, Binomial, Capacity, CheckpointStore, Custom, Error, ForwardOperator, Multistage,
    NoDisk, RamStore, ReverseOperator, Revolver as Core, RevolverStats, validate,
};
use std::path::PathBuf;

/// The user's forward callbacks: in place `f(u, t0, t1)` and/or out of place
/// `g(u_in, u_out, t0, t1)`; at least one is set.
pub(crate) struct PyForward {
    in_place: Option<Py<PyAny>>,
    out_of_place: Option<Py<PyAny>>,
    /// Output buffer for an in-place advance when only the out-of-place callback exists (made
    /// on first use).
    spare: Option<ArrayState>,
}

impl ForwardOperator<ArrayState> for PyForward {
    type Error = CallbackError;

    fn advance(&mut self, state: &mut ArrayState, from: u64, to: u64) -> Result<(), CallbackError> {
        Python::attach(|py| {
            match (&self.in_place, &self.out_of_place) {
                (Some(f), _) => {
                    f.call1(py, (state.array(py)?, from, to))?;
                    state.check_views(py)?;
                }
                (None, Some(g)) => {
                    let spare = match self.spare.take() {
                        Some(s) => s,
                        None => state.empty_like(py)?,
                    };
                    let spare = self.spare.insert(spare);
                    g.call1(py, (state.readonly(py)?, spare.array(py)?, from, to))?;
                    state.check_views(py)?;
                    spare.check_views(py)?;
                    std::mem::swap(state, spare);
                }
                (None, None) => {
                    return Err(PyValueError::new_err("no forward callback"));
                }
            }
            py.check_signals()
        })
        .map_err(CallbackError)
    }

    fn out_of_place(&self) -> bool {
        self.out_of_place.is_some()
    }

    fn advance_from(
        &mut self,
        src: &ArrayState,
        dst: &mut ArrayState,
        from: u64,
        to: u64,
    ) -> Result<(), CallbackError> {
        let Some(g) = &self.out_of_place else {
            revolve::State::copy_from(dst, src);
            return self.advance(dst, from, to);
        };
        Python::attach(|py| {
            g.call1(py, (src.readonly(py)?, dst.array(py)?, from, to))?;
            src.check_views(py)?;
            dst.check_views(py)?;
            py.check_signals()
        })
        .map_err(CallbackError)
    }
}

/// The user's reverse callback `r(u, lam, k)`: `u` (read-only) is the state at step `k`, `lam`
/// the adjoint, updated in place from step `k + 1` to step `k`.
pub(crate) struct PyReverse {
    func: Py<PyAny>,
}

impl ReverseOperator<ArrayState, Py<PyAny>> for PyReverse {
    type Error = CallbackError;

    fn reverse(
        &mut self,
        state: &ArrayState,
        adjoint: &mut Py<PyAny>,
        step: u64,
    ) -> Result<(), CallbackError> {
        Python::attach(|py| {
            self.func
                .call1(py, (state.readonly(py)?, adjoint.bind(py), step))?;
            state.check_views(py)?;
            py.check_signals()
        })
        .map_err(CallbackError)
    }
}

type CoreRevolver = Core<
    ArrayState,
    PyForward,
    PyReverse,
    Custom<ActionStream>,
    Box<dyn CheckpointStore<ArrayState>>,
>;

/// The one place a revolve `Revolver` is built: `schedule` reverses `steps` steps within
/// `capacity`; `disk` is the disk level, if any.
fn build_core(
    schedule: Custom<ActionStream>,
    forward: PyForward,
    reverse: PyReverse,
    ram: RamStore<ArrayState>,
    disk: Option<DiskStore<ArrayState>>,
) -> Result<CoreRevolver, Error> {
    let disk: Box<dyn CheckpointStore<ArrayState>> = match disk {
        Some(d) => Box::new(d),
        None => Box::new(NoDisk),
    };
    Ok(Core::new(schedule, forward, reverse, ram)?.with_disk(disk))
}

/// The schedule to run and the slots it needs per level.
fn choose_schedule(
    py: Python<'_>,
    steps: u64,
    snaps: Option<u64>,
    schedule: Option<&Bound<'_, PyAny>>,
    disk_snaps: Option<u64>,
    with_disk: bool,
) -> PyResult<(ActionStream, u64, u64)> {
    let Some(obj) = schedule else {
        let ram = snaps.ok_or_else(|| PyValueError::new_err("give snaps or a schedule"))?;
        let disk = disk_snaps.unwrap_or(0);
        if with_disk && disk == 0 {
            return Err(PyValueError::new_err(
                "disk_dir needs disk_snaps (the number of disk checkpoints)",
            ));
        }
        let stream: ActionStream = if disk > 0 {
            Box::new(Multistage::new(steps, ram, disk).map_err(|e| to_py(py, e))?)
        } else {
            Box::new(Binomial::new(steps, ram).map_err(|e| to_py(py, e))?)
        };
        return Ok((stream, ram, disk));
    };
    if let Ok(s) = obj.cast::<Schedule>() {
        let mut s = s.borrow_mut();
        let (s_steps, s_ram, s_disk) = s.sizes();
        if s_steps != steps {
            return Err(PyValueError::new_err(format!(
                "the schedule is for {s_steps} steps, the Revolver for {steps}"
            )));
        }
        let (ram, disk) = (snaps.unwrap_or(s_ram), disk_snaps.unwrap_or(s_disk));
        return Ok((s.take_stream()?, ram, disk));
    }
    // Any other iterable: collect it, and size the stores from its peaks.
    let actions: Vec<Action> = stream_from(obj)?.collect();
    let stats = validate(steps, Capacity::UNLIMITED, actions.iter().copied()).map_err(|v| {
        crate::errors::schedule_error(
            py,
            v.index,
            v.action.map(|a| a.to_string()),
            v.rule.to_string(),
        )
    })?;
    let ram = snaps.unwrap_or(stats.peak[0]);
    let disk = disk_snaps.unwrap_or(stats.peak[1]);
    Ok((Box::new(actions.into_iter()), ram, disk))
}

/// Runs a forward and a reverse callback through a checkpointing schedule on a numpy state.
///
/// `forward(u, t0, t1)` advances `u` in place from step `t0` to `t1`. An out-of-place
/// `forward_from(u_in, u_out, t0, t1)`, writing `u_out` from `u_in` (read-only), lets the
/// Revolver read checkpoints where they are, so no checkpoint is ever copied; with
/// `out_of_place=True`, `forward` itself is that out-of-place callback (in-place advances then go
/// through a spare buffer). `reverse(u, lam, k)` gets the state at step `k` (read-only) and moves the adjoint
/// `lam` from step `k + 1` to `k` in place. The arrays callbacks get are the Revolver's own
/// buffers (checkpoints included, no copies): valid as long as Python holds them, but their
/// contents change as the run goes on, so copy what must outlive the call. They do not own
/// their memory: numpy refuses to resize them, or to make a read-only one writeable (its `base`
/// exposes no buffer); changing one in place (`.shape =`, `.dtype =`, `__setstate__`) is a
/// `ValueError` when the callback returns.
#[pyclass(module = "retrace._retrace", name = "Revolver", unsendable)]
pub struct PyRevolver {
    core: CoreRevolver,
    user_state: Py<PyUntypedArray>,
    work: ArrayState,
    ram_slots: u64,
    disk_slots: u64,
    disk_dir: Option<PathBuf>,
}

#[pymethods]
impl PyRevolver {
    #[new]
    #[pyo3(signature = (state, forward, reverse, steps, snaps = None, schedule = None,
        disk_dir = None, *, disk_snaps = None, out_of_place = false, forward_from = None))]
    #[allow(clippy::too_many_arguments)] // the Python signature
    fn new(
        py: Python<'_>,
        state: &Bound<'_, PyUntypedArray>,
        forward: Py<PyAny>,
        reverse: Py<PyAny>,
        steps: u64,
        snaps: Option<u64>,
        schedule: Option<&Bound<'_, PyAny>>,
        disk_dir: Option<PathBuf>,
        disk_snaps: Option<u64>,
        out_of_place: bool,
        forward_from: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        if steps == 0 {
            return Err(to_py(py, Error::ZeroSteps));
        }
        let work = ArrayState::new_like(state)?;
        let (stream, ram, disk) =
            choose_schedule(py, steps, snaps, schedule, disk_snaps, disk_dir.is_some())?;
        // A schedule never holds more than one checkpoint per step.
        let ram_alloc = usize::try_from(ram.min(steps))
            .map_err(|_| PyValueError::new_err("too many RAM slots"))?;
        let store = RamStore::new(ram_alloc, &work);
        let fwd = match (out_of_place, forward_from) {
            (true, Some(_)) => {
                return Err(PyValueError::new_err(
                    "give forward_from, or out_of_place=True with an out-of-place forward, not both",
                ));
            }
            (true, None) => PyForward {
                in_place: None,
                out_of_place: Some(forward),
                spare: None,
            },
            (false, g) => PyForward {
                in_place: Some(forward),
                out_of_place: g,
                spare: None,
            },
        };
        let rev = PyReverse { func: reverse };
        let disk_store = if disk > 0 {
            let builder = DiskStore::builder(disk.min(steps));
            let builder = match &disk_dir {
                Some(dir) => builder.temp_in(dir),
                None => builder.temp(),
            };
            Some(builder.build(&work).map_err(|e| to_py(py, e))?)
        } else {
            None
        };
        let schedule = Custom::new(steps, Capacity { ram, disk }, stream);
        let core = build_core(schedule, fwd, rev, store, disk_store).map_err(|e| to_py(py, e))?;
        Ok(PyRevolver {
            core,
            user_state: state.clone().unbind(),
            work,
            ram_slots: ram,
            disk_slots: disk,
            disk_dir,
        })
    }

    /// Run the forward sweep from the state given at construction (read now), storing
    /// checkpoints; on return that array holds the state at step `steps` (returned too).
    fn apply_forward(&mut self, py: Python<'_>) -> PyResult<Py<PyUntypedArray>> {
        let user = self.user_state.bind(py);
        check_state_array(user)?;
        if nbytes(user) != self.work.bytes().len() {
            return Err(PyValueError::new_err("the state array changed size"));
        }
        if !read_array(user, self.work.bytes_mut()) {
            return Err(PyValueError::new_err("the state array is not C-contiguous"));
        }
        self.core
            .apply_forward(&mut self.work)
            .map_err(|e| to_py(py, e))?;
        if !write_array(user, self.work.bytes()) {
            return Err(PyValueError::new_err("the state array is not writeable"));
        }
        Ok(self.user_state.clone_ref(py))
    }

    /// Run the reverse sweep: `adjoint` (seeded with dJ/du at step `steps`) is passed to every
    /// `reverse` call and ends at step 0. Returns it.
    fn apply_reverse(&mut self, py: Python<'_>, adjoint: Py<PyAny>) -> PyResult<Py<PyAny>> {
        let mut adj = adjoint.clone_ref(py);
        self.core
            .apply_reverse(&mut adj)
            .map_err(|e| to_py(py, e))?;
        Ok(adjoint)
    }

    /// Counts so far: what the Revolver did (`forward_steps`, `reverse_steps`, `copies`,
    /// `handovers`, `handover_stores`, `views`, `out_of_place`, `prefetches`) and the schedule's
    /// own counts under `"schedule"`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let RevolverStats {
            schedule,
            forward_steps,
            reverse_steps,
            copies,
            handovers,
            handover_stores,
            views,
            out_of_place,
            prefetches,
        } = self.core.stats();
        let d = PyDict::new(py);
        d.set_item("forward_steps", forward_steps)?;
        d.set_item("reverse_steps", reverse_steps)?;
        d.set_item("copies", copies)?;
        d.set_item("handovers", handovers)?;
        d.set_item("handover_stores", handover_stores)?;
        d.set_item("views", views)?;
        d.set_item("out_of_place", out_of_place)?;
        d.set_item("prefetches", prefetches)?;
        d.set_item("schedule", stats_dict(py, &schedule)?)?;
        Ok(d)
    }

    /// Steps `n`.
    #[getter]
    fn steps(&self) -> u64 {
        self.core.steps()
    }

    /// RAM checkpoint slots.
    #[getter]
    fn ram_slots(&self) -> u64 {
        self.ram_slots
    }

    /// Disk checkpoint slots.
    #[getter]
    fn disk_slots(&self) -> u64 {
        self.disk_slots
    }

    /// The directory under which the disk store keeps its files (None: the system's temp dir).
    #[getter]
    fn disk_dir(&self) -> Option<PathBuf> {
        self.disk_dir.clone()
    }
}
