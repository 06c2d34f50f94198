//! Worker processes for Python models (`retrace.tams(..., workers=N)`): the parent is rank 0 of
//! the sampler's distributed run over [`LocalTransport`], `N - 1` Python child processes
//! (`retrace._workers`) are the other ranks, each with its own interpreter (no shared GIL)
//! and its own unpickled copy of the model. Results are bit-identical for any `N`.

use crate::pymodel::PyModel;
use pyo3::prelude::*;
use pyo3::types::PyType;
use sampler::distributed::{LocalTransport, serve};
use sampler::{Error, ModelError};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::net::UnixStream;

/// The parent's side: the child processes (a `retrace._workers.Pool`) and the sockets to them.
pub(crate) struct Workers {
    /// The `retrace._workers.Pool`.
    pub pool: Py<PyAny>,
    /// Rank 0's end.
    pub transport: LocalTransport,
}

/// `retrace._workers.WorkerError` with `message`.
pub(crate) fn worker_error(py: Python<'_>, message: String) -> PyErr {
    let cls = py
        .import("retrace._workers")
        .and_then(|m| m.getattr("WorkerError"))
        .and_then(|c| Ok(c.cast_into::<PyType>()?));
    match cls {
        Ok(t) => PyErr::from_type(t, message),
        Err(e) => e,
    }
}

impl Workers {
    /// Start `n` worker processes for `model` and connect to them (they are ready when this
    /// returns). Errors: the model is not picklable (`TypeError`), a worker could not load it
    /// or ended (`WorkerError`).
    pub(crate) fn start(py: Python<'_>, model: &Bound<'_, PyAny>, n: usize) -> PyResult<Self> {
        let pool = py
            .import("retrace._workers")?
            .call_method1("start", (model, n))?;
        let fds: Vec<RawFd> = match pool.call_method0("take_fds").and_then(|f| f.extract()) {
            Ok(fds) => fds,
            Err(e) => {
                pool.call_method0("kill")?;
                return Err(e);
            }
        };
        // SAFETY: `take_fds` detached these sockets from their Python objects: each descriptor
        // is open and owned by nobody else from here on.
        let streams = fds
            .into_iter()
            .map(|fd| unsafe { UnixStream::from_raw_fd(fd) })
            .collect();
        match LocalTransport::coordinator(streams) {
            Ok(transport) => Ok(Workers {
                pool: pool.unbind(),
                transport,
            }),
            Err(e) => {
                pool.call_method0("kill")?;
                Err(worker_error(py, e.to_string()))
            }
        }
    }
}

/// End every worker of `pool` now (Ctrl-C, or a failed run): they hold nothing that must be
/// kept.
pub(crate) fn kill(py: Python<'_>, pool: &Py<PyAny>) {
    // A failure to kill leaves processes that die with this one anyway.
    let _ = pool.call_method0(py, "kill");
}

/// After the run: `ok`, the workers were told to stop: wait for them; otherwise end them.
pub(crate) fn close(py: Python<'_>, workers: Workers, ok: bool) -> PyResult<()> {
    if !ok {
        kill(py, &workers.pool);
    }
    // Closing the sockets ends any worker still waiting for a request.
    drop(workers.transport);
    workers.pool.call_method0(py, "join")?;
    Ok(())
}

/// The traceback of `err` as Python prints it.
fn traceback_text(py: Python<'_>, err: &PyErr) -> String {
    let text = py.import("traceback").and_then(|tb| {
        let lines = tb.call_method1(
            "format_exception",
            (err.get_type(py), err.value(py), err.traceback(py)),
        )?;
        let parts: Vec<String> = lines.extract()?;
        Ok(parts.concat())
    });
    text.unwrap_or_else(|_| format!("{}: {}\n", err.get_type(py), err.value(py)))
}

/// A worker process's loop (called by `retrace._workers` in the child): serve rank 0 on the
/// socket `fd` (taken over) with `model` until it says stop. A model exception goes to rank 0
/// with its traceback.
#[pyfunction]
pub(crate) fn _serve_worker(
    py: Python<'_>,
    model: Bound<'_, PyAny>,
    fd: RawFd,
    rank: i32,
    size: i32,
) -> PyResult<()> {
    // SAFETY: the caller detached `fd` from its Python socket: it is open and ours alone.
    let stream = unsafe { UnixStream::from_raw_fd(fd) };
    let m = PyModel::new(&model)?;
    let mut transport =
        LocalTransport::worker(stream, rank, size).map_err(|e| worker_error(py, e.to_string()))?;
    let explain = |e: &Error| -> Option<String> {
        let Error::Model(ModelError::NanScore { trajectory, step }) = e else {
            return None;
        };
        let err = m.take_error(*step)?;
        Python::attach(|py| {
            Some(format!(
                "the model raised in worker {rank} (trajectory {trajectory}, step {step}):\n{}",
                traceback_text(py, &err).trim_end()
            ))
        })
    };
    let served = py.detach(|| serve(&m, &mut transport, Some(1), Some(&explain)));
    served.map_err(|e| worker_error(py, e.to_string()))
}
