//! A Python object as a `sampler::Model`: `initial_state()`, `step(state, t, dt, noise)` in
//! place, `score(state, t)` and `noise_size`, called per step from the pool's workers.
//!
//! Model callbacks cannot fail in the sampler's trait, so a Python exception is recorded with
//! the step it happened at and the step's score comes back as NaN: the sampler then stops the
//! run with `ModelError::NanScore { step, .. }`, and [`PyModel::take_error`] gives back the
//! exception recorded at that step.
//!
//! A random initial condition: when the model's `initial_state` takes an argument
//! (`initial_state(self, rng)`), each trajectory calls it with a `numpy.random.Generator`
//! (PCG64) seeded from four 64-bit words of the trajectory's initial-state stream, so replay,
//! restarts and any thread count draw the same start again; `initial_state()` without an
//! argument is called once. The shape of every initial state must be the first one's.
//!
//! A state that is not a numeric array (any picklable object, a path to a file the model
//! manages) is held as its pickle: `retrace._object_state` wraps the model so that this side
//! sees float64 arrays of fixed length ([`PyModel::target`] is the wrapper, what worker
//! processes get).
//!
//! Cost per step: one attach to the interpreter, one numpy array for the state and one for the
//! noise. `step` also calls the Python `score` on the new state (the sampler asks for it next)
//! and keeps it with a copy of the state; `score` returns it when asked about that same state and
//! time, and calls Python otherwise. Worker threads keep a Python thread state for their whole
//! life instead of making one per call ([`prime_thread`]).

use crate::convert::to_toml;
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sampler::{GaussianNoise, Model, ModelInfo};
use std::cell::RefCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The outcome of the score `step` computed for the state it left, on this worker.
struct Scored {
    /// The model (its address) that computed it.
    model: usize,
    time: f64,
    state: Vec<f64>,
    /// The score, or `None` if the step or the score raised (recorded as a failure).
    score: Option<f64>,
    /// Whether it is still to be used.
    valid: bool,
}

thread_local! {
    static SCORED: RefCell<Scored> = const {
        RefCell::new(Scored { model: 0, time: 0.0, state: Vec::new(), score: None, valid: false })
    };
    static PRIMED: RefCell<Option<Primed>> = const { RefCell::new(None) };
}

/// A Python thread state this (non-Python) thread keeps while it lives, so that attaching for
/// each callback only takes the GIL instead of creating and destroying a thread state.
struct Primed {
    gstate: ffi::PyGILState_STATE,
    tstate: *mut ffi::PyThreadState,
}

impl Drop for Primed {
    fn drop(&mut self) {
        // SAFETY: `tstate` is this thread's own state, saved by `prime_thread`; restoring it
        // and releasing the matching `PyGILState_Ensure` deletes it.
        unsafe {
            if ffi::Py_IsInitialized() != 0 {
                ffi::PyEval_RestoreThread(self.tstate);
                ffi::PyGILState_Release(self.gstate);
            }
        }
    }
}

/// Give this thread a lasting Python thread state if it has none (call while not attached).
fn prime_thread() {
    PRIMED.with(|p| {
        let Ok(mut p) = p.try_borrow_mut() else {
            return;
        };
        if p.is_some() {
            return;
        }
        // SAFETY: the interpreter is running (a model exists only inside `retrace.tams`) and
        // this thread is not attached: PyO3 calls the model's methods only from the workers,
        // outside any `Python::attach`. A thread with a thread state already is left alone.
        unsafe {
            if ffi::PyGILState_GetThisThreadState().is_null() {
                let gstate = ffi::PyGILState_Ensure();
                let tstate = ffi::PyEval_SaveThread();
                *p = Some(Primed { gstate, tstate });
            }
        }
    });
}

/// A callback's exception and the step whose score it spoiled.
struct Failure {
    step: u64,
    text: String,
    err: PyErr,
}

