//! `ArrayStore`: revolve's RAM or disk checkpoint store for a list of numpy arrays (the state as
//! pyrevolve's `Checkpoint.get_data` gives it), saved and loaded by copy.

use crate::errors::to_py;
use crate::state::{ArrayState, nbytes, read_array, write_array};
use numpy::PyUntypedArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use revolve::storage::disk::DiskStore;
use revolve::{CheckpointStore, RamStore};
use std::path::PathBuf;

// Buffers are private numpy arrays (`ArrayState`): numpy's allocator (huge pages for large
// arrays on Linux) makes copies as fast as pyrevolve's, whose storage is a numpy array too.
enum Level {
    Ram(RamStore<ArrayState>),
    Disk(Box<DiskStore<ArrayState>>),
}

/// Checkpoints of a fixed number of bytes, each the concatenated raw bytes of a list of numpy
/// arrays, in revolve's RAM store or disk store (`disk_dir` given: memory-mapped slot files,
/// checksummed, in a fresh directory inside it, removed when the store is dropped).
#[pyclass(module = "retrace._retrace", unsendable)]
pub struct ArrayStore {
    level: Level,
    /// The packed state of a save or load in flight (allocated once).
    scratch: ArrayState,
    nbytes: usize,
    slots: u64,
}

fn arrays_of<'py>(list: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyUntypedArray>>> {
    list.try_iter()?
        .map(|a| {
            a?.cast_into::<PyUntypedArray>().map_err(|_| {
                PyValueError::new_err("checkpoint data must be a list of numpy arrays")
            })
        })
        .collect()
}

impl ArrayStore {
    fn check_total(&self, arrays: &[Bound<'_, PyUntypedArray>]) -> PyResult<()> {
        let total: usize = arrays.iter().map(nbytes).sum();
        if total != self.nbytes {
            return Err(PyValueError::new_err(format!(
                "the checkpoint data holds {total} bytes, the store holds checkpoints of {} bytes",
                self.nbytes
            )));
        }
        Ok(())
    }
}

/// Copy `arrays` into `out`, one after the other.
fn pack(arrays: &[Bound<'_, PyUntypedArray>], out: &mut [u8]) -> PyResult<()> {
    let mut at = 0;
    for a in arrays {
        let n = nbytes(a);
        if !read_array(a, &mut out[at..at + n]) {
            let c = a
                .call_method1("copy", ("C",))?
                .cast_into::<PyUntypedArray>()?;
            if !read_array(&c, &mut out[at..at + n]) {
                return Err(PyValueError::new_err("numpy gave a non-contiguous copy"));
            }
        }
        at += n;
    }
    Ok(())
}

/// Copy `src` into `arrays`, one after the other.
fn unpack(src: &[u8], arrays: &[Bound<'_, PyUntypedArray>]) -> PyResult<()> {
    let mut at = 0;
    for a in arrays {
        let n = nbytes(a);
        if !write_array(a, &src[at..at + n]) {
            // Through a contiguous temporary, then numpy's strided copy (which also raises for
            // a read-only array).
            let c = a
                .call_method1("copy", ("C",))?
                .cast_into::<PyUntypedArray>()?;
            if !write_array(&c, &src[at..at + n]) {
                return Err(PyValueError::new_err("numpy gave a non-contiguous copy"));
            }
            a.py().import("numpy")?.call_method1("copyto", (a, c))?;
        }
        at += n;
    }
    Ok(())
}

#[pymethods]
impl ArrayStore {
    /// A store of `slots` checkpoints of `nbytes` bytes, in RAM, or on disk under `disk_dir`.
    #[new]
    #[pyo3(signature = (nbytes, slots, disk_dir = None))]
    fn new(py: Python<'_>, nbytes: usize, slots: u64, disk_dir: Option<PathBuf>) -> PyResult<Self> {
        let proto = ArrayState::zeros(py, nbytes)?;
        let level = match disk_dir {
            None => {
                let n =
                    usize::try_from(slots).map_err(|_| PyValueError::new_err("too many slots"))?;
                Level::Ram(RamStore::new(n, &proto))
            }
            Some(dir) => Level::Disk(Box::new(
                DiskStore::builder(slots)
                    .temp_in(dir)
                    .build(&proto)
                    .map_err(|e| to_py(py, e))?,
            )),
        };
        Ok(ArrayStore {
            level,
            scratch: proto,
            nbytes,
            slots,
        })
    }

    /// Save the arrays as the checkpoint of `step` (copies).
    fn save(&mut self, py: Python<'_>, step: u64, arrays: &Bound<'_, PyAny>) -> PyResult<()> {
        let arrays = arrays_of(arrays)?;
        self.check_total(&arrays)?;
        pack(&arrays, self.scratch.bytes_mut())?;
        let r = match &mut self.level {
            // Hand the packed buffer in; the scratch takes the slot's old buffer.
            Level::Ram(s) => s.store_swap(step, &mut self.scratch),
            Level::Disk(s) => s.store(step, &self.scratch),
        };
        r.map_err(|e| to_py(py, e))
    }

    /// Copy the checkpoint of `step` into the arrays; it stays stored.
    fn load(&mut self, py: Python<'_>, step: u64, arrays: &Bound<'_, PyAny>) -> PyResult<()> {
        let arrays = arrays_of(arrays)?;
        self.check_total(&arrays)?;
        match &mut self.level {
            Level::Ram(s) => {
                let view = s.view(step).map_err(|e| to_py(py, e))?;
                match view {
                    Some(state) => unpack(state.bytes(), &arrays),
                    None => Err(to_py(
                        py,
                        revolve::Error::NoCheckpoint {
                            level: revolve::Level::Ram,
                            step,
                        },
                    )),
                }
            }
            Level::Disk(s) => {
                s.restore(step, &mut self.scratch)
                    .map_err(|e| to_py(py, e))?;
                unpack(self.scratch.bytes(), &arrays)
            }
        }
    }

    /// Release the checkpoint of `step`.
    fn free(&mut self, py: Python<'_>, step: u64) -> PyResult<()> {
        let r = match &mut self.level {
            Level::Ram(s) => s.free(step),
            Level::Disk(s) => s.free(step),
        };
        r.map_err(|e| to_py(py, e))
    }

    /// Hint that `step` will be loaded next (a disk store reads it in the background).
    fn prefetch(&mut self, py: Python<'_>, step: u64) -> PyResult<()> {
        if let Level::Disk(s) = &mut self.level {
            s.prefetch(step).map_err(|e| to_py(py, e))?;
        }
        Ok(())
    }

    /// Checkpoints held now.
    fn __len__(&self) -> usize {
        let n = match &self.level {
            Level::Ram(s) => s.len(),
            Level::Disk(s) => s.len(),
        };
        n as usize
    }

    /// Slots.
    #[getter]
    fn slots(&self) -> u64 {
        self.slots
    }

    /// Bytes per checkpoint.
    #[getter]
    fn nbytes(&self) -> usize {
        self.nbytes
    }

    /// `"ram"` or `"disk"`.
    #[getter]
    fn level(&self) -> &'static str {
        match self.level {
            Level::Ram(_) => "ram",
            Level::Disk(_) => "disk",
        }
    }

    /// The directory of a disk store's slot files (None in RAM).
    #[getter]
    fn dir(&self) -> Option<PathBuf> {
        match &self.level {
            Level::Ram(_) => None,
            Level::Disk(s) => Some(s.dir().to_path_buf()),
        }
    }
}