/// The Python model (see the module documentation).
pub(crate) struct PyModel {
    step_fn: Py<PyAny>,
    score_fn: Py<PyAny>,
    /// Shape of the state array (`[]` for a 0-d array).
    shape: Vec<usize>,
    initial: Vec<f64>,
    /// `initial_state(rng)`, if it takes a generator (a random initial condition).
    initial_fn: Option<Py<PyAny>>,
    noise_size: usize,
    info: ModelInfo,
    /// What runs: the model, or the wrapper holding its states as pickles.
    target: Py<PyAny>,
    /// The states are pickles (`target` is a `retrace._object_state.ObjectStateModel`).
    object: bool,
    failures: Mutex<Vec<Failure>>,
    /// Set on Ctrl-C: every later step fails without calling Python.
    interrupted: AtomicBool,
}

/// `obj` as a contiguous float64 array (a copy only if it is not one already).
fn as_f64_array<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let np = obj.py().import("numpy")?;
    let arr = {
        let kw = pyo3::types::PyDict::new(obj.py());
        kw.set_item("dtype", "float64")?;
        kw.set_item("order", "C")?;
        np.call_method("asarray", (obj,), Some(&kw))?
    };
    Ok(arr.cast_into::<PyArrayDyn<f64>>()?)
}

impl PyModel {
    /// Wrap `obj` (its `initial_state()` is called once, here). A model whose states are not
    /// numeric arrays runs through the `retrace._object_state.ObjectStateModel` wrapping it
    /// (its states held as their pickles; see that module).
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let noise_size: usize = obj
            .getattr("noise_size")
            .map_err(|_| PyTypeError::new_err("model: no attribute `noise_size` (an int)"))?
            .extract()?;
        let method = |obj: &Bound<'_, PyAny>, name: &str| -> PyResult<Py<PyAny>> {
            let m = obj
                .getattr(name)
                .map_err(|_| PyTypeError::new_err(format!("model: no method `{name}`")))?;
            if !m.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "model: `{name}` is not callable"
                )));
            }
            Ok(m.unbind())
        };
        // Checked on the model itself first, so a missing method is named as before.
        method(obj, "step")?;
        method(obj, "score")?;
        let init_fn = method(obj, "initial_state")?;
        let random = takes_an_argument(init_fn.bind(py))?;
        let first = if random {
            // The template (shape, size) from the generator of seed words 0.
            init_fn.call1(py, (generator(py, [0; 4])?,))?
        } else {
            init_fn.call0(py)?
        };
        let prepared = py
            .import("retrace._object_state")?
            .call_method1("prepare", (obj, &first, random))?;
        let (target, first, object) = if prepared.is_none() {
            (obj.clone(), first.into_bound(py), false)
        } else {
            let (wrapper, encoded): (Bound<'_, PyAny>, Bound<'_, PyAny>) = prepared.extract()?;
            (wrapper, encoded, true)
        };
        let init = as_f64_array(&first)?;
        let shape = init.shape().to_vec();
        let initial = init.readonly().as_slice()?.to_vec();
        if initial.is_empty() {
            return Err(PyValueError::new_err("model: initial_state() is empty"));
        }
        Ok(PyModel {
            step_fn: method(&target, "step")?,
            score_fn: method(&target, "score")?,
            shape,
            initial,
            initial_fn: if random {
                Some(method(&target, "initial_state")?)
            } else {
                None
            },
            noise_size,
            info: describe(obj)?,
            target: target.unbind(),
            object,
            failures: Mutex::new(Vec::new()),
            interrupted: AtomicBool::new(false),
        })
    }

    /// The object retrace runs (and pickles for worker processes): the model, or the
    /// `ObjectStateModel` wrapping it.
    pub(crate) fn target(&self) -> &Py<PyAny> {
        &self.target
    }

    /// Whether the model's states are held as their pickles (not numeric arrays).
    pub(crate) fn is_object(&self) -> bool {
        self.object
    }

    /// The shape of the state array (`[]` for a 0-d array).
    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Make every later step fail (Ctrl-C).
    pub(crate) fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
    }

    /// The exception recorded at `step` (the failing step the sampler reports). When several
    /// trajectories failed at that step, the one whose text sorts first, so the choice does not
    /// depend on which worker got there first; with none there, the first by (step, text).
    pub(crate) fn take_error(&self, step: u64) -> Option<PyErr> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let best = failures
            .iter()
            .enumerate()
            .min_by(|a, b| {
                let key = |f: &Failure| (f.step != step, f.step, f.text.clone());
                key(a.1).cmp(&key(b.1))
            })
            .map(|(i, _)| i)?;
        Some(failures.swap_remove(best).err)
    }

    fn fail(&self, py: Python<'_>, step: u64, err: PyErr) {
        let text = format!("{}: {}", err.get_type(py), err.value(py));
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.push(Failure { step, text, err });
    }

    /// The state as a fresh numpy array of the model's shape.
    fn array<'py>(&self, py: Python<'py>, data: &[f64]) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let flat = PyArray1::from_slice(py, data);
        if self.shape.len() == 1 {
            return Ok(flat.to_dyn().clone());
        }
        flat.reshape(self.shape.as_slice())
    }

    /// `initial_state(rng)` with the generator seeded by `words`, as a flat state of the
    /// template's shape.
    fn draw_initial(&self, py: Python<'_>, f: &Py<PyAny>, words: [u64; 4]) -> PyResult<Vec<f64>> {
        let x = f.call1(py, (generator(py, words)?,))?;
        let arr = as_f64_array(x.bind(py))?;
        if arr.shape() != self.shape.as_slice() {
            return Err(PyValueError::new_err(format!(
                "model: initial_state(rng) returned shape {:?}, the first call {:?}",
                arr.shape(),
                self.shape
            )));
        }
        Ok(arr.readonly().as_slice()?.to_vec())
    }

    /// The Python step on `state`, then the Python score of the new state at `next`.
    fn step_and_score(
        &self,
        py: Python<'_>,
        state: &mut [f64],
        time: f64,
        dt: f64,
        noise: &[f64],
        next: f64,
    ) -> PyResult<f64> {
        let arr = self.array(py, state)?;
        let nz = PyArray1::from_slice(py, noise);
        self.step_fn.call1(py, (&arr, time, dt, nz))?;
        state.copy_from_slice(arr.readonly().as_slice()?);
        self.score_fn.call1(py, (arr, next))?.extract::<f64>(py)
    }
}

/// Whether `f` (the bound `initial_state`) accepts one positional argument.
fn takes_an_argument(f: &Bound<'_, PyAny>) -> PyResult<bool> {
    let inspect = f.py().import("inspect")?;
    let sig = match inspect.call_method1("signature", (f,)) {
        Ok(s) => s,
        // No signature (a builtin): called without an argument.
        Err(_) => return Ok(false),
    };
    Ok(sig.call_method1("bind", (f.py().None(),)).is_ok())
}

/// `numpy.random.Generator(PCG64(SeedSequence(words)))`.
fn generator(py: Python<'_>, words: [u64; 4]) -> PyResult<Bound<'_, PyAny>> {
    let random = py.import("numpy.random")?;
    let seq = random.call_method1("SeedSequence", (words.to_vec(),))?;
    let bits = random.call_method1("PCG64", (seq,))?;
    random.call_method1("Generator", (bits,))
}

/// The model's identity: its class name, and the parameters it exposes (`parameters()` as a
/// dict, else the scalar and string attributes of its `__dict__`). An `ObjectStateModel` (in a
/// worker process) is described by the model it wraps.
fn describe(obj: &Bound<'_, PyAny>) -> PyResult<ModelInfo> {
    match obj.getattr("_retrace_model") {
        Ok(inner) => describe_model(&inner),
        Err(_) => describe_model(obj),
    }
}

/// [`describe`] for the model itself.
fn describe_model(obj: &Bound<'_, PyAny>) -> PyResult<ModelInfo> {
    let cls = obj.get_type();
    let name = format!(
        "python:{}.{}",
        cls.getattr("__module__")?,
        cls.getattr("__qualname__")?
    );
    let mut params = toml::Table::new();
    let source = if obj.hasattr("parameters")? {
        Some(obj.call_method0("parameters")?.cast_into::<PyDict>()?)
    } else {
        obj.getattr("__dict__")
            .ok()
            .and_then(|d| d.cast_into::<PyDict>().ok())
    };
    let explicit = obj.hasattr("parameters")?;
    if let Some(d) = source {
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            if key.starts_with('_') && !explicit {
                continue;
            }
            let scalar = v.is_instance_of::<pyo3::types::PyBool>()
                || v.is_instance_of::<pyo3::types::PyInt>()
                || v.is_instance_of::<pyo3::types::PyFloat>()
                || v.is_instance_of::<pyo3::types::PyString>();
            if (explicit || scalar)
                && let Some(value) = to_toml(&v, &format!("model.{key}"))?
            {
                params.insert(key, value);
            }
        }
    }
    params.remove("name");
    Ok(ModelInfo { name, params })
}

impl Model for PyModel {
    type State = Vec<f64>;
    type Noise = GaussianNoise;

    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }

    fn initial_state_from(&self, rng: &mut sampler::NoiseRng) -> Vec<f64> {
        use rand::Rng;
        let Some(f) = &self.initial_fn else {
            return self.initial.clone();
        };
        let words = [
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
        ];
        let drawn = if self.interrupted.load(Ordering::Relaxed) {
            None
        } else {
            prime_thread();
            Python::attach(|py| match self.draw_initial(py, f, words) {
                Ok(x) => Some(x),
                Err(e) => {
                    self.fail(py, 0, e);
                    None
                }
            })
        };
        drawn.unwrap_or_else(|| {
            // The score the sampler asks for next (step 0) is NaN: the run stops there and
            // reports the exception recorded at step 0.
            let state = vec![0.0; self.initial.len()];
            SCORED.with_borrow_mut(|c| {
                c.model = self as *const Self as usize;
                c.time = 0.0;
                c.state.clone_from(&state);
                c.score = None;
                c.valid = true;
            });
            state
        })
    }

    fn noise_dim(&self) -> usize {
        self.noise_size
    }

    fn step(&self, state: &mut Vec<f64>, time: f64, dt: f64, noise: &GaussianNoise) {
        let end = (time / dt).round() as u64 + 1;
        let next = end as f64 * dt;
        let score = if self.interrupted.load(Ordering::Relaxed) {
            None
        } else {
            prime_thread();
            Python::attach(
                |py| match self.step_and_score(py, state, time, dt, noise, next) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        self.fail(py, end, e);
                        None
                    }
                },
            )
        };
        SCORED.with_borrow_mut(|c| {
            c.model = self as *const Self as usize;
            c.time = next;
            c.state.clear();
            c.state.extend_from_slice(state);
            c.score = score;
            c.valid = true;
        });
    }

    fn score(&self, state: &Vec<f64>, time: f64) -> f64 {
        let cached = SCORED.with_borrow_mut(|c| {
            let hit = c.valid
                && c.model == self as *const Self as usize
                && c.time.to_bits() == time.to_bits()
                && c.state == *state;
            c.valid = false;
            hit.then_some(c.score)
        });
        match cached {
            Some(Some(s)) => s,
            Some(None) => f64::NAN,
            None => {
                prime_thread();
                Python::attach(|py| {
                    let r = self
                        .array(py, state)
                        .and_then(|a| self.score_fn.call1(py, (a, time)))
                        .and_then(|s| s.extract::<f64>(py));
                    r.unwrap_or_else(|e| {
                        self.fail(py, if time == 0.0 { 0 } else { u64::MAX }, e);
                        f64::NAN
                    })
                })
            }
        }
    }

    fn describe(&self) -> sampler::Result<ModelInfo> {
        Ok(self.info.clone())
    }
}
